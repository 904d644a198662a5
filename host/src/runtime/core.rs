//! The render-thread state that message handlers can reach through host services: the active
//! renderer and camera, settings, status. Only the render thread touches it.

use std::sync::Arc;

use abi_stable::std_types::{RResult, RVec};
use ovhost_plugin_api::{CameraBox, CameraView, PluginError, RendererBox};
use serde_json::{Value, json};

use super::hub::{ClientHub, ClientId};
use super::router::Services;
use super::settings::SettingsStore;
use super::stage::{LoadJob, LoadReason, StageSlot, stage_error};
use super::state::SharedStatus;
use super::stats::FrameStats;
use crate::plugins::Registry;

pub struct ActiveRenderer {
    pub id: String,
    pub instance: RendererBox,
}

pub struct ActiveCamera {
    pub id: String,
    pub instance: CameraBox,
}

pub struct Core {
    pub registry: Arc<Registry>,
    pub renderer: ActiveRenderer,
    pub camera: Option<ActiveCamera>,
    /// The view used when no camera controller is available, and the last view produced.
    pub view: CameraView,
    pub settings: SettingsStore,
    pub status: Arc<SharedStatus>,
    pub hub: Arc<ClientHub>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Renderer/camera instances disabled after a panic, with the reason.
    pub disabled: Vec<Value>,
    /// The stage service and what is loaded; `None` when the service could not start.
    pub stage: Option<StageSlot>,
    /// Viewport input gate (`setViewportInputActive`); inactive drops pointer input and picks.
    pub input_active: bool,
    /// Host events raised by services, delivered to handlers after the current call returns.
    pub pending_events: Vec<(ClientId, String, Value)>,
    pub stats: FrameStats,
    /// The AOV last switched to (`None`: the renderer's default, its first AOV).
    pub active_aov: Option<String>,
    /// The authored camera whose view was last adopted, until the camera moves on its own terms.
    pub authored_camera: Option<String>,
}

impl Core {
    /// Creates a camera controller instance and prepares it with the viewport and current view.
    pub fn create_camera(&self, id: &str) -> Result<ActiveCamera, PluginError> {
        let registered = self.registry.cameras.get(id).ok_or_else(|| {
            PluginError::not_found(format!(
                "camera scheme '{id}' is not registered; available: {}",
                self.registry.cameras.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let mut instance = (registered.entry.create)("{}".into()).into_result()?;
        instance.set_viewport(self.width, self.height).into_result()?;
        instance.set_view(&self.view).into_result()?;
        Ok(ActiveCamera { id: id.to_string(), instance })
    }

    /// Switches camera scheme at run time, keeping the view.
    pub fn set_camera_scheme(&mut self, id: &str) -> Result<(), PluginError> {
        if let Some(camera) = &mut self.camera
            && let RResult::ROk(view) = camera.instance.advance(0)
        {
            self.view = view;
        }
        let camera = self.create_camera(id)?;
        tracing::info!(scheme = %id, "camera scheme switched");
        self.camera = Some(camera);
        let state = self.camera_state();
        self.raise(0, "cameraChanged", state);
        if let Err(e) = self.settings.set("camera_scheme", Value::from(id)) {
            tracing::warn!("could not persist the camera scheme: {e}");
        }
        Ok(())
    }

    pub fn camera_state(&self) -> Value {
        let scheme = self.camera.as_ref().map(|c| c.id.clone());
        let mut state = self
            .camera
            .as_ref()
            .and_then(|c| c.instance.state().into_result().ok())
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .unwrap_or_else(|| json!({}));
        state["scheme"] = json!(scheme);
        state["view"] = view_to_json(&self.view);
        state
    }

    pub fn raise(&mut self, client: ClientId, event: &str, payload: Value) {
        self.pending_events.push((client, event.to_string(), payload));
    }

    fn stage_slot(&mut self) -> Result<&mut StageSlot, PluginError> {
        self.stage
            .as_mut()
            .ok_or_else(|| PluginError::unavailable("the stage service is not running (see the start-up log)"))
    }

    /// Sets the canonical selection (already validated), outlines it, and raises `selectionChanged`.
    pub fn apply_selection(&mut self, prims: Vec<String>, source: &str) {
        let Some(slot) = &mut self.stage else { return };
        let ids: Vec<u32> = match &slot.current {
            Some(current) => prims.iter().flat_map(|p| current.ids_under(p)).collect(),
            None => Vec::new(),
        };
        if let RResult::RErr(e) = self.renderer.instance.set_selection(ids.as_slice().into()) {
            tracing::warn!("renderer could not outline the selection: {e}");
        }
        let changed = slot.selection != prims;
        slot.selection = prims.clone();
        if changed || source == "request" {
            self.raise(0, "selectionChanged", json!({ "prims": prims, "source": source }));
        }
    }

    /// Frames `paths` (the whole stage when empty) with the active camera.
    pub fn fit_to(&mut self, paths: &[String]) -> Result<Value, PluginError> {
        let slot = self.stage_slot()?;
        let bounds = slot.bounds_of(paths)?;
        let up = slot.current.as_ref().map(|c| c.info.up_axis).unwrap_or(ovhost_plugin_api::UpAxis::Y);
        if let Some(camera) = &mut self.camera {
            if paths.is_empty() {
                camera.instance.fit(&bounds, up).into_result()?;
            } else {
                camera.instance.focus(&bounds).into_result()?;
            }
            if let RResult::ROk(view) = camera.instance.advance(0) {
                self.view = view;
            }
        }
        let state = self.camera_state();
        self.raise(0, "cameraChanged", state.clone());
        Ok(state)
    }

    /// Handles a failure of the renderer or camera: panics disable the instance.
    pub fn note_plugin_failure(&mut self, what: &str, id: &str, error: &PluginError) {
        if error.is_panic() {
            tracing::error!("{what} '{id}' panicked: {}; it has been disabled", error.message);
            self.disabled.push(json!({ "kind": what, "id": id, "reason": error.message.as_str() }));
        }
    }
}

pub fn view_to_json(view: &CameraView) -> Value {
    json!({
        "eye": view.eye, "target": view.target, "up": view.up,
        "fov_y_deg": view.fov_y_deg, "near": view.near, "far": view.far,
    })
}

pub fn view_from_json(value: &Value, base: &CameraView) -> Result<CameraView, PluginError> {
    let vec3 = |key: &str, default: [f64; 3]| -> Result<[f64; 3], PluginError> {
        match value.get(key) {
            None => Ok(default),
            Some(v) => serde_json::from_value::<[f64; 3]>(v.clone())
                .map_err(|_| PluginError::invalid_input(format!("'{key}' must be an array of 3 numbers"))),
        }
    };
    let number = |key: &str, default: f64| -> Result<f64, PluginError> {
        match value.get(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| PluginError::invalid_input(format!("'{key}' must be a number"))),
        }
    };
    let view = CameraView {
        eye: vec3("eye", base.eye)?,
        target: vec3("target", base.target)?,
        up: vec3("up", base.up)?,
        fov_y_deg: number("fov_y_deg", base.fov_y_deg)?,
        near: number("near", base.near)?,
        far: number("far", base.far)?,
    };
    if !view.is_finite() {
        return Err(PluginError::invalid_input("camera view has non-finite values"));
    }
    Ok(view)
}

fn string_list(args: &Value, key: &str) -> Result<Vec<String>, PluginError> {
    let list = args
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| PluginError::invalid_input(format!("'{key}' must be an array of prim paths")))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| PluginError::invalid_input(format!("'{key}' must contain only strings")))
        })
        .collect()
}

fn number_arg(args: &Value, key: &str) -> Result<f64, PluginError> {
    args.get(key)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
        .ok_or_else(|| PluginError::invalid_input(format!("'{key}' must be a number")))
}

impl Core {
    /// The prim path under stream pixel (x, y) in the last frame, if any.
    pub fn pick_path(&mut self, x: f64, y: f64) -> Result<Option<String>, PluginError> {
        if x < 0.0 || y < 0.0 || x >= f64::from(self.width) || y >= f64::from(self.height) {
            return Err(PluginError::invalid_input(format!(
                "({x}, {y}) is outside the {}x{} stream",
                self.width, self.height
            )));
        }
        let id = self.renderer.instance.pick(x as u32, y as u32).into_result()?;
        Ok(self.stage.as_ref().and_then(|s| s.current.as_ref()).and_then(|c| c.path_of(id)).map(str::to_string))
    }

    /// A click at (x, y): selects the pickable prim under it, or clears on background.
    pub fn click(&mut self, x: f32, y: f32) {
        if !self.input_active || self.stage.as_ref().is_none_or(|s| s.current.is_none()) {
            return;
        }
        let picked = match self.pick_path(f64::from(x), f64::from(y)) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!("pick failed: {e}");
                return;
            }
        };
        let selection = match picked {
            Some(path) if self.stage.as_ref().is_some_and(|s| s.is_pickable(&path)) => vec![path],
            Some(_) => return, // not pickable: leave the selection alone
            None => Vec::new(),
        };
        self.apply_selection(selection, "viewport");
    }

    pub fn set_input_active(&mut self, active: bool) {
        if self.input_active
            && !active
            && let Some(camera) = &mut self.camera
        {
            let _ = camera.instance.cancel();
        }
        self.input_active = active;
    }
}

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, PluginError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::invalid_input(format!("missing string argument '{key}'")))
}

/// `stage.children`'s answer, serialized without an intermediate `Value` (10k-row prims).
#[derive(serde::Serialize)]
struct ChildrenAnswer<'a> {
    prim_path: &'a str,
    children: &'a [ovhost_stage::ChildRow],
}

impl Services for Core {
    fn call_text(&mut self, client: ClientId, service: &str, args: &Value) -> Result<String, PluginError> {
        if service == "stage.children" {
            let prim_path = str_arg(args, "prim_path")?;
            let rows = self.stage_slot()?.query()?.children(prim_path).map_err(stage_error)?;
            return serde_json::to_string(&ChildrenAnswer { prim_path, children: &rows })
                .map_err(|e| PluginError::internal(e.to_string()));
        }
        self.call(client, service, args).map(|v| v.to_string())
    }

    fn call(&mut self, client: ClientId, service: &str, args: &Value) -> Result<Value, PluginError> {
        match service {
            "host.state" => Ok(self.status.to_json()),
            "plugins.list" => Ok(self.status.plugins()),
            "settings.get" => Ok(match args.get("key").and_then(Value::as_str) {
                Some(key) => self.settings.get(key).cloned().unwrap_or(Value::Null),
                None => self.settings.all(),
            }),
            "settings.set" => {
                let key = str_arg(args, "key")?;
                let value = args.get("value").cloned().unwrap_or(Value::Null);
                self.settings
                    .set(key, value)
                    .map_err(|e| PluginError::internal(format!("cannot save settings: {e}")))?;
                Ok(json!({ "saved": true }))
            }
            "camera.state" => Ok(self.camera_state()),
            "camera.schemes" => Ok(json!({
                "schemes": self.registry.cameras.iter().map(|(id, r)| json!({"id": id, "description": r.entry.description.as_str(), "plugin": r.plugin})).collect::<Vec<_>>(),
                "active": self.camera.as_ref().map(|c| c.id.clone()),
            })),
            "camera.set_scheme" => {
                self.set_camera_scheme(str_arg(args, "scheme")?)?;
                Ok(self.camera_state())
            }
            "camera.view" => Ok(view_to_json(&self.view)),
            "camera.fit" => {
                let paths: Vec<String> =
                    args.get("prim_path").and_then(Value::as_str).map(|p| vec![p.to_string()]).unwrap_or_default();
                self.fit_to(&paths)
            }
            "camera.focus_selection" => {
                let selection = self.stage.as_ref().map(|s| s.selection.clone()).unwrap_or_default();
                self.fit_to(&selection)
            }
            "camera.authored" => {
                let cameras: Vec<Value> = self
                    .stage
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .map(|c| {
                        c.scene
                            .cameras
                            .iter()
                            .map(|cam| json!({"path": cam.path.as_str(), "fov_y_deg": cam.fov_y_deg}))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(json!({ "cameras": cameras, "active": self.authored_camera }))
            }
            "camera.use_authored" => {
                let path = str_arg(args, "path")?;
                let authored = self
                    .stage
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .and_then(|c| c.scene.cameras.iter().find(|cam| cam.path.as_str() == path).cloned())
                    .ok_or_else(|| PluginError::not_found(format!("no authored camera at '{path}'")))?;
                let m = authored.world_transform;
                let eye = [m[12], m[13], m[14]];
                let forward = [-m[8], -m[9], -m[10]];
                let distance = self
                    .stage
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .map(|c| {
                        let size = c.info.bounds.size();
                        (size[0] * size[0] + size[1] * size[1] + size[2] * size[2]).sqrt().max(1e-3)
                    })
                    .unwrap_or(10.0);
                let view = CameraView {
                    eye,
                    target: std::array::from_fn(|i| eye[i] + forward[i] * distance * 0.5),
                    up: [m[4], m[5], m[6]],
                    fov_y_deg: authored.fov_y_deg,
                    near: authored.near,
                    far: authored.far,
                };
                if !view.is_finite() {
                    return Err(PluginError::invalid_input(format!(
                        "authored camera '{path}' has a non-finite transform"
                    )));
                }
                self.view = view;
                if let Some(camera) = &mut self.camera {
                    camera.instance.set_view(&view).into_result()?;
                }
                self.authored_camera = Some(path.to_string());
                let state = self.camera_state();
                self.raise(0, "cameraChanged", state.clone());
                Ok(state)
            }
            "stage.open" => {
                let url = str_arg(args, "url")?.trim().to_string();
                let force = args.get("force").and_then(Value::as_bool).unwrap_or(false);
                let slot = self.stage_slot()?;
                let same = slot.current.as_ref().is_some_and(|c| c.info.url == url) && slot.loading.is_none();
                if same && !force {
                    let info = slot.current.as_ref().map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null));
                    return Ok(json!({ "status": "already_open", "stage": info }));
                }
                let reason = if force { LoadReason::Reload } else { LoadReason::Open };
                let request_id = slot.open(&url, reason)?;
                self.status.set_state(super::state::RuntimeState::Loading);
                self.raise(0, "stageLoading", json!({ "url": url, "request_id": request_id }));
                Ok(json!({ "status": "loading", "url": url, "request_id": request_id }))
            }
            "stage.info" => {
                let slot = self.stage_slot()?;
                Ok(json!({
                    "loading": slot.loading.is_some(),
                    "loading_url": slot.loading.as_ref().map(|l| l.1.clone()),
                    "stage": slot.current.as_ref().map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null)),
                    "last_error": slot.last_error,
                }))
            }
            "stage.children" => serde_json::from_str(&self.call_text(client, service, args)?)
                .map_err(|e| PluginError::internal(e.to_string())),
            "stage.properties" => {
                let prim_path = str_arg(args, "prim_path")?;
                let max_bytes = match args.get("max_bytes") {
                    None | Some(Value::Null) => ovhost_stage::DEFAULT_PROPERTIES_MAX_BYTES,
                    Some(v) => v
                        .as_u64()
                        .ok_or_else(|| PluginError::invalid_input("max_bytes must be a positive integer"))?
                        .clamp(256, 1 << 20) as usize,
                };
                let properties = self.stage_slot()?.query()?.properties(prim_path, max_bytes).map_err(stage_error)?;
                serde_json::to_value(&properties).map_err(|e| PluginError::internal(e.to_string()))
            }
            "stage.variants" => {
                let prim_path = str_arg(args, "prim_path")?;
                let variants = self.stage_slot()?.query()?.variants(prim_path).map_err(stage_error)?;
                Ok(json!({ "prim_path": prim_path, "variants": variants }))
            }
            "stage.set_variant" => {
                let prim_path = str_arg(args, "prim_path")?.to_string();
                let set = str_arg(args, "variant_set")?.to_string();
                let selection = str_arg(args, "variant_selection")?.to_string();
                let slot = self.stage_slot()?;
                let current = slot.current.as_ref().ok_or_else(|| PluginError::bad_state("no stage is open"))?;
                let url = current.info.url.clone();
                let variants = slot.query()?.variants(&prim_path).map_err(stage_error)?;
                let options = variants
                    .get(&set)
                    .ok_or_else(|| PluginError::not_found(format!("prim '{prim_path}' has no variant set '{set}'")))?;
                if !options.options.contains(&selection) {
                    return Err(PluginError::not_found(format!(
                        "variant set '{set}' has no option '{selection}' (options: {})",
                        options.options.join(", ")
                    )));
                }
                let request_id = slot.request(
                    |request_id| LoadJob::Variant { request_id, prim_path, set, selection },
                    &url,
                    LoadReason::Variant,
                )?;
                self.status.set_state(super::state::RuntimeState::Loading);
                self.raise(0, "stageLoading", json!({ "url": url, "request_id": request_id }));
                Ok(json!({ "status": "loading", "request_id": request_id }))
            }
            "stage.prim_count" => {
                let slot = self.stage_slot()?;
                let count = slot
                    .current
                    .as_ref()
                    .map(|c| c.info.prim_count)
                    .ok_or_else(|| PluginError::bad_state("no stage is open"))?;
                Ok(json!({ "count": count }))
            }
            "stage.bounds" => {
                let prim_path = str_arg(args, "prim_path")?;
                let bounds = self.stage_slot()?.query()?.bounds(prim_path).map_err(stage_error)?;
                Ok(json!({ "prim_path": prim_path, "min": bounds.min, "max": bounds.max }))
            }
            "stage.list_scenes" => Ok(json!({ "scenes": self.stage_slot()?.list_scenes() })),
            "selection.get" => {
                Ok(json!({ "prims": self.stage.as_ref().map(|s| s.selection.clone()).unwrap_or_default() }))
            }
            "selection.set" => {
                let paths = string_list(args, "paths")?;
                let prims = if paths.is_empty() { Vec::new() } else { self.stage_slot()?.existing(&paths)? };
                self.apply_selection(prims.clone(), "request");
                Ok(json!({ "prims": prims }))
            }
            "selection.set_pickable" => {
                let paths = string_list(args, "paths")?;
                let mode = args.get("mode").and_then(Value::as_str).unwrap_or("add");
                let slot = self.stage_slot()?;
                match mode {
                    "all" => slot.pickable = None,
                    "replace" => slot.pickable = Some(paths.into_iter().collect()),
                    "add" => slot.pickable.get_or_insert_with(Default::default).extend(paths),
                    other => {
                        return Err(PluginError::invalid_input(format!(
                            "mode must be add, replace or all, not '{other}'"
                        )));
                    }
                }
                Ok(json!({ "count": slot.pickable.as_ref().map(|p| p.len()) }))
            }
            "viewport.pick" => {
                let x = number_arg(args, "x")?;
                let y = number_arg(args, "y")?;
                Ok(json!({ "path": self.pick_path(x, y)? }))
            }
            "viewport.set_input_active" => {
                let active = args
                    .get("active")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| PluginError::invalid_input("'active' must be a boolean"))?;
                self.set_input_active(active);
                Ok(json!({ "active": active }))
            }
            "stats.get" => Ok(self.stats.to_json(&self.status, self.hub.len())),
            "camera.set_view" => {
                let view = view_from_json(args, &self.view)?;
                self.view = view;
                if let Some(camera) = &mut self.camera {
                    camera.instance.set_view(&view).into_result()?;
                }
                Ok(view_to_json(&view))
            }
            "renderer.settings" => {
                let text = self.renderer.instance.render_settings().into_result()?;
                serde_json::from_str(&text)
                    .map_err(|e| PluginError::internal(format!("renderer settings are not JSON: {e}")))
            }
            "renderer.set_setting" => {
                let key = str_arg(args, "key")?;
                let value = args.get("value").cloned().unwrap_or(Value::Null).to_string();
                let applies_at =
                    self.renderer.instance.set_render_setting(key.into(), value.as_str().into()).into_result()?;
                Ok(json!({ "key": key, "applies_at": applies_at.as_str() }))
            }
            "renderer.aovs" => {
                let aovs: RVec<_> = self.renderer.instance.aovs().into_result()?;
                let names: Vec<&str> = aovs.iter().map(|a| a.as_str()).collect();
                let active = self.active_aov.clone().or_else(|| names.first().map(|a| a.to_string()));
                Ok(json!({ "aovs": names, "active": active }))
            }
            "renderer.set_aov" => {
                let name = str_arg(args, "aov")?;
                self.renderer.instance.set_aov(name.into()).into_result()?;
                self.active_aov = Some(name.to_string());
                Ok(json!({ "active": name }))
            }
            other => Err(PluginError::not_found(format!("no host service named '{other}'"))),
        }
    }
}

//! Host services: what `HostContext::call(name, args)` does for message handlers (the table is
//! in `docs/PLUGINS.md`). Runs on the render thread against [`Core`].

use abi_stable::std_types::RVec;
use ovhost_plugin_api::{CameraView, PluginError};
use serde_json::{Value, json};

use super::core::{Core, view_from_json, view_to_json};
use super::hub::ClientId;
use super::router::Services;
use super::stage::{LoadJob, LoadReason, stage_error};

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

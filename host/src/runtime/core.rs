//! The render-thread state that message handlers can reach through host services: the active
//! renderer and camera, settings, status. Only the render thread touches it.

use std::sync::Arc;

use abi_stable::std_types::RResult;
use ovhost_plugin_api::{CameraBox, CameraView, PluginError, RendererBox};
use serde_json::{Value, json};

use super::hub::{ClientHub, ClientId};
use super::settings::SettingsStore;
use super::stage::StageSlot;
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

    pub(super) fn stage_slot(&mut self) -> Result<&mut StageSlot, PluginError> {
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
        crate::metrics::plugin_failure(what, error.is_panic());
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

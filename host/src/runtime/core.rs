//! The render-thread state that message handlers can reach through host services: the active
//! renderer and camera, settings, status. Only the render thread touches it.

use std::sync::Arc;

use abi_stable::std_types::{RResult, RVec};
use ovhost_plugin_api::{CameraBox, CameraView, PluginError, RendererBox};
use serde_json::{Value, json};

use super::hub::{ClientHub, ClientId};
use super::router::Services;
use super::settings::SettingsStore;
use super::state::SharedStatus;
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
        if let Some(camera) = &mut self.camera {
            if let RResult::ROk(view) = camera.instance.advance(0) {
                self.view = view;
            }
        }
        let camera = self.create_camera(id)?;
        tracing::info!(scheme = %id, "camera scheme switched");
        self.camera = Some(camera);
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

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, PluginError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::invalid_input(format!("missing string argument '{key}'")))
}

impl Services for Core {
    fn call(&mut self, _client: ClientId, service: &str, args: &Value) -> Result<Value, PluginError> {
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
                Ok(json!({ "aovs": aovs.iter().map(|a| a.as_str()).collect::<Vec<_>>() }))
            }
            "renderer.set_aov" => {
                let name = str_arg(args, "aov")?;
                self.renderer.instance.set_aov(name.into()).into_result()?;
                Ok(json!({ "active": name }))
            }
            other => Err(PluginError::not_found(format!("no host service named '{other}'"))),
        }
    }
}

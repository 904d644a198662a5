//! Camera messages: `fitCameraRequest` and `cameraCommandRequest` → `cameraStateChanged`;
//! authored cameras (`camera_list` push, `set_camera` → `camera_changed`); camera schemes
//! (`getCameraSchemesRequest` → `cameraSchemesResult`, `setCameraSchemeRequest` →
//! `cameraStateChanged`).
//!
//! Camera state goes to every client: a request broadcasts the state the service returned and
//! marks it, so the host's identical `cameraChanged` event is not sent twice; other
//! `cameraChanged` events (the fit after a stage load) are broadcast as they come.

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

use crate::fields;
use crate::host::Host;
use crate::state::SessionState;

/// The commands `cameraCommandRequest` accepts.
pub const COMMANDS: &str = "reset, fit, focusSelection";

/// Broadcasts `cameraStateChanged` for a request and remembers it (see the module docs).
fn announce(state: &mut SessionState, host: &mut Host<'_, '_>, camera: Value) {
    host.broadcast("cameraStateChanged", &camera);
    state.camera_echo = Some(camera);
}

/// Host event `cameraChanged`: broadcast unless it is the echo of this handler's own request.
pub fn on_changed(state: &mut SessionState, host: &mut Host<'_, '_>, camera: &Value) -> Result<(), PluginError> {
    if !state.take_camera_echo(camera) {
        host.broadcast("cameraStateChanged", camera);
    }
    Ok(())
}

/// `fitCameraRequest {prim_path?}`: frames the prim, or the whole stage.
pub fn fit(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let args = match fields::optional_prim_path(payload, "prim_path")? {
        Some(path) => json!({ "prim_path": path }),
        None => json!({}),
    };
    let camera = host.call("camera.fit", args)?;
    announce(state, host, camera);
    Ok(())
}

/// `cameraCommandRequest {command}`: `reset` frames the whole stage, `fit` frames `prim_path` (or
/// the stage), `focusSelection` re-targets on the selection keeping the viewing direction.
pub fn command(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let camera = match fields::string(payload, "command")? {
        "reset" => host.call("camera.fit", json!({}))?,
        "fit" => {
            let args = match fields::optional_prim_path(payload, "prim_path")? {
                Some(path) => json!({ "prim_path": path }),
                None => json!({}),
            };
            host.call("camera.fit", args)?
        }
        "focusSelection" => host.call("camera.focus_selection", json!({}))?,
        other => {
            return Err(PluginError::invalid_input(format!(
                "payload.command '{other}' is not a camera command; use one of {COMMANDS}"
            )));
        }
    };
    announce(state, host, camera);
    Ok(())
}

/// `camera_list {cameras: [{path, name, fov_y_deg}], activeCamera}` from the stage's authored
/// cameras; `activeCamera` is the authored camera last chosen with `set_camera` (or null).
pub fn camera_list(state: &SessionState, host: &mut Host<'_, '_>) -> Result<Value, PluginError> {
    let authored = host.call("camera.authored", json!({}))?;
    let cameras: Vec<Value> = authored
        .get("cameras")
        .and_then(Value::as_array)
        .map(|cameras| {
            cameras
                .iter()
                .map(|c| {
                    let path = c.get("path").and_then(Value::as_str).unwrap_or("");
                    let name = path.rsplit('/').next().unwrap_or(path);
                    json!({ "path": path, "name": name, "fov_y_deg": c.get("fov_y_deg").cloned().unwrap_or(Value::Null) })
                })
                .collect()
        })
        .unwrap_or_default();
    // The host's `active` names the authored camera in use when it is a prim path.
    let reported = authored.get("active").and_then(Value::as_str).filter(|a| a.starts_with('/'));
    let active = reported.map(str::to_string).or_else(|| state.active_camera.clone());
    Ok(json!({ "cameras": cameras, "activeCamera": active }))
}

/// `set_camera {path}`: copies an authored camera into the viewer camera → `camera_changed`
/// (every client) and `cameraStateChanged` (the requester).
pub fn set_authored(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let path = fields::prim_path(payload, "path")?;
    let camera = host.call("camera.use_authored", json!({ "path": path }))?;
    let generation = state.stage.as_ref().map(|s| s.generation.clone()).unwrap_or(Value::Null);
    host.broadcast("camera_changed", &json!({ "activeCamera": path, "stageGeneration": generation }));
    announce(state, host, camera);
    Ok(())
}

/// `cameraSchemesResult {schemes, active}`.
pub fn schemes_result(host: &mut Host<'_, '_>) -> Result<Value, PluginError> {
    let result = host.call("camera.schemes", json!({}))?;
    Ok(json!({
        "schemes": result.get("schemes").cloned().unwrap_or_else(|| json!([])),
        "active": result.get("active").cloned().unwrap_or(Value::Null),
    }))
}

/// `getCameraSchemesRequest`.
pub fn schemes(host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let result = schemes_result(host)?;
    host.reply("cameraSchemesResult", &result);
    Ok(())
}

/// `setCameraSchemeRequest {scheme}`: switches controller keeping the view.
pub fn set_scheme(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let scheme = fields::string(payload, "scheme")?;
    let camera = host.call("camera.set_scheme", json!({ "scheme": scheme }))?;
    announce(state, host, camera);
    Ok(())
}

//! Camera messages: `fitCameraRequest` and `cameraCommandRequest` → `cameraStateChanged`;
//! authored cameras (`camera_list` push, `set_camera` → `camera_changed`); camera schemes
//! (`getCameraSchemesRequest` → `cameraSchemesResult`, `setCameraSchemeRequest` →
//! `cameraStateChanged`).
//!
//! Camera state goes to every client: a request broadcasts the state the service returned and
//! marks it, so the host's identical `cameraChanged` event is not sent twice; other
//! `cameraChanged` events (the fit after a stage load) are broadcast as they come.

use ovhost_plugin_api::services::{
    CameraAuthored, CameraChanged, CameraFit, CameraFocusSelection, CameraSchemes, CameraSchemesGet, CameraSetScheme,
    CameraState, CameraUseAuthored, NoArgs, OptionalPrimArgs, PathArgs, SchemeArgs,
};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::{Value, json};

use crate::fields;
use crate::state::SessionState;

/// The commands `cameraCommandRequest` accepts.
pub const COMMANDS: &str = "reset, fit, focusSelection";

/// Broadcasts `cameraStateChanged` for a request and remembers it (see the module docs).
fn announce(state: &mut SessionState, ctx: &mut HostContextMut<'_>, camera: CameraState) {
    ctx.broadcast_json("cameraStateChanged", &camera);
    state.camera_echo = Some(camera);
}

/// Host event `cameraChanged`: broadcast unless it is the echo of this handler's own request.
pub fn on_changed(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let camera = fields::event::<CameraChanged>(payload)?;
    if !state.take_camera_echo(&camera) {
        ctx.broadcast_json("cameraStateChanged", &camera);
    }
    Ok(())
}

/// `camera.fit` on `prim_path` of the payload, or on the whole stage.
fn fit_to(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<CameraState, PluginError> {
    let prim_path = fields::optional_prim_path(payload, "prim_path")?.map(str::to_string);
    ctx.call::<CameraFit>(&OptionalPrimArgs { prim_path })
}

/// `fitCameraRequest {prim_path?}`: frames the prim, or the whole stage.
pub fn fit(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let camera = fit_to(ctx, payload)?;
    announce(state, ctx, camera);
    Ok(())
}

/// `cameraCommandRequest {command}`: `reset` frames the whole stage, `fit` frames `prim_path` (or
/// the stage), `focusSelection` re-targets on the selection keeping the viewing direction.
pub fn command(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let camera = match fields::string(payload, "command")? {
        "reset" => ctx.call::<CameraFit>(&OptionalPrimArgs::default())?,
        "fit" => fit_to(ctx, payload)?,
        "focusSelection" => ctx.call::<CameraFocusSelection>(&NoArgs {})?,
        other => {
            return Err(PluginError::invalid_input(format!(
                "payload.command '{other}' is not a camera command; use one of {COMMANDS}"
            )));
        }
    };
    announce(state, ctx, camera);
    Ok(())
}

/// `camera_list {cameras: [{path, name, fov_y_deg}], activeCamera}` from the stage's authored
/// cameras; `activeCamera` is the authored camera last chosen with `set_camera` (or null).
pub fn camera_list(state: &SessionState, ctx: &mut HostContextMut<'_>) -> Result<Value, PluginError> {
    let authored = ctx.call::<CameraAuthored>(&NoArgs {})?;
    let cameras: Vec<Value> = authored
        .cameras
        .iter()
        .map(|c| {
            let name = c.path.rsplit('/').next().unwrap_or(&c.path);
            json!({ "path": c.path, "name": name, "fov_y_deg": c.fov_y_deg })
        })
        .collect();
    // The host's `active` names the authored camera in use when it is a prim path.
    let reported = authored.active.filter(|a| a.starts_with('/'));
    let active = reported.or_else(|| state.active_camera.clone());
    Ok(json!({ "cameras": cameras, "activeCamera": active }))
}

/// `set_camera {path}`: copies an authored camera into the viewer camera → `camera_changed`
/// (every client) and `cameraStateChanged` (the requester).
pub fn set_authored(
    state: &mut SessionState,
    ctx: &mut HostContextMut<'_>,
    payload: &Value,
) -> Result<(), PluginError> {
    let path = fields::prim_path(payload, "path")?;
    let camera = ctx.call::<CameraUseAuthored>(&PathArgs { path: path.into() })?;
    let generation = state.stage.as_ref().map(|s| s.generation.clone()).unwrap_or(Value::Null);
    ctx.broadcast_json("camera_changed", &json!({ "activeCamera": path, "stageGeneration": generation }));
    announce(state, ctx, camera);
    Ok(())
}

/// `cameraSchemesResult {schemes, active}`.
pub fn schemes_result(ctx: &mut HostContextMut<'_>) -> Result<CameraSchemes, PluginError> {
    ctx.call::<CameraSchemesGet>(&NoArgs {})
}

/// `getCameraSchemesRequest`.
pub fn schemes(ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let result = schemes_result(ctx)?;
    ctx.reply_json("cameraSchemesResult", &result);
    Ok(())
}

/// `setCameraSchemeRequest {scheme}`: switches controller keeping the view.
pub fn set_scheme(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let scheme = fields::string(payload, "scheme")?;
    let camera = ctx.call::<CameraSetScheme>(&SchemeArgs { scheme: scheme.into() })?;
    announce(state, ctx, camera);
    Ok(())
}

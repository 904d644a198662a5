//! Selection and picking: `selectPrimsRequest` → canonical `stageSelectionChanged` to every
//! client; viewport clicks (host event `selectionChanged`) → `stageSelectionChanged`;
//! `makePrimsSelectable`/`makePrimsPickable` → the pickable set (no reply);
//! `pickRequest {x, y}` → `pickResult {path}` for clients without native input.

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

use crate::fields;
use crate::host::Host;
use crate::state::SessionState;

fn prims_of(result: &Value) -> Vec<String> {
    result
        .get("prims")
        .and_then(Value::as_array)
        .map(|prims| prims.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// `selectPrimsRequest {paths}`: applies the selection and broadcasts the canonical list (unknown
/// paths are dropped by the host).
pub fn select(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let paths = fields::prim_paths(payload, "paths")?;
    let prims = prims_of(&host.call("selection.set", json!({ "paths": paths }))?);
    host.broadcast("stageSelectionChanged", &json!({ "prims": prims }));
    state.selection_echo = Some(prims);
    Ok(())
}

/// `makePrimsSelectable` / `makePrimsPickable {paths}`: adds to the pickable set.
pub fn make_pickable(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let paths = fields::prim_paths(payload, "paths")?;
    host.call("selection.set_pickable", json!({ "paths": paths, "mode": "add" }))?;
    Ok(())
}

/// `pickRequest {request_id?, x, y}` → `pickResult {request_id, x, y, path}` (path null for
/// background). Does not change the selection.
pub fn pick(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let (x, y) = (fields::number(payload, "x")?, fields::number(payload, "y")?);
    if x < 0.0 || y < 0.0 {
        return Err(PluginError::invalid_input("payload.x and payload.y are stream pixels and must be 0 or more"));
    }
    let result = host.call("viewport.pick", json!({ "x": x.floor() as u64, "y": y.floor() as u64 }))?;
    host.reply(
        "pickResult",
        &json!({
            "request_id": payload.get("request_id").cloned().unwrap_or(Value::Null),
            "x": x, "y": y,
            "path": result.get("path").cloned().unwrap_or(Value::Null),
        }),
    );
    Ok(())
}

/// Host event `selectionChanged {prims, source}`: every canonical change reaches R clients once
/// (the echo of this handler's own request was already sent).
pub fn on_changed(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let prims = prims_of(payload);
    let source = payload.get("source").and_then(Value::as_str).unwrap_or("");
    if source == "request" && state.take_echo(&prims) {
        return Ok(());
    }
    host.broadcast("stageSelectionChanged", &json!({ "prims": prims }));
    Ok(())
}

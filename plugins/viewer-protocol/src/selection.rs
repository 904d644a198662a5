//! Selection and picking: `selectPrimsRequest` → canonical `stageSelectionChanged` to every
//! client; viewport clicks (host event `selectionChanged`) → `stageSelectionChanged`;
//! `makePrimsSelectable`/`makePrimsPickable` → the pickable set (no reply);
//! `pickRequest {x, y}` → `pickResult {path}` for clients without native input.

use ovhost_plugin_api::services::{
    PathsArgs, PickArgs, PickableArgs, Prims, SelectionChanged, SelectionSet, SelectionSetPickable, ViewportPick,
};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::{Value, json};

use crate::fields;
use crate::state::SessionState;

/// `selectPrimsRequest {paths}`: applies the selection and broadcasts the canonical list (unknown
/// paths are dropped by the host).
pub fn select(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let paths = fields::prim_paths(payload, "paths")?;
    let selection = ctx.call::<SelectionSet>(&PathsArgs { paths })?;
    ctx.broadcast_json("stageSelectionChanged", &selection);
    state.selection_echo = Some(selection.prims);
    Ok(())
}

/// `makePrimsSelectable` / `makePrimsPickable {paths}`: adds to the pickable set.
pub fn make_pickable(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let paths = fields::prim_paths(payload, "paths")?;
    ctx.call::<SelectionSetPickable>(&PickableArgs { paths, mode: Some("add".into()) })?;
    Ok(())
}

/// `pickRequest {request_id?, x, y}` → `pickResult {request_id, x, y, path}` (path null for
/// background). Does not change the selection.
pub fn pick(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let (x, y) = (fields::number(payload, "x")?, fields::number(payload, "y")?);
    if x < 0.0 || y < 0.0 {
        return Err(PluginError::invalid_input("payload.x and payload.y are stream pixels and must be 0 or more"));
    }
    let picked = ctx.call::<ViewportPick>(&PickArgs { x: x.floor(), y: y.floor() })?;
    ctx.reply_json(
        "pickResult",
        &json!({
            "request_id": payload.get("request_id").cloned().unwrap_or(Value::Null),
            "x": x, "y": y,
            "path": picked.path,
        }),
    );
    Ok(())
}

/// Host event `selectionChanged {prims, source}`: every canonical change reaches R clients once
/// (the echo of this handler's own request was already sent).
pub fn on_changed(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let changed = fields::event::<SelectionChanged>(payload)?;
    if changed.source == "request" && state.take_echo(&changed.prims) {
        return Ok(());
    }
    ctx.broadcast_json("stageSelectionChanged", &Prims { prims: changed.prims });
    Ok(())
}

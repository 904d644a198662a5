//! Selection and picking: `selectPrimsRequest` → canonical `stageSelectionChanged` to every
//! client; viewport clicks (host event `selectionChanged`) → `stageSelectionChanged`;
//! `makePrimsSelectable`/`makePrimsPickable` → the pickable set, answered with
//! `makePrimsPickableResponse`; `pickRequest {x, y}` → `pickResult {path}` for clients without
//! native input. Every request gets exactly one reply or one `viewerError`.

use ovhost_plugin_api::services::{
    PathsArgs, PickArgs, PickableArgs, Prims, SelectionChanged, SelectionSet, SelectionSetPickable, ViewportPick,
};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::{Value, json};

use crate::fields;
use crate::state::SessionState;

/// Most unknown paths listed in `stageSelectionChanged.ignored` (the count is always given).
pub const MAX_IGNORED_LISTED: usize = 32;

/// `selectPrimsRequest {paths}`: applies the selection and broadcasts the canonical list. Paths
/// that are not prims of the open stage are dropped by the host; the broadcast then also carries
/// `ignored` (the first [`MAX_IGNORED_LISTED`] of them) and `ignored_count`, so the requester
/// learns why. A malformed path (`/`, a property path, bad syntax) refuses the whole request
/// with `invalid_input` before anything changes.
pub fn select(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let paths = fields::selectable_prim_paths(payload, "paths")?;
    let selection = ctx.call::<SelectionSet>(&PathsArgs { paths: paths.clone() })?;
    let ignored = ignored(&paths, &selection.prims);
    if ignored.is_empty() {
        ctx.broadcast_json("stageSelectionChanged", &selection);
    } else {
        let listed: Vec<&str> = ignored.iter().take(MAX_IGNORED_LISTED).map(|p| p.as_str()).collect();
        ctx.broadcast_json(
            "stageSelectionChanged",
            &json!({ "prims": selection.prims, "ignored": listed, "ignored_count": ignored.len() }),
        );
    }
    state.selection_echo = Some(selection.prims);
    Ok(())
}

/// The requested paths the host did not select (not prims of the stage), each once, in order.
pub fn ignored(requested: &[String], selected: &[String]) -> Vec<String> {
    let selected: std::collections::BTreeSet<&str> = selected.iter().map(String::as_str).collect();
    let mut seen = std::collections::BTreeSet::new();
    requested.iter().filter(|p| !selected.contains(p.as_str()) && seen.insert(p.as_str())).cloned().collect()
}

/// `makePrimsSelectable` / `makePrimsPickable {paths}`: adds to the pickable set and answers
/// `makePrimsPickableResponse {result, error, count}` (`count`: the set's size, null = every prim
/// is pickable), the reply the Kit dialect defines; malformed paths are `invalid_input`.
pub fn make_pickable(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let paths = fields::selectable_prim_paths(payload, "paths")?;
    let answer = ctx.call::<SelectionSetPickable>(&PickableArgs { paths, mode: Some("add".into()) })?;
    ctx.reply_json("makePrimsPickableResponse", &json!({ "result": "success", "error": "", "count": answer.count }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_lists_each_unfound_path_once_in_request_order() {
        let requested: Vec<String> = ["/b", "/a", "/x", "/b", "/x", "/y"].iter().map(|s| s.to_string()).collect();
        let selected: Vec<String> = vec!["/a".into(), "/b".into()];
        assert_eq!(ignored(&requested, &selected), ["/x", "/y"]);
        assert!(ignored(&selected, &selected).is_empty());
    }
}

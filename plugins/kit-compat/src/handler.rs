//! The `kit-usd-viewer` handler: each Kit request mapped onto the host services, plus the pushes
//! driven by host events (load progress and result, viewport selection).

use std::collections::BTreeMap;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::services::{
    CameraFit, Event, OptionalPrimArgs, PathsArgs, PickableArgs, PrimArgs, SelectionChanged, SelectionSet,
    SelectionSetPickable, StageChildren, StageLoading, StageOpenFailed, StageOpened,
};
use ovhost_plugin_viewer_protocol::fields;
use ovhost_plugin_viewer_protocol::filters::{ChildFilter, KitRow, Listing};
use ovhost_plugin_viewer_protocol::stage::{OpenOutcome, loading_state, request_open};
use serde_json::{Value, json};

/// Every `event_type` this handler claims in the `kit` dialect.
pub const EVENT_TYPES: &[&str] = &[
    "openStageRequest",
    "getChildrenRequest",
    "resetStage",
    "makePrimsPickable",
    "selectPrimsRequest",
    "loadingStateQuery",
];

#[derive(Default)]
pub struct KitUsdViewer {
    /// `request_id` → the URL a Kit client asked for, until the load commits or fails.
    pending_opens: BTreeMap<u64, String>,
    /// The selection a Kit client just requested; its `selectionChanged` echo is not sent back
    /// (Kit only reports selection changes the client did not make).
    selection_echo: Option<Vec<String>>,
}

/// `{result, error}` as Kit's responses carry it.
fn outcome(result: Result<(), PluginError>) -> Value {
    match result {
        Ok(()) => json!({ "result": "success", "error": "" }),
        Err(e) => json!({ "result": "error", "error": e.message.as_str() }),
    }
}

/// Kit's `paths` list for `makePrimsPickable`: absent or null means none.
fn paths(payload: &Value) -> Result<Vec<String>, PluginError> {
    match payload.get("paths") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => fields::selectable_prim_paths(payload, "paths"),
    }
}

/// Children Kit never lists: its own viewport cameras (`OmniverseKit_*`) and `/Render` at the
/// pseudo-root.
fn hidden_by_kit(parent: &str, name: &str) -> bool {
    name.starts_with("OmniverseKit_") || (parent == "/" && name == "Render")
}

impl KitUsdViewer {
    fn handle_json(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        match event_type {
            "openStageRequest" => {
                let url = fields::string(payload, "url")?;
                match request_open(ctx, url, false) {
                    Ok(OpenOutcome::AlreadyOpen(_)) => {
                        ctx.reply_json("openedStageResult", &json!({ "url": url, "result": "success", "error": "" }));
                    }
                    Ok(OpenOutcome::Loading(request_id)) => {
                        self.pending_opens.insert(request_id, url.to_string());
                    }
                    Err(e) => {
                        ctx.reply_json(
                            "openedStageResult",
                            &json!({ "url": url, "result": "error", "error": e.message.as_str() }),
                        );
                    }
                }
                Ok(())
            }
            "getChildrenRequest" => {
                let prim_path = fields::prim_path(payload, "prim_path")?;
                let filter = ChildFilter::kit(payload)?;
                let rows = match ctx.call::<StageChildren>(&PrimArgs { prim_path: prim_path.into() }) {
                    Ok(answer) => answer.children,
                    // Kit answers an unknown prim with an empty list.
                    Err(e) if e.kind == ErrorKind::NOT_FOUND => Vec::new(),
                    Err(e) => return Err(e),
                };
                let children: Vec<KitRow<'_>> = rows
                    .iter()
                    .filter(|row| filter.keeps(row) && !hidden_by_kit(prim_path, &row.name))
                    .map(KitRow::from)
                    .collect();
                ctx.reply_json("getChildrenResponse", &Listing { prim_path, children });
                Ok(())
            }
            "resetStage" => {
                let result = ctx.call::<CameraFit>(&OptionalPrimArgs::default()).map(drop);
                ctx.reply_json("resetStageResponse", &outcome(result));
                Ok(())
            }
            "makePrimsPickable" => {
                let result = paths(payload)
                    .and_then(|paths| {
                        ctx.call::<SelectionSetPickable>(&PickableArgs { paths, mode: Some("replace".into()) })
                    })
                    .map(drop);
                ctx.reply_json("makePrimsPickableResponse", &outcome(result));
                Ok(())
            }
            // Kit answers a good request with nothing (it does not echo the selection back), so
            // anything wrong must be said: a missing `paths` or a malformed path is
            // `invalid_input`, paths that are not prims of the stage are `not_found` (the others
            // are selected).
            "selectPrimsRequest" => {
                let paths = fields::selectable_prim_paths(payload, "paths")?;
                let selection = ctx.call::<SelectionSet>(&PathsArgs { paths: paths.clone() })?;
                let ignored = ovhost_plugin_viewer_protocol::selection::ignored(&paths, &selection.prims);
                self.selection_echo = Some(selection.prims);
                match ignored.first() {
                    None => Ok(()),
                    Some(first) => Err(PluginError::not_found(format!(
                        "{} of the {} requested paths are not prims of the open stage (first: '{}'); {} selected",
                        ignored.len(),
                        paths.len(),
                        fields::shown(first),
                        match paths.len() - ignored.len() {
                            0 => "none was".to_string(),
                            n => format!("the other {n} are"),
                        }
                    ))),
                }
            }
            "loadingStateQuery" => {
                let response = loading_state(ctx)?;
                ctx.reply_json("loadingStateResponse", &response);
                Ok(())
            }
            other => Err(PluginError::unsupported(format!("kit-usd-viewer does not handle '{other}'"))),
        }
    }

    fn host_event_json(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        match event {
            StageLoading::NAME => {
                let url = fields::event::<StageLoading>(payload)?.url;
                ctx.broadcast_json("updateProgressAmount", &json!({ "amount": 0.0 }));
                ctx.broadcast_json(
                    "updateProgressActivity",
                    &json!({ "activity": format!("Loading {url}"), "url": url }),
                );
            }
            StageOpened::NAME => {
                let opened = fields::event::<StageOpened>(payload)?;
                if opened.reason != "variant" {
                    let stage_url = || opened.stage.get("url").and_then(Value::as_str).unwrap_or("").to_string();
                    let url = self.pending_opens.remove(&opened.request_id).unwrap_or_else(stage_url);
                    ctx.broadcast_json("updateProgressAmount", &json!({ "amount": 1.0 }));
                    ctx.broadcast_json("openedStageResult", &json!({ "url": url, "result": "success", "error": "" }));
                }
            }
            StageOpenFailed::NAME => {
                let failed = fields::event::<StageOpenFailed>(payload)?;
                let url = self.pending_opens.remove(&failed.request_id).unwrap_or(failed.url);
                ctx.broadcast_json(
                    "openedStageResult",
                    &json!({ "url": url, "result": "error", "error": failed.error }),
                );
            }
            SelectionChanged::NAME => {
                let changed = fields::event::<SelectionChanged>(payload)?;
                let own_echo =
                    changed.source == "request" && self.selection_echo.as_deref() == Some(changed.prims.as_slice());
                if own_echo {
                    self.selection_echo = None;
                } else {
                    ctx.broadcast_json("stageSelectionChanged", &json!({ "prims": changed.prims }));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl JsonHandler for KitUsdViewer {
    fn on_message(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        self.handle_json(ctx, event_type, payload)
    }

    fn on_event(&mut self, ctx: &mut HostContextMut<'_>, event: &str, payload: &Value) -> Result<(), PluginError> {
        self.host_event_json(ctx, event, payload)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kit_hides_its_cameras_and_the_root_render_scope() {
        assert!(hidden_by_kit("/World", "OmniverseKit_Persp"));
        assert!(hidden_by_kit("/", "Render"));
        assert!(!hidden_by_kit("/World", "Render"));
        assert!(!hidden_by_kit("/", "World"));
    }

    #[test]
    fn outcomes_use_kit_shapes() {
        assert_eq!(outcome(Ok(())), json!({"result": "success", "error": ""}));
        assert_eq!(outcome(Err(PluginError::bad_state("no stage"))), json!({"result": "error", "error": "no stage"}));
        assert_eq!(paths(&json!({})).ok(), Some(Vec::new()));
        assert!(paths(&json!({"paths": [1]})).is_err());
    }

    /// Answers `stage.children` (or `not_found`) and records what the handler sends.
    #[derive(Default)]
    struct FakeHost {
        sent: Vec<(String, String)>,
    }

    impl HostContext for FakeHost {
        fn client_id(&self) -> u64 {
            1
        }
        fn reply(&mut self, event_type: &str, payload_json: &str) {
            self.sent.push((event_type.into(), payload_json.into()));
        }
        fn broadcast(&mut self, event_type: &str, payload_json: &str) {
            self.sent.push((event_type.into(), payload_json.into()));
        }
        fn call(&mut self, service: &str, args_json: &str) -> Result<String, PluginError> {
            match (service, args_json) {
                ("stage.children", r#"{"prim_path":"/"}"#) => Ok(r#"{"prim_path":"/","children":[
                    {"name":"World","path":"/World","type":"xform","children":true},
                    {"name":"Render","path":"/Render","type":"scope","children":true},
                    {"name":"OmniverseKit_Persp","path":"/OmniverseKit_Persp","type":"camera","children":false},
                    {"name":"Sun","path":"/Sun","type":"light","children":false}]}"#
                    .into()),
                _ => Err(PluginError::not_found(format!("{service} {args_json}"))),
            }
        }
    }

    #[test]
    fn children_use_kit_rows_and_unknown_prims_list_nothing() {
        let mut host = FakeHost::default();
        let mut handler = KitUsdViewer::default();
        handler
            .on_message(&mut HostContextMut::new(&mut host), "getChildrenRequest", &json!({"prim_path": "/"}))
            .unwrap();
        handler
            .on_message(&mut HostContextMut::new(&mut host), "getChildrenRequest", &json!({"prim_path": "/Nope"}))
            .unwrap();
        assert_eq!(
            host.sent,
            [
                (
                    "getChildrenResponse".to_string(),
                    r#"{"prim_path":"/","children":[{"name":"World","path":"/World","children":[]},{"name":"Sun","path":"/Sun"}]}"#
                        .to_string()
                ),
                ("getChildrenResponse".to_string(), r#"{"prim_path":"/Nope","children":[]}"#.to_string()),
            ]
        );
    }

    #[test]
    fn malformed_host_events_are_errors_not_panics() {
        let mut host = FakeHost::default();
        let mut handler = KitUsdViewer::default();
        for event in ["stageLoading", "stageOpened", "stageOpenFailed", "selectionChanged"] {
            for payload in [json!(null), json!({"request_id": "x", "prims": 3, "url": 1}), json!([])] {
                let e = handler.on_event(&mut HostContextMut::new(&mut host), event, &payload).unwrap_err();
                assert!(e.message.contains(event), "{event}: {e}");
            }
        }
        assert!(handler.on_event(&mut HostContextMut::new(&mut host), "clientHello", &json!(null)).is_ok());
        assert!(host.sent.is_empty());
    }
}

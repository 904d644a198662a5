//! The `kit:usd-viewer` handler: each Kit request mapped onto the host services, plus the pushes
//! driven by host events (load progress and result, viewport selection).

use std::collections::BTreeMap;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_viewer_protocol::fields;
use ovhost_plugin_viewer_protocol::filters::{ChildFilter, KitRow, host_rows, listing};
use ovhost_plugin_viewer_protocol::host::Host;
use ovhost_plugin_viewer_protocol::stage::{OpenOutcome, loading_state, request_open};
use ovhost_plugin_viewer_protocol::state::request_key;
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
    pending_opens: BTreeMap<String, String>,
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

/// Kit's `paths` list: absent or null means none.
fn paths(payload: &Value) -> Result<Vec<String>, PluginError> {
    match payload.get("paths") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(_) => fields::prim_paths(payload, "paths"),
    }
}

/// Children Kit never lists: its own viewport cameras (`OmniverseKit_*`) and `/Render` at the
/// pseudo-root.
fn hidden_by_kit(parent: &str, name: &str) -> bool {
    name.starts_with("OmniverseKit_") || (parent == "/" && name == "Render")
}

fn prims_of(value: &Value) -> Vec<String> {
    value
        .get("prims")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

impl KitUsdViewer {
    fn handle_json(&mut self, host: &mut Host<'_, '_>, event_type: &str, payload: &Value) -> Result<(), PluginError> {
        match event_type {
            "openStageRequest" => {
                let url = fields::string(payload, "url")?;
                match request_open(host, url, false) {
                    Ok(OpenOutcome::AlreadyOpen(_)) => {
                        host.reply("openedStageResult", &json!({ "url": url, "result": "success", "error": "" }));
                    }
                    Ok(OpenOutcome::Loading(request_id)) => {
                        self.pending_opens.insert(request_key(&request_id), url.to_string());
                    }
                    Err(e) => {
                        host.reply(
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
                let listing_json = match host.call_text("stage.children", json!({ "prim_path": prim_path })) {
                    Ok(result) => {
                        let rows = host_rows(&result)?;
                        let kept: Vec<KitRow<'_>> = rows
                            .iter()
                            .filter(|row| filter.keeps(row) && !hidden_by_kit(prim_path, &row.name))
                            .map(KitRow::from)
                            .collect();
                        listing(prim_path, &kept)?
                    }
                    // Kit answers an unknown prim with an empty list.
                    Err(e) if e.kind == ErrorKind::NOT_FOUND => listing::<KitRow<'_>>(prim_path, &[])?,
                    Err(e) => return Err(e),
                };
                host.reply_text("getChildrenResponse", &listing_json);
                Ok(())
            }
            "resetStage" => {
                let result = host.call("camera.fit", json!({})).map(drop);
                host.reply("resetStageResponse", &outcome(result));
                Ok(())
            }
            "makePrimsPickable" => {
                let result = paths(payload)
                    .and_then(|paths| host.call("selection.set_pickable", json!({ "paths": paths, "mode": "replace" })))
                    .map(drop);
                host.reply("makePrimsPickableResponse", &outcome(result));
                Ok(())
            }
            "selectPrimsRequest" => {
                let paths = paths(payload)?;
                let result = host.call("selection.set", json!({ "paths": paths }))?;
                self.selection_echo = Some(prims_of(&result));
                Ok(())
            }
            "loadingStateQuery" => {
                let response = loading_state(host)?;
                host.reply("loadingStateResponse", &response);
                Ok(())
            }
            other => Err(PluginError::unsupported(format!("kit:usd-viewer does not handle '{other}'"))),
        }
    }

    fn host_event_json(&mut self, host: &mut Host<'_, '_>, event: &str, payload: &Value) -> Result<(), PluginError> {
        let request = || request_key(payload.get("request_id").unwrap_or(&Value::Null));
        match event {
            "stageLoading" => {
                let url = payload.get("url").and_then(Value::as_str).unwrap_or("");
                host.broadcast("updateProgressAmount", &json!({ "amount": 0.0 }));
                host.broadcast("updateProgressActivity", &json!({ "activity": format!("Loading {url}"), "url": url }));
            }
            "stageOpened" if payload.get("reason").and_then(Value::as_str) != Some("variant") => {
                let stage_url = payload.get("stage").and_then(|s| s.get("url")).and_then(Value::as_str).unwrap_or("");
                let url = self.pending_opens.remove(&request()).unwrap_or_else(|| stage_url.to_string());
                host.broadcast("updateProgressAmount", &json!({ "amount": 1.0 }));
                host.broadcast("openedStageResult", &json!({ "url": url, "result": "success", "error": "" }));
            }
            "stageOpenFailed" => {
                let failed_url = payload.get("url").and_then(Value::as_str).unwrap_or("");
                let url = self.pending_opens.remove(&request()).unwrap_or_else(|| failed_url.to_string());
                let error = payload.get("error").and_then(Value::as_str).unwrap_or("the stage could not be loaded");
                host.broadcast("openedStageResult", &json!({ "url": url, "result": "error", "error": error }));
            }
            "selectionChanged" => {
                let prims = prims_of(payload);
                let own_echo = payload.get("source").and_then(Value::as_str) == Some("request")
                    && self.selection_echo.as_deref() == Some(prims.as_slice());
                if own_echo {
                    self.selection_echo = None;
                } else {
                    host.broadcast("stageSelectionChanged", &json!({ "prims": prims }));
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
        self.handle_json(&mut Host::new(ctx), event_type, payload)
    }

    fn on_event(&mut self, ctx: &mut HostContextMut<'_>, event: &str, payload: &Value) -> Result<(), PluginError> {
        self.host_event_json(&mut Host::new(ctx), event, payload)
    }
}

#[cfg(test)]
mod tests {
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
}

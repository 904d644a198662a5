//! Stage lifecycle messages: `openStageRequest` → `openStageResult` (at once when that stage is
//! already open, else when the host's `stageOpened`/`stageOpenFailed` arrives, to every client),
//! `loadingStateQuery`, `resetStage` (a forced reload), `getPrimCountRequest`, and the progress
//! and result pushes driven by host events.

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

use crate::host::Host;
use crate::state::{OpenStage, SessionState, request_key};
use crate::{camera, fields, hierarchy, render};

/// What `stage.open` answered.
pub enum OpenOutcome {
    /// That stage is already open (the host's `StageInfo`).
    AlreadyOpen(Value),
    /// A load started; its result arrives as a host event with this `request_id`.
    Loading(Value),
}

/// Calls `stage.open` and classifies the answer.
pub fn request_open(host: &mut Host<'_, '_>, url: &str, force: bool) -> Result<OpenOutcome, PluginError> {
    let args = if force { json!({ "url": url, "force": true }) } else { json!({ "url": url }) };
    let result = host.call("stage.open", args)?;
    match result.get("status").and_then(Value::as_str) {
        Some("already_open") => Ok(OpenOutcome::AlreadyOpen(result.get("stage").cloned().unwrap_or(Value::Null))),
        Some("loading") => Ok(OpenOutcome::Loading(result.get("request_id").cloned().unwrap_or(Value::Null))),
        _ => Err(PluginError::internal(format!("stage.open answered without a known status: {result}"))),
    }
}

/// `openStageResult` for a committed stage.
pub fn success(url: &str, stage: &OpenStage) -> Value {
    json!({
        "url": url,
        "result": "success",
        "root_prim_path": stage.root_prim_path,
        "up_axis": stage.up_axis,
        "stage_generation": stage.generation,
    })
}

/// `openStageRequest {url}`.
pub fn open(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let url = fields::string(payload, "url")?;
    match request_open(host, url, false) {
        Ok(OpenOutcome::AlreadyOpen(info)) => {
            let stage = OpenStage::from_info(&info)
                .ok_or_else(|| PluginError::internal("stage.open said already_open without a stage"))?;
            state.adopt(stage.clone());
            host.reply("openStageResult", &success(url, &stage));
            let root = hierarchy::root_children(host, &stage)?;
            host.reply_text("getChildrenResult", &root);
            Ok(())
        }
        Ok(OpenOutcome::Loading(request_id)) => {
            state.pending_opens.insert(request_key(&request_id), url.to_string());
            Ok(())
        }
        Err(error) => {
            host.reply("openStageResult", &json!({ "url": url, "result": "error", "error": error.message.as_str() }));
            Err(error)
        }
    }
}

/// `loadingStateResponse {url, loading_state}` from `stage.info`.
pub fn loading_state(host: &mut Host<'_, '_>) -> Result<Value, PluginError> {
    let info = host.call("stage.info", json!({}))?;
    let loading = info.get("loading").and_then(Value::as_bool).unwrap_or(false);
    let url = if loading {
        info.get("loading_url").and_then(Value::as_str)
    } else {
        info.get("stage").and_then(|s| s.get("url")).and_then(Value::as_str)
    };
    Ok(json!({ "url": url.unwrap_or(""), "loading_state": if loading { "busy" } else { "idle" } }))
}

/// The open stage according to `stage.info`, or a `bad_state` error naming the fix.
pub fn current(host: &mut Host<'_, '_>) -> Result<OpenStage, PluginError> {
    let info = host.call("stage.info", json!({}))?;
    OpenStage::from_info(info.get("stage").unwrap_or(&Value::Null))
        .ok_or_else(|| PluginError::bad_state("no stage is open; send openStageRequest {url} first"))
}

/// `resetStage` / `resetStageRequest`: reloads the current stage (`stage.open` with `force`).
pub fn reset(state: &mut SessionState, host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let stage = current(host)?;
    match request_open(host, &stage.url, true)? {
        OpenOutcome::Loading(request_id) => {
            state.pending_opens.insert(request_key(&request_id), stage.url);
        }
        OpenOutcome::AlreadyOpen(_) => host.reply("openStageResult", &success(&stage.url, &stage)),
    }
    Ok(())
}

/// `getPrimCountRequest` → `getPrimCountResult {count}`.
pub fn prim_count(host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let result = host.call("stage.prim_count", json!({}))?;
    host.reply("getPrimCountResult", &json!({ "count": result.get("count").cloned().unwrap_or(Value::from(0)) }));
    Ok(())
}

/// Host event `stageLoading {url, request_id}` → `updateProgressActivity`.
pub fn on_loading(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let url = payload.get("url").and_then(Value::as_str).unwrap_or("");
    host.broadcast("updateProgressActivity", &json!({ "activity": format!("Loading {url}"), "url": url }));
    Ok(())
}

/// Host event `stageOpened {request_id, reason, stage}`: a load or recomposition committed.
pub fn on_opened(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let Some(stage) = OpenStage::from_info(payload.get("stage").unwrap_or(&Value::Null)) else { return Ok(()) };
    let key = request_key(payload.get("request_id").unwrap_or(&Value::Null));
    state.adopt(stage.clone());
    let root = hierarchy::root_children(host, &stage)?;
    if payload.get("reason").and_then(Value::as_str) == Some("variant") {
        if let Some(prim_path) = state.pending_variants.remove(&key) {
            let variants = hierarchy::variants_of(host, &prim_path)?;
            host.broadcast("getVariantsResponse", &variants);
        }
        host.broadcast_text("getChildrenResult", &root);
        return Ok(());
    }
    let url = state.pending_opens.remove(&key).unwrap_or_else(|| stage.url.clone());
    host.broadcast("openStageResult", &success(&url, &stage));
    host.broadcast_text("getChildrenResult", &root);
    let cameras = camera::camera_list(state, host)?;
    host.broadcast("camera_list", &cameras);
    let (available, active) = render::aov_state(state, host)?;
    host.broadcast("availableAOVsResult", &available);
    host.broadcast("activeAOVState", &active);
    Ok(())
}

/// Host event `stageOpenFailed {request_id, url, code, error}`: `openStageResult` error plus
/// `viewerError`, to every client. The previous stage (if any) stays open.
pub fn on_open_failed(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let key = request_key(payload.get("request_id").unwrap_or(&Value::Null));
    let error = payload.get("error").and_then(Value::as_str).unwrap_or("the stage could not be loaded");
    let code = payload.get("code").and_then(Value::as_str).unwrap_or("stage_open_failed");
    if let Some(prim_path) = state.pending_variants.remove(&key) {
        // A failed variant switch is not a failed open: the stage as it was stays.
        let message = format!("could not switch the variant of '{prim_path}': {error}");
        host.broadcast(
            "viewerError",
            &json!({ "code": code, "message": message, "context": { "prim_path": prim_path } }),
        );
        return Ok(());
    }
    let url = state
        .pending_opens
        .remove(&key)
        .or_else(|| payload.get("url").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    host.broadcast("openStageResult", &json!({ "url": url, "result": "error", "error": error }));
    host.broadcast(
        "viewerError",
        &json!({
            "code": code,
            "message": format!("could not open stage '{url}': {error}"),
            "context": { "url": url, "request_id": payload.get("request_id") },
        }),
    );
    Ok(())
}

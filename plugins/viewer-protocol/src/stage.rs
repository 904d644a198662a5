//! Stage lifecycle messages: `openStageRequest` → `openStageResult` (at once when that stage is
//! already open, else when the host's `stageOpened`/`stageOpenFailed` arrives, to every client),
//! `loadingStateQuery`, `resetStage` (a forced reload), `getPrimCountRequest`, and the progress
//! and result pushes driven by host events.

use ovhost_plugin_api::services::{
    NoArgs, OpenArgs, StageInfo, StageInfoAnswer, StageLoading, StageOpen, StageOpenFailed, StageOpened, StagePrimCount,
};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::{Value, json};

use crate::state::{OpenStage, SessionState};
use crate::{camera, fields, hierarchy, render};

/// What `stage.open` answered.
pub enum OpenOutcome {
    /// That stage is already open (the host's `StageInfo`).
    AlreadyOpen(Value),
    /// A load started; its result arrives as a host event with this `request_id`.
    Loading(u64),
}

/// Calls `stage.open` and classifies the answer.
pub fn request_open(ctx: &mut HostContextMut<'_>, url: &str, force: bool) -> Result<OpenOutcome, PluginError> {
    let answer = ctx.call::<StageOpen>(&OpenArgs { url: url.into(), force })?;
    match (answer.status.as_str(), answer.request_id) {
        ("already_open", _) => Ok(OpenOutcome::AlreadyOpen(answer.stage.unwrap_or(Value::Null))),
        ("loading", Some(request_id)) => Ok(OpenOutcome::Loading(request_id)),
        ("loading", None) => Err(PluginError::internal("stage.open answered loading without a request_id")),
        (other, _) => Err(PluginError::internal(format!("stage.open answered with an unknown status '{other}'"))),
    }
}

/// `openStageResult` for a committed stage.
pub fn success(url: &str, stage: &OpenStage) -> Value {
    let mut result = json!({
        "url": url,
        "result": "success",
        "root_prim_path": stage.root_prim_path,
        "up_axis": stage.up_axis,
        "stage_generation": stage.generation,
    });
    if !stage.warnings.is_empty() {
        result["warnings"] = json!(stage.warnings);
    }
    result
}

/// `openStageRequest {url}`.
pub fn open(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let url = fields::string(payload, "url")?;
    match request_open(ctx, url, false) {
        Ok(OpenOutcome::AlreadyOpen(info)) => {
            let stage = OpenStage::from_info(&info)
                .ok_or_else(|| PluginError::internal("stage.open said already_open without a stage"))?;
            state.adopt(stage.clone());
            ctx.reply_json("openStageResult", &success(url, &stage));
            let root = hierarchy::root_children(ctx, &stage)?;
            ctx.reply_json("getChildrenResult", &root);
            Ok(())
        }
        Ok(OpenOutcome::Loading(request_id)) => {
            state.pending_opens.insert(request_id, url.to_string());
            Ok(())
        }
        Err(error) => {
            ctx.reply_json(
                "openStageResult",
                &json!({ "url": url, "result": "error", "error": error.message.as_str() }),
            );
            Err(error)
        }
    }
}

/// `loadingStateResponse {url, loading_state}` from a `stage.info` answer.
pub fn loading_state_of(info: &StageInfoAnswer) -> Value {
    let url = if info.loading {
        info.loading_url.as_deref()
    } else {
        info.stage.as_ref().and_then(|s| s.get("url")).and_then(Value::as_str)
    };
    json!({ "url": url.unwrap_or(""), "loading_state": if info.loading { "busy" } else { "idle" } })
}

/// `loadingStateResponse {url, loading_state}` from `stage.info`.
pub fn loading_state(ctx: &mut HostContextMut<'_>) -> Result<Value, PluginError> {
    Ok(loading_state_of(&ctx.call::<StageInfo>(&NoArgs {})?))
}

/// The open stage according to `stage.info`, or a `bad_state` error naming the fix.
pub fn current(ctx: &mut HostContextMut<'_>) -> Result<OpenStage, PluginError> {
    let info = ctx.call::<StageInfo>(&NoArgs {})?;
    info.stage
        .as_ref()
        .and_then(OpenStage::from_info)
        .ok_or_else(|| PluginError::bad_state("no stage is open; send openStageRequest {url} first"))
}

/// `resetStage` / `resetStageRequest`: reloads the current stage (`stage.open` with `force`).
pub fn reset(state: &mut SessionState, ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let stage = current(ctx)?;
    match request_open(ctx, &stage.url, true)? {
        OpenOutcome::Loading(request_id) => {
            state.pending_opens.insert(request_id, stage.url);
        }
        OpenOutcome::AlreadyOpen(_) => ctx.reply_json("openStageResult", &success(&stage.url, &stage)),
    }
    Ok(())
}

/// `getPrimCountRequest` → `getPrimCountResult {count}`.
pub fn prim_count(ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let count = ctx.call::<StagePrimCount>(&NoArgs {})?;
    ctx.reply_json("getPrimCountResult", &count);
    Ok(())
}

/// Host event `stageLoading {url, request_id}` → `updateProgressActivity`.
pub fn on_loading(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let loading = fields::event::<StageLoading>(payload)?;
    let url = loading.url;
    ctx.broadcast_json("updateProgressActivity", &json!({ "activity": format!("Loading {url}"), "url": url }));
    Ok(())
}

/// Host event `stageOpened {request_id, reason, stage}`: a load or recomposition committed.
pub fn on_opened(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let opened = fields::event::<StageOpened>(payload)?;
    let Some(stage) = OpenStage::from_info(&opened.stage) else { return Ok(()) };
    state.adopt(stage.clone());
    let root = hierarchy::root_children(ctx, &stage)?;
    if opened.reason == "variant" {
        if let Some(prim_path) = state.pending_variants.remove(&opened.request_id) {
            let variants = hierarchy::variants_of(ctx, &prim_path)?;
            ctx.broadcast_json("getVariantsResponse", &variants);
        }
        ctx.broadcast_json("getChildrenResult", &root);
        return Ok(());
    }
    let url = state.pending_opens.remove(&opened.request_id).unwrap_or_else(|| stage.url.clone());
    ctx.broadcast_json("openStageResult", &success(&url, &stage));
    ctx.broadcast_json("getChildrenResult", &root);
    let cameras = camera::camera_list(state, ctx)?;
    ctx.broadcast_json("camera_list", &cameras);
    let (available, active) = render::aov_state(state, ctx)?;
    ctx.broadcast_json("availableAOVsResult", &available);
    ctx.broadcast_json("activeAOVState", &active);
    Ok(())
}

/// Host event `stageOpenFailed {request_id, url, code, error}`: `openStageResult` error plus
/// `viewerError`, to every client. The previous stage (if any) stays open.
pub fn on_open_failed(
    state: &mut SessionState,
    ctx: &mut HostContextMut<'_>,
    payload: &Value,
) -> Result<(), PluginError> {
    let failed = fields::event::<StageOpenFailed>(payload)?;
    let (code, error) = (failed.code.as_str(), failed.error.as_str());
    if let Some(prim_path) = state.pending_variants.remove(&failed.request_id) {
        // A failed variant switch is not a failed open: the stage as it was stays.
        let message = format!("could not switch the variant of '{prim_path}': {error}");
        ctx.broadcast_json(
            "viewerError",
            &json!({ "code": code, "message": message, "context": { "prim_path": prim_path } }),
        );
        return Ok(());
    }
    let url = state.pending_opens.remove(&failed.request_id).unwrap_or_else(|| failed.url.clone());
    ctx.broadcast_json("openStageResult", &json!({ "url": url, "result": "error", "error": error }));
    ctx.broadcast_json(
        "viewerError",
        &json!({
            "code": code,
            "message": format!("could not open stage '{url}': {error}"),
            "context": { "url": url, "request_id": failed.request_id },
        }),
    );
    Ok(())
}

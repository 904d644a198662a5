//! Render settings and AOVs: `getRenderSettingsRequest` / `setRenderSettingRequest` →
//! `renderSettingsChanged` with the renderer's capabilities and the outcome of the change;
//! `getAvailableAOVs` → `availableAOVsResult`; `changeAOVRequest` → `activeAOVState` +
//! `availableAOVsResult`.

use ovhost_plugin_api::services::{
    AovArgs, NoArgs, RendererAovs, RendererSetAov, RendererSetSetting, RendererSettings, SettingArgs,
};
use ovhost_plugin_api::{ErrorKind, HostContextExt, HostContextMut, PluginError};
use serde_json::{Value, json};

use crate::fields;
use crate::state::SessionState;

/// `renderSettingsChanged {settings, capabilities}` from the renderer.
pub fn current_settings(ctx: &mut HostContextMut<'_>) -> Result<Value, PluginError> {
    let result = ctx.call::<RendererSettings>(&NoArgs {})?;
    Ok(json!({
        "settings": result.get("settings").cloned().unwrap_or_else(|| json!({})),
        "capabilities": result.get("capabilities").cloned().unwrap_or_else(|| json!([])),
    }))
}

/// `getRenderSettingsRequest`.
pub fn settings(ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let payload = current_settings(ctx)?;
    ctx.reply_json("renderSettingsChanged", &payload);
    Ok(())
}

/// The `applies_at` a capability declares for `key`, if any.
fn declared_applies_at(state: &Value, key: &str) -> Option<String> {
    state
        .get("capabilities")?
        .as_array()?
        .iter()
        .find(|c| c.get("key").and_then(Value::as_str) == Some(key))?
        .get("applies_at")?
        .as_str()
        .map(str::to_string)
}

/// `setRenderSettingRequest {key, value}`: a success is broadcast (everyone sees the change); a
/// refusal answers the requester with `result: "error"` and why.
pub fn set_setting(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let key = fields::string(payload, "key")?;
    let value =
        payload.get("value").ok_or_else(|| PluginError::invalid_input("payload.value is required (any JSON value)"))?;
    let outcome = ctx.call::<RendererSetSetting>(&SettingArgs { key: key.into(), value: value.clone() });
    let mut state = current_settings(ctx)?;
    state["key"] = Value::from(key);
    match outcome {
        Ok(applied) => {
            let applies_at = applied.applies_at;
            state["result"] = Value::from("success");
            state["applied"] = Value::from(applies_at == "immediate");
            state["requires_reload"] = Value::from(applies_at == "reload_required");
            state["applies_at"] = Value::from(applies_at);
            ctx.broadcast_json("renderSettingsChanged", &state);
        }
        Err(error) => {
            let unsupported = error.kind == ErrorKind::UNSUPPORTED || error.kind == ErrorKind::NOT_FOUND;
            let applies_at = if unsupported {
                "unsupported".to_string()
            } else {
                declared_applies_at(&state, key).unwrap_or_else(|| "unsupported".into())
            };
            state["result"] = Value::from("error");
            state["applied"] = Value::from(false);
            state["requires_reload"] = Value::from(false);
            state["applies_at"] = Value::from(applies_at);
            state["message"] = Value::from(error.message.as_str());
            ctx.reply_json("renderSettingsChanged", &state);
        }
    }
    Ok(())
}

/// The renderer's AOV names and the active one (the host's answer if it reports one, else the one
/// this handler last set, else the first).
fn aovs(state: &mut SessionState, ctx: &mut HostContextMut<'_>) -> Result<(Vec<String>, String), PluginError> {
    let answer = ctx.call::<RendererAovs>(&NoArgs {})?;
    let (names, reported) = (answer.aovs, answer.active);
    let remembered = state.active_aov.clone().filter(|a| names.contains(a));
    let active = reported.or(remembered).or_else(|| names.first().cloned()).unwrap_or_default();
    Ok((names, active))
}

/// `(availableAOVsResult, activeAOVState)` payloads for the current renderer.
pub fn aov_state(state: &mut SessionState, ctx: &mut HostContextMut<'_>) -> Result<(Value, Value), PluginError> {
    let (names, active) = aovs(state, ctx)?;
    Ok((json!({ "aovs": names, "available": names }), json!({ "active": active, "available": names })))
}

/// `getAvailableAOVs`.
pub fn available_aovs(state: &mut SessionState, ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let (available, _) = aov_state(state, ctx)?;
    ctx.reply_json("availableAOVsResult", &available);
    Ok(())
}

/// `changeAOVRequest {aov}` (alias `name`).
pub fn change_aov(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let requested = match fields::optional_string(payload, "aov")? {
        Some(aov) => aov,
        None => fields::optional_string(payload, "name")?
            .ok_or_else(|| PluginError::invalid_input("payload.aov must be a string (an AOV name such as LdrColor)"))?,
    };
    let (names, previous) = aovs(state, ctx)?;
    let available = json!({ "aovs": names, "available": names });
    let refusal = if names.iter().any(|n| n == requested) {
        ctx.call::<RendererSetAov>(&AovArgs { aov: requested.into() }).err().map(|e| e.message.to_string())
    } else {
        Some(format!("this renderer has no AOV '{requested}'; available: {}", names.join(", ")))
    };
    match refusal {
        None => {
            state.active_aov = Some(requested.to_string());
            let active = json!({
                "active": requested, "available": names, "result": "success",
                "previous": previous, "requested": requested,
            });
            ctx.broadcast_json("activeAOVState", &active);
            ctx.broadcast_json("availableAOVsResult", &available);
        }
        Some(reason) => {
            let active = json!({
                "active": previous, "available": names, "result": "error",
                "requested": requested, "reason": reason,
            });
            ctx.reply_json("activeAOVState", &active);
            ctx.reply_json("availableAOVsResult", &available);
        }
    }
    Ok(())
}

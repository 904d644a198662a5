//! Render settings and AOVs: `getRenderSettingsRequest` / `setRenderSettingRequest` →
//! `renderSettingsChanged` with the renderer's capabilities and the outcome of the change;
//! `getAvailableAOVs` → `availableAOVsResult`; `changeAOVRequest` → `activeAOVState` +
//! `availableAOVsResult`.

use ovhost_plugin_api::{ErrorKind, PluginError};
use serde_json::{Value, json};

use crate::fields;
use crate::host::Host;
use crate::state::SessionState;

/// `{settings, capabilities}` from the renderer.
fn current_settings(host: &mut Host<'_, '_>) -> Result<Value, PluginError> {
    let result = host.call("renderer.settings", json!({}))?;
    Ok(json!({
        "settings": result.get("settings").cloned().unwrap_or_else(|| json!({})),
        "capabilities": result.get("capabilities").cloned().unwrap_or_else(|| json!([])),
    }))
}

/// `getRenderSettingsRequest`.
pub fn settings(host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let payload = current_settings(host)?;
    host.reply("renderSettingsChanged", &payload);
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
pub fn set_setting(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let key = fields::string(payload, "key")?;
    let value =
        payload.get("value").ok_or_else(|| PluginError::invalid_input("payload.value is required (any JSON value)"))?;
    let outcome = host.call("renderer.set_setting", json!({ "key": key, "value": value }));
    let mut state = current_settings(host)?;
    state["key"] = Value::from(key);
    match outcome {
        Ok(result) => {
            let applies_at = result.get("applies_at").and_then(Value::as_str).unwrap_or("immediate").to_string();
            state["result"] = Value::from("success");
            state["applied"] = Value::from(applies_at == "immediate");
            state["requires_reload"] = Value::from(applies_at == "reload_required");
            state["applies_at"] = Value::from(applies_at);
            host.broadcast("renderSettingsChanged", &state);
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
            host.reply("renderSettingsChanged", &state);
        }
    }
    Ok(())
}

/// The renderer's AOV names and the active one (the host's answer if it reports one, else the one
/// this handler last set, else the first).
fn aovs(state: &mut SessionState, host: &mut Host<'_, '_>) -> Result<(Vec<String>, String), PluginError> {
    let result = host.call("renderer.aovs", json!({}))?;
    let names: Vec<String> = result
        .get("aovs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let reported = result.get("active").and_then(Value::as_str).map(str::to_string);
    let remembered = state.active_aov.clone().filter(|a| names.contains(a));
    let active = reported.or(remembered).or_else(|| names.first().cloned()).unwrap_or_default();
    Ok((names, active))
}

/// `(availableAOVsResult, activeAOVState)` payloads for the current renderer.
pub fn aov_state(state: &mut SessionState, host: &mut Host<'_, '_>) -> Result<(Value, Value), PluginError> {
    let (names, active) = aovs(state, host)?;
    Ok((json!({ "aovs": names, "available": names }), json!({ "active": active, "available": names })))
}

/// `getAvailableAOVs`.
pub fn available_aovs(state: &mut SessionState, host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let (available, _) = aov_state(state, host)?;
    host.reply("availableAOVsResult", &available);
    Ok(())
}

/// `changeAOVRequest {aov}` (alias `name`).
pub fn change_aov(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let requested = match fields::optional_string(payload, "aov")? {
        Some(aov) => aov,
        None => fields::optional_string(payload, "name")?
            .ok_or_else(|| PluginError::invalid_input("payload.aov must be a string (an AOV name such as LdrColor)"))?,
    };
    let (names, previous) = aovs(state, host)?;
    let available = json!({ "aovs": names, "available": names });
    let refusal = if names.iter().any(|n| n == requested) {
        host.call("renderer.set_aov", json!({ "aov": requested })).err().map(|e| e.message.to_string())
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
            host.broadcast("activeAOVState", &active);
            host.broadcast("availableAOVsResult", &available);
        }
        Some(reason) => {
            let active = json!({
                "active": previous, "available": names, "result": "error",
                "requested": requested, "reason": reason,
            });
            host.reply("activeAOVState", &active);
            host.reply("availableAOVsResult", &available);
        }
    }
    Ok(())
}

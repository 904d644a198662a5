//! ovhost's own messages: `getStatsRequest` → `getStatsResult`, `getPluginsRequest` →
//! `pluginsResult` (plugins and load errors), `listScenesRequest` → `listScenesResult` (names
//! relative to the asset root, never server paths), `setViewportInputActive` (no reply).

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

use crate::fields;
use crate::host::Host;

pub fn stats(host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let stats = host.call("stats.get", json!({}))?;
    host.reply("getStatsResult", &stats);
    Ok(())
}

/// `pluginsResult`: what `/api/plugins` shows.
pub fn plugins_result(host: &mut Host<'_, '_>) -> Result<Value, PluginError> {
    host.call("plugins.list", json!({}))
}

pub fn plugins(host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let plugins = plugins_result(host)?;
    host.reply("pluginsResult", &plugins);
    Ok(())
}

pub fn scenes(host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let result = host.call("stage.list_scenes", json!({}))?;
    host.reply("listScenesResult", &json!({ "scenes": result.get("scenes").cloned().unwrap_or_else(|| json!([])) }));
    Ok(())
}

/// `setViewportInputActive {active}`: the UI-ownership gate; inactive cancels the gesture.
pub fn set_input_active(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let active = fields::boolean(payload, "active")?;
    host.call("viewport.set_input_active", json!({ "active": active }))?;
    Ok(())
}

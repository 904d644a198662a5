//! ovhost's own messages: `getStatsRequest` → `getStatsResult`, `getPluginsRequest` →
//! `pluginsResult` (plugins and load errors), `listScenesRequest` → `listScenesResult` (names
//! relative to the asset root, never server paths), `setViewportInputActive` (no reply).

use ovhost_plugin_api::services::{Active, NoArgs, PluginsList, StageListScenes, StatsGet, ViewportSetInputActive};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::Value;

use crate::fields;

pub fn stats(ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let stats = ctx.call::<StatsGet>(&NoArgs {})?;
    ctx.reply_json("getStatsResult", &stats);
    Ok(())
}

/// `pluginsResult`: what `/api/plugins` shows.
pub fn plugins_result(ctx: &mut HostContextMut<'_>) -> Result<Value, PluginError> {
    ctx.call::<PluginsList>(&NoArgs {})
}

pub fn plugins(ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let plugins = plugins_result(ctx)?;
    ctx.reply_json("pluginsResult", &plugins);
    Ok(())
}

/// `listScenesRequest` → `listScenesResult {scenes}`.
pub fn scenes(ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let scenes = ctx.call::<StageListScenes>(&NoArgs {})?;
    ctx.reply_json("listScenesResult", &scenes);
    Ok(())
}

/// `setViewportInputActive {active}`: the UI-ownership gate; inactive cancels the gesture.
pub fn set_input_active(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let active = fields::boolean(payload, "active")?;
    ctx.call::<ViewportSetInputActive>(&Active { active })?;
    Ok(())
}

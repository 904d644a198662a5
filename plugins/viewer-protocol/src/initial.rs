//! The initial state pushed to a client after its `hello` (host event `clientHello`), so a late
//! joiner can draw everything without asking: loading state; with a stage open, the stage result,
//! root children, selection, render settings, AOVs, camera schemes, authored cameras and camera
//! state; and the plugin list.

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

use crate::host::Host;
use crate::state::{OpenStage, SessionState};
use crate::{camera, hierarchy, ovhost, render, stage};

pub fn push(state: &mut SessionState, host: &mut Host<'_, '_>) -> Result<(), PluginError> {
    let loading = stage::loading_state(host)?;
    host.reply("loadingStateResponse", &loading);
    let info = host.call("stage.info", json!({}))?;
    if let Some(open) = OpenStage::from_info(info.get("stage").unwrap_or(&Value::Null)) {
        state.adopt(open.clone());
        host.reply("openStageResult", &stage::success(&open.url, &open));
        let root = hierarchy::root_children(host, &open)?;
        host.reply_text("getChildrenResult", &root);
        let selection = host.call("selection.get", json!({}))?;
        host.reply(
            "stageSelectionChanged",
            &json!({ "prims": selection.get("prims").cloned().unwrap_or_else(|| json!([])) }),
        );
        let settings = host.call("renderer.settings", json!({}))?;
        host.reply(
            "renderSettingsChanged",
            &json!({
                "settings": settings.get("settings").cloned().unwrap_or_else(|| json!({})),
                "capabilities": settings.get("capabilities").cloned().unwrap_or_else(|| json!([])),
            }),
        );
        let (available, active) = render::aov_state(state, host)?;
        host.reply("availableAOVsResult", &available);
        host.reply("activeAOVState", &active);
        let schemes = camera::schemes_result(host)?;
        host.reply("cameraSchemesResult", &schemes);
        let cameras = camera::camera_list(state, host)?;
        host.reply("camera_list", &cameras);
        let camera_state = host.call("camera.state", json!({}))?;
        host.reply("cameraStateChanged", &camera_state);
    }
    let plugins = ovhost::plugins_result(host)?;
    host.reply("pluginsResult", &plugins);
    Ok(())
}

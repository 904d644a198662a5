//! The initial state pushed to a client after its `hello` (host event `clientHello`), so a late
//! joiner can draw everything without asking: loading state; with a stage open, the stage result,
//! root children, selection, render settings, AOVs, camera schemes, authored cameras and camera
//! state, timeline state; and the plugin list.

use ovhost_plugin_api::services::{CameraStateGet, NoArgs, SelectionGet, StageInfo};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};

use crate::state::{OpenStage, SessionState};
use crate::{camera, hierarchy, ovhost, render, stage, timeline};

pub fn push(state: &mut SessionState, ctx: &mut HostContextMut<'_>) -> Result<(), PluginError> {
    let info = ctx.call::<StageInfo>(&NoArgs {})?;
    ctx.reply_json("loadingStateResponse", &stage::loading_state_of(&info));
    if let Some(open) = info.stage.as_ref().and_then(OpenStage::from_info) {
        state.adopt(open.clone());
        ctx.reply_json("openStageResult", &stage::success(&open.url, &open));
        let root = hierarchy::root_children(ctx, &open)?;
        ctx.reply_json("getChildrenResult", &root);
        let selection = ctx.call::<SelectionGet>(&NoArgs {})?;
        ctx.reply_json("stageSelectionChanged", &selection);
        let settings = render::current_settings(ctx)?;
        ctx.reply_json("renderSettingsChanged", &settings);
        let (available, active) = render::aov_state(state, ctx)?;
        ctx.reply_json("availableAOVsResult", &available);
        ctx.reply_json("activeAOVState", &active);
        let schemes = camera::schemes_result(ctx)?;
        ctx.reply_json("cameraSchemesResult", &schemes);
        let cameras = camera::camera_list(state, ctx)?;
        ctx.reply_json("camera_list", &cameras);
        let camera_state = ctx.call::<CameraStateGet>(&NoArgs {})?;
        ctx.reply_json("cameraStateChanged", &camera_state);
        let timeline = timeline::state(ctx)?;
        ctx.reply_json("timelineState", &timeline);
    }
    let plugins = ovhost::plugins_result(ctx)?;
    ctx.reply_json("pluginsResult", &plugins);
    Ok(())
}

//! The `viewer-protocol` message handler: routes each claimed `event_type` and host event to the
//! module that owns it. The handler keeps only [`SessionState`]; everything else is asked of the
//! host services on demand, so it never serves stale stage data.

use ovhost_plugin_api::prelude::*;
use serde_json::Value;

use crate::host::Host;
use crate::state::SessionState;
use crate::{camera, hierarchy, initial, ovhost, render, selection, stage};

/// Every `event_type` this handler claims (the default dialect).
pub const EVENT_TYPES: &[&str] = &[
    // stage
    "openStageRequest",
    "loadingStateQuery",
    "resetStage",
    "resetStageRequest",
    "getPrimCountRequest",
    // hierarchy
    "getChildrenRequest",
    "getPropertiesRequest",
    "getVariantsRequest",
    "setVariantRequest",
    // selection
    "selectPrimsRequest",
    "makePrimsSelectable",
    "makePrimsPickable",
    "pickRequest",
    // render settings and AOVs
    "getRenderSettingsRequest",
    "setRenderSettingRequest",
    "getAvailableAOVs",
    "changeAOVRequest",
    // camera
    "fitCameraRequest",
    "cameraCommandRequest",
    "set_camera",
    "getCameraSchemesRequest",
    "setCameraSchemeRequest",
    // ovhost's own
    "getStatsRequest",
    "getPluginsRequest",
    "listScenesRequest",
    "setViewportInputActive",
];

#[derive(Default)]
pub struct ViewerProtocol {
    state: SessionState,
}

impl ViewerProtocol {
    fn handle_json(&mut self, host: &mut Host<'_, '_>, event_type: &str, payload: &Value) -> Result<(), PluginError> {
        let state = &mut self.state;
        match event_type {
            "openStageRequest" => stage::open(state, host, payload),
            "loadingStateQuery" => {
                let response = stage::loading_state(host)?;
                host.reply("loadingStateResponse", &response);
                Ok(())
            }
            "resetStage" | "resetStageRequest" => stage::reset(state, host),
            "getPrimCountRequest" => stage::prim_count(host),
            "getChildrenRequest" => hierarchy::children(host, payload),
            "getPropertiesRequest" => hierarchy::properties(host, payload),
            "getVariantsRequest" => hierarchy::variants(host, payload),
            "setVariantRequest" => hierarchy::set_variant(state, host, payload),
            "selectPrimsRequest" => selection::select(state, host, payload),
            "makePrimsSelectable" | "makePrimsPickable" => selection::make_pickable(host, payload),
            "pickRequest" => selection::pick(host, payload),
            "getRenderSettingsRequest" => render::settings(host),
            "setRenderSettingRequest" => render::set_setting(host, payload),
            "getAvailableAOVs" => render::available_aovs(state, host),
            "changeAOVRequest" => render::change_aov(state, host, payload),
            "fitCameraRequest" => camera::fit(state, host, payload),
            "cameraCommandRequest" => camera::command(state, host, payload),
            "set_camera" => camera::set_authored(state, host, payload),
            "getCameraSchemesRequest" => camera::schemes(host),
            "setCameraSchemeRequest" => camera::set_scheme(state, host, payload),
            "getStatsRequest" => ovhost::stats(host),
            "getPluginsRequest" => ovhost::plugins(host),
            "listScenesRequest" => ovhost::scenes(host),
            "setViewportInputActive" => ovhost::set_input_active(host, payload),
            other => Err(PluginError::unsupported(format!("viewer-protocol does not handle '{other}'"))),
        }
    }

    fn host_event_json(&mut self, host: &mut Host<'_, '_>, event: &str, payload: &Value) -> Result<(), PluginError> {
        let state = &mut self.state;
        match event {
            "clientHello" if !is_kit(payload) => initial::push(state, host),
            "stageLoading" => stage::on_loading(host, payload),
            "stageOpened" => stage::on_opened(state, host, payload),
            "stageOpenFailed" => stage::on_open_failed(state, host, payload),
            "selectionChanged" => selection::on_changed(state, host, payload),
            "cameraChanged" => camera::on_changed(state, host, payload),
            _ => Ok(()),
        }
    }
}

/// Whether a `clientHello` came from a client speaking the Kit dialect (served by `kit-compat`).
pub fn is_kit(hello: &Value) -> bool {
    hello.get("dialect").and_then(Value::as_str) == Some("kit")
}

impl JsonHandler for ViewerProtocol {
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

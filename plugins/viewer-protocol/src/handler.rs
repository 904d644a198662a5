//! The `viewer-protocol` message handler: routes each claimed `event_type` and host event to the
//! module that owns it. The handler keeps only [`SessionState`]; everything else is asked of the
//! host services on demand, so it never serves stale stage data.

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::services::{
    CameraChanged, ClientHello, Event, HelloPayload, SelectionChanged, StageLoading, StageOpenFailed, StageOpened,
    TimelineChanged,
};
use serde_json::Value;

use crate::state::SessionState;
use crate::{camera, fields, hierarchy, initial, ovhost, render, selection, stage, timeline};

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
    // timeline
    "getTimelineRequest",
    "timelinePlayRequest",
    "timelinePauseRequest",
    "timelineSeekRequest",
    "timelineSetLoopRequest",
    "timelineSetRateRequest",
];

#[derive(Default)]
pub struct ViewerProtocol {
    state: SessionState,
}

impl ViewerProtocol {
    fn handle_json(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        let state = &mut self.state;
        match event_type {
            "openStageRequest" => stage::open(state, ctx, payload),
            "loadingStateQuery" => {
                let response = stage::loading_state(ctx)?;
                ctx.reply_json("loadingStateResponse", &response);
                Ok(())
            }
            "resetStage" | "resetStageRequest" => stage::reset(state, ctx),
            "getPrimCountRequest" => stage::prim_count(ctx),
            "getChildrenRequest" => hierarchy::children(ctx, payload),
            "getPropertiesRequest" => hierarchy::properties(ctx, payload),
            "getVariantsRequest" => hierarchy::variants(ctx, payload),
            "setVariantRequest" => hierarchy::set_variant(state, ctx, payload),
            "selectPrimsRequest" => selection::select(state, ctx, payload),
            "makePrimsSelectable" | "makePrimsPickable" => selection::make_pickable(ctx, payload),
            "pickRequest" => selection::pick(ctx, payload),
            "getRenderSettingsRequest" => render::settings(ctx),
            "setRenderSettingRequest" => render::set_setting(ctx, payload),
            "getAvailableAOVs" => render::available_aovs(state, ctx),
            "changeAOVRequest" => render::change_aov(state, ctx, payload),
            "fitCameraRequest" => camera::fit(state, ctx, payload),
            "cameraCommandRequest" => camera::command(state, ctx, payload),
            "set_camera" => camera::set_authored(state, ctx, payload),
            "getCameraSchemesRequest" => camera::schemes(ctx),
            "setCameraSchemeRequest" => camera::set_scheme(state, ctx, payload),
            "getStatsRequest" => ovhost::stats(ctx),
            "getPluginsRequest" => ovhost::plugins(ctx),
            "listScenesRequest" => ovhost::scenes(ctx),
            "setViewportInputActive" => ovhost::set_input_active(ctx, payload),
            "getTimelineRequest" => timeline::get(ctx, payload),
            "timelinePlayRequest"
            | "timelinePauseRequest"
            | "timelineSeekRequest"
            | "timelineSetLoopRequest"
            | "timelineSetRateRequest" => timeline::control(ctx, event_type, payload),
            other => Err(PluginError::unsupported(format!("viewer-protocol does not handle '{other}'"))),
        }
    }

    fn host_event_json(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        let state = &mut self.state;
        match event {
            ClientHello::NAME => {
                let hello = fields::event::<ClientHello>(payload)?;
                if is_kit(&hello) { Ok(()) } else { initial::push(state, ctx) }
            }
            StageLoading::NAME => stage::on_loading(ctx, payload),
            StageOpened::NAME => stage::on_opened(state, ctx, payload),
            StageOpenFailed::NAME => stage::on_open_failed(state, ctx, payload),
            SelectionChanged::NAME => selection::on_changed(state, ctx, payload),
            CameraChanged::NAME => camera::on_changed(state, ctx, payload),
            TimelineChanged::NAME => timeline::on_changed(ctx, payload),
            _ => Ok(()),
        }
    }
}

/// Whether a `clientHello` came from a client speaking the Kit dialect (served by `kit-compat`).
pub fn is_kit(hello: &HelloPayload) -> bool {
    hello.dialect == "kit"
}

impl JsonHandler for ViewerProtocol {
    fn on_message(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        self.handle_json(ctx, event_type, payload)
    }

    fn on_event(&mut self, ctx: &mut HostContextMut<'_>, event: &str, payload: &Value) -> Result<(), PluginError> {
        self.host_event_json(ctx, event, payload)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    /// Answers host services from canned JSON text and records what the handler sends.
    #[derive(Default)]
    struct FakeHost {
        answers: BTreeMap<&'static str, &'static str>,
        calls: Vec<(String, String)>,
        sent: Vec<(&'static str, String, String)>,
    }

    impl HostContext for FakeHost {
        fn client_id(&self) -> u64 {
            1
        }
        fn reply(&mut self, event_type: &str, payload_json: &str) {
            self.sent.push(("reply", event_type.into(), payload_json.into()));
        }
        fn broadcast(&mut self, event_type: &str, payload_json: &str) {
            self.sent.push(("broadcast", event_type.into(), payload_json.into()));
        }
        fn call(&mut self, service: &str, args_json: &str) -> Result<String, PluginError> {
            self.calls.push((service.into(), args_json.into()));
            self.answers
                .get(service)
                .map(|a| a.to_string())
                .ok_or_else(|| PluginError::not_found(format!("no host service named '{service}'")))
        }
    }

    const CAMERA: &str = r#"{"scheme":"orbit","view":{"eye":[0.0,0.0,5.0],"target":[0.0,0.0,0.0],"up":[0.0,1.0,0.0],"fov_y_deg":45.0,"near":0.1,"far":100.0,"projection":"perspective"},"distance":5.0}"#;

    fn host() -> FakeHost {
        let mut host = FakeHost::default();
        host.answers.insert(
            "stage.children",
            r#"{"prim_path":"/World","children":[{"name":"Ground","path":"/World/Ground","type":"geom","children":false},{"name":"Props","path":"/World/Props","type":"xform","children":true}]}"#,
        );
        host.answers.insert(
            "stage.properties",
            r#"{"prim_path":"/World/Ground","properties":{"typeName":"Mesh","zeta":1,"alpha":[1,2]},"truncated":false,"omitted_count":0}"#,
        );
        host.answers.insert("camera.fit", CAMERA);
        host
    }

    fn message(host: &mut FakeHost, event_type: &str, payload: Value) -> Result<(), PluginError> {
        ViewerProtocol::default().on_message(&mut HostContextMut::new(host), event_type, &payload)
    }

    #[test]
    fn children_are_the_typed_rows_filtered() {
        let mut host = host();
        message(&mut host, "getChildrenRequest", json!({"prim_path": "/World", "filters": ["USDGeom"]})).unwrap();
        assert_eq!(host.calls, [("stage.children".to_string(), r#"{"prim_path":"/World"}"#.to_string())]);
        assert_eq!(
            host.sent,
            [(
                "reply",
                "getChildrenResult".to_string(),
                r#"{"prim_path":"/World","children":[{"name":"Ground","path":"/World/Ground","type":"geom","children":false}]}"#.to_string()
            )]
        );
    }

    #[test]
    fn properties_keep_the_authored_order() {
        let mut host = host();
        message(&mut host, "getPropertiesRequest", json!({"prim_path": "/World/Ground", "max_bytes": 1000})).unwrap();
        assert_eq!(host.calls[0].1, r#"{"prim_path":"/World/Ground","max_bytes":1000}"#);
        let (_, event, payload) = &host.sent[0];
        assert_eq!(event, "getPropertiesResponse");
        assert!(payload.contains(r#""properties":{"typeName":"Mesh","zeta":1,"alpha":[1,2]}"#), "{payload}");
    }

    #[test]
    fn a_camera_request_is_broadcast_once() {
        let mut host = host();
        let mut handler = ViewerProtocol::default();
        handler
            .on_message(&mut HostContextMut::new(&mut host), "fitCameraRequest", &json!({"prim_path": "/World"}))
            .unwrap();
        let sent: Value = serde_json::from_str(&host.sent[0].2).unwrap();
        assert_eq!(sent, serde_json::from_str::<Value>(CAMERA).unwrap());
        let event: Value = serde_json::from_str(CAMERA).unwrap();
        handler.on_event(&mut HostContextMut::new(&mut host), "cameraChanged", &event).unwrap();
        assert_eq!(host.sent.len(), 1, "the echo of the request is not sent again");
        handler.on_event(&mut HostContextMut::new(&mut host), "cameraChanged", &event).unwrap();
        assert_eq!(host.sent.len(), 2, "a later change is");
    }

    #[test]
    fn malformed_host_events_are_errors_not_panics() {
        let mut host = host();
        let mut handler = ViewerProtocol::default();
        for event in [
            "clientHello",
            "stageLoading",
            "stageOpened",
            "stageOpenFailed",
            "selectionChanged",
            "cameraChanged",
            "timelineChanged",
        ] {
            for payload in [json!(null), json!({"request_id": "x", "prims": 3, "url": 1}), json!([])] {
                let e = handler.on_event(&mut HostContextMut::new(&mut host), event, &payload).unwrap_err();
                assert!(e.message.contains(event), "{event}: {e}");
            }
        }
        assert!(handler.on_event(&mut HostContextMut::new(&mut host), "somethingNew", &json!(null)).is_ok());
        assert!(host.sent.is_empty());
    }
}

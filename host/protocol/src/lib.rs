//! # ovhost-protocol
//!
//! The `/ws` app protocol (`docs/PROTOCOL.md`) defined once, in Rust: one payload type per
//! `event_type`, grouped by direction in [`ClientMessages`] and [`ServerMessages`]. From these the
//! `gen-protocol` binary writes `docs/protocol.schema.json` (JSON Schema) and
//! `frontend/src/protocol/messages.gen.ts` (TypeScript); CI runs it with `--check` and fails when the
//! checked-in files are stale. Tests use [`ClientMessages::check`] / [`ServerMessages::check`] to
//! verify that what the host actually sends parses as the declared type. No I/O here.

pub mod messages;
pub mod typescript;

pub use messages::*;
use schemars::JsonSchema;
use serde_json::Value;

macro_rules! message_map {
    ($(#[$doc:meta])* $name:ident { $($event:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(JsonSchema)]
        #[allow(non_snake_case, dead_code)]
        pub struct $name {
            $(pub $event: $ty,)*
        }

        impl $name {
            /// Every `event_type` in this direction.
            pub const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($event)),*];

            /// Parses `payload` as the declared type of `event_type`: `None` for an undeclared
            /// type, `Some(Err(why))` when the payload does not match.
            pub fn check(event_type: &str, payload: &Value) -> Option<Result<(), String>> {
                match event_type {
                    $(stringify!($event) => Some(
                        serde_json::from_value::<$ty>(payload.clone()).map(|_| ()).map_err(|e| e.to_string()),
                    ),)*
                    _ => None,
                }
            }
        }
    };
}

message_map! {
    /// Client → host messages, by `event_type`.
    ClientMessages {
        hello: HelloPayload,
        input: InputPayload,
        requestKeyframe: KeyframeRequest,
        videoAck: VideoAck,
        openStageRequest: UrlPayload,
        loadingStateQuery: Empty,
        resetStage: Empty,
        resetStageRequest: Empty,
        getPrimCountRequest: Empty,
        getChildrenRequest: ChildrenRequest,
        getPropertiesRequest: PropertiesRequest,
        getVariantsRequest: PrimPathPayload,
        setVariantRequest: SetVariantRequest,
        selectPrimsRequest: PathsPayload,
        makePrimsSelectable: PathsPayload,
        makePrimsPickable: PathsPayload,
        pickRequest: PickRequest,
        setViewportInputActive: ActivePayload,
        getRenderSettingsRequest: Empty,
        setRenderSettingRequest: SetRenderSettingRequest,
        getAvailableAOVs: Empty,
        changeAOVRequest: ChangeAovRequest,
        fitCameraRequest: FitCameraRequest,
        cameraCommandRequest: CameraCommandRequest,
        set_camera: SetCameraRequest,
        getCameraSchemesRequest: Empty,
        setCameraSchemeRequest: SchemePayload,
        getPluginsRequest: Empty,
        listScenesRequest: Empty,
        getStatsRequest: Empty,
        requestControl: RequestControlPayload,
        grantControl: GrantControlPayload,
        revokeControl: ClientIdPayload,
        releaseControl: Empty,
        setStreamSize: StreamSizeRequest,
        setStreamQuality: StreamQualityRequest,
        startRecording: Empty,
        stopRecording: Empty,
        getTimelineRequest: NoFields,
        timelinePlayRequest: NoFields,
        timelinePauseRequest: NoFields,
        timelineSeekRequest: TimelineSeekRequest,
        timelineSetLoopRequest: TimelineLoopRequest,
        timelineSetRateRequest: TimelineRateRequest,
    }
}

message_map! {
    /// Host → client messages, by `event_type`.
    ServerMessages {
        helloResult: HelloResultPayload,
        viewerError: ViewerErrorPayload,
        pluginDisabled: PluginDisabledPayload,
        openStageResult: OpenStageResultPayload,
        loadingStateResponse: LoadingStatePayload,
        updateProgressAmount: ProgressAmountPayload,
        updateProgressActivity: ProgressActivityPayload,
        getChildrenResult: ChildrenResultPayload,
        getChildrenResponse: ChildrenResultPayload,
        getPrimCountResult: CountPayload,
        getPropertiesResponse: PropertiesPayload,
        getPropertiesResult: PropertiesPayload,
        getVariantsResponse: VariantsPayload,
        stageSelectionChanged: SelectionPayload,
        makePrimsPickableResponse: PickableResponsePayload,
        pickResult: PickResultPayload,
        renderSettingsChanged: RenderSettingsPayload,
        activeAOVState: ActiveAovPayload,
        availableAOVsResult: AvailableAovsPayload,
        cameraStateChanged: CameraStatePayload,
        camera_list: CameraListPayload,
        cameraSchemesResult: CameraSchemesPayload,
        pluginsResult: PluginsPayload,
        listScenesResult: ScenesPayload,
        getStatsResult: StatsPayload,
        hostShuttingDown: HostShuttingDownPayload,
        presence: PresencePayload,
        controlRequested: PresenceClient,
        streamSizeChanged: StreamSizePayload,
        recordingState: RecordingStatePayload,
        streamQualityChanged: StreamQualityPayload,
        timelineState: TimelineStatePayload,
    }
}

/// Both directions, the root of the generated schema.
#[derive(JsonSchema)]
#[allow(dead_code)]
pub struct Protocol {
    pub client: ClientMessages,
    pub server: ServerMessages,
}

/// The JSON Schema of the whole protocol.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Protocol)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_payloads_against_their_declared_types() {
        assert_eq!(ClientMessages::check("openStageRequest", &json!({"url": "a.usda"})), Some(Ok(())));
        assert!(matches!(ClientMessages::check("openStageRequest", &json!({"url": 3})), Some(Err(_))));
        assert!(ClientMessages::check("noSuchThing", &json!({})).is_none());
        let row = json!({"prim_path": "/World", "children": [{"name": "a", "path": "/World/a", "type": "geom", "children": false}]});
        assert_eq!(ServerMessages::check("getChildrenResult", &row), Some(Ok(())));
    }

    #[test]
    fn schema_names_every_event_type() {
        let schema = schema();
        for event in ClientMessages::EVENT_TYPES {
            assert!(schema["$defs"]["ClientMessages"]["properties"].get(*event).is_some(), "{event}");
        }
        for event in ServerMessages::EVENT_TYPES {
            assert!(schema["$defs"]["ServerMessages"]["properties"].get(*event).is_some(), "{event}");
        }
    }
}

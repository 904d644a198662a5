//! Payload types of every app message, by direction. Field names are the wire names.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Runtime state of the host (`/api/state`, `helloResult.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeState {
    Starting,
    Idle,
    Loading,
    Streaming,
    Error,
    ShuttingDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    H264,
    Jpeg,
}

// ---------- client → server ----------

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VideoOffer {
    /// Codecs the client decodes, best first.
    pub codecs: Vec<VideoCodec>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HelloPayload {
    pub client: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoOffer>,
    /// `default` or `kit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
    /// The name other viewers see in `presence` (at most 64 characters are kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputEventType {
    Pointermove,
    Pointerdown,
    Pointerup,
    Wheel,
    Keydown,
    Keyup,
    Cancel,
}

/// One input event; coordinates are stream pixels, buttons use DOM numbering.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InputEvent {
    #[serde(rename = "type")]
    pub kind: InputEventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dx: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<u32>,
    /// Wheel notches, positive = away from the user (zoom in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notches: Option<f64>,
    /// DOM wheel delta in pixels (100 per notch, positive = towards the user).
    #[serde(default, rename = "deltaY", skip_serializing_if = "Option::is_none")]
    pub delta_y: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctrl: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InputPayload {
    /// Increasing; echoed in the video header of the first frame rendered after it.
    pub seq: u32,
    pub events: Vec<InputEvent>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Empty {}

/// `requestKeyframe`: the client's decoder lost sync (an error, a dropped frame); the host sends
/// this client no more delta frames and makes the next frame a keyframe.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct KeyframeRequest {
    /// Why, for logs (`decoder_error`, `dropped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `videoAck`: the viewer decoded a video frame (sent from its decoder's output, at most once
/// per frame). The host measures each client's link with it (frames sent and not acknowledged,
/// and how long acknowledgements take) and adapts that client's quality tier.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct VideoAck {
    /// The `frame_number` of the decoded frame's video header.
    pub frame_number: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UrlPayload {
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChildrenRequest {
    pub prim_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PropertiesRequest {
    pub prim_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PrimPathPayload {
    pub prim_path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SetVariantRequest {
    pub prim_path: String,
    pub variant_set: String,
    pub variant_selection: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PathsPayload {
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ActivePayload {
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SetRenderSettingRequest {
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangeAovRequest {
    pub aov: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct FitCameraRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prim_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CameraCommand {
    #[serde(rename = "reset")]
    Reset,
    #[serde(rename = "fit")]
    Fit,
    #[serde(rename = "focusSelection")]
    FocusSelection,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CameraCommandRequest {
    pub command: CameraCommand,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SchemePayload {
    pub scheme: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PickRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Value>,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SetCameraRequest {
    pub path: String,
}

/// `timelineSeekRequest`: a finite time code (clamped to the stage's range).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineSeekRequest {
    pub time: f64,
}

/// `timelineSetLoopRequest`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineLoopRequest {
    #[serde(rename = "loop")]
    pub looping: bool,
}

/// `timelineSetRateRequest`: playback speed, finite and ≥ 0 (1 = the stage's time codes per second).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineRateRequest {
    pub rate: f64,
}

/// A request without fields (unknown fields are refused).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

// ---------- server → client ----------

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StreamInfo {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// The largest stream `setStreamSize` can ask for (`--max-width`, `--max-height`, `--max-pixels`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pixels: Option<u64>,
    /// The highest frame rate `setStreamQuality` can ask for (`--fps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fps: Option<u32>,
    /// The H.264 bitrate a viewer chose (absent: the encoder's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
}

/// `setStreamQuality` (owner or controller): frame rate (1 to `max_fps`) and H.264 bitrate
/// (100 to 50000 kbit/s); either may be left out. Answered to everyone with `streamQualityChanged`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StreamQualityRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
}

/// `streamQualityChanged`: the frame rate and bitrate now in force.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StreamQualityPayload {
    pub fps: u32,
    pub max_fps: u32,
    #[serde(default)]
    pub bitrate_kbps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VideoChoice {
    /// The codec this client receives (`null`: no video).
    pub codec: Option<VideoCodec>,
    pub available: Vec<VideoCodec>,
    pub header_bytes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HelloResultPayload {
    pub host: String,
    pub host_version: String,
    pub plugin_api_version: String,
    pub protocol_version: u32,
    pub client_id: u64,
    pub features: Vec<String>,
    pub stream: StreamInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoChoice>,
    pub state: RuntimeState,
    /// This client's role (`presence` carries later changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// What a viewer may do. `owner`: drives and grants or takes back control (the first client, or
/// whoever was handed control); `controller`: drives; `spectator`: gets video, state and
/// selection, and its input and mutating messages are answered with `viewerError` `not_permitted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Controller,
    Spectator,
}

/// `requestControl`: a spectator asks for control (`token`: the `--control-token` under
/// `--control token`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct RequestControlPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `grantControl` (owner only): `role` `controller` (default) lets the client drive too; `owner`
/// hands the session over (the giver becomes a controller).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GrantControlPayload {
    pub client_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// `revokeControl` (owner only): a controller goes back to spectator.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ClientIdPayload {
    pub client_id: u64,
}

/// `setStreamSize` (owner or controller): the stream size wanted (viewport × device pixel ratio);
/// the host clamps it to its limits and even sides and answers everyone with `streamSizeChanged`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StreamSizeRequest {
    pub width: u32,
    pub height: u32,
}

/// `streamSizeChanged`: the stream's new size (after the clamp), and who asked for it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StreamSizePayload {
    pub width: u32,
    pub height: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<u64>,
}

/// One connected viewer in `presence`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PresenceClient {
    pub client_id: u64,
    pub name: String,
    pub role: Role,
    /// A pending `requestControl` the owner has not answered.
    pub requested: bool,
}

/// `presence`: who is connected and who drives; sent to every client on each change.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PresencePayload {
    /// `first`, `shared` or `token` (`--control`).
    pub policy: String,
    pub clients: Vec<PresenceClient>,
}

/// Sent to every client when the host starts draining (SIGTERM, SIGINT, idle exit): the host
/// closes the connection right after; a client should reconnect after `retryAfterMs`, when a load
/// balancer or a session API routes it to another host.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostShuttingDownPayload {
    /// Why the host stops: `sigterm`, `sigint` or `idle`.
    pub reason: String,
    /// Milliseconds to wait before reconnecting.
    #[serde(rename = "retryAfterMs")]
    pub retry_after_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ViewerErrorPayload {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// A plugin instance the host disabled (a renderer or camera that panicked or kept failing); sent
/// once to each client. `fallback` names what took over (`testpattern`, the default camera scheme).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PluginDisabledPayload {
    /// `renderer`, `camera` or `handler`.
    pub kind: String,
    pub id: String,
    pub plugin: String,
    pub reason: String,
    #[serde(default)]
    pub fallback: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Success,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UpAxisName {
    Y,
    Z,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OpenStageResultPayload {
    pub url: String,
    pub result: ResultStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_prim_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_axis: Option<UpAxisName>,
    /// Dependencies (sublayers, references, payloads) the host refused while opening: outside
    /// the asset root or not a regular file. The stage opened without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoadingState {
    Idle,
    Busy,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LoadingStatePayload {
    pub url: String,
    pub loading_state: LoadingState,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProgressAmountPayload {
    pub amount: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProgressActivityPayload {
    pub activity: String,
}

/// Icon class of a prim in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrimType {
    Geom,
    Camera,
    Light,
    Scope,
    Xform,
    Other,
}

/// `children`: an array when loaded, `true`/`false` for "has children", absent or null for a leaf.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RowChildren {
    Loaded(Vec<PrimRow>),
    Flag(bool),
}

/// A hierarchy row.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PrimRow {
    pub name: String,
    pub path: String,
    /// A [`PrimType`] name (other strings may appear from other hosts).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<RowChildren>,
    #[serde(default, rename = "hasChildren", skip_serializing_if = "Option::is_none")]
    pub has_children_camel: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_children: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChildrenResultPayload {
    pub prim_path: String,
    pub children: Vec<PrimRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CountPayload {
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PropertiesPayload {
    pub prim_path: String,
    pub properties: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_count: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VariantSet {
    pub options: Vec<String>,
    pub selection: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VariantsPayload {
    pub prim_path: String,
    pub variants: BTreeMap<String, VariantSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SelectionPayload {
    pub prims: Vec<String>,
    /// In the answer to a `selectPrimsRequest`: requested paths that are not prims of the open
    /// stage (the first 32), absent when every path was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored: Option<Vec<String>>,
    /// How many requested paths were not found (with `ignored`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_count: Option<u64>,
}

/// `makePrimsPickableResponse`: Kit's `{result, error}`; the default dialect adds the pickable
/// set's size (`null`: every prim is pickable).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PickableResponsePayload {
    pub result: String,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppliesAt {
    Immediate,
    ReloadRequired,
    NextSceneLoad,
    Unsupported,
}

/// A render setting the server can change; the UI shows only these.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Capability {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `toggle`, `slider`, `select`, `number`, `color`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_at: Option<AppliesAt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RenderSettingsPayload {
    pub settings: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<Capability>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies_at: Option<AppliesAt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_reload: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ActiveAovPayload {
    pub active: String,
    pub available: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AvailableAovsPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aovs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<Vec<String>>,
}

/// Camera state: at least the scheme and view; controllers add their own fields.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CameraStatePayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CameraScheme {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CameraSchemesPayload {
    pub schemes: Vec<CameraScheme>,
    pub active: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PluginObject {
    pub id: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PluginInfo {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<PluginObject>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PluginLoadError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PluginsPayload {
    pub plugins: Vec<PluginInfo>,
    pub errors: Vec<PluginLoadError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScenesPayload {
    pub scenes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PickResultPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Value>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuthoredCamera {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "focalLength", skip_serializing_if = "Option::is_none")]
    pub focal_length: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CameraListPayload {
    pub cameras: Vec<AuthoredCamera>,
    #[serde(rename = "activeCamera")]
    pub active_camera: Option<String>,
}

/// Free-form statistics (`fps`, `frame_ms`, `render_ms`, `convert_ms`, `video_kbps`, ...).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StatsPayload {
    #[serde(flatten)]
    pub values: BTreeMap<String, Value>,
}

/// A finished recording (fragmented MP4 of the H.264 stream).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RecordingFile {
    pub name: String,
    /// Where to download it (`GET`, with `?token=` when the host requires one).
    pub url: String,
    pub bytes: u64,
    pub frames: u64,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    /// Kept on the host in `--recordings-dir` (else removed when the host exits).
    pub kept: bool,
}

/// `recordingState`: a recording started (`recording: true`) or stopped (`reason`: `stopped`,
/// `cap`, `resized`, `shutdown`, `error`), with the file to download.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RecordingStatePayload {
    pub recording: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<RecordingFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// `timelineState`: the host's timeline, to every client on each change, ten times a second while
/// playing, and in the initial state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TimelineStatePayload {
    /// Whether the stage has time-varying data (the viewer shows its timeline bar).
    pub animated: bool,
    pub playing: bool,
    #[serde(rename = "loop")]
    pub looping: bool,
    pub rate: f64,
    /// Current time code, and seconds since the start time code.
    pub time: f64,
    pub seconds: f64,
    pub start_time_code: f64,
    pub end_time_code: f64,
    pub time_codes_per_second: f64,
}

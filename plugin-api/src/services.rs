//! Host services and host events, declared once with typed request/answer structs.
//!
//! This module is the protocol between message handlers and the host, kept (like nushell's plugin
//! protocol crate) free of I/O: each service is a type implementing [`Service`] (its name, version,
//! argument and answer types), each host event a type implementing [`Event`]. The host dispatches
//! through a table built from these types and lists them at `host.services`; the services and
//! events tables in `docs/PLUGINS.md` are generated from [`SERVICES`] and [`EVENTS`] (a test
//! fails when they differ).
//!
//! Plugin authors call services with [`crate::HostContextExt::call`]:
//!
//! ```ignore
//! use ovhost_plugin_api::services::{SelectionSet, PathsArgs};
//! let answer = ctx.call::<SelectionSet>(&PathsArgs { paths: vec!["/World/Cube".into()] })?;
//! ```
//!
//! Evolution: new services, events and optional fields (`#[serde(default)]`) are appended freely;
//! a changed meaning gets a new `VERSION` (and the old one keeps answering).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value, value::RawValue};

/// A host service: `HostContext::call(NAME, Args) -> Answer`.
pub trait Service {
    const NAME: &'static str;
    /// Bumped when the service's meaning changes incompatibly (a new name would also do).
    const VERSION: u32;
    type Args: Serialize + DeserializeOwned;
    type Answer: Serialize + DeserializeOwned;
}

/// A host event handlers receive in `on_host_event`.
pub trait Event {
    const NAME: &'static str;
    type Payload: Serialize + DeserializeOwned;
}

/// A host event's payload as its typed struct (in `on_host_event` / `JsonHandler::on_event`). A
/// payload of another shape is an `internal` error naming the event, never a panic.
pub fn parse_event<E: Event>(payload: &Value) -> Result<E::Payload, crate::PluginError> {
    E::Payload::deserialize(payload)
        .map_err(|e| crate::PluginError::internal(format!("host event '{}' has an unexpected payload: {e}", E::NAME)))
}

/// One row of the services table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ServiceInfo {
    pub name: &'static str,
    pub version: u32,
    /// Argument shape, as documentation.
    pub args: &'static str,
    /// Answer shape, as documentation.
    pub answer: &'static str,
    pub description: &'static str,
}

/// One row of the events table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EventInfo {
    pub name: &'static str,
    pub payload: &'static str,
    pub when: &'static str,
}

macro_rules! services {
    ($( $ty:ident = $name:literal version $version:literal ($args:ty => $answer:ty) args $args_doc:literal answers $answer_doc:literal : $doc:literal ;)*) => {
        $(
            #[doc = $doc]
            #[derive(Debug)]
            pub enum $ty {}
            impl Service for $ty {
                const NAME: &'static str = $name;
                const VERSION: u32 = $version;
                type Args = $args;
                type Answer = $answer;
            }
        )*
        /// Every host service, in documentation order.
        pub const SERVICES: &[ServiceInfo] = &[$(ServiceInfo {
            name: $name, version: $version, args: $args_doc, answer: $answer_doc, description: $doc,
        }),*];
    };
}

macro_rules! events {
    ($( $ty:ident = $name:literal ($payload:ty) payload $payload_doc:literal : $when:literal ;)*) => {
        $(
            #[doc = $when]
            #[derive(Debug)]
            pub enum $ty {}
            impl Event for $ty {
                const NAME: &'static str = $name;
                type Payload = $payload;
            }
        )*
        /// Every host event, in documentation order.
        pub const EVENTS: &[EventInfo] = &[$(EventInfo { name: $name, payload: $payload_doc, when: $when }),*];
    };
}

/// No arguments (unknown keys are ignored).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct NoArgs {}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SettingArgs {
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Saved {
    pub saved: bool,
}

/// A camera view as JSON (see [`crate::CameraView`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub eye: [f64; 3],
    pub target: [f64; 3],
    pub up: [f64; 3],
    pub fov_y_deg: f64,
    pub near: f64,
    pub far: f64,
    /// `perspective` or `orthographic`.
    #[serde(default = "perspective")]
    pub projection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ortho_height: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens_shift: Option<[f64; 2]>,
}

fn perspective() -> String {
    "perspective".into()
}

impl From<&crate::CameraView> for View {
    fn from(v: &crate::CameraView) -> Self {
        let ortho = v.projection == crate::Projection::ORTHOGRAPHIC;
        View {
            eye: v.eye,
            target: v.target,
            up: v.up,
            fov_y_deg: v.fov_y_deg,
            near: v.near,
            far: v.far,
            projection: if ortho { "orthographic".into() } else { perspective() },
            ortho_height: ortho.then_some(v.ortho_height),
            lens_shift: (v.lens_shift != [0.0; 2]).then_some(v.lens_shift),
        }
    }
}

/// Any subset of a view's fields (`camera.set_view`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ViewPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eye: Option<[f64; 3]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<[f64; 3]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<[f64; 3]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fov_y_deg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub far: Option<f64>,
}

/// The camera controller's state plus the active scheme and view.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CameraState {
    pub scheme: Option<String>,
    pub view: View,
    /// The controller's own state keys.
    #[serde(flatten)]
    pub controller: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SchemeInfo {
    pub id: String,
    pub description: String,
    pub plugin: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CameraSchemes {
    pub schemes: Vec<SchemeInfo>,
    pub active: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SchemeArgs {
    pub scheme: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct OptionalPrimArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prim_path: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrimArgs {
    pub prim_path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PathArgs {
    pub path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuthoredCameraInfo {
    pub path: String,
    pub fov_y_deg: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuthoredCameras {
    pub cameras: Vec<AuthoredCameraInfo>,
    pub active: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OpenArgs {
    pub url: String,
    #[serde(default)]
    pub force: bool,
}

/// `stage.open`'s answer: `already_open` (with `stage`) or `loading` (with `url`, `request_id`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OpenAnswer {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageInfoAnswer {
    pub loading: bool,
    pub loading_url: Option<String>,
    /// StageInfo: `{url, generation, root_prim_path, up_axis, meters_per_unit, prim_count, bounds, triangle_count, cameras}`.
    pub stage: Option<Value>,
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChildRow {
    pub name: String,
    pub path: String,
    /// `geom`, `camera`, `light`, `scope`, `xform`, `other`.
    #[serde(rename = "type")]
    pub type_class: String,
    pub children: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Children {
    pub prim_path: String,
    pub children: Vec<ChildRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PropertiesArgs {
    pub prim_path: String,
    /// Answer size cap (256 B to 1 MiB; default 60 KB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

/// A prim's properties in authored order (kept as raw JSON so the order survives).
#[derive(Debug, Serialize, Deserialize)]
pub struct Properties {
    pub prim_path: String,
    pub properties: Box<RawValue>,
    pub truncated: bool,
    pub omitted_count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VariantSetInfo {
    pub options: Vec<String>,
    pub selection: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Variants {
    pub prim_path: String,
    pub variants: BTreeMap<String, VariantSetInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SetVariantArgs {
    pub prim_path: String,
    pub variant_set: String,
    pub variant_selection: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LoadingAnswer {
    pub status: String,
    pub request_id: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Count {
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrimBounds {
    pub prim_path: String,
    pub min: [f64; 3],
    pub max: [f64; 3],
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Scenes {
    pub scenes: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Prims {
    pub prims: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PathsArgs {
    pub paths: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PickableArgs {
    pub paths: Vec<String>,
    /// `add` (default), `replace` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PickableAnswer {
    /// Pickable paths, or `null` when everything is pickable.
    pub count: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PickArgs {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Picked {
    pub path: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Active {
    pub active: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SettingApplied {
    pub key: String,
    pub applies_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Aovs {
    pub aovs: Vec<String>,
    pub active: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AovArgs {
    pub aov: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ActiveAov {
    pub active: String,
}

/// The host's timeline (stage time): what `timeline.state` answers and `timelineChanged` carries.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TimelineState {
    /// Whether the open stage has time-varying data (a timeline bar is worth showing).
    pub animated: bool,
    pub playing: bool,
    #[serde(rename = "loop")]
    pub looping: bool,
    /// Playback speed, 1 = the stage's `timeCodesPerSecond`.
    pub rate: f64,
    /// The current time code, and the same in seconds from the start time code.
    pub time: f64,
    pub seconds: f64,
    pub start_time_code: f64,
    pub end_time_code: f64,
    pub time_codes_per_second: f64,
}

/// `timeline.control` arguments: any subset, applied in the order play, loop, rate, time.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimelineControl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playing: Option<bool>,
    #[serde(default, rename = "loop", skip_serializing_if = "Option::is_none")]
    pub looping: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub version: u32,
    pub description: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceList {
    pub services: Vec<ServiceRow>,
}

services! {
    HostServices = "host.services" version 1 (NoArgs => ServiceList)
        args "`{}`" answers "`{services: [{name, version, description}]}`"
        : "Lists every host service with its version.";
    HostState = "host.state" version 1 (NoArgs => Value)
        args "`{}`" answers "what `/api/state` shows"
        : "The runtime state document.";
    PluginsList = "plugins.list" version 1 (NoArgs => Value)
        args "`{}`" answers "what `/api/plugins` shows"
        : "Loaded plugins, their objects and load failures.";
    SettingsGet = "settings.get" version 1 (KeyArgs => Value)
        args "`{key?}`" answers "the value (or all settings)"
        : "Reads the host's settings store.";
    SettingsSet = "settings.set" version 1 (SettingArgs => Saved)
        args "`{key, value}`" answers "`{saved: true}`"
        : "Writes one setting (persisted with `--settings`).";
    CameraStateGet = "camera.state" version 1 (NoArgs => CameraState)
        args "`{}`" answers "controller state plus `scheme` and `view`"
        : "The active camera's state.";
    CameraView = "camera.view" version 1 (NoArgs => View)
        args "`{}`" answers "`{eye, target, up, fov_y_deg, near, far, projection}`"
        : "The current view.";
    CameraSetView = "camera.set_view" version 1 (ViewPatch => View)
        args "view fields (any subset)" answers "the applied view"
        : "Moves the camera; non-finite values are refused.";
    CameraSchemesGet = "camera.schemes" version 1 (NoArgs => CameraSchemes)
        args "`{}`" answers "`{schemes: [{id, description, plugin}], active}`"
        : "Registered camera schemes.";
    CameraSetScheme = "camera.set_scheme" version 1 (SchemeArgs => CameraState)
        args "`{scheme}`" answers "the new camera state (the view is kept)"
        : "Switches the camera scheme.";
    CameraFit = "camera.fit" version 1 (OptionalPrimArgs => CameraState)
        args "`{prim_path?}`" answers "the camera state after framing"
        : "Frames a prim (or the whole stage).";
    CameraFocusSelection = "camera.focus_selection" version 1 (NoArgs => CameraState)
        args "`{}`" answers "the camera state after re-targeting"
        : "Re-targets on the selection keeping the viewing direction.";
    CameraAuthored = "camera.authored" version 1 (NoArgs => AuthoredCameras)
        args "`{}`" answers "`{cameras: [{path, fov_y_deg}], active}`"
        : "The stage's authored cameras and the one last adopted.";
    CameraUseAuthored = "camera.use_authored" version 1 (PathArgs => CameraState)
        args "`{path}`" answers "the camera state after copying that camera's view"
        : "Looks through an authored camera.";
    RendererSettings = "renderer.settings" version 1 (NoArgs => Value)
        args "`{}`" answers "`{settings, capabilities}`"
        : "The renderer's settings and their capabilities.";
    RendererSetSetting = "renderer.set_setting" version 1 (SettingArgs => SettingApplied)
        args "`{key, value}`" answers "`{key, applies_at}`"
        : "Applies one renderer setting.";
    RendererAovs = "renderer.aovs" version 1 (NoArgs => Aovs)
        args "`{}`" answers "`{aovs, active}`"
        : "The renderer's AOVs and the active one.";
    RendererSetAov = "renderer.set_aov" version 1 (AovArgs => ActiveAov)
        args "`{aov}`" answers "`{active}`"
        : "Switches the displayed AOV.";
    StageOpen = "stage.open" version 1 (OpenArgs => OpenAnswer)
        args "`{url, force?}`" answers "`{status: \"already_open\", stage}` or `{status: \"loading\", url, request_id}`"
        : "Opens a stage; the result arrives as `stageOpened` or `stageOpenFailed`.";
    StageInfo = "stage.info" version 1 (NoArgs => StageInfoAnswer)
        args "`{}`" answers "`{loading, loading_url, stage: StageInfo or null, last_error}`"
        : "What is open and what is loading.";
    StageChildren = "stage.children" version 1 (PrimArgs => Children)
        args "`{prim_path}` (`\"/\"` = root prims)" answers "`{prim_path, children: [{name, path, type, children}]}`"
        : "A prim's children with their type class.";
    StageProperties = "stage.properties" version 1 (PropertiesArgs => Properties)
        args "`{prim_path, max_bytes?}`" answers "`{prim_path, properties, truncated, omitted_count}`"
        : "A prim's properties, capped in size.";
    StageVariants = "stage.variants" version 1 (PrimArgs => Variants)
        args "`{prim_path}`" answers "`{prim_path, variants: {set: {options, selection}}}`"
        : "A prim's variant sets.";
    StageSetVariant = "stage.set_variant" version 1 (SetVariantArgs => LoadingAnswer)
        args "`{prim_path, variant_set, variant_selection}`" answers "`{status: \"loading\", request_id}`"
        : "Selects a variant; the recomposed stage arrives as `stageOpened` (`reason: \"variant\"`).";
    StagePrimCount = "stage.prim_count" version 1 (NoArgs => Count)
        args "`{}`" answers "`{count}`"
        : "Prims in the open stage (pxr's default traversal).";
    StageBounds = "stage.bounds" version 1 (PrimArgs => PrimBounds)
        args "`{prim_path}`" answers "`{prim_path, min, max}`"
        : "World bounds of a prim.";
    StageListScenes = "stage.list_scenes" version 1 (NoArgs => Scenes)
        args "`{}`" answers "`{scenes: [relative names]}`"
        : "Stages under the asset root (never server paths).";
    SelectionGet = "selection.get" version 1 (NoArgs => Prims)
        args "`{}`" answers "`{prims}`"
        : "The canonical selection.";
    SelectionSet = "selection.set" version 1 (PathsArgs => Prims)
        args "`{paths}` (`[]` clears)" answers "`{prims}` (unknown paths dropped)"
        : "Sets the selection; raises `selectionChanged` with `source: \"request\"`.";
    SelectionSetPickable = "selection.set_pickable" version 1 (PickableArgs => PickableAnswer)
        args "`{paths, mode?: add | replace | all}`" answers "`{count}`"
        : "Restricts what clicks can select (`all`: everything, the default).";
    ViewportPick = "viewport.pick" version 1 (PickArgs => Picked)
        args "`{x, y}`" answers "`{path}` (`null` for background)"
        : "The prim under a stream pixel; does not change the selection.";
    ViewportSetInputActive = "viewport.set_input_active" version 1 (Active => Active)
        args "`{active}`" answers "`{active}`"
        : "Gates viewport input; inactive cancels the gesture and suppresses picks.";
    StatsGet = "stats.get" version 1 (NoArgs => Value)
        args "`{}`" answers "`{fps, frame_ms, render_ms, convert_ms, frames_rendered, frames_dropped, clients, video_kbps}`"
        : "Frame statistics over the last second.";
    TimelineStateGet = "timeline.state" version 1 (NoArgs => TimelineState)
        args "`{}`" answers "`{animated, playing, loop, rate, time, seconds, start_time_code, end_time_code, time_codes_per_second}`"
        : "The host's timeline (stage time shared by every client).";
    TimelineSetControl = "timeline.control" version 1 (TimelineControl => TimelineState)
        args "`{playing?, loop?, rate?, time?}`" answers "the timeline state"
        : "Plays, pauses, loops, sets the rate (finite, ≥ 0) or seeks (a finite time code, clamped to the range); raises `timelineChanged`.";
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClientPayload {
    pub client_id: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HelloPayload {
    pub client_id: u64,
    #[serde(default)]
    pub client: Option<Value>,
    #[serde(default)]
    pub dialect: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageLoadingPayload {
    pub url: String,
    pub request_id: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageOpenedPayload {
    pub request_id: u64,
    /// `open`, `reload` or `variant`.
    pub reason: String,
    pub stage: Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StageOpenFailedPayload {
    pub request_id: u64,
    pub url: String,
    pub code: String,
    pub error: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SelectionPayload {
    pub prims: Vec<String>,
    /// `viewport`, `request` or `stage`.
    pub source: String,
}

/// A renderer, camera or handler instance the host disabled.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PluginDisabledPayload {
    /// `renderer`, `camera` or `handler`.
    pub kind: String,
    pub id: String,
    pub plugin: String,
    pub reason: String,
    /// What took over (`testpattern`, the default camera scheme), if anything.
    #[serde(default)]
    pub fallback: Option<String>,
}

events! {
    ClientConnected = "clientConnected" (ClientPayload) payload "`{client_id}`"
        : "A client connected (WebSocket or a transport's client).";
    ClientHello = "clientHello" (HelloPayload) payload "`{client_id, client?, dialect}`"
        : "The host answered a client's `hello`: push the initial state here.";
    ClientDisconnected = "clientDisconnected" (ClientPayload) payload "`{client_id}`"
        : "A client left.";
    StageLoading = "stageLoading" (StageLoadingPayload) payload "`{url, request_id}`"
        : "A load started.";
    StageOpened = "stageOpened" (StageOpenedPayload) payload "`{request_id, reason, stage: StageInfo}`"
        : "A load committed (the renderer has the stage, the camera is fitted).";
    StageOpenFailed = "stageOpenFailed" (StageOpenFailedPayload) payload "`{request_id, url, code, error}`"
        : "A load failed; the previous stage (if any) stays.";
    SelectionChanged = "selectionChanged" (SelectionPayload) payload "`{prims, source}`"
        : "The canonical selection changed (click, request, stage switch).";
    CameraChanged = "cameraChanged" (CameraState) payload "camera state"
        : "After a fit, a scheme switch or an authored-camera switch.";
    PluginDisabled = "pluginDisabled" (PluginDisabledPayload) payload "`{kind, id, plugin, reason, fallback}`"
        : "The host disabled a plugin instance (once per instance); clients get the same message.";
    TimelineChanged = "timelineChanged" (TimelineState) payload "timeline state"
        : "The timeline changed (play, pause, seek, loop, rate, a stage opened), and ten times a second while playing.";
}

/// The services and events tables as they appear in `docs/PLUGINS.md`.
pub fn markdown_tables() -> String {
    let mut out = String::from("| service | version | args | answer | what it does |\n|---|---|---|---|---|\n");
    for s in SERVICES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            s.name,
            s.version,
            s.args,
            s.answer.replace('|', "\\|"),
            s.description
        ));
    }
    out.push_str("\n| event | payload | when |\n|---|---|---|\n");
    for e in EVENTS {
        out.push_str(&format!("| `{}` | {} | {} |\n", e.name, e.payload, e.when));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_versioned() {
        let mut names: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SERVICES.len());
        assert!(SERVICES.iter().all(|s| s.version >= 1));
        let mut events: Vec<&str> = EVENTS.iter().map(|e| e.name).collect();
        events.sort_unstable();
        events.dedup();
        assert_eq!(events.len(), EVENTS.len());
    }

    /// `docs/PLUGINS.md` carries the generated tables between markers; regenerate with
    /// `OVHOST_BLESS=1 cargo test -p ovhost-plugin-api docs_tables`.
    #[test]
    fn docs_tables_match_the_declarations() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PLUGINS.md");
        let doc = std::fs::read_to_string(path).expect("docs/PLUGINS.md");
        let (begin, end) = ("<!-- services:begin (generated) -->\n", "<!-- services:end -->");
        let start = doc.find(begin).expect("begin marker") + begin.len();
        let stop = doc.find(end).expect("end marker");
        let tables = markdown_tables();
        if doc[start..stop] != tables {
            if std::env::var_os("OVHOST_BLESS").is_some() {
                std::fs::write(path, format!("{}{}{}", &doc[..start], tables, &doc[stop..])).expect("write");
            } else {
                panic!(
                    "docs/PLUGINS.md services tables are stale: run OVHOST_BLESS=1 cargo test -p ovhost-plugin-api docs_tables"
                );
            }
        }
    }

    #[test]
    fn views_round_trip_with_the_old_shape() {
        let old = r#"{"eye":[0,0,5],"target":[0,0,0],"up":[0,1,0],"fov_y_deg":45,"near":0.1,"far":100}"#;
        let view: View = serde_json::from_str(old).expect("0.1 view");
        assert_eq!(view.projection, "perspective");
        let state: CameraState =
            serde_json::from_str(&format!(r#"{{"scheme":"orbit","view":{old},"distance":5}}"#)).expect("state");
        assert_eq!(state.controller.get("distance"), Some(&Value::from(5)));
    }
}

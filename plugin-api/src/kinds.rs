//! The four plugin kinds. Each is a `#[sabi_trait]`: a plugin implements the trait on its own
//! type and registers a factory; the host only ever holds the boxed trait object.
//!
//! Every method returns `RResult<_, PluginError>`: every call across the boundary can fail, and a
//! panic inside any of them is caught by the guard the boxing functions in this crate wrap around
//! the implementation (see [`crate::guard`]).
//!
//! Evolution: methods after `#[sabi(last_prefix_field)]` may be appended in later minor versions;
//! see `EVOLUTION.md`.

use abi_stable::{
    sabi_trait,
    std_types::{RResult, RSlice, RStr, RString, RVec},
};

use crate::{Bounds, CameraView, Frame, InputEvent, PluginError, StageScene, UpAxis};

/// What the render loop asks a renderer for, once per frame.
#[repr(C)]
#[derive(abi_stable::StableAbi, Clone, Copy, Debug)]
pub struct RenderRequest {
    pub camera: CameraView,
    pub frame_number: u64,
    /// Host monotonic clock, microseconds.
    pub time_us: u64,
}

/// A renderer backend: turns a stage and a camera into frames.
///
/// # Lifecycle
/// 1. Created by its factory with a JSON config (on the render thread).
/// 2. `resize` once with the stream size before the first `render`, and again if it changes.
/// 3. `open_stage` when a stage finishes loading; `close_stage` before the next one or on
///    shutdown. Without a stage, `render` still returns a frame (background / diagnostic image).
/// 4. `render` once per frame. The returned [`Frame`] stays valid until the next mutable call.
/// 5. `pick`, `set_selection`, settings and AOV calls happen between frames, on the render thread.
/// 6. Dropped on shutdown or when the host disables the instance after an error.
#[sabi_trait]
pub trait RendererBackend: Send {
    /// Sets the output size in pixels. Called before the first frame.
    fn resize(&mut self, width: u32, height: u32) -> RResult<(), PluginError>;

    /// Takes a newly loaded stage. Errors leave the previous stage in place.
    fn open_stage(&mut self, scene: &StageScene) -> RResult<(), PluginError>;

    /// Drops the current stage.
    fn close_stage(&mut self) -> RResult<(), PluginError>;

    /// Renders one frame with this camera.
    fn render(&mut self, request: &RenderRequest) -> RResult<Frame, PluginError>;

    /// The prim id under stream pixel (x, y) in the last rendered frame; 0 for none.
    fn pick(&mut self, x: u32, y: u32) -> RResult<u32, PluginError>;

    /// Outlines these prim ids (already expanded to descendant meshes by the host). Empty clears.
    fn set_selection(&mut self, prim_ids: RSlice<'_, u32>) -> RResult<(), PluginError>;

    /// `{"settings": {key: value}, "capabilities": [{key, label, control, applies_at, ...}]}`.
    fn render_settings(&self) -> RResult<RString, PluginError>;

    /// Applies one setting; returns its `applies_at` (`immediate`, `reload_required`, ...).
    /// Unknown keys fail with `ErrorKind::UNSUPPORTED`.
    fn set_render_setting(&mut self, key: RStr<'_>, value_json: RStr<'_>) -> RResult<RString, PluginError>;

    /// Names of the AOVs this renderer can show (`LdrColor` first).
    fn aovs(&self) -> RResult<RVec<RString>, PluginError>;

    /// Switches the displayed AOV.
    #[sabi(last_prefix_field)]
    fn set_aov(&mut self, name: RStr<'_>) -> RResult<(), PluginError>;
}

/// A frame converter: one input [`crate::FrameSpec`] to one output spec (declared at registration
/// in [`crate::ConverterEntry`], so the host can plan chains without creating instances).
///
/// # Lifecycle
/// 1. Created by its factory with a JSON config when the host builds a sink's chain.
/// 2. `configure` may be called at any time between frames (bitrate, quality, fps).
/// 3. `convert` once per frame; the output stays valid until the next `convert`.
/// 4. `request_keyframe` asks an encoder to make its next output decodable on its own.
/// 5. Dropped when the chain is rebuilt or the host shuts down.
#[sabi_trait]
pub trait FrameConverter: Send {
    /// Updates options from a JSON object; unknown keys are ignored, bad values fail.
    fn configure(&mut self, options_json: RStr<'_>) -> RResult<(), PluginError>;

    /// Makes the next output a keyframe (no-op for formats without inter frames).
    fn request_keyframe(&mut self) -> RResult<(), PluginError>;

    /// Converts one frame.
    #[sabi(last_prefix_field)]
    fn convert(&mut self, input: &Frame) -> RResult<Frame, PluginError>;
}

/// A camera controller: owns camera state, consumes normalized input and time, produces a view.
///
/// # Lifecycle
/// 1. Created by its factory; the host then calls `set_viewport` and `set_view` (so a scheme
///    switch keeps the current view) or `fit` after a stage load.
/// 2. Per frame: zero or more `input` calls (pointer moves already coalesced), then one
///    `advance(dt_us)` whose view the renderer uses.
/// 3. `cancel` ends any gesture (stage switch, viewport inactive, focus lost).
#[sabi_trait]
pub trait CameraController: Send {
    fn set_viewport(&mut self, width: u32, height: u32) -> RResult<(), PluginError>;

    /// Feeds one input event; returns true if the controller used it.
    fn input(&mut self, event: &InputEvent) -> RResult<bool, PluginError>;

    /// Advances time-based motion by `dt_us` microseconds and returns the current view.
    fn advance(&mut self, dt_us: u64) -> RResult<CameraView, PluginError>;

    /// Adopts a view (keeps the camera where it was on a scheme switch).
    fn set_view(&mut self, view: &CameraView) -> RResult<(), PluginError>;

    /// Frames these world bounds with padding, using `up` as the world up axis.
    fn fit(&mut self, bounds: &Bounds, up: UpAxis) -> RResult<(), PluginError>;

    /// Re-targets onto these bounds keeping the viewing direction (the `F` key).
    fn focus(&mut self, bounds: &Bounds) -> RResult<(), PluginError>;

    /// Ends any gesture in progress.
    fn cancel(&mut self) -> RResult<(), PluginError>;

    /// The controller's state as a JSON object (sent as `cameraStateChanged`).
    #[sabi(last_prefix_field)]
    fn state(&self) -> RResult<RString, PluginError>;
}

/// Host services a message handler can use while it handles a message. Implemented by the host;
/// valid only for the duration of the call it is passed to.
#[sabi_trait]
pub trait HostContext {
    /// The connection the message came from (0 when the host itself raised the event).
    fn client_id(&self) -> u64;

    /// Sends `{event_type, payload}` to the client the message came from.
    fn reply(&mut self, event_type: RStr<'_>, payload_json: RStr<'_>);

    /// Sends `{event_type, payload}` to every connected client.
    fn broadcast(&mut self, event_type: RStr<'_>, payload_json: RStr<'_>);

    /// Calls a named host service with JSON arguments, returning its JSON result.
    /// The services are listed in `docs/PLUGINS.md` (e.g. `stage.children`, `selection.set`).
    #[sabi(last_prefix_field)]
    fn call(&mut self, service: RStr<'_>, args_json: RStr<'_>) -> RResult<RString, PluginError>;
}

/// The host context as handlers receive it.
pub type HostContextMut<'a> = HostContext_TO<'a, abi_stable::sabi_types::RMut<'a, ()>>;

/// A JSON message handler.
///
/// # Lifecycle
/// 1. Created once by its factory at host start (on the render thread).
/// 2. `handle` for every message whose `event_type` it declared in its [`crate::HandlerEntry`],
///    on the render thread, between frames, in arrival order.
/// 3. `on_host_event` for host notifications (`clientConnected`, `clientDisconnected`,
///    `stageOpened`, `stageClosed`, `selectionChanged`), same thread.
/// 4. If a call panics, the host disables the instance and reports it; the stream continues.
#[sabi_trait]
pub trait MessageHandler: Send {
    fn handle(
        &mut self,
        ctx: HostContextMut<'_>,
        event_type: RStr<'_>,
        payload_json: RStr<'_>,
    ) -> RResult<(), PluginError>;

    #[sabi(last_prefix_field)]
    fn on_host_event(
        &mut self,
        _ctx: HostContextMut<'_>,
        _event: RStr<'_>,
        _payload_json: RStr<'_>,
    ) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
}

pub type RendererBox = RendererBackend_TO<'static, abi_stable::std_types::RBox<()>>;
pub type ConverterBox = FrameConverter_TO<'static, abi_stable::std_types::RBox<()>>;
pub type CameraBox = CameraController_TO<'static, abi_stable::std_types::RBox<()>>;
pub type HandlerBox = MessageHandler_TO<'static, abi_stable::std_types::RBox<()>>;

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
    StableAbi,
    prefix_type::{PrefixRef, WithMetadata},
    sabi_trait,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};

use crate::{Bounds, CameraView, Frame, InputEvent, PluginError, SceneRef, UpAxis};

/// What the render loop asks a renderer for, once per frame. A prefix type: fields may be
/// appended in 0.2.x; a renderer reads an appended field through its accessor, which answers
/// `None` on an older host. Received as [`RenderRequestRef`], valid for the `render` call.
#[repr(C)]
#[derive(StableAbi, Debug)]
#[sabi(kind(Prefix(prefix_ref = RenderRequestRef)))]
#[sabi(missing_field(option))]
pub struct RenderRequest {
    pub camera: CameraView,
    pub frame_number: u64,
    /// Host monotonic clock, microseconds.
    pub time_us: u64,
    /// The stage time code to show (the host's timeline); NaN when the stage has no time.
    #[sabi(last_prefix_field)]
    pub time_code: f64,
}

impl RenderRequest {
    /// Runs `f` with this request as the renderer receives it (a prefix reference to a value on
    /// the caller's stack, valid during `f`).
    pub fn with_ref<R>(self, f: impl FnOnce(RenderRequestRef) -> R) -> R {
        let with_metadata = WithMetadata::new(self);
        // SAFETY: `with_metadata` is a properly initialized `WithMetadata` that outlives `f`; the
        // reference is handed to a call that, by the renderer contract, does not retain it.
        let request = RenderRequestRef(unsafe { PrefixRef::from_raw(&with_metadata) });
        f(request)
    }
}

/// A renderer backend: turns a stage and a camera into frames.
///
/// # Lifecycle
/// 1. Created by its factory with a JSON config on the render thread; every later call happens on
///    the render thread too (the instance is `Send` so the host can move it there, never shared).
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
    /// The scene is borrowed for this call: copy (upload) what you keep.
    fn open_stage(&mut self, scene: SceneRef<'_>) -> RResult<(), PluginError>;

    /// Drops the current stage.
    fn close_stage(&mut self) -> RResult<(), PluginError>;

    /// Renders one frame with this camera.
    fn render(&mut self, request: RenderRequestRef) -> RResult<Frame<'_>, PluginError>;

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

    /// Since 0.2.1: the scene sections this renderer reads (`meshes`, `cameras`, `materials`,
    /// ...), so the host may skip preparing the others. `None`: not said (a 0.2.0 renderer, whose
    /// vtable lacks this method, answers through this default body): every section.
    fn scene_sections(&self) -> RResult<ROption<RVec<RString>>, PluginError> {
        RResult::ROk(ROption::RNone)
    }

    /// Since 0.2.2: the frame specs `render` can return, the default (what it returns until told
    /// otherwise) first, e.g. `[rgba8@host, i420@host]` for a GPU renderer that converts to YUV
    /// before readback. The host picks, per frame, the one from which the chains every watching
    /// sink needs cost least, and says so with [`RendererBackend::set_output_format`]. Empty (the
    /// default body, and a 0.2.0/0.2.1 renderer): one format, whatever `render` returns.
    fn output_formats(&self) -> RResult<RVec<crate::FrameSpec>, PluginError> {
        RResult::ROk(RVec::new())
    }

    /// Since 0.2.2: `render` returns frames of `spec` (one of [`RendererBackend::output_formats`])
    /// from the next call on. The default body refuses with `unsupported`; the host then keeps
    /// taking whatever `render` returns.
    fn set_output_format(&mut self, spec: crate::FrameSpec) -> RResult<(), PluginError> {
        RResult::RErr(PluginError::unsupported(format!("this renderer produces one output format, not {spec}")))
    }

    /// Since 0.2.2: the pixels of some textures arrived after [`RendererBackend::open_stage`]
    /// (the host opens a stage with every texture's pixels empty, so it appears at once on
    /// fallbacks, and streams the decoded textures in batches). `scene` is the same stage with
    /// those textures filled in; `indices` are 0-based into [`crate::Scene::textures`]. Answer
    /// `true` when the renderer took them. `false` (this default body: a 0.2.0/0.2.1 renderer)
    /// tells the host to call `open_stage` again with the complete scene once every texture
    /// has arrived.
    fn update_textures(&mut self, scene: SceneRef<'_>, indices: RSlice<'_, u32>) -> RResult<bool, PluginError> {
        let _ = (scene, indices);
        RResult::ROk(false)
    }
}

/// A frame converter: one input [`crate::FrameSpec`] to one output spec (declared at registration
/// in [`crate::ConverterEntry`], so the host can plan chains without creating instances).
///
/// # Lifecycle
/// 1. Created by its factory with a JSON config when the host builds a sink's chain.
/// 2. `configure` may be called at any time between frames (bitrate, quality, fps). The host
///    creates and configures every converter with one object of conventional names: `fps`,
///    `bitrate_kbps`, `gop_frames`, `quality`; and sends `{"refresh": true}` before the frame it
///    renders once the picture stopped changing (an encoder makes it a keyframe at a better
///    quality; others ignore it).
/// 3. `convert` once per frame; the output borrows the converter until its next call.
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
    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError>;
}

/// A camera controller: owns camera state, consumes normalized input and time, produces a view.
///
/// # Lifecycle
/// 1. Created by its factory on the render thread (every call is on it); the host then calls
///    `set_viewport` and `set_view` (so a scheme
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

    /// The controller's state as a JSON object (sent as `cameraStateChanged`). Anything that is
    /// not a JSON object is reported as the camera's error; the host never trusts its shape.
    #[sabi(last_prefix_field)]
    fn state(&self) -> RResult<RString, PluginError>;
}

pub use crate::context::{HostContext, HostContextMut, HostVtable, HostVtableRef};

/// A JSON message handler.
///
/// # Lifecycle
/// 1. Created once by its factory at host start, on the render thread.
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

//! # ovhost plugin API
//!
//! The contract between the `ovhost` host and its plugins, and nothing else: stable-ABI types
//! (`abi_stable`), one `#[sabi_trait]` per plugin kind, the root module every plugin exports, the
//! boundary error type and the panic guard. No I/O, no GPU, no session logic lives here.
//!
//! **The one rule:** a plugin library is a `cdylib` named `libovhost_plugin_<name>.so` that calls
//! [`export_plugin!`] once. The host loads it with
//! `abi_stable::library::lib_header_from_path(path)?.init_root_module::<PluginModRef>()`, which
//! checks that the plugin was built against a compatible version of this crate (the crate version
//! *is* the plugin API version, [`API_VERSION`]) and that every type's layout matches.
//!
//! ## Plugin kinds
//! | kind | trait | what it does |
//! |---|---|---|
//! | renderer backend | [`RendererBackend`] | stage + camera → frames, picking, selection outline, AOVs |
//! | frame converter | [`FrameConverter`] | one frame format/location → another (BGRA, H.264, JPEG) |
//! | camera controller | [`CameraController`] | normalized input + time → camera view |
//! | message handler | [`MessageHandler`] | JSON app messages `{event_type, payload}` |
//!
//! One library may register several objects of several kinds, each under an id, from its
//! `register` function (see [`Registry`]). Payloads cross as JSON text; host services are typed
//! ([`services`], called with [`HostContextExt::call`]); frames cross as descriptors ([`Frame`])
//! that borrow their producer; the stage crosses as a [`SceneRef`] whose sections can be
//! appended to.
//!
//! ## Threads
//! Every plugin object is created and called on the host's render thread, one call at a time.
//! Objects are `Send` only so the host can move them there; they are never shared.
//!
//! ## Evolution
//! The root module, the registration entries and [`RenderRequest`] are prefix types and the
//! plugin-kind traits and [`Scene`] are `#[sabi_trait]`s: each grows by appending, and what an
//! older peer lacks reads as absent (`None`, an empty section, a trait method's default body).
//! See `EVOLUTION.md`.
//!
//! ## Panics
//! Objects registered through [`Registry`] are wrapped in [`Guarded`]: a panic inside any call is
//! caught on the plugin side and returned as a `PluginError` of kind [`ErrorKind::PANIC`]; the
//! object then refuses further calls and the host disables it.

pub mod camera;
pub mod context;
pub mod error;
pub mod frame;
pub mod guard;
pub mod input;
pub mod json;
pub mod kinds;
pub mod module;
pub mod registry;
pub mod scene;
pub mod services;

pub use abi_stable;
#[cfg(feature = "builtin")]
pub use inventory;

pub use camera::{CameraView, Projection};
pub use context::HostContextExt;
pub use error::{ErrorKind, PluginError, PluginResult};
pub use frame::{FRAME_FLAG_CHANGING, FRAME_FLAG_KEYFRAME, Frame, FrameFormat, FrameSpec, MemoryLocation, i420_layout};
pub use guard::{Guarded, camera_box, converter_box, guard, handler_box, renderer_box};
pub use input::*;
pub use json::{Json, JsonHandler};
pub use kinds::*;
#[cfg(feature = "builtin")]
pub use module::BuiltinPlugin;
pub use module::{PluginInfo, PluginMod, PluginModRef};
pub use registry::*;
pub use scene::{
    AuthoredCamera, Bounds, CAMERA_TRACK_STRIDE, ColorSpace, CurveBasis, Curves, FaceSubset, Light, LightKind,
    Material, MaterialInput, MeshData, MeshInstance, PointSet, Scene, Scene_TO, SceneExt, SceneRef, StageFacts,
    StageScene, Texture, TimeRange, Track, TrackTarget, UpAxis, WrapMode,
};

/// The plugin API version: this crate's version. Plugins built against another 0.x minor version
/// are refused at load with a message naming both versions.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Convenience imports for plugin authors.
pub mod prelude {
    pub use crate::{
        Bounds, CameraController, CameraView, ErrorKind, Frame, FrameConverter, FrameFormat, FrameSpec, FromConfig,
        HandlerExample, HostContext, HostContextExt, HostContextMut, InputEvent, InputKind, JsonHandler,
        MemoryLocation, MessageHandler, PluginError, Projection, Registry, RenderRequest, RenderRequestRef,
        RendererBackend, Scene, SceneExt, SceneRef, StageScene, UpAxis,
    };
    pub use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};
}

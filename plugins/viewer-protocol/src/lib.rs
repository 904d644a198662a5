//! # ovhost stock message handler: `viewer-protocol`
//!
//! The default dialect of ovhost's app messages: the NVIDIA realtime-viewer ("R") protocol
//! described in `docs/PROTOCOL.md` and the viewer-protocol reference. One handler (id
//! `viewer-protocol`) claims every `event_type` in [`EVENT_TYPES`] and is built entirely on the
//! public host services and host events (`docs/PLUGINS.md`), like any third-party plugin.
//!
//! | area | module |
//! |---|---|
//! | stage open / loading / reset / prim count, progress pushes | [`stage`] |
//! | children (with filters), properties, variants | [`hierarchy`] |
//! | selection, pickable set, `pickRequest` | [`selection`] |
//! | render settings, AOVs | [`render`] |
//! | fit, camera commands, authored cameras, camera schemes | [`camera`] |
//! | stats, plugins, scenes, viewport input gate | [`ovhost`] |
//! | initial state after `hello` | [`initial`] |
//!
//! Missing or mistyped fields fail with `invalid_input` (`payload.prim_path must be a string`),
//! which the host sends as `viewerError`. Handlers call the typed host services
//! (`ovhost_plugin_api::services`) through `HostContextExt`. [`fields`], [`filters`] and [`stage`]
//! are public so other dialects (the `kit-compat` plugin) reuse them.

pub mod camera;
pub mod examples;
pub mod fields;
pub mod filters;
pub mod handler;
pub mod hierarchy;
pub mod initial;
pub mod ovhost;
pub mod render;
pub mod selection;
pub mod stage;
pub mod state;
pub mod timeline;

use ovhost_plugin_api::{PluginError, Registry};

pub use handler::{EVENT_TYPES, ViewerProtocol};

/// The handler id.
pub const HANDLER_ID: &str = "viewer-protocol";

ovhost_plugin_api::builtin_plugin! {
    name: "viewer-protocol",
    description: "Stock message handlers: the realtime-viewer app protocol (stage, hierarchy, selection, settings, AOVs, camera)",
    register: register,
}

/// Registers the `viewer-protocol` handler (the built-in registration calls this).
pub fn register(registry: &mut Registry<'_>) -> Result<(), PluginError> {
    registry.json_handler::<ViewerProtocol>(
        HANDLER_ID,
        "The realtime-viewer app protocol: stage, hierarchy, selection, render settings, AOVs, camera, plugins",
        EVENT_TYPES,
        examples::examples(),
    );
    Ok(())
}

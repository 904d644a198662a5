//! # ovhost message handler: `kit-compat`
//!
//! Speaks the Kit USD Viewer dialect (kit-app-template's `usd_viewer.messaging` extension, as
//! driven by NVIDIA's web-viewer-sample) so an unmodified Kit web client can drive ovhost. The
//! handler `kit-usd-viewer` declares the dialect `kit` in its registration: the host routes a
//! connection's messages to it when that connection chose the `kit` dialect (`hello {dialect: "kit"}`, `/ws?dialect=kit` or
//! `--dialect kit`), and this handler's broadcasts reach only those connections.
//!
//! | request | reply |
//! |---|---|
//! | `openStageRequest {url}` | `openedStageResult {url, result, error}` (`error` is `""` on success) |
//! | `getChildrenRequest {prim_path, filters}` | `getChildrenResponse {prim_path, children: [{name, path, children?: []}]}` |
//! | `resetStage` | camera reset to the framed stage, `resetStageResponse {result, error}` |
//! | `makePrimsPickable {paths}` | `makePrimsPickableResponse {result, error}`; only those prims stay pickable |
//! | `selectPrimsRequest {paths}` | none (no echo); viewport picks push `stageSelectionChanged {prims}` |
//! | `loadingStateQuery` | `loadingStateResponse {url, loading_state}` |
//!
//! Pushes: `updateProgressAmount {amount}` / `updateProgressActivity {activity}` while a stage
//! loads, `openedStageResult` when it commits or fails.
//!
//! Kit behaviours kept on purpose: children rows carry `children: []` for "has children" and no
//! key for leaves; `OmniverseKit_*` children and `/Render` at the pseudo-root are skipped; an
//! unknown filter token matches nothing; an unknown prim yields an empty child list. One
//! deliberate difference: `filters: []` lists every child (Kit would list none).

mod examples;
mod handler;

use ovhost_plugin_api::{PluginError, Registry};

pub use handler::{EVENT_TYPES, KitUsdViewer};

/// The handler id (free-form; the dialect is declared separately).
pub const HANDLER_ID: &str = "kit-usd-viewer";

/// The dialect this handler serves.
pub const DIALECT: &str = "kit";

ovhost_plugin_api::builtin_plugin! {
    name: "kit-compat",
    description: "The Kit USD Viewer message dialect (openedStageResult, getChildrenResponse, ...)",
    register: register,
}

/// Registers the `kit-usd-viewer` handler (the built-in registration calls this).
pub fn register(registry: &mut Registry<'_>) -> Result<(), PluginError> {
    registry.json_handler_in::<KitUsdViewer>(
        DIALECT,
        HANDLER_ID,
        "Kit USD Viewer dialect: openedStageResult, getChildrenResponse, resetStageResponse, makePrimsPickableResponse",
        EVENT_TYPES,
        examples::examples(),
    );
    Ok(())
}

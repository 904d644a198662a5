//! # ovhost raster renderer (`raster`)
//!
//! The default renderer backend: a wgpu offscreen rasterizer for the meshes of a
//! [`ovhost_plugin_api::StageScene`], registered as the built-in plugin `raster` with renderer
//! id `raster`. It runs on any Vulkan or GL adapter, including Mesa's software lavapipe and
//! llvmpipe, so the host streams a real image on machines without a GPU.
//!
//! Per frame: a scene pass (opaque meshes lit by a headlight, the stage lights and the dome, then
//! the background where no mesh was drawn, then translucent meshes) into an sRGB RGBA8 colour
//! target; prim ids (`R32Uint`) are drawn on demand where they are wanted (`scene_pass.rs`);
//! while something selected is on screen, an id pass and three cheap passes drawing the
//! selection outline from it (mask, row distances, disk test down the column: 4r+6 texel reads
//! a pixel instead of (2r+1)², `shaders/post.wgsl`), all scissored to where the selection
//! projects; then a readback into mapped host memory that the returned frame points into (rows
//! padded to 256 bytes; `pitch_bytes` says so). A pick draws the id of its one pixel and copies
//! it back. `OVHOST_RASTER_GPU_TIMES=1` measures each frame's passes on the GPU (`gpu_times.rs`,
//! printed by `raster_bench`).
//!
//! Config: `{"backend": "vulkan"|"gl"|"any", "adapter": "<name substring>"}`, overridden by
//! `OVHOST_WGPU_BACKEND` / `OVHOST_WGPU_ADAPTER`.

mod adapter;
mod animation;
pub mod aov;
mod camera;
pub mod config;
mod geometry;
mod gpu_times;
pub mod lights;
pub mod material;
mod pipelines;
mod renderer;
mod scene_pass;
mod selection;
pub mod settings;
pub mod synthetic;
mod targets;
mod yuv;

pub use aov::Aov;
pub use config::{BackendChoice, RasterConfig};
pub use renderer::Raster;
pub use settings::{Background, RenderMode, RenderSettings};

use ovhost_plugin_api::{PluginError, Registry};

/// The renderer id the host selects this backend by.
pub const RENDERER_ID: &str = "raster";

ovhost_plugin_api::builtin_plugin! {
    name: "raster",
    description: "Default wgpu rasterizer: lit meshes, picking, selection outlines, AOVs",
    register: register,
}

/// Registers the `raster` renderer.
pub fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.renderer::<Raster>(
        RENDERER_ID,
        "wgpu offscreen rasterizer (Vulkan or GL, GPU or Mesa software): headlight shading, \
         render modes lit/flat/normals/wireframe, id-buffer picking, selection outlines, \
         LdrColor/DepthSD/NormalSD/InstanceSegmentationSD AOVs",
    );
    Ok(())
}

//! # ovhost ovrtx renderer (`ovrtx`)
//!
//! A renderer backend driving NVIDIA Omniverse RTX through the ovrtx 0.5.x C API, loaded at run
//! time with `libloading` (`reference/ovrtx.md`). Registered as the built-in plugin `ovrtx` with
//! renderer id `ovrtx`. On a machine without the library, creation fails with
//! `PluginError::unavailable("ovrtx library not found: …")`.
//!
//! Modules: [`ffi`] (C mirrors, library search, function table), [`config`] (JSON config),
//! [`usda`] (the inline root layer), `native` (one renderer handle, calls → errors), `pathdict`
//! (pick-id ↔ path), `output` (reading step outputs), [`settings`], `renderer` ([`Ovrtx`]).
//!
//! Everything here was tested only against the test double `tests/fixtures/ovrtx-double`, never
//! against the real ovrtx library (see README.md).

pub mod config;
pub mod ffi;
mod native;
mod output;
mod pathdict;
mod renderer;
pub mod settings;
pub mod usda;

pub use config::{OutputDevice, OvrtxConfig};
pub use renderer::Ovrtx;

use ovhost_plugin_api::{PluginError, Registry};

/// The renderer id the host selects this backend by.
pub const RENDERER_ID: &str = "ovrtx";

ovhost_plugin_api::builtin_plugin! {
    name: "ovrtx",
    description: "NVIDIA Omniverse RTX renderer through the ovrtx 0.5 C API (needs the ovrtx library)",
    register: register,
}

/// Registers the `ovrtx` renderer.
pub fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.renderer::<Ovrtx>(
        RENDERER_ID,
        "NVIDIA Omniverse RTX (ovrtx 0.5.x, loaded at run time): path-traced LdrColor on the GPU, \
         picking, selection outlines, AOVs; unavailable where libovrtx-dynamic.so is not installed",
    );
    Ok(())
}

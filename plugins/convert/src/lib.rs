//! # ovhost-plugin-convert
//!
//! CPU frame converters, registered as the built-in plugin `convert`:
//!
//! | id | input | output | notes |
//! |---|---|---|---|
//! | `rgba-to-bgra` | `rgba8@host` | `bgra8@host` | vectorized swizzle (AVX2 picked at run time), packed output |
//! | `rgba-to-jpeg` | `rgba8@host` | `jpeg@host` | option `quality` 1..=100 (default 80), every output a keyframe |
//!
//! Both validate the input descriptor, honour its row pitch, and own their output memory until
//! their next `convert`. [`input`] and [`swizzle`] are public so the other converter crates and
//! the benchmarks reuse them.

pub mod bgra;
pub mod input;
pub mod jpeg;
pub mod registry_probe;
pub mod swizzle;

use ovhost_plugin_api::{FrameFormat, FrameSpec, PluginError, Registry};

pub use bgra::RgbaToBgra;
pub use jpeg::{DEFAULT_JPEG_QUALITY, RgbaToJpeg};

/// Relative chain cost of `rgba-to-bgra` (a memory-speed pass).
pub const RGBA_TO_BGRA_COST: u32 = 10;
/// Relative chain cost of `rgba-to-jpeg` (an image encode).
pub const RGBA_TO_JPEG_COST: u32 = 40;

ovhost_plugin_api::builtin_plugin! {
    name: "convert",
    description: "CPU frame converters: RGBA8 to BGRA8 and RGBA8 to JPEG",
    register: register,
}

/// Registers this crate's converters.
pub fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.converter::<RgbaToBgra>(
        "rgba-to-bgra",
        "Swaps red and blue on the CPU (RGBA8 to BGRA8, packed rows)",
        FrameSpec::host(FrameFormat::RGBA8),
        FrameSpec::host(FrameFormat::BGRA8),
        RGBA_TO_BGRA_COST,
    );
    r.converter::<RgbaToJpeg>(
        "rgba-to-jpeg",
        "Encodes each frame as a baseline JPEG (option: quality 1-100, default 80)",
        FrameSpec::host(FrameFormat::RGBA8),
        FrameSpec::host(FrameFormat::JPEG),
        RGBA_TO_JPEG_COST,
    );
    Ok(())
}

//! # ovhost-plugin-h264
//!
//! The software H.264 encoder, registered as the built-in plugin `h264` with two converters:
//! `rgba-to-h264` (`rgba8@host` → `h264@host`, converting to I420 on the CPU first) and
//! `i420-to-h264` (`i420@host` → `h264@host`, for renderers that convert on the GPU before
//! readback), one Annex B access unit per frame. See [`encoder`] for the stream shape and
//! [`options`] for its settings.
//!
//! OpenH264 2.7 is compiled from source (BSD-2-Clause) by the `openh264` crate; a source build is
//! not covered by Cisco's H.264 patent licence, which only applies to Cisco's prebuilt binaries.

pub mod encoder;
pub mod options;
pub mod rgba_source;

use ovhost_plugin_api::{FrameFormat, FrameSpec, PluginError, Registry};

pub use encoder::RgbaToH264;
pub use options::H264Settings;

/// Relative chain cost of `rgba-to-h264` (a video encode).
pub const RGBA_TO_H264_COST: u32 = 60;
/// Relative chain cost of `i420-to-h264`: the same encode without the RGBA→I420 conversion on
/// the CPU (`h264_bench` compares both inputs), so a renderer that offers I420 feeds this one.
pub const I420_TO_H264_COST: u32 = 48;

ovhost_plugin_api::builtin_plugin! {
    name: "h264",
    description: "Software H.264 encoder (OpenH264 built from source)",
    register: register,
}

/// Registers this crate's converters.
pub fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.converter::<RgbaToH264>(
        "rgba-to-h264",
        "Encodes RGBA8 frames to H.264 Constrained Baseline access units (options: bitrate_kbps, fps, gop_frames, threads)",
        FrameSpec::host(FrameFormat::RGBA8),
        FrameSpec::host(FrameFormat::H264),
        RGBA_TO_H264_COST,
    );
    r.converter::<RgbaToH264>(
        "i420-to-h264",
        "Encodes I420 frames (e.g. converted on the GPU) to H.264 Constrained Baseline access units, no colour conversion (options as rgba-to-h264)",
        FrameSpec::host(FrameFormat::I420),
        FrameSpec::host(FrameFormat::H264),
        I420_TO_H264_COST,
    );
    Ok(())
}

//! # ovhost-plugin-cuda
//!
//! CUDA frame converters through `cudarc` (driver API, libcuda loaded at run time), registered
//! as the built-in plugin `cuda`:
//!
//! | id | input | output |
//! |---|---|---|
//! | `rgba-to-bgra-cuda` | `rgba8@cuda` | `bgra8@cuda` (no host round trip) |
//! | `rgba-to-bgra-cuda-upload` | `rgba8@host` | `bgra8@cuda` (one upload, then the same kernel) |
//! | `cuda-download-rgba` | `rgba8@cuda` | `rgba8@host` (one pitched copy into page-locked memory) |
//! | `cuda-download-bgra` | `bgra8@cuda` | `bgra8@host` (the same) |
//!
//! Costs make the host's chain planner keep frames on the GPU as long as it can: from
//! `rgba8@cuda` to `bgra8@host` it picks `rgba-to-bgra-cuda` + `cuda-download-bgra` (2 + 20)
//! over `cuda-download-rgba` + the CPU `rgba-to-bgra` (20 + 10).
//!
//! The kernel is PTX text embedded in the crate (`kernels/`), so the target needs only the NVIDIA
//! driver. On a machine without one, creating either converter fails with
//! `UNAVAILABLE: CUDA not available: ...`; nothing panics. See [`convert`] for memory ownership,
//! streams and contexts, [`download`] for the copies to host memory.

pub mod convert;
pub mod device;
pub mod download;

use ovhost_plugin_api::{FrameFormat, FrameSpec, MemoryLocation, PluginError, Registry};

pub use convert::RgbaToBgraCuda;
pub use device::driver_present;
pub use download::CudaDownload;

/// Relative chain cost of converting a frame already on the GPU.
pub const CUDA_TO_CUDA_COST: u32 = 2;
/// Relative chain cost of uploading a host frame and converting it on the GPU.
pub const HOST_TO_CUDA_COST: u32 = 20;
/// Relative chain cost of copying a CUDA frame to host memory.
pub const CUDA_TO_HOST_COST: u32 = 20;

ovhost_plugin_api::builtin_plugin! {
    name: "cuda",
    description: "CUDA frame converters (RGBA8 to BGRA8 in device memory, downloads to host memory)",
    register: register,
}

/// Registers this crate's converters. Registration needs no GPU; creation does.
pub fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.converter::<RgbaToBgraCuda>(
        "rgba-to-bgra-cuda",
        "Swaps red and blue of a CUDA frame into a CUDA buffer (options: device)",
        FrameSpec::new(FrameFormat::RGBA8, MemoryLocation::CUDA),
        FrameSpec::new(FrameFormat::BGRA8, MemoryLocation::CUDA),
        CUDA_TO_CUDA_COST,
    );
    r.converter::<RgbaToBgraCuda>(
        "rgba-to-bgra-cuda-upload",
        "Uploads a host RGBA8 frame and swaps red and blue on the GPU (options: device)",
        FrameSpec::host(FrameFormat::RGBA8),
        FrameSpec::new(FrameFormat::BGRA8, MemoryLocation::CUDA),
        HOST_TO_CUDA_COST,
    );
    r.converter::<CudaDownload>(
        "cuda-download-rgba",
        "Copies a CUDA RGBA8 frame to host memory, for sinks that need host frames (options: device)",
        FrameSpec::new(FrameFormat::RGBA8, MemoryLocation::CUDA),
        FrameSpec::host(FrameFormat::RGBA8),
        CUDA_TO_HOST_COST,
    );
    r.converter::<CudaDownload>(
        "cuda-download-bgra",
        "Copies a CUDA BGRA8 frame to host memory, for sinks that need host frames (options: device)",
        FrameSpec::new(FrameFormat::BGRA8, MemoryLocation::CUDA),
        FrameSpec::host(FrameFormat::BGRA8),
        CUDA_TO_HOST_COST,
    );
    Ok(())
}

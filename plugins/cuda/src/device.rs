//! Opening CUDA safely: the driver check that must come before any driver call (without libcuda
//! cudarc's first call panics), the primary context of one device, a stream and the kernel.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaFunction, CudaStream, DriverError};
use cudarc::nvrtc::Ptx;
use ovhost_plugin_api::PluginError;

/// The PTX of `kernels/rgba_to_bgra.cu` (regenerate with `kernels/compile_ptx.py`).
const RGBA_TO_BGRA_PTX: &str = include_str!("../kernels/rgba_to_bgra.ptx");
const RGBA_TO_BGRA_KERNEL: &str = "rgba_to_bgra";

/// A CUDA device ready to run this crate's kernels.
pub struct CudaDevice {
    pub ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    pub rgba_to_bgra: CudaFunction,
}

fn unavailable(what: &str, e: DriverError) -> PluginError {
    PluginError::unavailable(format!("CUDA not available: {what} failed ({e})"))
}

/// True when the CUDA driver library (libcuda) can be loaded on this machine.
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen libcuda / nvcuda; loading the NVIDIA driver library runs its
    // own initializers, which is what every later driver call needs anyway.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

impl CudaDevice {
    /// Retains the primary context of device `ordinal`, creates a stream and loads the kernel.
    /// Fails with `UNAVAILABLE` ("CUDA not available: ...") on machines without a driver or GPU.
    pub fn open(ordinal: usize) -> Result<Self, PluginError> {
        if !driver_present() {
            return Err(PluginError::unavailable(
                "CUDA not available: the NVIDIA driver library (libcuda.so.1) is not installed on this machine",
            ));
        }
        let count = CudaContext::device_count().map_err(|e| unavailable("cuInit / device count", e))?;
        if ordinal >= usize::try_from(count).unwrap_or(0) {
            return Err(PluginError::unavailable(format!(
                "CUDA not available: device {ordinal} requested but {count} CUDA device(s) present"
            )));
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| unavailable("opening the device's primary context", e))?;
        // SAFETY: every buffer of this crate is used on `stream` only, and an input frame on another
        // stream is ordered with an explicit event wait (see `convert`), so cudarc's per-buffer
        // event tracking is not needed.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().map_err(|e| unavailable("creating a stream", e))?;
        let module =
            ctx.load_module(Ptx::from_src(RGBA_TO_BGRA_PTX)).map_err(|e| unavailable("loading the kernel PTX", e))?;
        let rgba_to_bgra =
            module.load_function(RGBA_TO_BGRA_KERNEL).map_err(|e| unavailable("finding the kernel", e))?;
        Ok(Self { ctx, stream, rgba_to_bgra })
    }
}

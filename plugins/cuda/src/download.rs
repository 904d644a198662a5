//! The download converters `cuda-download-rgba` (`rgba8@cuda` → `rgba8@host`) and
//! `cuda-download-bgra` (`bgra8@cuda` → `bgra8@host`): one pitched device-to-host copy into
//! page-locked memory the converter owns (packed rows, `pitch = width * 4`), for sinks that need
//! host memory (the web sink's H.264/JPEG encoders, a host-BGRA sink) when the renderer outputs
//! CUDA frames.
//!
//! The copy is queued on the converter's stream after the input's stream (as in [`crate::convert`])
//! and `convert` waits for it: a host frame is complete when it is returned. The output stays
//! valid until the converter's next `convert`. Every byte it downloads is counted
//! ([`CudaDownload::bytes_downloaded`]).
//!
//! Options (config only): `{"device": 0}`, the CUDA device ordinal.

use cudarc::driver::{CudaEvent, PinnedHostSlice, sys};
use ovhost_plugin_api::{MemoryLocation, prelude::*};

use crate::convert::{device_option, driver, order_after_input};
use crate::device::CudaDevice;

/// CUDA RGBA8/BGRA8 → the same format in host memory.
pub struct CudaDownload {
    device: CudaDevice,
    /// Page-locked host buffer (allocated without write-combining: the CPU reads it).
    output: Option<PinnedHostSlice<u8>>,
    input_ready: CudaEvent,
    bytes_downloaded: u64,
}

impl FromConfig for CudaDownload {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        Self::new(device_option(config_json, "cuda-download")?)
    }
}

impl CudaDownload {
    /// Opens device `ordinal`; fails with `UNAVAILABLE` where there is no driver or GPU.
    pub fn new(ordinal: usize) -> Result<Self, PluginError> {
        let device = CudaDevice::open(ordinal)?;
        let input_ready = device.ctx.new_event(None).map_err(|e| driver("event creation", e))?;
        Ok(Self { device, output: None, input_ready, bytes_downloaded: 0 })
    }

    /// Bytes copied from device to host memory so far.
    pub fn bytes_downloaded(&self) -> u64 {
        self.bytes_downloaded
    }

    /// Downloads one frame; the returned host frame points into `self` until the next call.
    pub fn download(&mut self, input: &Frame<'_>) -> Result<Frame<'_>, PluginError> {
        if input.format != FrameFormat::RGBA8 && input.format != FrameFormat::BGRA8 {
            return Err(PluginError::invalid_input(format!(
                "cuda-download takes rgba8 or bgra8 frames, got {}",
                input.spec()
            )));
        }
        if input.location != MemoryLocation::CUDA {
            return Err(PluginError::invalid_input(format!(
                "cuda-download takes frames in CUDA memory, got {}",
                input.spec()
            )));
        }
        input.validate()?;
        self.device.ctx.bind_to_thread().map_err(|e| driver("binding the context", e))?;
        order_after_input(&self.device, &self.input_ready, input, "cuda-download")?;
        let (w, h) = (input.width as usize, input.height as usize);
        let row = w * 4;
        let len = row * h;
        if self.output.as_ref().is_none_or(|b| b.len() < len) {
            self.output = None; // free the old buffer first
            // SAFETY: the buffer is fully written by the copy below before anything reads it.
            // Flags 0: cached page-locked memory (write-combined memory is slow for CPU reads).
            let buffer = unsafe { self.device.ctx.alloc_pinned_with_flags::<u8>(len, 0) }
                .map_err(|e| driver(&format!("allocating {len} bytes of page-locked memory"), e))?;
            self.output = Some(buffer);
        }
        let output = self.output.as_mut().ok_or_else(|| PluginError::internal("host buffer missing"))?;
        let dst = output.as_mut_ptr().map_err(|e| driver("host buffer", e))?;
        let copy = sys::CUDA_MEMCPY2D {
            srcXInBytes: 0,
            srcY: 0,
            srcMemoryType: sys::CUmemorytype::CU_MEMORYTYPE_DEVICE,
            srcHost: std::ptr::null(),
            srcDevice: input.data_ptr() as sys::CUdeviceptr,
            srcArray: std::ptr::null_mut(),
            srcPitch: input.pitch_bytes as usize,
            dstXInBytes: 0,
            dstY: 0,
            dstMemoryType: sys::CUmemorytype::CU_MEMORYTYPE_HOST,
            dstHost: dst.cast(),
            dstDevice: 0,
            dstArray: std::ptr::null_mut(),
            dstPitch: row,
            WidthInBytes: row,
            Height: h,
        };
        let stream = &self.device.stream;
        // SAFETY: the source is a validated device frame of `h` rows `pitch` apart holding at least
        // `row` bytes each; the destination is our page-locked buffer of `len` bytes; we wait for
        // the copy before returning.
        unsafe { sys::cuMemcpy2DAsync_v2(&copy, stream.cu_stream()).result() }.map_err(|e| driver("download", e))?;
        stream.synchronize().map_err(|e| driver("waiting for the download", e))?;
        self.bytes_downloaded += len as u64;
        let bytes = output.as_slice().map_err(|e| driver("host buffer", e))?;
        let mut out = Frame::host(input.format, input.width, input.height, row as u32, &bytes[..len]);
        out.frame_number = input.frame_number;
        out.timestamp_us = input.timestamp_us;
        Ok(out)
    }
}

impl FrameConverter for CudaDownload {
    fn configure(&mut self, _options_json: RStr<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }

    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        RResult::ROk(())
    }

    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        self.download(input).into()
    }
}

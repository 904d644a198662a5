//! The `rgba-to-bgra-cuda` converters: RGBA8 in host or CUDA memory → BGRA8 in a CUDA buffer the
//! converter owns (packed rows, `pitch = width * 4`), valid until its next `convert`.
//!
//! Host input is uploaded (one copy of the pitched block) into a persistent device buffer and
//! converted there; device input is converted in place into the output buffer with no host round
//! trip. The work is queued on the converter's stream and `convert` returns without waiting: the
//! output frame names that stream (`cuda_stream`) and the context (`cuda_context`), and
//! consumers order their reads after it.
//!
//! Device input must belong to the same device's primary context (what the CUDA runtime and most
//! renderers use) or say `cuda_context = 0`. If it names a non-default stream, the converter's
//! stream waits for that stream's work first.
//!
//! Options (config only): `{"device": 0}`, the CUDA device ordinal.

use cudarc::driver::{CudaEvent, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, LaunchConfig, PushKernelArg, sys};
use ovhost_plugin_api::{MemoryLocation, prelude::*};
use serde::Deserialize;
use std::sync::Arc;

use crate::device::CudaDevice;

/// Threads per block; each thread converts 4 pixels of one row.
const BLOCK_THREADS: u32 = 128;

#[derive(Deserialize, Default)]
struct CudaOptions {
    device: Option<u32>,
}

/// RGBA8 (host or CUDA) → BGRA8 (CUDA).
pub struct RgbaToBgraCuda {
    device: CudaDevice,
    /// Device copy of host input (pitched like the input).
    upload: Option<CudaSlice<u8>>,
    output: Option<CudaSlice<u8>>,
    /// Orders our stream after an input frame's stream.
    input_ready: CudaEvent,
}

impl FromConfig for RgbaToBgraCuda {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        Self::new(device_option(config_json, "rgba-to-bgra-cuda")?)
    }
}

/// The CUDA device ordinal of a converter config (`{"device": N}`, default 0).
pub(crate) fn device_option(config_json: &str, converter: &str) -> Result<usize, PluginError> {
    let text = if config_json.trim().is_empty() { "{}" } else { config_json };
    let options: CudaOptions = serde_json::from_str(text)
        .map_err(|e| PluginError::invalid_input(format!("{converter} config must be {{\"device\": N}}: {e}")))?;
    Ok(options.device.unwrap_or(0) as usize)
}

pub(crate) fn driver(what: &str, e: cudarc::driver::DriverError) -> PluginError {
    PluginError::internal(format!("CUDA {what} failed: {e}"))
}

impl RgbaToBgraCuda {
    /// Opens device `ordinal`; fails with `UNAVAILABLE` where there is no driver or GPU.
    pub fn new(ordinal: usize) -> Result<Self, PluginError> {
        let device = CudaDevice::open(ordinal)?;
        let input_ready = device.ctx.new_event(None).map_err(|e| driver("event creation", e))?;
        Ok(Self { device, upload: None, output: None, input_ready })
    }

    /// The stream every output is produced on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.device.stream
    }

    /// Converts one frame; the returned descriptor points into `self` until the next call.
    pub fn convert_frame(&mut self, input: &Frame<'_>) -> Result<Frame<'_>, PluginError> {
        if input.format != FrameFormat::RGBA8 {
            return Err(PluginError::invalid_input(format!(
                "rgba-to-bgra-cuda takes rgba8 frames, got {}",
                input.spec()
            )));
        }
        input.validate()?;
        let (width, height) = (input.width as usize, input.height as usize);
        let stream = self.device.stream.clone();
        self.device.ctx.bind_to_thread().map_err(|e| driver("binding the context", e))?;

        let src_ptr: u64 = match input.location {
            MemoryLocation::HOST => {
                let bytes = input.host_bytes()?;
                let upload = ensure_len(&mut self.upload, &stream, bytes.len())?;
                // From pageable memory this returns once the bytes are staged, so the input may be
                // released after `convert` returns.
                stream.memcpy_htod(bytes, upload).map_err(|e| driver("upload", e))?;
                let (ptr, _sync) = upload.device_ptr(&stream);
                ptr
            }
            MemoryLocation::CUDA => {
                order_after_input(&self.device, &self.input_ready, input, "rgba-to-bgra-cuda")?;
                input.data_ptr() as u64
            }
            other => {
                return Err(PluginError::invalid_input(format!("unknown memory location {other:?}")));
            }
        };

        let out_pitch = width * 4;
        let out_len = out_pitch * height;
        let output = ensure_len(&mut self.output, &stream, out_len)?;
        let (dst_ptr, _sync) = output.device_ptr_mut(&stream);
        let (src_pitch, dst_pitch) = (u64::from(input.pitch_bytes), out_pitch as u64);
        let (w, h) = (input.width, input.height);
        let quads = w.div_ceil(4);
        let cfg = LaunchConfig {
            grid_dim: (quads.div_ceil(BLOCK_THREADS), h, 1),
            block_dim: (BLOCK_THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut launch = stream.launch_builder(&self.device.rgba_to_bgra);
        launch.arg(&src_ptr).arg(&src_pitch).arg(&dst_ptr).arg(&dst_pitch).arg(&w).arg(&h);
        // SAFETY: the kernel reads `height` rows of `width * 4` bytes `src_pitch` apart from
        // `src_ptr` (a validated frame of at least that size, or our upload of it) and writes
        // `out_len` bytes at `dst_ptr` (our buffer of that size); the argument types match the
        // kernel's signature (u64, u64, u64, u64, u32, u32).
        unsafe { launch.launch(cfg) }.map_err(|e| driver("kernel launch", e))?;

        // SAFETY: `dst_ptr` is our own device buffer of `out_len` bytes, kept (and not written
        // again) until the next `convert`, which the returned frame's borrow of `self` prevents.
        let mut out = unsafe {
            Frame::from_raw_parts(
                FrameFormat::BGRA8,
                MemoryLocation::CUDA,
                w,
                h,
                out_pitch as u32,
                dst_ptr as *const u8,
                out_len as u64,
            )
        }
        .with_cuda(self.device.ctx.cu_ctx() as u64, stream.cu_stream() as u64);
        out.frame_number = input.frame_number;
        out.timestamp_us = input.timestamp_us;
        Ok(out)
    }
}

/// Checks that a CUDA `input` lives in `device`'s primary context (or says `cuda_context = 0`)
/// and queues a wait on `device`'s stream for the input's stream, so work queued next reads the
/// frame only once its producer finished writing it.
pub(crate) fn order_after_input(
    device: &CudaDevice,
    input_ready: &CudaEvent,
    input: &Frame<'_>,
    converter: &str,
) -> Result<(), PluginError> {
    let stream = &device.stream;
    let ours = device.ctx.cu_ctx() as u64;
    if input.cuda_context != 0 && input.cuda_context != ours {
        return Err(PluginError::unsupported(format!(
            "input frame lives in CUDA context {:#x}; {converter} runs in the primary context {ours:#x} of device {} \
             (create the frame there, or pass cuda_context = 0)",
            input.cuda_context,
            device.ctx.ordinal()
        )));
    }
    let input_stream = input.cuda_stream as sys::CUstream;
    // Our stream is non-blocking, so it does not wait for the legacy default stream by itself:
    // order after the producer's stream even when that is the default (null) stream, which
    // cuEventRecord accepts.
    if input_stream != stream.cu_stream() {
        // SAFETY: the producer's stream (or the default stream) is alive while its frame is
        // (frame contract); the event and stream are owned by the caller's converter.
        unsafe {
            cudarc::driver::result::event::record(input_ready.cu_event(), input_stream)
                .map_err(|e| driver("recording the input stream", e))?;
            cudarc::driver::result::stream::wait_event(
                stream.cu_stream(),
                input_ready.cu_event(),
                sys::CUevent_wait_flags::CU_EVENT_WAIT_DEFAULT,
            )
            .map_err(|e| driver("waiting for the input stream", e))?;
        }
    }
    Ok(())
}

/// Returns `slot`'s buffer, (re)allocated when it holds fewer than `len` bytes.
fn ensure_len<'a>(
    slot: &'a mut Option<CudaSlice<u8>>,
    stream: &Arc<CudaStream>,
    len: usize,
) -> Result<&'a mut CudaSlice<u8>, PluginError> {
    if slot.as_ref().is_none_or(|b| b.len() < len) {
        *slot = None; // free the old buffer before allocating the larger one
        // SAFETY: the buffer is fully written (upload or kernel output) before anything reads it.
        let buffer = unsafe { stream.alloc::<u8>(len) }.map_err(|e| driver(&format!("allocating {len} bytes"), e))?;
        *slot = Some(buffer);
    }
    slot.as_mut().ok_or_else(|| PluginError::internal("device buffer missing after allocation"))
}

impl FrameConverter for RgbaToBgraCuda {
    fn configure(&mut self, _options_json: RStr<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }

    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        RResult::ROk(())
    }

    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        self.convert_frame(input).into()
    }
}

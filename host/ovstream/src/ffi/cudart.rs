//! The few CUDA runtime calls the sink needs to stage host frames on the GPU (SHM/CUDASHM and raw
//! input take device pointers) and the verification programs need to read frames back. Uses the
//! `libcudart.so.12` bundled with ovstream, loaded once and never unloaded.
#![allow(non_snake_case)] // field names are the CUDA runtime symbol names

use std::ffi::{c_char, c_void};
use std::sync::Mutex;

use crate::{OvstreamError, locate};

pub const MEMCPY_HOST_TO_DEVICE: i32 = 1;
pub const MEMCPY_DEVICE_TO_HOST: i32 = 2;

super::fn_table! {
    /// CUDA runtime entry points (subset).
    pub struct CudaRt {
        cudaGetDeviceCount: fn(*mut i32) -> i32;
        cudaSetDevice: fn(i32) -> i32;
        cudaMallocPitch: fn(*mut *mut c_void, *mut usize, usize, usize) -> i32;
        cudaFree: fn(*mut c_void) -> i32;
        cudaMemcpy2D: fn(*mut c_void, usize, *const c_void, usize, usize, usize, i32) -> i32;
        cudaDeviceSynchronize: fn() -> i32;
        cudaGetErrorString: fn(i32) -> *const c_char;
    }
}

static CUDART: Mutex<Option<&'static CudaRt>> = Mutex::new(None);

impl CudaRt {
    /// Loads the bundled CUDA runtime once per process.
    pub fn get() -> Result<&'static CudaRt, OvstreamError> {
        let mut slot = CUDART.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(api) = *slot {
            return Ok(api);
        }
        let path = locate::find_library(locate::CUDART_LIB, locate::lib_path_from_env().as_deref())?;
        let lib = super::load::open_leaked(locate::CUDART_LIB, &path)?;
        let api: &'static CudaRt = Box::leak(Box::new(CudaRt::resolve(lib, &path)?));
        *slot = Some(api);
        Ok(api)
    }

    /// Maps a `cudaError_t` to a Rust error naming the call.
    pub fn check(&self, call: &str, code: i32) -> Result<(), OvstreamError> {
        if code == 0 {
            return Ok(());
        }
        // SAFETY: cudaGetErrorString accepts any code and returns a static NUL-terminated string.
        let text = unsafe {
            let p = (self.cudaGetErrorString)(code);
            if p.is_null() {
                String::from("unknown error")
            } else {
                std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        Err(OvstreamError::Cuda(format!("{call} failed with error {code} ({text})")))
    }

    /// Number of visible CUDA devices (0 when the driver is missing or no GPU is present).
    pub fn device_count(&self) -> i32 {
        let mut count = 0;
        // SAFETY: valid out-pointer.
        let code = unsafe { (self.cudaGetDeviceCount)(&mut count) };
        if code == 0 { count } else { 0 }
    }

    pub fn set_device(&self, device: i32) -> Result<(), OvstreamError> {
        // SAFETY: plain value argument.
        self.check("cudaSetDevice", unsafe { (self.cudaSetDevice)(device) })
    }
}

/// A pitched BGRA8 device allocation (`cudaMallocPitch`), freed on drop.
#[derive(Debug)]
pub struct DeviceImage {
    rt: &'static CudaRt,
    pub ptr: usize,
    pub pitch_bytes: usize,
    pub width: u32,
    pub height: u32,
}

impl DeviceImage {
    pub fn new(rt: &'static CudaRt, width: u32, height: u32) -> Result<Self, OvstreamError> {
        let mut ptr: *mut c_void = std::ptr::null_mut();
        let mut pitch = 0usize;
        // SAFETY: valid out-pointers; sizes are plain values.
        let code = unsafe { (rt.cudaMallocPitch)(&mut ptr, &mut pitch, width as usize * 4, height as usize) };
        rt.check("cudaMallocPitch", code)?;
        Ok(Self { rt, ptr: ptr as usize, pitch_bytes: pitch, width, height })
    }

    /// Copies `height` rows of `width*4` bytes from host memory with row stride `src_pitch`.
    ///
    /// # Safety
    /// `src` must point at `src_pitch * (height-1) + width*4` readable bytes.
    pub unsafe fn upload(&self, src: *const u8, src_pitch: usize) -> Result<(), OvstreamError> {
        // SAFETY: destination is this allocation (pitch and size from cudaMallocPitch); the
        // caller guarantees the source extent.
        let code = unsafe {
            (self.rt.cudaMemcpy2D)(
                self.ptr as *mut c_void,
                self.pitch_bytes,
                src.cast(),
                src_pitch,
                self.width as usize * 4,
                self.height as usize,
                MEMCPY_HOST_TO_DEVICE,
            )
        };
        self.rt.check("cudaMemcpy2D (host to device)", code)
    }
}

impl Drop for DeviceImage {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from cudaMallocPitch and is freed once.
        let _ = unsafe { (self.rt.cudaFree)(self.ptr as *mut c_void) };
    }
}

/// Copies a pitched device image (e.g. a CUDASHM frame) into a tightly packed host buffer.
///
/// # Safety
/// `device_ptr` must be a device allocation of at least `pitch * height` bytes, valid now.
pub unsafe fn download(
    rt: &CudaRt,
    device_ptr: usize,
    pitch_bytes: usize,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, OvstreamError> {
    let row = width as usize * 4;
    let mut out = vec![0u8; row * height as usize];
    // SAFETY: `out` holds row*height bytes with pitch `row`; the caller guarantees the source.
    let code = unsafe {
        (rt.cudaMemcpy2D)(
            out.as_mut_ptr().cast(),
            row,
            device_ptr as *const c_void,
            pitch_bytes,
            row,
            height as usize,
            MEMCPY_DEVICE_TO_HOST,
        )
    };
    rt.check("cudaMemcpy2D (device to host)", code)?;
    Ok(out)
}

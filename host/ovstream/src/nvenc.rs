//! Detecting NVENC. Neither the presence of `libnvidia-encode.so.1` nor NVML's encoder-capacity
//! query is reliable: on an H200 (no encoder engine) both look fine (observed: the library loads,
//! `nvmlDeviceGetEncoderCapacity` answers 100), and encoding then fails with
//! `NV_ENC_ERR_UNSUPPORTED_DEVICE`. So the check is: the library loads AND the GPU (by NVML name)
//! is not one of the datacenter compute parts that have no NVENC. The sink also falls back to
//! H.264 input when an RTSP raw start reports that `nvh264enc` is unusable.

use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

const NVML_SUCCESS: i32 = 0;

/// Datacenter compute GPUs without an NVENC engine (matched against the NVML name).
const NO_NVENC_GPUS: &[&str] = &["A100", "A30", "A800", "H100", "H200", "H800", "H20", "GH200"];

/// Whether GPU `device` (NVML index) can encode with NVENC. Cached per process.
pub fn nvenc_available(device: u32) -> bool {
    static NVENC: OnceLock<bool> = OnceLock::new();
    *NVENC.get_or_init(|| {
        // SAFETY: loading a driver component (what ovstream itself dlopens); unloaded on drop.
        if unsafe { libloading::Library::new("libnvidia-encode.so.1") }.is_err() {
            return false;
        }
        match gpu_name(device) {
            Some(name) => !gpu_lacks_nvenc(&name),
            None => true,
        }
    })
}

/// True for GPU names of parts known to have no NVENC engine.
pub fn gpu_lacks_nvenc(name: &str) -> bool {
    name.split(|c: char| c.is_whitespace() || c == '-').any(|word| NO_NVENC_GPUS.contains(&word))
}

/// The NVML name of GPU `device` (e.g. "NVIDIA H200"), `None` when NVML cannot answer.
pub fn gpu_name(device: u32) -> Option<String> {
    type Init = unsafe extern "C" fn() -> i32;
    type ByIndex = unsafe extern "C" fn(u32, *mut *mut c_void) -> i32;
    type Name = unsafe extern "C" fn(*mut c_void, *mut c_char, u32) -> i32;
    // SAFETY: NVML is a driver library with a stable C API; the symbol types below are its
    // documented signatures, the name buffer is 96 bytes as declared, and the library stays
    // loaded while the pointers are used.
    unsafe {
        let lib = libloading::Library::new("libnvidia-ml.so.1").ok()?;
        let init: libloading::Symbol<Init> = lib.get(b"nvmlInit_v2\0").ok()?;
        let by_index: libloading::Symbol<ByIndex> = lib.get(b"nvmlDeviceGetHandleByIndex_v2\0").ok()?;
        let get_name: libloading::Symbol<Name> = lib.get(b"nvmlDeviceGetName\0").ok()?;
        let shutdown: libloading::Symbol<Init> = lib.get(b"nvmlShutdown\0").ok()?;
        if init() != NVML_SUCCESS {
            return None;
        }
        let mut handle = std::ptr::null_mut();
        let mut buf = [0 as c_char; 96];
        let ok = by_index(device, &mut handle) == NVML_SUCCESS
            && get_name(handle, buf.as_mut_ptr(), buf.len() as u32) == NVML_SUCCESS;
        shutdown();
        ok.then(|| std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datacenter_parts_without_nvenc_are_recognized() {
        assert!(gpu_lacks_nvenc("NVIDIA H200"));
        assert!(gpu_lacks_nvenc("NVIDIA H100 80GB HBM3"));
        assert!(gpu_lacks_nvenc("NVIDIA A100-SXM4-40GB"));
        assert!(!gpu_lacks_nvenc("NVIDIA L40S"));
        assert!(!gpu_lacks_nvenc("NVIDIA GeForce RTX 4090"));
        assert!(!gpu_lacks_nvenc("NVIDIA RTX A6000"));
    }
}

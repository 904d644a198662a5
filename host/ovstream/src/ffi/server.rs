//! The server library (`libovstream.so`): its function table, loaded once per process (and never
//! unloaded), with the version check and the per-library error reader.

use std::ffi::c_void;
use std::sync::Mutex;

use super::types::{
    ApiStatus, AudioFrame, IceConfig, InitConfig, InputEvent, OvResult, OvString, QosStatus, ServerConfig,
    SignalingHeader, VideoFrame,
};
use crate::{OvstreamError, locate};

pub type Handle = *mut c_void;
pub type ConnectionCb = Option<unsafe extern "C" fn(Handle, bool, *mut c_void)>;
pub type TextCb = Option<unsafe extern "C" fn(Handle, OvString, *mut c_void)>;
pub type InputCb = Option<unsafe extern "C" fn(Handle, *const InputEvent, *mut c_void)>;
pub type ResizeCb = Option<unsafe extern "C" fn(Handle, u32, u32, *mut c_void)>;
pub type QosCb = Option<unsafe extern "C" fn(Handle, *const QosStatus, *mut c_void)>;
pub type HeadersCb = Option<unsafe extern "C" fn(Handle, *const SignalingHeader, u32, *mut c_void) -> bool>;

super::fn_table! {
    /// Every entry point of `libovstream.so` 0.5.7.
    pub struct ServerApi {
        ovstream_get_version: fn(*mut u32, *mut u32, *mut u32);
        ovstream_initialize: fn(*const InitConfig) -> OvResult;
        ovstream_shutdown: fn() -> OvResult;
        ovstream_config_defaults: fn(*mut ServerConfig) -> OvResult;
        ovstream_create_server: fn(i32, *mut Handle) -> OvResult;
        ovstream_start: fn(Handle, *const ServerConfig) -> OvResult;
        ovstream_stop: fn(Handle) -> OvResult;
        ovstream_destroy_server: fn(Handle) -> OvResult;
        ovstream_stream_video: fn(Handle, *const VideoFrame) -> OvResult;
        ovstream_stream_audio: fn(Handle, *const AudioFrame) -> OvResult;
        ovstream_is_client_connected: fn(Handle, *mut bool) -> OvResult;
        ovstream_send_message: fn(Handle, OvString) -> OvResult;
        ovstream_send_app_message: fn(Handle, OvString) -> OvResult;
        ovstream_send_clipboard: fn(Handle, OvString) -> OvResult;
        ovstream_set_cursor: fn(Handle, OvString) -> OvResult;
        ovstream_webrtc_set_ice_servers: fn(Handle, *const IceConfig) -> OvResult;
        ovstream_set_connection_callback: fn(Handle, ConnectionCb, *mut c_void) -> OvResult;
        ovstream_set_message_callback: fn(Handle, TextCb, *mut c_void) -> OvResult;
        ovstream_set_input_callback: fn(Handle, InputCb, *mut c_void) -> OvResult;
        ovstream_set_unicode_callback: fn(Handle, TextCb, *mut c_void) -> OvResult;
        ovstream_set_app_message_callback: fn(Handle, TextCb, *mut c_void) -> OvResult;
        ovstream_set_resize_request_callback: fn(Handle, ResizeCb, *mut c_void) -> OvResult;
        ovstream_set_clipboard_callback: fn(Handle, TextCb, *mut c_void) -> OvResult;
        ovstream_set_qos_callback: fn(Handle, QosCb, *mut c_void) -> OvResult;
        ovstream_set_signaling_headers_callback: fn(Handle, HeadersCb, *mut c_void) -> OvResult;
        ovstream_get_last_error: fn() -> OvString;
    }
}

/// The version these bindings were written against.
pub const EXPECTED_VERSION: (u32, u32, u32) = (0, 5, 7);

static SERVER_API: Mutex<Option<&'static ServerApi>> = Mutex::new(None);

impl ServerApi {
    /// Loads `libovstream.so` (search rules in [`locate`]) once per process; later calls return the
    /// same table. A failed load is not cached, so fixing the environment and retrying works.
    pub fn get() -> Result<&'static ServerApi, OvstreamError> {
        let mut slot = SERVER_API.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(api) = *slot {
            return Ok(api);
        }
        let path = locate::find_library(locate::SERVER_LIB, locate::lib_path_from_env().as_deref())?;
        let lib = super::load::open_leaked(locate::SERVER_LIB, &path)?;
        let api: &'static ServerApi = Box::leak(Box::new(ServerApi::resolve(lib, &path)?));
        let version = api.version();
        if version != EXPECTED_VERSION {
            return Err(OvstreamError::VersionMismatch {
                path,
                found: format!("{}.{}.{}", version.0, version.1, version.2),
            });
        }
        tracing::info!(path = %api.path.display(), "loaded ovstream 0.5.7");
        *slot = Some(api);
        Ok(api)
    }

    /// `ovstream_get_version` (works before `initialize`).
    pub fn version(&self) -> (u32, u32, u32) {
        let (mut major, mut minor, mut patch) = (0u32, 0u32, 0u32);
        // SAFETY: three valid out-pointers; the function has no other preconditions.
        unsafe { (self.ovstream_get_version)(&mut major, &mut minor, &mut patch) };
        (major, minor, patch)
    }

    /// This library's thread-local error string (valid until the next call on this thread; copied).
    pub fn last_error(&self) -> String {
        // SAFETY: no preconditions; the returned view is NUL-terminated, valid until the next call
        // on this thread, and copied immediately.
        unsafe { (self.ovstream_get_last_error)().to_string_lossy() }
    }

    /// Turns a result into `Ok` or an error carrying this library's last-error text.
    pub fn check(&self, function: &'static str, result: OvResult) -> Result<(), OvstreamError> {
        if result.status == ApiStatus::SUCCESS {
            Ok(())
        } else {
            Err(OvstreamError::Call { function, status: result.status, detail: self.last_error() })
        }
    }
}

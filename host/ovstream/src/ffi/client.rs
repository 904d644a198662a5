//! The client library (`libovstream_client.so`, or `libovstream_shm_client.so` which loads without
//! the NVIDIA driver): function table, loaded once per process and never unloaded.

use std::ffi::c_void;
use std::sync::Mutex;

use super::types::{ApiStatus, ClientConfig, ClientFrame, InputEvent, OvResult, OvString};
use crate::{OvstreamError, locate};

pub type ClientHandle = *mut c_void;
pub type ClientMessageCb = Option<unsafe extern "C" fn(OvString, *mut c_void)>;

super::fn_table! {
    /// Every entry point of the 0.5.7 client libraries.
    pub struct ClientApi {
        ovstream_create_client: fn(i32, *const ClientConfig, *mut ClientHandle) -> OvResult;
        ovstream_destroy_client: fn(ClientHandle) -> OvResult;
        ovstream_client_wait_frame: fn(ClientHandle, i32, *mut ClientFrame) -> OvResult;
        ovstream_client_release_frame: fn(ClientHandle) -> OvResult;
        ovstream_client_is_alive: fn(ClientHandle, *mut bool) -> OvResult;
        ovstream_client_get_producer_device: fn(ClientHandle, *mut i32) -> OvResult;
        ovstream_client_send_input_event: fn(ClientHandle, *const InputEvent) -> OvResult;
        ovstream_client_send_message: fn(ClientHandle, OvString) -> OvResult;
        ovstream_client_send_unicode: fn(ClientHandle, OvString) -> OvResult;
        ovstream_client_set_message_callback: fn(ClientHandle, ClientMessageCb, *mut c_void) -> OvResult;
        ovstream_get_last_error: fn() -> OvString;
    }
}

static CLIENT_API: Mutex<Option<&'static ClientApi>> = Mutex::new(None);

/// Which client library to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientLibrary {
    /// `libovstream_client.so` (SHM, CUDASHM, NATIVE; needs the driver), falling back to the
    /// SHM-only library.
    Unified,
    /// `libovstream_shm_client.so` only (SHM, CUDASHM; loads without a driver).
    ShmOnly,
}

impl ClientApi {
    /// Loads the client library once per process (the first call's choice wins).
    pub fn get(which: ClientLibrary) -> Result<&'static ClientApi, OvstreamError> {
        let mut slot = CLIENT_API.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(api) = *slot {
            return Ok(api);
        }
        let lib_path = locate::lib_path_from_env();
        let candidates: &[&'static str] = match which {
            ClientLibrary::Unified => &[locate::CLIENT_LIB, locate::SHM_CLIENT_LIB],
            ClientLibrary::ShmOnly => &[locate::SHM_CLIENT_LIB],
        };
        let mut last_err = None;
        for &name in candidates {
            let loaded = locate::find_library(name, lib_path.as_deref())
                .and_then(|path| super::load::open_leaked(name, &path).map(|lib| (lib, path)))
                .and_then(|(lib, path)| ClientApi::resolve(lib, &path));
            match loaded {
                Ok(api) => {
                    let api: &'static ClientApi = Box::leak(Box::new(api));
                    tracing::info!(path = %api.path.display(), "loaded ovstream client library");
                    *slot = Some(api);
                    return Ok(api);
                }
                Err(e) => {
                    tracing::debug!(library = name, error = %e, "client library candidate failed");
                    last_err = Some(e);
                }
            }
        }
        Err(last_err
            .unwrap_or(OvstreamError::LibraryNotFound { library: locate::SHM_CLIENT_LIB, searched: "nowhere".into() }))
    }

    /// This library's own thread-local error string, copied.
    pub fn last_error(&self) -> String {
        // SAFETY: no preconditions; the view is valid until the next call on this thread and is
        // copied immediately.
        unsafe { (self.ovstream_get_last_error)().to_string_lossy() }
    }

    pub fn check(&self, function: &'static str, result: OvResult) -> Result<(), OvstreamError> {
        if result.status == ApiStatus::SUCCESS {
            Ok(())
        } else {
            Err(OvstreamError::Call { function, status: result.status, detail: self.last_error() })
        }
    }
}

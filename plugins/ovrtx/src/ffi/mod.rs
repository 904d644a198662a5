//! Raw binding to the ovrtx 0.5.x C ABI: struct mirrors ([`types`]), library search
//! ([`locate`]) and the function table ([`Api`]) resolved once per library file from a leaked
//! handle (ovrtx must never be unloaded, `reference/ovrtx.md` §1.2).

pub mod locate;
pub mod types;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ovhost_plugin_api::PluginError;

use types::{
    BindingDescOrHandle, Config, CudaSync, EnqueueResult, InputBuffer, MapOutputDescription, OpWaitResult, OvrtxResult,
    OvxString, PathDictionaryInstance, PickQueryDesc, RenderProductSet, RenderProductSetOutputs, RenderVarOutput,
    RendererPtr, SelectionGroupStyle, Timeout,
};

/// The ovrtx major.minor these bindings were written for (`ovrtx_get_version` must match).
pub const SUPPORTED_VERSION: (u32, u32) = (0, 5);

/// `ovrtx_get_version`'s signature; resolved (and called) before anything else.
type GetVersionFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut u32);

macro_rules! fn_table {
    ($(#[$meta:meta])* pub struct $name:ident { $( $sym:ident : fn($($arg:ty),*) $(-> $ret:ty)? ; )* }) => {
        $(#[$meta])*
        pub struct $name {
            /// Absolute path the library was loaded from.
            pub path: PathBuf,
            $( pub $sym: unsafe extern "C" fn($($arg),*) $(-> $ret)?, )*
        }

        impl $name {
            fn resolve(lib: &'static libloading::Library, path: &Path) -> Result<Self, PluginError> {
                Ok(Self {
                    path: path.to_path_buf(),
                    $( $sym: {
                        // SAFETY: the declared signature is the C signature documented in
                        // reference/ovrtx.md §5 for this symbol; the library is leaked, so the
                        // pointer stays valid for the life of the process.
                        let symbol = unsafe {
                            lib.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(
                                concat!(stringify!($sym), "\0").as_bytes(),
                            )
                        }
                        .map_err(|e| PluginError::unavailable(format!(
                            "{} does not export {} ({e}); it is not an ovrtx 0.5 library",
                            path.display(), stringify!($sym)
                        )))?;
                        *symbol
                    }, )*
                })
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("path", &self.path).finish_non_exhaustive()
            }
        }
    };
}

fn_table! {
    /// The ovrtx entry points the viewer's call sequence (`reference/ovrtx.md` §10) uses.
    pub struct Api {
        ovrtx_get_version: fn(*mut u32, *mut u32, *mut u32);
        ovrtx_initialize: fn(*const Config) -> OvrtxResult;
        ovrtx_shutdown: fn() -> OvrtxResult;
        ovrtx_create_renderer: fn(*const Config, *mut RendererPtr) -> OvrtxResult;
        ovrtx_destroy_renderer: fn(RendererPtr) -> OvrtxResult;
        ovrtx_get_last_error: fn() -> OvxString;
        ovrtx_get_last_op_error: fn(u64) -> OvxString;
        ovrtx_wait_op: fn(RendererPtr, u64, Timeout, *mut OpWaitResult) -> OvrtxResult;
        ovrtx_open_usd_from_string: fn(RendererPtr, OvxString) -> EnqueueResult;
        ovrtx_reset_stage: fn(RendererPtr) -> EnqueueResult;
        ovrtx_reset: fn(RendererPtr, f64) -> EnqueueResult;
        ovrtx_write_attribute: fn(RendererPtr, *const BindingDescOrHandle, *const InputBuffer, i32) -> EnqueueResult;
        ovrtx_step: fn(RendererPtr, RenderProductSet, f64, *mut u64) -> EnqueueResult;
        ovrtx_fetch_results: fn(RendererPtr, u64, Timeout, *mut RenderProductSetOutputs) -> OvrtxResult;
        ovrtx_map_render_var_output:
            fn(RendererPtr, u64, *const MapOutputDescription, Timeout, *mut RenderVarOutput) -> OvrtxResult;
        ovrtx_unmap_render_var_output: fn(RendererPtr, u64, CudaSync) -> OvrtxResult;
        ovrtx_destroy_results: fn(RendererPtr, u64) -> OvrtxResult;
        ovrtx_enqueue_pick_query: fn(RendererPtr, *const PickQueryDesc) -> EnqueueResult;
        ovrtx_set_selection_outline_group: fn(RendererPtr, *const u64, usize, *const u8) -> EnqueueResult;
        ovrtx_set_selection_group_styles: fn(RendererPtr, *const u8, *const SelectionGroupStyle, usize) -> EnqueueResult;
        ovrtx_get_path_dictionary: fn(RendererPtr, *mut PathDictionaryInstance) -> OvrtxResult;
    }
}

/// Libraries opened so far, by path: each is opened once and never unloaded.
static LOADED: Mutex<Option<HashMap<PathBuf, &'static libloading::Library>>> = Mutex::new(None);

fn open_leaked(path: &Path) -> Result<&'static libloading::Library, PluginError> {
    let mut slot = LOADED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let map = slot.get_or_insert_with(HashMap::new);
    if let Some(lib) = map.get(path) {
        return Ok(lib);
    }
    // SAFETY: loading runs the library's initializers; libovrtx-dynamic.so is a thin forwarding
    // loader designed to be dlopen'ed this way (the official Python bindings do the same).
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| {
        PluginError::unavailable(format!("ovrtx library at {} could not be loaded: {e}", path.display()))
    })?;
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    map.insert(path.to_path_buf(), lib);
    Ok(lib)
}

/// Reads `ovrtx_get_version` and refuses any major.minor other than [`SUPPORTED_VERSION`].
fn check_version(lib: &'static libloading::Library, path: &Path) -> Result<(u32, u32, u32), PluginError> {
    // SAFETY: `ovrtx_get_version` has the documented signature `void (u32*, u32*, u32*)`; the
    // library is leaked so the pointer stays valid.
    let get_version = unsafe { lib.get::<GetVersionFn>(b"ovrtx_get_version\0") }.map_err(|e| {
        PluginError::unavailable(format!(
            "{} does not export ovrtx_get_version ({e}); it is not an ovrtx library",
            path.display()
        ))
    })?;
    let (mut major, mut minor, mut patch) = (0u32, 0u32, 0u32);
    // SAFETY: callable any time (before initialization too); the out-pointers are valid locals.
    unsafe { get_version(&mut major, &mut minor, &mut patch) };
    let (want_major, want_minor) = SUPPORTED_VERSION;
    if (major, minor) != SUPPORTED_VERSION {
        return Err(PluginError::unavailable(format!(
            "ovrtx at {} is version {major}.{minor}.{patch}, but this plugin was written for \
             {want_major}.{want_minor}.x; install ovrtx {want_major}.{want_minor}.x or update the bindings",
            path.display()
        )));
    }
    Ok((major, minor, patch))
}

impl Api {
    /// Opens the library at `path` (once per process), checks its version and resolves the table.
    pub fn load(path: &Path) -> Result<(&'static Api, (u32, u32, u32)), PluginError> {
        static TABLES: Mutex<Option<HashMap<PathBuf, &'static Api>>> = Mutex::new(None);
        let lib = open_leaked(path)?;
        // The version is read on every load: the same file is what we check, and it is cheap.
        let version = check_version(lib, path)?;
        let mut slot = TABLES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let map = slot.get_or_insert_with(HashMap::new);
        if let Some(api) = map.get(path) {
            return Ok((api, version));
        }
        let api: &'static Api = Box::leak(Box::new(Api::resolve(lib, path)?));
        map.insert(path.to_path_buf(), api);
        Ok((api, version))
    }

    /// This thread's last error string, copied at once (valid only until the next ovrtx call).
    pub fn last_error(&self) -> String {
        // SAFETY: no preconditions; the returned view is copied before any other ovrtx call.
        unsafe { (self.ovrtx_get_last_error)().to_string_lossy() }
    }

    /// The message of a failed op from the last `ovrtx_wait_op` on this thread, copied.
    pub fn last_op_error(&self, op_id: u64) -> String {
        // SAFETY: op_id comes from the last wait's error list; the view is copied at once.
        unsafe { (self.ovrtx_get_last_op_error)(op_id).to_string_lossy() }
    }

    /// The error for a failed call, with the library's own message.
    pub fn call_error(&self, function: &str, status: i32) -> PluginError {
        let detail = self.last_error();
        let detail = if detail.is_empty() { "no error message was given".to_string() } else { detail };
        PluginError::internal(format!("{function} failed ({}): {detail}", types::status::name(status)))
    }

    /// `Ok` for `SUCCESS`, else [`Api::call_error`].
    pub fn check(&self, function: &str, result: OvrtxResult) -> Result<(), PluginError> {
        if result.status == types::status::SUCCESS { Ok(()) } else { Err(self.call_error(function, result.status)) }
    }

    /// `Ok(op_index)` for a successful enqueue, else [`Api::call_error`].
    pub fn check_enqueue(&self, function: &str, result: EnqueueResult) -> Result<u64, PluginError> {
        if result.status == types::status::SUCCESS {
            Ok(result.op_index)
        } else {
            Err(self.call_error(function, result.status))
        }
    }
}

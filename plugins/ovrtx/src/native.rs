//! [`Native`]: one ovrtx renderer handle and the calls the viewer makes on it, each turned into a
//! `Result` whose error names the C function and carries ovrtx's own message. The renderer runs in
//! sync mode (`OVRTX_CONFIG_SYNC_MODE=true`), so an enqueue that returns has executed; the load
//! still goes through `ovrtx_wait_op` as the documented sequence does.

use std::ffi::CString;

use ovhost_plugin_api::PluginError;

use crate::config::OvrtxConfig;
use crate::ffi::Api;
use crate::ffi::types::*;

/// An owned renderer (`ovrtx_initialize` + `ovrtx_create_renderer`; undone on drop).
pub struct Native {
    pub api: &'static Api,
    renderer: RendererPtr,
}

// SAFETY: the renderer handle is only ever used by the thread that currently owns this value
// (the host's render thread); it is moved, never shared (`Native` is not `Sync`). The ovrtx
// docs recommend exactly this: one thread owns the renderer.
unsafe impl Send for Native {}

fn bool_entry(key: i32, value: bool) -> ConfigEntry {
    ConfigEntry { key_type: key_type::BOOL, key, value: ConfigValue { boolean: value } }
}

fn int_entry(key: i32, value: i64) -> ConfigEntry {
    ConfigEntry { key_type: key_type::INT64, key, value: ConfigValue { int64: value } }
}

fn string_entry(key: i32, value: &CString) -> ConfigEntry {
    let string = OvxString { ptr: value.as_ptr(), length: value.as_bytes().len() };
    ConfigEntry { key_type: key_type::STRING, key, value: ConfigValue { string } }
}

fn c_string(what: &str, value: &str) -> Result<CString, PluginError> {
    CString::new(value).map_err(|_| PluginError::invalid_input(format!("ovrtx {what} contains a NUL byte")))
}

impl Native {
    /// Initializes ovrtx and creates a renderer with the viewer config of §10.
    pub fn create(api: &'static Api, config: &OvrtxConfig) -> Result<Self, PluginError> {
        let gpus = c_string("active_cuda_gpus", &config.active_cuda_gpus)?;
        let log_file = config.log_file_path.as_deref().map(|v| c_string("log_file_path", v)).transpose()?;
        let log_level = config.log_level.as_deref().map(|v| c_string("log_level", v)).transpose()?;
        let root = config.binary_package_root.as_deref().map(|v| c_string("binary_package_root", v)).transpose()?;
        let mut entries = vec![
            bool_entry(bool_key::SYNC_MODE, true),
            bool_entry(bool_key::SELECTION_OUTLINE_ENABLED, true),
            bool_entry(bool_key::SUPPRESS_DEPRECATION_WARNINGS, true),
            int_entry(int64_key::SELECTION_OUTLINE_WIDTH, config.outline_width_px),
            int_entry(int64_key::SELECTION_FILL_MODE, int64_key::FILL_MODE_EDGE_ONLY),
            string_entry(string_key::ACTIVE_CUDA_GPUS, &gpus),
        ];
        if let Some(v) = &log_file {
            entries.push(string_entry(string_key::LOG_FILE_PATH, v));
        }
        if let Some(v) = &log_level {
            entries.push(string_entry(string_key::LOG_LEVEL, v));
        }
        if let Some(v) = &root {
            entries.push(string_entry(string_key::BINARY_PACKAGE_ROOT_PATH, v));
        }
        let cfg = Config { entries: entries.as_ptr(), entry_count: entries.len() };
        // SAFETY: `cfg` points at `entries`, whose strings (`gpus`, `log_file`, ...) outlive the call.
        api.check("ovrtx_initialize", unsafe { (api.ovrtx_initialize)(&cfg) })?;
        let mut renderer: RendererPtr = std::ptr::null_mut();
        // SAFETY: same config as above; `renderer` is a valid out-pointer.
        let created = unsafe { (api.ovrtx_create_renderer)(&cfg, &mut renderer) };
        if let Err(e) = api.check("ovrtx_create_renderer", created).and_then(|()| {
            if renderer.is_null() {
                Err(PluginError::internal("ovrtx_create_renderer succeeded but returned no renderer"))
            } else {
                Ok(())
            }
        }) {
            // SAFETY: one shutdown per successful initialize.
            let _ = unsafe { (api.ovrtx_shutdown)() };
            return Err(e);
        }
        Ok(Self { api, renderer })
    }

    /// The raw handle (for diagnostics and the test double's inspection hooks).
    pub fn handle(&self) -> usize {
        self.renderer as usize
    }

    /// Waits for `op` and turns any op failure into an error naming `function`.
    fn wait(&self, function: &str, op: u64) -> Result<(), PluginError> {
        let mut out = OpWaitResult::default();
        // SAFETY: renderer is live; `out` is a valid out-pointer; op is non-zero (checked by caller).
        let r = unsafe { (self.api.ovrtx_wait_op)(self.renderer, op, Timeout::INFINITE, &mut out) };
        self.api.check("ovrtx_wait_op", r)?;
        if out.num_error_ops == 0 || out.error_op_ids.is_null() {
            return Ok(());
        }
        // SAFETY: the wait succeeded, so `error_op_ids` holds `num_error_ops` ids until the next wait.
        let ids = unsafe { std::slice::from_raw_parts(out.error_op_ids, out.num_error_ops) }.to_vec();
        let messages: Vec<String> = ids.iter().map(|id| self.api.last_op_error(*id)).collect();
        Err(PluginError::internal(format!("{function} failed: {}", messages.join("; "))))
    }

    /// `ovrtx_open_usd_from_string` + `ovrtx_wait_op`: replaces the stage with this root layer.
    pub fn open_usd_from_string(&self, usda: &str) -> Result<(), PluginError> {
        // SAFETY: the view borrows `usda`, which outlives the (synchronous) call.
        let r = unsafe { (self.api.ovrtx_open_usd_from_string)(self.renderer, OvxString::borrow(usda)) };
        let op = self.api.check_enqueue("ovrtx_open_usd_from_string", r)?;
        if op != 0 { self.wait("ovrtx_open_usd_from_string", op) } else { Ok(()) }
    }

    /// `ovrtx_reset_stage`: empties the stage.
    pub fn reset_stage(&self) -> Result<(), PluginError> {
        // SAFETY: renderer is live.
        let r = unsafe { (self.api.ovrtx_reset_stage)(self.renderer) };
        self.api.check_enqueue("ovrtx_reset_stage", r).map(drop)
    }

    /// `ovrtx_reset`: drops accumulated history; the next step starts at `time_s`.
    pub fn reset(&self, time_s: f64) -> Result<(), PluginError> {
        // SAFETY: renderer is live; time is finite and >= 0 at every call site.
        let r = unsafe { (self.api.ovrtx_reset)(self.renderer, time_s) };
        self.api.check_enqueue("ovrtx_reset", r).map(drop)
    }

    /// Writes `omni:xform` (XFORM_MAT4x4, MUST_EXIST, SYNC) on one prim: what the header helper
    /// `ovrtx_set_xform_mat` does, but failing instead of skipping when the prim is missing.
    pub fn write_xform(&self, prim_path: &str, matrix: &[f64; 16]) -> Result<(), PluginError> {
        let paths = [OvxString::borrow(prim_path)];
        let name = "omni:xform";
        let desc = BindingDescOrHandle {
            binding_desc: BindingDesc {
                prim_list: PrimList { prim_paths: paths.as_ptr(), num_paths: 1 },
                prims_list_handle: 0,
                attribute_name: OvxStringOrToken { token: 0, string: OvxString::borrow(name) },
                attribute_type: AttributeType {
                    dtype: DlDataType { code: dl_code::FLOAT, bits: 64, lanes: 16 },
                    is_array: false,
                    semantic: semantic::XFORM_MAT4X4,
                },
                prim_mode: prim_mode::MUST_EXIST,
                flags: 0,
            },
            binding_handle: 0,
        };
        let mut shape = [1i64];
        let mut tensor = DlTensor {
            data: matrix.as_ptr() as *mut std::ffi::c_void,
            device: DlDevice { device_type: dl_device::CPU, device_id: 0 },
            ndim: 1,
            dtype: DlDataType { code: dl_code::FLOAT, bits: 64, lanes: 16 },
            shape: shape.as_mut_ptr(),
            strides: std::ptr::null_mut(),
            byte_offset: 0,
        };
        let input = InputBuffer {
            tensors: &mut tensor,
            tensor_count: 1,
            dirty_bits: std::ptr::null_mut(),
            dirty_bits_size: 0,
            access_cuda_sync: CudaSync::default(),
            done_cuda_sync: CudaSync::default(),
        };
        // SAFETY: every pointer (paths, name, matrix, shape, tensor) refers to locals that outlive
        // the call; DATA_ACCESS_SYNC means the data is read during the call only.
        let r = unsafe { (self.api.ovrtx_write_attribute)(self.renderer, &desc, &input, data_access::SYNC) };
        self.api.check_enqueue("ovrtx_write_attribute(omni:xform)", r).map(drop)
    }

    /// `ovrtx_step` of one RenderProduct; returns the step-result handle.
    pub fn step(&self, product_path: &str, delta_time_s: f64) -> Result<u64, PluginError> {
        let products = [OvxString::borrow(product_path)];
        let set = RenderProductSet { render_products: products.as_ptr(), num_render_products: 1 };
        let mut handle = 0u64;
        // SAFETY: `set` points at `products`, alive during the call; `handle` is a valid out-pointer.
        let r = unsafe { (self.api.ovrtx_step)(self.renderer, set, delta_time_s, &mut handle) };
        self.api.check_enqueue("ovrtx_step", r)?;
        if handle == 0 {
            return Err(PluginError::internal("ovrtx_step succeeded but returned no step handle"));
        }
        Ok(handle)
    }

    /// `ovrtx_fetch_results`; valid until [`Native::destroy_results`] of the same handle.
    pub fn fetch_results(&self, step: u64, timeout_ms: u64) -> Result<RenderProductSetOutputs, PluginError> {
        let mut out = RenderProductSetOutputs::default();
        let timeout = Timeout { time_out_ns: timeout_ms.saturating_mul(1_000_000) };
        // SAFETY: `step` is a live step handle; `out` is a valid out-pointer.
        let r = unsafe { (self.api.ovrtx_fetch_results)(self.renderer, step, timeout, &mut out) };
        if r.status == status::TIMEOUT {
            return Err(PluginError::unavailable(format!(
                "ovrtx_fetch_results timed out after {timeout_ms} ms (the first frame of a new install compiles \
                 shaders for minutes; raise fetch_timeout_ms)"
            )));
        }
        self.api.check("ovrtx_fetch_results", r)?;
        if out.status != event_status::COMPLETED {
            // SAFETY: the message lives until destroy_results.
            let detail = unsafe { out.error_message.to_string_lossy() };
            return Err(PluginError::internal(format!(
                "ovrtx_fetch_results: the step did not complete (status {}): {detail}",
                out.status
            )));
        }
        Ok(out)
    }

    /// `ovrtx_map_render_var_output` on `device_type` with `sync_stream`.
    pub fn map(
        &self,
        output_handle: u64,
        device_type: i32,
        sync_stream: usize,
        timeout_ms: u64,
    ) -> Result<RenderVarOutput, PluginError> {
        let desc = MapOutputDescription { device_type, sync_stream };
        let timeout = Timeout { time_out_ns: timeout_ms.saturating_mul(1_000_000) };
        let mut out = RenderVarOutput::default();
        // SAFETY: output_handle comes from live step results; desc/out are valid locals.
        let r =
            unsafe { (self.api.ovrtx_map_render_var_output)(self.renderer, output_handle, &desc, timeout, &mut out) };
        self.api.check("ovrtx_map_render_var_output", r)?;
        if out.status != status::SUCCESS {
            // SAFETY: library-owned message, copied at once.
            let detail = unsafe { out.error_message.to_string_lossy() };
            if out.map_handle != 0 {
                let _ = self.unmap(out.map_handle, CudaSync::default());
            }
            return Err(PluginError::internal(format!("ovrtx_map_render_var_output failed: {detail}")));
        }
        Ok(out)
    }

    /// `ovrtx_unmap_render_var_output`; `before_destroy` must complete after the last read.
    pub fn unmap(&self, map_handle: u64, before_destroy: CudaSync) -> Result<(), PluginError> {
        // SAFETY: map_handle is a live mapping of this renderer.
        let r = unsafe { (self.api.ovrtx_unmap_render_var_output)(self.renderer, map_handle, before_destroy) };
        self.api.check("ovrtx_unmap_render_var_output", r)
    }

    /// `ovrtx_destroy_results`.
    pub fn destroy_results(&self, step: u64) -> Result<(), PluginError> {
        // SAFETY: step is a live step handle, destroyed once.
        let r = unsafe { (self.api.ovrtx_destroy_results)(self.renderer, step) };
        self.api.check("ovrtx_destroy_results", r)
    }

    /// `ovrtx_enqueue_pick_query` for the next step of `product_path`; NDC rectangle
    /// `[left, top, right, bottom]`, origin top-left.
    pub fn enqueue_pick(&self, product_path: &str, ndc: [f32; 4]) -> Result<(), PluginError> {
        let desc = PickQueryDesc {
            render_product_path: OvxString::borrow(product_path),
            left_ndc: ndc[0],
            top_ndc: ndc[1],
            right_ndc: ndc[2],
            bottom_ndc: ndc[3],
            flags: 0,
        };
        // SAFETY: desc borrows `product_path`, alive during the (sync-mode) call.
        let r = unsafe { (self.api.ovrtx_enqueue_pick_query)(self.renderer, &desc) };
        self.api.check_enqueue("ovrtx_enqueue_pick_query", r).map(drop)
    }

    /// `ovrtx_set_selection_outline_group`: these path ids join `group` (0 clears).
    pub fn set_selection_group(&self, path_ids: &[u64], group: u8) -> Result<(), PluginError> {
        if path_ids.is_empty() {
            return Ok(());
        }
        let groups = vec![group; path_ids.len()];
        // SAFETY: parallel arrays of equal length, alive during the (sync-mode) call.
        let r = unsafe {
            (self.api.ovrtx_set_selection_outline_group)(
                self.renderer,
                path_ids.as_ptr(),
                path_ids.len(),
                groups.as_ptr(),
            )
        };
        self.api.check_enqueue("ovrtx_set_selection_outline_group", r).map(drop)
    }

    /// `ovrtx_set_selection_group_styles` for one group.
    pub fn set_group_style(&self, group: u8, style: SelectionGroupStyle) -> Result<(), PluginError> {
        // SAFETY: one-element arrays on the stack, alive during the call.
        let r = unsafe { (self.api.ovrtx_set_selection_group_styles)(self.renderer, &group, &style, 1) };
        self.api.check_enqueue("ovrtx_set_selection_group_styles", r).map(drop)
    }

    /// `ovrtx_get_path_dictionary`; valid for the renderer's lifetime.
    pub fn path_dictionary(&self) -> Result<PathDictionaryInstance, PluginError> {
        let mut out = PathDictionaryInstance { vtable: std::ptr::null(), context: std::ptr::null_mut() };
        // SAFETY: renderer is live; out is a valid out-pointer.
        let r = unsafe { (self.api.ovrtx_get_path_dictionary)(self.renderer, &mut out) };
        self.api.check("ovrtx_get_path_dictionary", r)?;
        if out.vtable.is_null() {
            return Err(PluginError::internal("ovrtx_get_path_dictionary returned no vtable"));
        }
        Ok(out)
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        // SAFETY: the owner unmapped and destroyed every result before dropping (renderer.rs);
        // destroy once, then one shutdown for our one initialize. The library is never unloaded.
        unsafe {
            let destroyed = (self.api.ovrtx_destroy_renderer)(self.renderer);
            if destroyed.status != status::SUCCESS {
                tracing::warn!(error = %self.api.last_error(), "ovrtx_destroy_renderer failed");
            }
            let shut = (self.api.ovrtx_shutdown)();
            if shut.status != status::SUCCESS {
                tracing::warn!(error = %self.api.last_error(), "ovrtx_shutdown failed");
            }
        }
    }
}

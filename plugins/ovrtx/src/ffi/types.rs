//! `#[repr(C)]` mirrors of the ovrtx 0.5.x C ABI (`reference/ovrtx.md` §2–§5) and the constants
//! the viewer uses, with layout tests against the sizes and offsets given there (64-bit).
//! Enums that come back from the library are plain `i32`s: an unknown value is never undefined
//! behaviour.

use std::ffi::{c_char, c_void};

/// `ovx_string_t`: a length-prefixed UTF-8 view. `{NULL, 0}` means "no value".
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OvxString {
    pub ptr: *const c_char,
    pub length: usize,
}

impl OvxString {
    pub const EMPTY: Self = Self { ptr: std::ptr::null(), length: 0 };

    /// A view over `s`; the caller keeps `s` alive for as long as the library reads the view.
    pub fn borrow(s: &str) -> Self {
        Self { ptr: s.as_ptr().cast(), length: s.len() }
    }

    /// Copies a library-owned view into an owned `String` (lossy for invalid UTF-8).
    ///
    /// # Safety
    /// `ptr` must point at `length` readable bytes, or be NULL.
    pub unsafe fn to_string_lossy(self) -> String {
        if self.ptr.is_null() || self.length == 0 {
            return String::new();
        }
        // SAFETY: guaranteed by the caller.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.length) };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `ovx_string_or_token_t`: the token wins when non-zero.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OvxStringOrToken {
    pub token: u64,
    pub string: OvxString,
}

/// `ovx_api_result_t` (path-dictionary calls).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OvxApiResult {
    /// 0 ok, 1 error.
    pub status: i32,
    pub error: OvxString,
}

/// `ovrtx_api_status_t` values.
pub mod status {
    pub const SUCCESS: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const TIMEOUT: i32 = 2;

    pub fn name(status: i32) -> &'static str {
        match status {
            SUCCESS => "SUCCESS",
            ERROR => "ERROR",
            TIMEOUT => "TIMEOUT",
            _ => "UNKNOWN_STATUS",
        }
    }
}

/// `ovrtx_result_t` (synchronous calls).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OvrtxResult {
    pub status: i32,
}

/// `ovrtx_enqueue_result_t` (stream-ordered calls).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnqueueResult {
    pub status: i32,
    pub op_index: u64,
}

/// `ovrtx_timeout_t`, by value.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Timeout {
    pub time_out_ns: u64,
}

impl Timeout {
    pub const INFINITE: Self = Self { time_out_ns: u64::MAX };
}

/// `ovrtx_op_wait_result_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OpWaitResult {
    pub error_op_ids: *mut u64,
    pub num_error_ops: usize,
    pub lowest_pending_op_id: u64,
}

impl Default for OpWaitResult {
    fn default() -> Self {
        Self { error_op_ids: std::ptr::null_mut(), num_error_ops: 0, lowest_pending_op_id: 0 }
    }
}

/// `ovrtx_cuda_sync_t`, by value. `stream`: 0 none, 1 the CUDA default stream, else a `CUstream`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CudaSync {
    pub stream: usize,
    pub wait_event: usize,
}

/// `ovrtx_renderer_t*`: opaque.
pub type RendererPtr = *mut c_void;

/// DLPack `DLDevice`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DlDevice {
    pub device_type: i32,
    pub device_id: i32,
}

/// DLPack `DLDataType`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DlDataType {
    pub code: u8,
    pub bits: u8,
    pub lanes: u16,
}

/// DLPack `DLTensor`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DlTensor {
    pub data: *mut c_void,
    pub device: DlDevice,
    pub ndim: i32,
    pub dtype: DlDataType,
    pub shape: *mut i64,
    /// NULL = compact row-major; units are elements.
    pub strides: *mut i64,
    pub byte_offset: u64,
}

/// DLPack device types.
pub mod dl_device {
    pub const CPU: i32 = 1;
    pub const CUDA: i32 = 2;
    pub const CUDA_HOST: i32 = 3;
}

/// DLPack type codes.
pub mod dl_code {
    pub const INT: u8 = 0;
    pub const UINT: u8 = 1;
    pub const FLOAT: u8 = 2;
}

/// `ovrtx_config_entry_t` value union (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub union ConfigValue {
    pub boolean: bool,
    pub int64: i64,
    pub uint64: u64,
    pub double: f64,
    pub string: OvxString,
    pub blob: ConfigBlob,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ConfigBlob {
    pub data: *const c_void,
    pub size: usize,
}

/// `ovrtx_config_entry_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ConfigEntry {
    pub key_type: i32,
    pub key: i32,
    pub value: ConfigValue,
}

/// `ovrtx_config_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub entries: *const ConfigEntry,
    pub entry_count: usize,
}

/// `ovrtx_config_key_type_t` values.
pub mod key_type {
    pub const BOOL: i32 = 0;
    pub const INT64: i32 = 1;
    pub const STRING: i32 = 4;
}

/// Bool config keys.
pub mod bool_key {
    pub const SYNC_MODE: i32 = 0;
    pub const SELECTION_OUTLINE_ENABLED: i32 = 5;
    pub const SUPPRESS_DEPRECATION_WARNINGS: i32 = 9;
}

/// String config keys.
pub mod string_key {
    pub const BINARY_PACKAGE_ROOT_PATH: i32 = 0;
    pub const LOG_FILE_PATH: i32 = 1;
    pub const LOG_LEVEL: i32 = 2;
    pub const ACTIVE_CUDA_GPUS: i32 = 3;
}

/// Int64 config keys.
pub mod int64_key {
    pub const SELECTION_OUTLINE_WIDTH: i32 = 0;
    pub const SELECTION_FILL_MODE: i32 = 1;
    /// `SELECTION_FILL_MODE` value: outline only.
    pub const FILL_MODE_EDGE_ONLY: i64 = 0;
}

/// `ovrtx_prim_list_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PrimList {
    pub prim_paths: *const OvxString,
    pub num_paths: usize,
}

/// `ovrtx_attribute_type_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AttributeType {
    pub dtype: DlDataType,
    pub is_array: bool,
    pub semantic: i32,
}

/// `ovrtx_binding_desc_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BindingDesc {
    pub prim_list: PrimList,
    pub prims_list_handle: u64,
    pub attribute_name: OvxStringOrToken,
    pub attribute_type: AttributeType,
    pub prim_mode: i32,
    pub flags: i32,
}

/// `ovrtx_binding_desc_or_handle_t`: `binding_handle != 0` wins.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BindingDescOrHandle {
    pub binding_desc: BindingDesc,
    pub binding_handle: u64,
}

/// `ovrtx_input_buffer_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct InputBuffer {
    pub tensors: *mut DlTensor,
    pub tensor_count: u64,
    pub dirty_bits: *mut u8,
    pub dirty_bits_size: usize,
    pub access_cuda_sync: CudaSync,
    pub done_cuda_sync: CudaSync,
}

/// `ovrtx_binding_prim_mode_t`.
pub mod prim_mode {
    pub const MUST_EXIST: i32 = 1;
}

/// `ovrtx_attribute_semantic_t`.
pub mod semantic {
    pub const XFORM_MAT4X4: i32 = 1;
}

/// `ovrtx_data_access_t`.
pub mod data_access {
    pub const SYNC: i32 = 1;
}

/// `ovrtx_render_product_set_t`, by value.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderProductSet {
    pub render_products: *const OvxString,
    pub num_render_products: usize,
}

/// `ovrtx_render_product_set_outputs_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderProductSetOutputs {
    pub status: i32,
    pub error_message: OvxString,
    pub simulation_start_time: f64,
    pub simulation_end_time: f64,
    pub outputs: *mut RenderProductOutput,
    pub output_count: usize,
    pub start_time: f64,
    pub end_time: f64,
}

impl Default for RenderProductSetOutputs {
    fn default() -> Self {
        Self {
            status: 0,
            error_message: OvxString::EMPTY,
            simulation_start_time: 0.0,
            simulation_end_time: 0.0,
            outputs: std::ptr::null_mut(),
            output_count: 0,
            start_time: 0.0,
            end_time: 0.0,
        }
    }
}

/// `ovrtx_event_status_t` values.
pub mod event_status {
    pub const COMPLETED: i32 = 1;
}

/// `ovrtx_render_product_output_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderProductOutput {
    pub render_product_path: OvxString,
    pub output_frames_produced: f32,
    pub output_frames: *mut RenderProductFrameOutput,
    pub output_frame_count: usize,
}

/// `accumulation_status` of a frame output.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AccumulationStatus {
    pub progression: u32,
    pub converged: bool,
}

/// `ovrtx_render_product_frame_output_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderProductFrameOutput {
    pub frame_start_time: f64,
    pub frame_end_time: f64,
    pub output_render_vars: *mut RenderVarOutputEntry,
    pub render_var_count: usize,
    pub accumulation_status: AccumulationStatus,
}

/// `ovrtx_render_product_render_var_output_t` (0.5 layout, 56 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderVarOutputEntry {
    pub render_var_path: OvxString,
    pub source_name: OvxString,
    pub source_type: OvxString,
    pub output_handle: u64,
}

/// `ovrtx_map_output_description_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MapOutputDescription {
    pub device_type: i32,
    pub sync_stream: usize,
}

/// `ovrtx_map_device_type_t`.
pub mod map_device {
    pub const CPU: i32 = 1;
    pub const CUDA: i32 = 2;
}

/// `ovrtx_render_var_output_t` (a mapping).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderVarOutput {
    pub status: i32,
    pub error_message: OvxString,
    pub map_handle: u64,
    pub cuda_sync: CudaSync,
    pub name: OvxString,
    pub type_: OvxString,
    pub doc: OvxString,
    pub version: i32,
    pub num_tensors: usize,
    pub tensors: *const RenderVarTensor,
    pub num_params: usize,
    pub params: *const RenderVarParam,
}

impl Default for RenderVarOutput {
    fn default() -> Self {
        Self {
            status: 0,
            error_message: OvxString::EMPTY,
            map_handle: 0,
            cuda_sync: CudaSync::default(),
            name: OvxString::EMPTY,
            type_: OvxString::EMPTY,
            doc: OvxString::EMPTY,
            version: 0,
            num_tensors: 0,
            tensors: std::ptr::null(),
            num_params: 0,
            params: std::ptr::null(),
        }
    }
}

/// `ovrtx_render_var_tensor_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderVarTensor {
    pub dl: *const DlTensor,
    pub name: *const OvxString,
    pub doc: *const OvxString,
}

/// `ovrtx_render_var_param_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RenderVarParam {
    pub dl: DlTensor,
    pub name: OvxString,
    pub doc: OvxString,
}

/// `ovrtx_pick_query_desc_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PickQueryDesc {
    pub render_product_path: OvxString,
    pub left_ndc: f32,
    pub top_ndc: f32,
    pub right_ndc: f32,
    pub bottom_ndc: f32,
    pub flags: u32,
}

/// `ovrtx_selection_group_style_t` (RGBA 0..1).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelectionGroupStyle {
    pub outline_color: [f32; 4],
    pub fill_color: [f32; 4],
}

/// Synthetic render var carrying pick hits, and its header constants.
pub const RENDER_VAR_PICK_HIT: &str = "ovrtx_pick_hit";
pub const PICK_HIT_MAGIC: u32 = 0x5650_5448;
pub const PICK_HIT_VERSION: u32 = 1;

/// `path_dictionary_instance_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PathDictionaryInstance {
    pub vtable: *const PathDictionaryVtable,
    pub context: *mut c_void,
}

type Ctx = *mut c_void;

/// `path_dictionary_vtable_t`: 12 slots in this order.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PathDictionaryVtable {
    pub create_tokens_from_strings: unsafe extern "C" fn(Ctx, *const OvxString, usize, *mut u64) -> OvxApiResult,
    pub create_paths_from_tokens: unsafe extern "C" fn(Ctx, *const u64, *const usize, usize, *mut u64) -> OvxApiResult,
    pub create_paths_from_strings: unsafe extern "C" fn(Ctx, *const OvxString, usize, *mut u64) -> OvxApiResult,
    pub create_path_list_from_paths: unsafe extern "C" fn(Ctx, *const u64, usize, *mut u64) -> OvxApiResult,
    pub create_path_list_from_strings: unsafe extern "C" fn(Ctx, *const OvxString, usize, *mut u64) -> OvxApiResult,
    pub add_path_list_reference: unsafe extern "C" fn(Ctx, u64) -> OvxApiResult,
    pub release_path_list_reference: unsafe extern "C" fn(Ctx, u64) -> OvxApiResult,
    pub get_strings_from_tokens: unsafe extern "C" fn(Ctx, *const u64, usize, *mut OvxString) -> OvxApiResult,
    pub get_tokens_from_paths: unsafe extern "C" fn(
        Ctx,
        *const u64,
        usize,
        *mut u64,
        usize,
        *mut *mut u64,
        *mut usize,
        *mut usize,
    ) -> OvxApiResult,
    pub get_num_paths_from_path_list: unsafe extern "C" fn(Ctx, u64, *mut usize) -> OvxApiResult,
    pub get_paths_from_path_list: unsafe extern "C" fn(Ctx, u64, usize, usize, *mut u64, *mut usize) -> OvxApiResult,
    pub release_error: unsafe extern "C" fn(Ctx, OvxString),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn primitive_layouts_match_the_reference() {
        assert_eq!(size_of::<OvxString>(), 16);
        assert_eq!(size_of::<OvxStringOrToken>(), 24);
        assert_eq!(offset_of!(OvxStringOrToken, string), 8);
        assert_eq!(size_of::<OvxApiResult>(), 24);
        assert_eq!(offset_of!(OvxApiResult, error), 8);
        assert_eq!(size_of::<OvrtxResult>(), 4);
        assert_eq!(size_of::<EnqueueResult>(), 16);
        assert_eq!(offset_of!(EnqueueResult, op_index), 8);
        assert_eq!(size_of::<Timeout>(), 8);
        assert_eq!(size_of::<OpWaitResult>(), 24);
        assert_eq!(offset_of!(OpWaitResult, num_error_ops), 8);
        assert_eq!(offset_of!(OpWaitResult, lowest_pending_op_id), 16);
        assert_eq!(size_of::<CudaSync>(), 16);
        assert_eq!(offset_of!(CudaSync, wait_event), 8);
    }

    #[test]
    fn dlpack_layouts_match_the_reference() {
        assert_eq!(size_of::<DlDevice>(), 8);
        assert_eq!(size_of::<DlDataType>(), 4);
        assert_eq!(offset_of!(DlDataType, bits), 1);
        assert_eq!(offset_of!(DlDataType, lanes), 2);
        assert_eq!(size_of::<DlTensor>(), 48);
        assert_eq!(offset_of!(DlTensor, device), 8);
        assert_eq!(offset_of!(DlTensor, ndim), 16);
        assert_eq!(offset_of!(DlTensor, dtype), 20);
        assert_eq!(offset_of!(DlTensor, shape), 24);
        assert_eq!(offset_of!(DlTensor, strides), 32);
        assert_eq!(offset_of!(DlTensor, byte_offset), 40);
    }

    #[test]
    fn config_layouts_match_the_reference() {
        assert_eq!(size_of::<ConfigValue>(), 16);
        assert_eq!(size_of::<ConfigEntry>(), 24);
        assert_eq!(offset_of!(ConfigEntry, key), 4);
        assert_eq!(offset_of!(ConfigEntry, value), 8);
        assert_eq!(size_of::<Config>(), 16);
        assert_eq!(offset_of!(Config, entry_count), 8);
    }

    #[test]
    fn attribute_write_layouts_match_the_reference() {
        assert_eq!(size_of::<PrimList>(), 16);
        assert_eq!(size_of::<AttributeType>(), 12);
        assert_eq!(align_of::<AttributeType>(), 4);
        assert_eq!(offset_of!(AttributeType, is_array), 4);
        assert_eq!(offset_of!(AttributeType, semantic), 8);
        assert_eq!(size_of::<BindingDesc>(), 72);
        assert_eq!(offset_of!(BindingDesc, prims_list_handle), 16);
        assert_eq!(offset_of!(BindingDesc, attribute_name), 24);
        assert_eq!(offset_of!(BindingDesc, attribute_type), 48);
        assert_eq!(offset_of!(BindingDesc, prim_mode), 60);
        assert_eq!(offset_of!(BindingDesc, flags), 64);
        assert_eq!(size_of::<BindingDescOrHandle>(), 80);
        assert_eq!(offset_of!(BindingDescOrHandle, binding_handle), 72);
        assert_eq!(size_of::<InputBuffer>(), 64);
        assert_eq!(offset_of!(InputBuffer, tensor_count), 8);
        assert_eq!(offset_of!(InputBuffer, dirty_bits), 16);
        assert_eq!(offset_of!(InputBuffer, dirty_bits_size), 24);
        assert_eq!(offset_of!(InputBuffer, access_cuda_sync), 32);
        assert_eq!(offset_of!(InputBuffer, done_cuda_sync), 48);
    }

    #[test]
    fn step_output_layouts_match_the_reference() {
        assert_eq!(size_of::<RenderProductSet>(), 16);
        assert_eq!(size_of::<RenderProductSetOutputs>(), 72);
        assert_eq!(offset_of!(RenderProductSetOutputs, error_message), 8);
        assert_eq!(offset_of!(RenderProductSetOutputs, simulation_start_time), 24);
        assert_eq!(offset_of!(RenderProductSetOutputs, simulation_end_time), 32);
        assert_eq!(offset_of!(RenderProductSetOutputs, outputs), 40);
        assert_eq!(offset_of!(RenderProductSetOutputs, output_count), 48);
        assert_eq!(offset_of!(RenderProductSetOutputs, start_time), 56);
        assert_eq!(offset_of!(RenderProductSetOutputs, end_time), 64);
        assert_eq!(size_of::<RenderProductOutput>(), 40);
        assert_eq!(offset_of!(RenderProductOutput, output_frames_produced), 16);
        assert_eq!(offset_of!(RenderProductOutput, output_frames), 24);
        assert_eq!(offset_of!(RenderProductOutput, output_frame_count), 32);
        assert_eq!(size_of::<RenderProductFrameOutput>(), 40);
        assert_eq!(offset_of!(RenderProductFrameOutput, output_render_vars), 16);
        assert_eq!(offset_of!(RenderProductFrameOutput, render_var_count), 24);
        assert_eq!(offset_of!(RenderProductFrameOutput, accumulation_status), 32);
        assert_eq!(size_of::<RenderVarOutputEntry>(), 56);
        assert_eq!(offset_of!(RenderVarOutputEntry, source_name), 16);
        assert_eq!(offset_of!(RenderVarOutputEntry, source_type), 32);
        assert_eq!(offset_of!(RenderVarOutputEntry, output_handle), 48);
    }

    #[test]
    fn mapping_layouts_match_the_reference() {
        assert_eq!(size_of::<MapOutputDescription>(), 16);
        assert_eq!(offset_of!(MapOutputDescription, sync_stream), 8);
        assert_eq!(size_of::<RenderVarOutput>(), 136);
        assert_eq!(offset_of!(RenderVarOutput, error_message), 8);
        assert_eq!(offset_of!(RenderVarOutput, map_handle), 24);
        assert_eq!(offset_of!(RenderVarOutput, cuda_sync), 32);
        assert_eq!(offset_of!(RenderVarOutput, name), 48);
        assert_eq!(offset_of!(RenderVarOutput, type_), 64);
        assert_eq!(offset_of!(RenderVarOutput, doc), 80);
        assert_eq!(offset_of!(RenderVarOutput, version), 96);
        assert_eq!(offset_of!(RenderVarOutput, num_tensors), 104);
        assert_eq!(offset_of!(RenderVarOutput, tensors), 112);
        assert_eq!(offset_of!(RenderVarOutput, num_params), 120);
        assert_eq!(offset_of!(RenderVarOutput, params), 128);
        assert_eq!(size_of::<RenderVarTensor>(), 24);
        assert_eq!(size_of::<RenderVarParam>(), 80);
        assert_eq!(offset_of!(RenderVarParam, name), 48);
        assert_eq!(offset_of!(RenderVarParam, doc), 64);
    }

    #[test]
    fn picking_layouts_match_the_reference() {
        assert_eq!(size_of::<PickQueryDesc>(), 40);
        assert_eq!(offset_of!(PickQueryDesc, left_ndc), 16);
        assert_eq!(offset_of!(PickQueryDesc, top_ndc), 20);
        assert_eq!(offset_of!(PickQueryDesc, right_ndc), 24);
        assert_eq!(offset_of!(PickQueryDesc, bottom_ndc), 28);
        assert_eq!(offset_of!(PickQueryDesc, flags), 32);
        assert_eq!(size_of::<SelectionGroupStyle>(), 32);
        assert_eq!(size_of::<PathDictionaryInstance>(), 16);
        assert_eq!(size_of::<PathDictionaryVtable>(), 12 * 8);
    }
}

//! Reading a step's outputs (`reference/ovrtx.md` §5.4, §7, §8): finding render vars in the
//! fetched results, describing a mapped image tensor, copying or converting it to RGBA8, and
//! decoding the synthetic `ovrtx_pick_hit` render var.

use ovhost_plugin_api::PluginError;

use crate::ffi::types::*;

/// One render var of the fetched results.
#[derive(Clone, Debug)]
pub struct VarEntry {
    pub render_var_path: String,
    pub source_name: String,
    pub output_handle: u64,
}

/// The render vars of the newest frame of `product_path` (plus synthetic vars such as pick hits).
///
/// # Safety
/// `outputs` must come from a successful `ovrtx_fetch_results` whose results are not destroyed.
pub unsafe fn render_vars(outputs: &RenderProductSetOutputs, product_path: &str) -> Vec<VarEntry> {
    let mut vars = Vec::new();
    if outputs.outputs.is_null() {
        return vars;
    }
    // SAFETY: per the caller's contract the arrays are valid with the stated counts.
    let products = unsafe { std::slice::from_raw_parts(outputs.outputs, outputs.output_count) };
    for product in products {
        // SAFETY: as above.
        let path = unsafe { product.render_product_path.to_string_lossy() };
        if path != product_path || product.output_frames.is_null() || product.output_frame_count == 0 {
            continue;
        }
        // SAFETY: as above; the newest frame is the last one.
        let frames = unsafe { std::slice::from_raw_parts(product.output_frames, product.output_frame_count) };
        let Some(frame) = frames.last() else { continue };
        if frame.output_render_vars.is_null() {
            continue;
        }
        // SAFETY: as above.
        let entries = unsafe { std::slice::from_raw_parts(frame.output_render_vars, frame.render_var_count) };
        for e in entries {
            vars.push(VarEntry {
                // SAFETY: as above.
                render_var_path: unsafe { e.render_var_path.to_string_lossy() },
                // SAFETY: as above.
                source_name: unsafe { e.source_name.to_string_lossy() },
                output_handle: e.output_handle,
            });
        }
    }
    vars
}

/// A mapped 2-D image: `[H, W, C]` channel-last.
#[derive(Clone, Copy, Debug)]
pub struct Image {
    /// Host pointer or `CUdeviceptr` (already offset by `byte_offset`).
    pub data: usize,
    pub device_type: i32,
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    pub dtype: DlDataType,
    pub row_pitch_bytes: u64,
}

impl Image {
    pub fn is_host(&self) -> bool {
        matches!(self.device_type, dl_device::CPU | dl_device::CUDA_HOST)
    }

    pub fn is_rgba8(&self) -> bool {
        self.dtype == DlDataType { code: dl_code::UINT, bits: 8, lanes: 1 } && self.channels == 4
    }
}

/// The first tensor of a mapping, as an image.
///
/// # Safety
/// `mapping` must be a live mapping returned by `ovrtx_map_render_var_output`.
pub unsafe fn image(mapping: &RenderVarOutput, what: &str) -> Result<Image, PluginError> {
    if mapping.num_tensors == 0 || mapping.tensors.is_null() {
        return Err(PluginError::internal(format!("ovrtx mapped {what} without any tensor")));
    }
    // SAFETY: a live mapping has `num_tensors` valid tensor entries with non-null `dl`.
    let dl = unsafe { &*(*mapping.tensors).dl };
    if dl.ndim != 3 || dl.shape.is_null() {
        return Err(PluginError::internal(format!("ovrtx {what} is not a [H, W, C] image (ndim {})", dl.ndim)));
    }
    // SAFETY: `shape` has `ndim` entries.
    let shape = unsafe { std::slice::from_raw_parts(dl.shape, 3) };
    let dim = |v: i64| u32::try_from(v).ok().filter(|v| *v > 0);
    let (Some(height), Some(width), Some(channels)) = (dim(shape[0]), dim(shape[1]), dim(shape[2])) else {
        return Err(PluginError::internal(format!("ovrtx {what} has an invalid shape {shape:?}")));
    };
    if dl.dtype.bits % 8 != 0 || dl.dtype.bits == 0 || dl.dtype.lanes == 0 {
        return Err(PluginError::unsupported(format!("ovrtx {what} has an unsupported dtype {:?}", dl.dtype)));
    }
    let element = u64::from(dl.dtype.bits / 8) * u64::from(dl.dtype.lanes);
    let row_pitch_bytes = if dl.strides.is_null() {
        u64::from(width) * u64::from(channels) * element
    } else {
        // SAFETY: non-null strides have `ndim` entries, in elements.
        let strides = unsafe { std::slice::from_raw_parts(dl.strides, 3) };
        if strides[2] != 1 || strides[1] != i64::from(channels) {
            return Err(PluginError::unsupported(format!(
                "ovrtx {what} has non-packed pixels (strides {strides:?}); only row padding is supported"
            )));
        }
        u64::try_from(strides[0]).unwrap_or(0) * element
    };
    Ok(Image {
        data: (dl.data as usize).wrapping_add(dl.byte_offset as usize),
        device_type: dl.device.device_type,
        width,
        height,
        channels,
        dtype: dl.dtype,
        row_pitch_bytes,
    })
}

/// Copies a host RGBA8 image into `out` as packed rows (`width * 4` pitch).
///
/// # Safety
/// `img` must describe live host memory of `height` rows of `row_pitch_bytes`.
pub unsafe fn copy_rgba8(img: &Image, out: &mut Vec<u8>) {
    let row = img.width as usize * 4;
    out.clear();
    out.reserve(row * img.height as usize);
    for y in 0..img.height as usize {
        // SAFETY: row `y` starts at data + y * pitch and holds `row` bytes (caller's contract).
        let src =
            unsafe { std::slice::from_raw_parts((img.data + y * img.row_pitch_bytes as usize) as *const u8, row) };
        out.extend_from_slice(src);
    }
}

/// Converts a host AOV image to RGBA8 for display: RGBA8 as is; one float channel (distances) as
/// grey normalized over its finite range, near bright; three or more float channels (normals) from
/// -1..1 to 0..255.
///
/// # Safety
/// As [`copy_rgba8`].
pub unsafe fn aov_to_rgba8(img: &Image, name: &str, out: &mut Vec<u8>) -> Result<(), PluginError> {
    if img.is_rgba8() {
        // SAFETY: forwarded contract.
        unsafe { copy_rgba8(img, out) };
        return Ok(());
    }
    if img.dtype != (DlDataType { code: dl_code::FLOAT, bits: 32, lanes: 1 }) {
        return Err(PluginError::unsupported(format!(
            "AOV {name} has dtype {:?} with {} channels, which this plugin cannot display",
            img.dtype, img.channels
        )));
    }
    let (w, h, c) = (img.width as usize, img.height as usize, img.channels as usize);
    let mut values = Vec::with_capacity(w * h * c);
    for y in 0..h {
        let base = img.data + y * img.row_pitch_bytes as usize;
        for i in 0..w * c {
            // SAFETY: row `y` holds `w * c` f32 values (caller's contract); read unaligned to be safe.
            values.push(unsafe { std::ptr::read_unaligned((base + i * 4) as *const f32) });
        }
    }
    out.clear();
    out.reserve(w * h * 4);
    if c == 1 {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        for v in values {
            let g = if v.is_finite() { (255.0 * (1.0 - (v - lo) / span)).round().clamp(0.0, 255.0) as u8 } else { 0 };
            out.extend_from_slice(&[g, g, g, 255]);
        }
    } else if c >= 3 {
        for px in values.chunks_exact(c) {
            let m = |v: f32| ((v.clamp(-1.0, 1.0) * 0.5 + 0.5) * 255.0).round() as u8;
            out.extend_from_slice(&[m(px[0]), m(px[1]), m(px[2]), 255]);
        }
    } else {
        return Err(PluginError::unsupported(format!("AOV {name} has {c} float channels; cannot display it")));
    }
    Ok(())
}

/// Reads a CPU `uint32` parameter of shape `{1}` by name.
///
/// # Safety
/// `mapping` must be a live CPU mapping.
unsafe fn param_u32(mapping: &RenderVarOutput, name: &str) -> Option<u32> {
    if mapping.params.is_null() {
        return None;
    }
    // SAFETY: `num_params` valid entries.
    let params = unsafe { std::slice::from_raw_parts(mapping.params, mapping.num_params) };
    params.iter().find_map(|p| {
        // SAFETY: names are library-owned views.
        let pname = unsafe { p.name.to_string_lossy() };
        let ok = pname == name
            && p.dl.dtype == (DlDataType { code: dl_code::UINT, bits: 32, lanes: 1 })
            && !p.dl.data.is_null();
        // SAFETY: a uint32 CPU param holds at least one element.
        ok.then(|| unsafe { std::ptr::read_unaligned((p.dl.data as usize + p.dl.byte_offset as usize) as *const u32) })
    })
}

/// The prim-path ids of a pick-hit mapping (first `hitCount` rows, de-duplicated, in order).
///
/// # Safety
/// `mapping` must be a live CPU mapping of the `ovrtx_pick_hit` render var.
pub unsafe fn pick_hits(mapping: &RenderVarOutput) -> Result<Vec<u64>, PluginError> {
    // SAFETY: forwarded contract.
    let (magic, version, hits) =
        unsafe { (param_u32(mapping, "magic"), param_u32(mapping, "version"), param_u32(mapping, "hitCount")) };
    if magic != Some(PICK_HIT_MAGIC) || version != Some(PICK_HIT_VERSION) {
        return Err(PluginError::internal(format!(
            "ovrtx pick result has magic {magic:x?} / version {version:?}; expected {PICK_HIT_MAGIC:#x} / {PICK_HIT_VERSION}"
        )));
    }
    let hits = hits.unwrap_or(0) as usize;
    if hits == 0 {
        return Ok(Vec::new());
    }
    if mapping.tensors.is_null() {
        return Err(PluginError::internal("ovrtx pick result has hits but no tensors"));
    }
    // SAFETY: `num_tensors` valid entries with non-null names.
    let tensors = unsafe { std::slice::from_raw_parts(mapping.tensors, mapping.num_tensors) };
    let prim_path = tensors.iter().find(|t| {
        // SAFETY: names are never NULL when num_tensors > 0.
        !t.name.is_null() && unsafe { (*t.name).to_string_lossy() } == "primPath"
    });
    let Some(t) = prim_path else {
        return Err(PluginError::internal("ovrtx pick result has no primPath tensor"));
    };
    // SAFETY: a live tensor.
    let dl = unsafe { &*t.dl };
    // SAFETY: a 1-D tensor has one shape entry.
    let len = if dl.ndim >= 1 && !dl.shape.is_null() { unsafe { *dl.shape } } else { 0 };
    if dl.dtype != (DlDataType { code: dl_code::UINT, bits: 64, lanes: 1 }) || (len as usize) < hits {
        return Err(PluginError::internal(format!(
            "ovrtx primPath tensor has dtype {:?} and {len} rows for {hits} hits",
            dl.dtype
        )));
    }
    let base = dl.data as usize + dl.byte_offset as usize;
    let mut out = Vec::new();
    for i in 0..hits {
        // SAFETY: `len >= hits` uint64 values on the CPU; read unaligned to be safe.
        let id = unsafe { std::ptr::read_unaligned((base + i * 8) as *const u64) };
        if id != 0 && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

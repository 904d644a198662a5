//! [`Ovrtx`]: the `RendererBackend`. Owns one ovrtx renderer and drives the documented call
//! sequence (`reference/ovrtx.md` §10): open the inline root layer, reset, warm up; per frame
//! write the camera's `omni:xform`, step the viewer's RenderProduct, fetch, map the displayed AOV
//! and hand out a frame; picks enqueue a query for a step of their own; selection goes through
//! outline group 1.
//!
//! Frame memory: LdrColor mapped on CUDA stays mapped (and its step results alive) until the next
//! mutable call, which unmaps and destroys them before anything else; host frames are copied into
//! a buffer this object owns and the mapping is released at once.

use std::collections::HashMap;

use ovhost_plugin_api::prelude::{RResult, RSlice, RStr, RString, RVec};
use ovhost_plugin_api::{
    Frame, FrameFormat, FromConfig, MemoryLocation, PluginError, RenderRequestRef, RendererBackend, SceneRef, UpAxis,
};

use crate::config::{OutputDevice, OvrtxConfig};
use crate::ffi::types::{CudaSync, RENDER_VAR_PICK_HIT, SelectionGroupStyle, map_device};
use crate::ffi::{Api, locate};
use crate::native::Native;
use crate::output;
use crate::pathdict::PathDictionary;
use crate::settings::{AppliesAt, Settings};
use crate::usda;

/// Fixed simulation step for an interactive viewer.
const DELTA_TIME_S: f64 = 1.0 / 60.0;
/// ovrtx's `sync_stream` / `before_destroy.stream` value meaning "the CUDA default stream".
const CUDA_DEFAULT_STREAM: usize = 1;
const MAX_SIZE_PX: u32 = 16384;
/// Size used when a stage is opened before the first `resize`.
const DEFAULT_SIZE: (u32, u32) = (1280, 720);
/// Background shown while no stage is open (sRGB grey).
const EMPTY_RGBA: [u8; 4] = [0x20, 0x22, 0x26, 0xff];

struct Stage {
    resolved_path: String,
    up_axis: UpAxis,
    meters_per_unit: f64,
    prim_paths: Vec<String>,
    prim_ids: HashMap<String, u32>,
}

/// Results (and possibly a CUDA mapping) kept alive for the frame handed out last.
struct Held {
    step: u64,
    map: Option<u64>,
}

/// The ovrtx renderer backend.
pub struct Ovrtx {
    config: OvrtxConfig,
    version: (u32, u32, u32),
    dict: PathDictionary,
    size: Option<(u32, u32)>,
    stage: Option<Stage>,
    settings: Settings,
    aov: String,
    /// Source names of the render vars the last step produced.
    exposed_aovs: Vec<String>,
    held: Option<Held>,
    host_frame: Vec<u8>,
    last_xform: Option<[f64; 16]>,
    fov_y_deg: f64,
    frame_ready: bool,
    selection_prims: Vec<u32>,
    selection_ids: Vec<u64>,
    /// Declared last: dropped after `Drop for Ovrtx` released everything it handed out.
    native: Native,
}

impl Ovrtx {
    /// Finds and loads the library, checks its version, creates the renderer.
    pub fn new(config: OvrtxConfig) -> Result<Self, PluginError> {
        let path = locate::find_library(&locate::SearchInputs::from_env(config.library_path.clone()))?;
        let (api, version) = Api::load(&path)?;
        tracing::info!(path = %path.display(), ?version, "loaded ovrtx");
        let native = Native::create(api, &config)?;
        let dict = PathDictionary::new(native.path_dictionary()?);
        let settings = Settings::default();
        native
            .set_group_style(1, SelectionGroupStyle { outline_color: settings.outline_rgba(), fill_color: [0.0; 4] })?;
        Ok(Self {
            aov: "LdrColor".into(),
            exposed_aovs: Vec::new(),
            config,
            version,
            dict,
            size: None,
            stage: None,
            settings,
            held: None,
            host_frame: Vec::new(),
            last_xform: None,
            fov_y_deg: ovhost_plugin_api::CameraView::default().fov_y_deg,
            frame_ready: false,
            selection_prims: Vec::new(),
            selection_ids: Vec::new(),
            native,
        })
    }

    /// The loaded library's version.
    pub fn library_version(&self) -> (u32, u32, u32) {
        self.version
    }

    /// The raw `ovrtx_renderer_t*` (diagnostics; the test double's inspection hooks take it).
    pub fn native_handle(&self) -> usize {
        self.native.handle()
    }

    /// The inline root layer for the current stage, size and settings.
    fn layer(&self, stage: &Stage) -> String {
        let (width, height) = self.size.unwrap_or(DEFAULT_SIZE);
        usda::build(&usda::LayerSpec {
            stage_path: &stage.resolved_path,
            up_axis: stage.up_axis,
            meters_per_unit: stage.meters_per_unit,
            width,
            height,
            fov_y_deg: self.fov_y_deg,
            render_mode: &self.settings.render_mode,
            pt_samples_per_pixel: self.settings.pt_samples_per_pixel,
            aovs: &self.config.aovs,
        })
    }

    /// Unmaps and destroys what the last frame kept alive.
    fn release_held(&mut self) -> Result<(), PluginError> {
        let Some(held) = self.held.take() else { return Ok(()) };
        let unmapped = match held.map {
            // The consumer's reads were queued on the default stream (cuda_stream 0).
            Some(map) => self.native.unmap(map, CudaSync { stream: CUDA_DEFAULT_STREAM, wait_event: 0 }),
            None => Ok(()),
        };
        let destroyed = self.native.destroy_results(held.step);
        unmapped.and(destroyed)
    }

    /// Steps once and discards the results.
    fn discard_step(&mut self) -> Result<(), PluginError> {
        let step = self.native.step(usda::PRODUCT_PATH, DELTA_TIME_S)?;
        let fetched = self.native.fetch_results(step, self.config.fetch_timeout_ms).map(drop);
        let destroyed = self.native.destroy_results(step);
        fetched.and(destroyed)
    }

    /// Opens `stage` in ovrtx: load, reset, warm up, re-apply the selection.
    fn load(&mut self, stage: &Stage) -> Result<(), PluginError> {
        self.release_held()?;
        self.native.open_usd_from_string(&self.layer(stage))?;
        self.native.reset(0.0)?;
        self.last_xform = None;
        self.frame_ready = false;
        self.selection_ids.clear();
        for _ in 0..self.config.warmup_frames {
            self.discard_step()?;
        }
        Ok(())
    }

    fn open_stage_impl(&mut self, scene: &SceneRef<'_>) -> Result<(), PluginError> {
        let facts = scene.facts();
        if facts.resolved_path.is_empty() {
            return Err(PluginError::invalid_input("the stage has no resolved file path for ovrtx to open"));
        }
        let prim_paths: Vec<String> = scene.prim_paths().iter().map(|p| p.to_string()).collect();
        let prim_ids = prim_paths.iter().enumerate().map(|(i, p)| (p.clone(), i as u32 + 1)).collect();
        let stage = Stage {
            resolved_path: facts.resolved_path.to_string(),
            up_axis: facts.up_axis,
            meters_per_unit: facts.meters_per_unit,
            prim_paths,
            prim_ids,
        };
        if let Err(e) = self.load(&stage) {
            // Errors leave the previous stage in place: put it back (best effort).
            if let Some(previous) = self.stage.take() {
                match self.load(&previous) {
                    Ok(()) => self.stage = Some(previous),
                    Err(again) => tracing::warn!(error = %again, "ovrtx could not re-open the previous stage"),
                }
            }
            return Err(e);
        }
        self.stage = Some(stage);
        self.selection_prims.clear();
        Ok(())
    }

    fn close_stage_impl(&mut self) -> Result<(), PluginError> {
        self.release_held()?;
        self.stage = None;
        self.selection_prims.clear();
        self.selection_ids.clear();
        self.frame_ready = false;
        self.native.reset_stage()
    }

    fn resize_impl(&mut self, width: u32, height: u32) -> Result<(), PluginError> {
        if width == 0 || height == 0 || width > MAX_SIZE_PX || height > MAX_SIZE_PX {
            return Err(PluginError::invalid_input(format!(
                "output size {width}x{height} is outside 1..={MAX_SIZE_PX} pixels per side"
            )));
        }
        if self.size == Some((width, height)) {
            return Ok(());
        }
        self.size = Some((width, height));
        // ovrtx has no resize call: re-open the layer with the new resolution (§9 option b).
        if let Some(stage) = self.stage.take() {
            let loaded = self.load(&stage);
            self.stage = Some(stage);
            loaded?;
            self.apply_selection()?;
        }
        Ok(())
    }

    fn empty_frame(&mut self, request: RenderRequestRef) -> Result<Frame<'_>, PluginError> {
        let (width, height) = self
            .size
            .ok_or_else(|| PluginError::bad_state("the ovrtx renderer must be resized before the first render"))?;
        self.host_frame.clear();
        for _ in 0..(width as usize * height as usize) {
            self.host_frame.extend_from_slice(&EMPTY_RGBA);
        }
        let mut frame = Frame::host(FrameFormat::RGBA8, width, height, width * 4, &self.host_frame);
        frame.frame_number = request.frame_number();
        frame.timestamp_us = request.time_us();
        Ok(frame)
    }

    fn write_camera(&mut self, request: RenderRequestRef) -> Result<(), PluginError> {
        let camera = request.camera();
        let matrix = camera.to_usd_matrix();
        if !camera.is_finite() || matrix.iter().any(|v| !v.is_finite()) {
            tracing::warn!("ovrtx skips a non-finite camera; the previous camera stays");
            return Ok(());
        }
        self.fov_y_deg = camera.fov_y_deg;
        if self.last_xform != Some(matrix) {
            self.native.write_xform(usda::CAMERA_PATH, &matrix)?;
            self.last_xform = Some(matrix);
        }
        Ok(())
    }

    fn render_impl(&mut self, request: RenderRequestRef) -> Result<Frame<'_>, PluginError> {
        self.release_held()?;
        if self.stage.is_none() {
            return self.empty_frame(request);
        }
        self.write_camera(request)?;
        let step = self.native.step(usda::PRODUCT_PATH, DELTA_TIME_S)?;
        self.held = Some(Held { step, map: None });
        let located = match self.read_frame(step) {
            Ok(located) => located,
            Err(e) => {
                if let Err(cleanup) = self.release_held() {
                    tracing::warn!(error = %cleanup, "ovrtx cleanup after a failed frame failed");
                }
                return Err(e);
            }
        };
        self.frame_ready = true;
        let mut frame = match located {
            // SAFETY: ovrtx keeps the mapped image (`len_bytes` bytes of device memory) alive until
            // the next mutable call (release_held), which the frame's borrow of `self` prevents.
            Located::Cuda { width, height, pitch_bytes, data, len_bytes, stream } => unsafe {
                Frame::from_raw_parts(
                    FrameFormat::RGBA8,
                    MemoryLocation::CUDA,
                    width,
                    height,
                    pitch_bytes,
                    data,
                    len_bytes,
                )
            }
            .with_cuda(0, stream),
            Located::Host { width, height } => {
                Frame::host(FrameFormat::RGBA8, width, height, width * 4, &self.host_frame)
            }
        };
        frame.frame_number = request.frame_number();
        frame.timestamp_us = request.time_us();
        Ok(frame)
    }

    /// Fetches `step` and locates the displayed AOV: still mapped in CUDA memory, or copied into
    /// `host_frame`.
    fn read_frame(&mut self, step: u64) -> Result<Located, PluginError> {
        let outputs = self.native.fetch_results(step, self.config.fetch_timeout_ms)?;
        // SAFETY: fresh results of `step`, destroyed only by release_held.
        let vars = unsafe { output::render_vars(&outputs, usda::PRODUCT_PATH) };
        self.exposed_aovs = vars
            .iter()
            .filter(|v| v.render_var_path != RENDER_VAR_PICK_HIT && !v.source_name.is_empty())
            .map(|v| v.source_name.clone())
            .collect();
        let var_path = usda::render_var_path(&self.aov);
        let Some(var) = vars.iter().find(|v| v.render_var_path == var_path || v.source_name == self.aov) else {
            return Err(PluginError::not_found(format!(
                "ovrtx produced no {} render var for {} (it produced: {})",
                self.aov,
                usda::PRODUCT_PATH,
                self.exposed_aovs.join(", ")
            )));
        };
        let ldr = self.aov == "LdrColor";
        let cuda = ldr && self.config.output_device == OutputDevice::Cuda;
        let (device, sync) = if cuda { (map_device::CUDA, CUDA_DEFAULT_STREAM) } else { (map_device::CPU, 0) };
        let mapping = self.native.map(var.output_handle, device, sync, self.config.fetch_timeout_ms)?;
        if let Some(held) = self.held.as_mut() {
            held.map = Some(mapping.map_handle);
        }
        // SAFETY: a live mapping.
        let img = unsafe { output::image(&mapping, &self.aov) }?;
        if !img.is_host() {
            if !ldr || !img.is_rgba8() {
                return Err(PluginError::unsupported(format!(
                    "ovrtx mapped {} on device type {} as {:?}; only RGBA8 LdrColor is passed on in CUDA memory",
                    self.aov, img.device_type, img.dtype
                )));
            }
            let len_bytes = img.row_pitch_bytes * u64::from(img.height);
            let pitch_bytes = u32::try_from(img.row_pitch_bytes)
                .map_err(|_| PluginError::internal("ovrtx LdrColor row pitch does not fit 32 bits"))?;
            // Stays mapped until the next mutable call (release_held).
            let stream =
                if mapping.cuda_sync.stream > CUDA_DEFAULT_STREAM { mapping.cuda_sync.stream as u64 } else { 0 };
            return Ok(Located::Cuda {
                width: img.width,
                height: img.height,
                pitch_bytes,
                data: img.data as *const u8,
                len_bytes,
                stream,
            });
        }
        // Host memory: copy, then release the mapping and results at once.
        // SAFETY: the mapping is live and in host memory.
        let converted = unsafe { output::aov_to_rgba8(&img, &self.aov, &mut self.host_frame) };
        self.release_held()?;
        converted?;
        Ok(Located::Host { width: img.width, height: img.height })
    }

    fn pick_impl(&mut self, x: u32, y: u32) -> Result<u32, PluginError> {
        let (width, height) = match (self.size, self.frame_ready, self.stage.is_some()) {
            (Some(size), true, true) => size,
            _ => {
                return Err(PluginError::bad_state(
                    "no stage frame has been rendered at this size yet; nothing to pick",
                ));
            }
        };
        if x >= width || y >= height {
            return Err(PluginError::invalid_input(format!(
                "pick at ({x}, {y}) is outside the {width}x{height} frame"
            )));
        }
        self.release_held()?;
        let (w, h) = (width as f32, height as f32);
        let ndc = [x as f32 / w, y as f32 / h, (x + 1) as f32 / w, (y + 1) as f32 / h];
        self.native.enqueue_pick(usda::PRODUCT_PATH, ndc)?;
        let step = self.native.step(usda::PRODUCT_PATH, DELTA_TIME_S)?;
        self.held = Some(Held { step, map: None });
        let ids = self.read_pick(step);
        let released = self.release_held();
        let ids = ids?;
        released?;
        for id in ids {
            if let Some(path) = self.dict.resolve(id)? {
                if let Some(prim_id) = self.prim_id_of(&path) {
                    return Ok(prim_id);
                }
                tracing::debug!(path, "ovrtx picked a prim that is not in the stage's prim table");
            }
        }
        Ok(0)
    }

    fn read_pick(&mut self, step: u64) -> Result<Vec<u64>, PluginError> {
        let outputs = self.native.fetch_results(step, self.config.fetch_timeout_ms)?;
        // SAFETY: fresh results of `step`.
        let vars = unsafe { output::render_vars(&outputs, usda::PRODUCT_PATH) };
        let Some(var) = vars.iter().find(|v| v.render_var_path == RENDER_VAR_PICK_HIT) else {
            return Ok(Vec::new());
        };
        let mapping = self.native.map(var.output_handle, map_device::CPU, 0, self.config.fetch_timeout_ms)?;
        if let Some(held) = self.held.as_mut() {
            held.map = Some(mapping.map_handle);
        }
        // SAFETY: a live CPU mapping of the pick-hit var.
        unsafe { output::pick_hits(&mapping) }
    }

    /// The 1-based prim id of `path`, or of its nearest ancestor in the stage's prim table.
    fn prim_id_of(&self, path: &str) -> Option<u32> {
        let stage = self.stage.as_ref()?;
        let mut p = path;
        loop {
            if let Some(id) = stage.prim_ids.get(p) {
                return Some(*id);
            }
            let cut = p.rfind('/')?;
            if cut == 0 {
                return None;
            }
            p = &p[..cut];
        }
    }

    /// Moves the outline: previous ids to group 0, the current selection to group 1.
    fn apply_selection(&mut self) -> Result<(), PluginError> {
        let paths: Vec<&str> = match &self.stage {
            Some(stage) => self
                .selection_prims
                .iter()
                .filter_map(|id| (*id as usize).checked_sub(1).and_then(|i| stage.prim_paths.get(i)))
                .map(String::as_str)
                .collect(),
            None => Vec::new(),
        };
        let ids = self.dict.ids(&paths)?;
        self.native.set_selection_group(&self.selection_ids, 0)?;
        self.native.set_selection_group(&ids, 1)?;
        self.selection_ids = ids;
        Ok(())
    }

    fn set_selection_impl(&mut self, prim_ids: &[u32]) -> Result<(), PluginError> {
        self.release_held()?;
        if let Some(stage) = &self.stage
            && let Some(bad) = prim_ids.iter().find(|id| **id == 0 || **id as usize > stage.prim_paths.len())
        {
            return Err(PluginError::invalid_input(format!(
                "prim id {bad} is not in the stage's prim table (1..={})",
                stage.prim_paths.len()
            )));
        }
        self.selection_prims = prim_ids.to_vec();
        self.apply_selection()
    }

    fn set_setting_impl(&mut self, key: &str, value_json: &str) -> Result<AppliesAt, PluginError> {
        let mut next = self.settings.clone();
        let applies_at = next.set(key, value_json)?;
        if applies_at == AppliesAt::Immediate {
            self.release_held()?;
            let style = SelectionGroupStyle { outline_color: next.outline_rgba(), fill_color: [0.0; 4] };
            self.native.set_group_style(1, style)?;
        }
        self.settings = next;
        Ok(applies_at)
    }

    fn aov_names(&self) -> Vec<String> {
        if self.exposed_aovs.is_empty() { self.config.aovs.clone() } else { self.exposed_aovs.clone() }
    }
}

impl Drop for Ovrtx {
    fn drop(&mut self) {
        if let Err(e) = self.release_held() {
            tracing::warn!(error = %e, "ovrtx could not release the last frame at shutdown");
        }
    }
}

impl FromConfig for Ovrtx {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        Self::new(OvrtxConfig::from_json(config_json)?)
    }
}

impl RendererBackend for Ovrtx {
    fn resize(&mut self, width: u32, height: u32) -> RResult<(), PluginError> {
        self.resize_impl(width, height).into()
    }

    fn open_stage(&mut self, scene: SceneRef<'_>) -> RResult<(), PluginError> {
        self.open_stage_impl(&scene).into()
    }

    fn close_stage(&mut self) -> RResult<(), PluginError> {
        self.close_stage_impl().into()
    }

    fn render(&mut self, request: RenderRequestRef) -> RResult<Frame<'_>, PluginError> {
        self.render_impl(request).into()
    }

    fn pick(&mut self, x: u32, y: u32) -> RResult<u32, PluginError> {
        self.pick_impl(x, y).into()
    }

    fn set_selection(&mut self, prim_ids: RSlice<'_, u32>) -> RResult<(), PluginError> {
        self.set_selection_impl(prim_ids.as_slice()).into()
    }

    fn render_settings(&self) -> RResult<RString, PluginError> {
        RResult::ROk(self.settings.to_json().to_string().into())
    }

    fn set_render_setting(&mut self, key: RStr<'_>, value_json: RStr<'_>) -> RResult<RString, PluginError> {
        self.set_setting_impl(key.as_str(), value_json.as_str()).map(|a| RString::from(a.name())).into()
    }

    fn aovs(&self) -> RResult<RVec<RString>, PluginError> {
        RResult::ROk(self.aov_names().into_iter().map(RString::from).collect())
    }

    fn set_aov(&mut self, name: RStr<'_>) -> RResult<(), PluginError> {
        let names = self.aov_names();
        if names.iter().any(|n| n == name.as_str()) {
            self.aov = name.to_string();
            RResult::ROk(())
        } else {
            RResult::RErr(PluginError::not_found(format!(
                "the ovrtx RenderProduct exposes no AOV \"{name}\"; it has {}",
                names.join(", ")
            )))
        }
    }
}

/// Where a rendered AOV ended up, before it is described as a [`Frame`].
enum Located {
    Cuda { width: u32, height: u32, pitch_bytes: u32, data: *const u8, len_bytes: u64, stream: u64 },
    Host { width: u32, height: u32 },
}

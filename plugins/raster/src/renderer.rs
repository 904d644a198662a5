//! [`Raster`]: the `RendererBackend` implementation. Owns the device, the pipelines, the stage's
//! GPU geometry, the size-dependent targets, settings, AOV and selection; renders one frame per
//! `render` call (scene pass, post pass, readback) and answers picks from the id target.

use ovhost_plugin_api::abi_stable::std_types::ROption;
use ovhost_plugin_api::prelude::{RResult, RSlice, RStr, RString, RVec};
use ovhost_plugin_api::{
    CameraView, Frame, FrameFormat, FrameSpec, FromConfig, PluginError, RenderRequestRef, RendererBackend, SceneRef,
};

use crate::adapter::Gpu;
use crate::aov::Aov;
use crate::camera::{depth_range, view_projection};
use crate::config::RasterConfig;
use crate::geometry::GpuScene;
use crate::gpu_times::{FrameTimes, GpuTimer, Pass};
use crate::lights::LightsUniform;
use crate::material::GpuMaterials;
use crate::pipelines::{Globals, Pipelines, PostParams};
use crate::scene_pass::{Output, ScenePass};
use crate::selection::{Footprint, OutlineTargets, Rect, SelectionSet};
use crate::settings::{Background, RenderSettings};
use crate::targets::Targets;
use crate::yuv::YuvPipeline;

/// The wgpu raster renderer.
pub struct Raster {
    gpu: Gpu,
    pipelines: Pipelines,
    globals: wgpu::Buffer,
    globals_bind: wgpu::BindGroup,
    /// The frame's lights (`lights.rs`), bound with the globals.
    lights: wgpu::Buffer,
    /// The stage's materials (index 0: displayColor).
    materials: Option<GpuMaterials>,
    /// The stage's UsdLux lights, and whether a dome texture is bound.
    stage_lights: Vec<ovhost_plugin_api::Light>,
    /// Baked light transforms and visibility (`lights::posed`); empty when no light moves.
    light_tracks: Vec<ovhost_plugin_api::Track>,
    dome_texture: bool,
    post_params: wgpu::Buffer,
    /// The outline passes' bind groups (mask, rows, outline); rebuilt lazily after a resize or a
    /// selection change.
    post_bind: Option<[wgpu::BindGroup; 3]>,
    /// The outline's intermediate targets at the current size (made on the first selection).
    outline_targets: Option<OutlineTargets>,
    /// Where the selection is in the world (made on the first frame after the selection or the
    /// stage changed); each frame projects it to the rectangle the outline passes draw in.
    footprint: Option<Footprint>,
    targets: Option<Targets>,
    /// True once a frame has been rendered at the current size (picks read that frame).
    frame_ready: bool,
    /// Where the id target holds the last frame's prim ids (`scene_pass.rs`: written on demand).
    ids: Option<Rect>,
    /// The last frame's eye (the id pass sorts translucent draws as that frame did).
    last_eye: [f64; 3],
    scene: Option<GpuScene>,
    /// The open stage's time-varying data (`None`: nothing moves).
    animation: Option<crate::animation::Animation>,
    selection: SelectionSet,
    settings: RenderSettings,
    aov: Aov,
    /// The GPU RGBA → I420 pass, when this adapter offers I420 frames (`config.rs` `yuv`).
    yuv: Option<YuvPipeline>,
    /// What `render` returns: RGBA8, or I420 converted on the GPU (the host's choice).
    output: FrameFormat,
    /// Per-pass GPU times (`OVHOST_RASTER_GPU_TIMES=1`, benchmarks only).
    gpu_timer: Option<GpuTimer>,
}

fn srgb_to_linear(c: u8) -> f32 {
    let x = f32::from(c) / 255.0;
    if x <= 0.04045 { x / 12.92 } else { ((x + 0.055) / 1.055).powf(2.4) }
}

fn linear_rgb(c: [u8; 3]) -> [f32; 4] {
    [srgb_to_linear(c[0]), srgb_to_linear(c[1]), srgb_to_linear(c[2]), 1.0]
}

/// Group 0: globals, lights, and the environment texture (a dome light's, or white).
fn globals_bind_group(
    device: &wgpu::Device,
    pipelines: &Pipelines,
    globals: &wgpu::Buffer,
    lights: &wgpu::Buffer,
    env: &wgpu::Texture,
) -> wgpu::BindGroup {
    let view = env.create_view(&wgpu::TextureViewDescriptor {
        format: Some(wgpu::TextureFormat::Rgba8UnormSrgb),
        ..Default::default()
    });
    let sampler =
        crate::material::sampler(device, ovhost_plugin_api::WrapMode::REPEAT, ovhost_plugin_api::WrapMode::CLAMP);
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("raster globals"),
        layout: &pipelines.globals_layout,
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: globals.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: lights.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: wgpu::BindingResource::TextureView(&view) },
            wgpu::BindGroupEntry { binding: 3, resource: wgpu::BindingResource::Sampler(&sampler) },
        ],
    })
}

fn uniform_buffer(device: &wgpu::Device, label: &str, size: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

impl Raster {
    /// Opens a GPU device per `config` and builds the pipelines.
    pub fn new(config: &RasterConfig) -> Result<Self, PluginError> {
        let gpu = Gpu::open(config)?;
        let device = &gpu.device;
        let pipelines = Pipelines::new(device);
        let globals = uniform_buffer(device, "raster globals", std::mem::size_of::<Globals>());
        let lights = uniform_buffer(device, "raster lights", std::mem::size_of::<LightsUniform>());
        let env = crate::material::solid_texture(device, &gpu.queue, [255; 4]);
        let globals_bind = globals_bind_group(device, &pipelines, &globals, &lights, &env);
        let post_params = uniform_buffer(device, "raster post", std::mem::size_of::<PostParams>());
        let selection = SelectionSet::new(device, &gpu.queue, &[]);
        // View-format reinterpretation (the YUV pass reads the sRGB targets' raw bytes) is not
        // available on GL; software adapters convert faster on the CPU (see `YuvChoice::Auto`).
        let raw_views = gpu.info.backend != wgpu::Backend::Gl;
        let offer_yuv = raw_views
            && match config.yuv {
                crate::config::YuvChoice::Gpu => true,
                crate::config::YuvChoice::Cpu => false,
                crate::config::YuvChoice::Auto => gpu.info.device_type != wgpu::DeviceType::Cpu,
            };
        let yuv = offer_yuv.then(|| YuvPipeline::new(device));
        tracing::info!(
            gpu_yuv = offer_yuv,
            "raster renderer: RGBA to I420 for H.264 on the {}",
            if offer_yuv { "GPU" } else { "CPU" }
        );
        let gpu_timer = gpu.timestamps.then(|| GpuTimer::new(device, &gpu.queue));
        gpu.take_error()?;
        Ok(Self {
            gpu_timer,
            gpu,
            pipelines,
            globals,
            globals_bind,
            lights,
            materials: None,
            stage_lights: Vec::new(),
            light_tracks: Vec::new(),
            dome_texture: false,
            post_params,
            post_bind: None,
            outline_targets: None,
            footprint: None,
            targets: None,
            frame_ready: false,
            ids: None,
            last_eye: [0.0; 3],
            scene: None,
            animation: None,
            selection,
            settings: RenderSettings::default(),
            aov: Aov::LdrColor,
            yuv,
            output: FrameFormat::RGBA8,
        })
    }

    /// `name (backend, device type)` of the adapter in use.
    pub fn adapter_description(&self) -> String {
        self.gpu.describe()
    }

    /// The adapter in use (name, backend, device type, driver).
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.gpu.info
    }

    pub fn settings(&self) -> &RenderSettings {
        &self.settings
    }

    pub fn aov(&self) -> Aov {
        self.aov
    }

    fn resize_impl(&mut self, width: u32, height: u32) -> Result<(), PluginError> {
        let max = self.gpu.device.limits().max_texture_dimension_2d;
        if width == 0 || height == 0 || width > max || height > max {
            return Err(PluginError::invalid_input(format!(
                "output size {width}x{height} is outside 1..={max} pixels per side on this GPU"
            )));
        }
        if self.targets.as_ref().is_some_and(|t| t.width == width && t.height == height) {
            return Ok(());
        }
        self.targets = Some(Targets::new(&self.gpu.device, width, height, self.yuv.is_some()));
        self.post_bind = None;
        self.frame_ready = false;
        self.ids = None;
        self.gpu.take_error()
    }

    fn open_stage_impl(&mut self, scene: &SceneRef<'_>) -> Result<(), PluginError> {
        let device = &self.gpu.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let uploaded = GpuScene::upload(device, scene);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PluginError::unavailable(format!("the GPU ran out of memory loading the stage: {e}")));
        }
        let uploaded = uploaded?;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let materials = GpuMaterials::upload(device, &self.gpu.queue, &self.pipelines.material_layout, scene);
        let lights: Vec<ovhost_plugin_api::Light> = scene.lights().iter().cloned().collect();
        self.bind_environment(scene);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PluginError::unavailable(format!("the GPU ran out of memory loading textures: {e}")));
        }
        tracing::info!(
            triangles = uploaded.triangle_count,
            draws = uploaded.draws.len(),
            skipped_meshes = uploaded.skipped_meshes,
            materials = materials.bind_groups.len() - 1,
            textures = materials.texture_count,
            texture_bytes = materials.texture_bytes,
            lights = lights.len(),
            "raster renderer uploaded the stage"
        );
        let mut uploaded = uploaded;
        self.animation = crate::animation::Animation::new(scene, &uploaded);
        if let Some(animation) = &self.animation {
            uploaded.bounds = uploaded.bounds.union(&animation.bounds);
        }
        self.scene = Some(uploaded);
        self.footprint = None;
        self.materials = Some(materials);
        self.stage_lights = lights;
        self.light_tracks = scene
            .tracks()
            .iter()
            .filter(|t| crate::lights::animates_lights(std::slice::from_ref(t)))
            .cloned()
            .collect();
        self.set_selection_impl(&[]);
        self.gpu.take_error()
    }

    /// The first dome light whose texture has pixels lights the stage as its environment.
    fn bind_environment(&mut self, scene: &SceneRef<'_>) {
        let device = &self.gpu.device;
        let textures = scene.textures();
        let env = scene
            .lights()
            .iter()
            .filter(|l| l.kind == ovhost_plugin_api::LightKind::DOME)
            .filter_map(|l| textures.get((l.texture as usize).checked_sub(1)?))
            .find_map(|t| crate::material::upload_env(device, &self.gpu.queue, t));
        self.dome_texture = env.is_some();
        let env = env.unwrap_or_else(|| crate::material::solid_texture(device, &self.gpu.queue, [255; 4]));
        self.globals_bind = globals_bind_group(device, &self.pipelines, &self.globals, &self.lights, &env);
    }

    /// Textures streamed in after the stage: uploaded, materials rebuilt (and the environment,
    /// when a dome light's texture is among them).
    fn update_textures_impl(&mut self, scene: &SceneRef<'_>, indices: &[u32]) -> Result<bool, PluginError> {
        let Some(materials) = self.materials.as_mut() else { return Ok(true) };
        let device = &self.gpu.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let uploaded =
            materials.update_textures(device, &self.gpu.queue, &self.pipelines.material_layout, scene, indices);
        let dome = scene
            .lights()
            .iter()
            .any(|l| l.kind == ovhost_plugin_api::LightKind::DOME && indices.contains(&l.texture.wrapping_sub(1)));
        if dome && !self.dome_texture {
            self.bind_environment(scene);
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PluginError::unavailable(format!("the GPU ran out of memory loading textures: {e}")));
        }
        tracing::debug!(arrived = indices.len(), uploaded, "raster renderer took streamed textures");
        self.gpu.take_error()?;
        Ok(true)
    }

    fn set_selection_impl(&mut self, prim_ids: &[u32]) {
        self.selection = SelectionSet::new(&self.gpu.device, &self.gpu.queue, prim_ids);
        self.post_bind = None;
        self.footprint = None;
    }

    /// The pixels the selection outline can touch this frame (before growing by its width);
    /// `None` when nothing is selected or nothing selected is on screen.
    fn outline_rect(&mut self, camera: &CameraView, width: u32, height: u32) -> Result<Option<Rect>, PluginError> {
        if self.selection.count == 0 {
            return Ok(None);
        }
        let (scene, animation, ids) = (&self.scene, &self.animation, &self.selection.ids);
        let footprint = self.footprint.get_or_insert_with(|| {
            let still = std::collections::BTreeSet::new();
            let moving = animation.as_ref().map_or(&still, |a| &a.moving);
            scene.as_ref().map_or(Footprint::Boxes(Vec::new()), |s| Footprint::of(ids, &s.prim_boxes, moving))
        });
        let view_proj = view_projection(camera, f64::from(width) / f64::from(height))?;
        Ok(crate::selection::screen_rect(footprint, &view_proj, width, height))
    }

    fn globals(&self, camera: &CameraView, aspect: f64) -> Result<Globals, PluginError> {
        let view_proj = view_projection(camera, aspect)?.as_mat4();
        let bounds = self.scene.as_ref().map(|s| s.bounds).unwrap_or(ovhost_plugin_api::Bounds::EMPTY);
        let (near, far) = depth_range(camera.eye, &bounds);
        let (top, bottom) = match self.settings.background {
            Background::Gradient => (linear_rgb([0x4a, 0x4e, 0x55]), linear_rgb([0x17, 0x18, 0x1b])),
            Background::Solid => {
                let c = linear_rgb(self.settings.background_color);
                (c, c)
            }
        };
        let eye = camera.eye;
        Ok(Globals {
            view_proj: view_proj.to_cols_array_2d(),
            eye: [eye[0] as f32, eye[1] as f32, eye[2] as f32, 1.0],
            depth_range: [near as f32, far as f32, 0.0, 0.0],
            bg_top: top,
            bg_bottom: bottom,
            mode: [self.settings.render_mode.shader_code(), self.aov.shader_code(), 0, 0],
        })
    }

    fn post_params(&self) -> PostParams {
        PostParams {
            flags: [0, self.settings.outline_width_px, u32::from(self.selection.count > 0), 0],
            // The output target encodes to sRGB, so the shader takes the colour linear.
            outline_color: linear_rgb(self.settings.outline_color),
        }
    }

    fn render_impl(&mut self, request: RenderRequestRef) -> Result<Frame<'_>, PluginError> {
        let Some((width, height)) = self.targets.as_ref().map(|t| (t.width, t.height)) else {
            return Err(PluginError::bad_state("the raster renderer must be resized before the first render"));
        };
        let aspect = f64::from(width) / f64::from(height);
        let globals = self.globals(&request.camera(), aspect)?;
        let post = self.post_params();
        let camera = request.camera();
        let posed;
        let stage_lights = if self.light_tracks.is_empty() {
            &self.stage_lights
        } else {
            posed = crate::lights::posed(&self.stage_lights, &self.light_tracks, request.time_code());
            &posed
        };
        let lights = crate::lights::build(stage_lights, &self.settings, camera.eye, camera.target, self.dome_texture);
        let queue = &self.gpu.queue;
        if let (Some(animation), Some(scene)) = (&mut self.animation, &self.scene) {
            let t = request.time_code();
            animation.apply(queue, scene, t);
        }
        queue.write_buffer(&self.lights, 0, bytemuck::bytes_of(&lights));
        queue.write_buffer(&self.globals, 0, bytemuck::bytes_of(&globals));
        queue.write_buffer(&self.post_params, 0, bytemuck::bytes_of(&post));
        let outline_rect = self.outline_rect(&camera, width, height)?;
        let outline = outline_rect.is_some();
        if let (true, Some(targets)) = (outline && self.post_bind.is_none(), &self.targets) {
            let device = &self.gpu.device;
            let outline_targets = match self.outline_targets.take() {
                Some(o) if o.width == targets.width && o.height == targets.height => o,
                _ => OutlineTargets::new(device, targets.width, targets.height),
            };
            let bind = |label: &str, stage: &wgpu::TextureView| {
                let view = wgpu::BindingResource::TextureView;
                device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(label),
                    layout: &self.pipelines.post_layout,
                    entries: &[
                        wgpu::BindGroupEntry { binding: 0, resource: view(&targets.id_view) },
                        wgpu::BindGroupEntry { binding: 1, resource: view(&self.selection.view) },
                        wgpu::BindGroupEntry { binding: 2, resource: view(stage) },
                        wgpu::BindGroupEntry { binding: 3, resource: self.post_params.as_entire_binding() },
                    ],
                })
            };
            // Each pass reads the previous pass's target; the mask pass binds (and ignores) the
            // rows target, which it does not write.
            self.post_bind = Some([
                bind("raster outline mask", &outline_targets.rows_view),
                bind("raster outline rows", &outline_targets.mask_view),
                bind("raster outline", &outline_targets.rows_view),
            ]);
            self.outline_targets = Some(outline_targets);
        }
        let Some(targets) = self.targets.as_mut() else {
            return Err(PluginError::bad_state("the raster renderer must be resized before the first render"));
        };
        targets.release_frame();
        let mut encoder =
            self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("raster frame") });
        let mode = (self.settings.render_mode, self.aov);
        let (scene, materials) = (self.scene.as_ref(), self.materials.as_ref());
        let scene_pass = ScenePass::new(&self.pipelines, &self.globals_bind, scene, materials, mode, camera.eye);
        let timestamps = self.gpu_timer.as_mut().map(|t| t.render_pass(Pass::Scene));
        scene_pass.encode(&mut encoder, Output::Color, &targets.color_view, &targets.depth_view, None, timestamps);
        // Ids only where the outline reads them (picks render their own, `ids_for`).
        if let Some(rect) = outline_rect {
            scene_pass.encode(&mut encoder, Output::Ids, &targets.id_view, &targets.depth_view, Some(rect), None);
        }
        self.ids = outline_rect;
        self.last_eye = camera.eye;
        // The outline passes run only while something selected is on screen, each scissored to
        // the selection's rectangle grown by what it reads (`post.wgsl`); the last one draws over
        // the colour target, which is the frame either way.
        if let (Some(rect), Some(binds), Some(outline_targets)) = (outline_rect, &self.post_bind, &self.outline_targets)
        {
            let (r, w, h) = (self.settings.outline_width_px, targets.width, targets.height);
            let none_near = wgpu::Color { r: f64::from(r + 1), g: 0.0, b: 0.0, a: 0.0 };
            let passes = [
                (
                    &self.pipelines.post_mask,
                    &outline_targets.mask_view,
                    wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                    rect,
                ),
                (
                    &self.pipelines.post_rows,
                    &outline_targets.rows_view,
                    wgpu::LoadOp::Clear(none_near),
                    rect.grown(r, 0, w, h),
                ),
                (&self.pipelines.post_outline, &targets.color_view, wgpu::LoadOp::Load, rect.grown(r, r, w, h)),
            ];
            for ((pipeline, target, load, scissor), bind) in passes.into_iter().zip(binds) {
                let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("raster outline"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: target,
                        depth_slice: None,
                        resolve_target: None,
                        ops: wgpu::Operations { load, store: wgpu::StoreOp::Store },
                    })],
                    depth_stencil_attachment: None,
                    timestamp_writes: None,
                    occlusion_query_set: None,
                    multiview_mask: None,
                });
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, bind, &[]);
                pass.set_scissor_rect(scissor.x0, scissor.y0, scissor.x1 - scissor.x0, scissor.y1 - scissor.y0);
                pass.draw(0..3, 0..1);
            }
        }
        let (width, height) = (targets.width, targets.height);
        let yuv = self.yuv.as_ref().filter(|_| self.output == FrameFormat::I420);
        let (format, pitch_bytes, bytes) = if let Some(pipeline) = yuv {
            // Converted on the GPU: the planes are what is read back (`yuv.rs`).
            let planes = targets.yuv(&self.gpu.device, pipeline);
            planes.encode(&mut encoder, pipeline, self.gpu_timer.as_mut().map(|t| t.compute_pass(Pass::Yuv)));
            if let Some(timer) = &self.gpu_timer {
                timer.resolve(&mut encoder);
            }
            self.gpu.queue.submit([encoder.finish()]);
            (FrameFormat::I420, planes.pitch_bytes, planes.map_frame(&self.gpu.device)?)
        } else {
            targets.encode_readback(&mut encoder);
            if let Some(timer) = &self.gpu_timer {
                timer.resolve(&mut encoder);
            }
            self.gpu.queue.submit([encoder.finish()]);
            (FrameFormat::RGBA8, targets.pitch_bytes, targets.map_frame(&self.gpu.device)?)
        };
        if let Some(timer) = &mut self.gpu_timer {
            timer.collect(&self.gpu.device)?;
        }
        let mut frame = Frame::host(format, width, height, pitch_bytes, bytes);
        frame.frame_number = request.frame_number();
        frame.timestamp_us = request.time_us();
        self.gpu.take_error()?;
        self.frame_ready = true;
        Ok(frame)
    }

    /// The last frame's GPU time per pass, when `OVHOST_RASTER_GPU_TIMES=1` and the adapter has
    /// timestamp queries (`None` otherwise).
    pub fn gpu_times(&self) -> Option<FrameTimes> {
        self.gpu_timer.as_ref().map(|t| t.last)
    }

    /// RGBA8 always; I420 where the GPU conversion is on (`output_formats`).
    pub fn set_output_format_impl(&mut self, spec: FrameSpec) -> Result<(), PluginError> {
        let offered = spec == FrameSpec::host(FrameFormat::RGBA8)
            || (spec == FrameSpec::host(FrameFormat::I420) && self.yuv.is_some());
        if !offered {
            return Err(PluginError::unsupported(format!(
                "the raster renderer on {} does not produce {spec} frames",
                self.gpu.describe()
            )));
        }
        self.output = spec.format;
        Ok(())
    }

    /// The prim id of every pixel of the last frame, row by row (0: background).
    pub fn id_image(&mut self) -> Result<Vec<u32>, PluginError> {
        let whole = match (&self.targets, self.frame_ready) {
            (Some(t), true) => Rect { x0: 0, y0: 0, x1: t.width, y1: t.height },
            _ => return Err(PluginError::bad_state("no frame has been rendered at this size yet")),
        };
        self.ids_for(whole)?;
        let targets = self.targets.as_ref().ok_or_else(|| PluginError::bad_state("no render targets"))?;
        crate::selection::read_id_image(&self.gpu.device, &self.gpu.queue, &targets.id)
    }

    /// Makes the id target hold the last frame's ids over `rect`: unless the frame's own id pass
    /// (the outline's) covered it, the scene is drawn again into the id target there, from the
    /// state the last frame left in the uniform and geometry buffers.
    fn ids_for(&mut self, rect: Rect) -> Result<(), PluginError> {
        let covered =
            self.ids.is_some_and(|r| r.x0 <= rect.x0 && r.y0 <= rect.y0 && r.x1 >= rect.x1 && r.y1 >= rect.y1);
        let Some(targets) = self.targets.as_ref().filter(|_| !covered) else { return Ok(()) };
        let mode = (self.settings.render_mode, self.aov);
        let (scene, materials) = (self.scene.as_ref(), self.materials.as_ref());
        let scene_pass = ScenePass::new(&self.pipelines, &self.globals_bind, scene, materials, mode, self.last_eye);
        let mut encoder =
            self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("raster ids") });
        scene_pass.encode(&mut encoder, Output::Ids, &targets.id_view, &targets.depth_view, Some(rect), None);
        self.gpu.queue.submit([encoder.finish()]);
        self.ids = Some(rect);
        self.gpu.take_error()
    }

    fn pick_impl(&mut self, x: u32, y: u32) -> Result<u32, PluginError> {
        let (width, height) = match (&self.targets, self.frame_ready) {
            (Some(t), true) => (t.width, t.height),
            _ => return Err(PluginError::bad_state("no frame has been rendered at this size yet; nothing to pick")),
        };
        if x >= width || y >= height {
            return Err(PluginError::invalid_input(format!(
                "pick at ({x}, {y}) is outside the {width}x{height} frame"
            )));
        }
        self.ids_for(Rect { x0: x, y0: y, x1: x + 1, y1: y + 1 })?;
        let targets = self.targets.as_ref().ok_or_else(|| PluginError::bad_state("no render targets"))?;
        let id = targets.read_id(&self.gpu.device, &self.gpu.queue, x, y)?;
        self.gpu.take_error()?;
        Ok(id)
    }
}

impl FromConfig for Raster {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        Self::new(&RasterConfig::from_json_and_env(config_json)?)
    }
}

impl RendererBackend for Raster {
    fn resize(&mut self, width: u32, height: u32) -> RResult<(), PluginError> {
        self.resize_impl(width, height).into()
    }

    fn open_stage(&mut self, scene: SceneRef<'_>) -> RResult<(), PluginError> {
        self.open_stage_impl(&scene).into()
    }

    fn close_stage(&mut self) -> RResult<(), PluginError> {
        self.scene = None;
        self.animation = None;
        self.materials = None;
        self.stage_lights.clear();
        self.light_tracks.clear();
        self.set_selection_impl(&[]);
        RResult::ROk(())
    }

    fn render(&mut self, request: RenderRequestRef) -> RResult<Frame<'_>, PluginError> {
        self.render_impl(request).into()
    }

    fn pick(&mut self, x: u32, y: u32) -> RResult<u32, PluginError> {
        self.pick_impl(x, y).into()
    }

    fn set_selection(&mut self, prim_ids: RSlice<'_, u32>) -> RResult<(), PluginError> {
        self.set_selection_impl(prim_ids.as_slice());
        self.gpu.take_error().into()
    }

    fn render_settings(&self) -> RResult<RString, PluginError> {
        RResult::ROk(self.settings.to_json().to_string().into())
    }

    fn set_render_setting(&mut self, key: RStr<'_>, value_json: RStr<'_>) -> RResult<RString, PluginError> {
        self.settings.set(key.as_str(), value_json.as_str()).map(|()| RString::from("immediate")).into()
    }

    fn aovs(&self) -> RResult<RVec<RString>, PluginError> {
        RResult::ROk(Aov::ALL.iter().map(|a| RString::from(a.name())).collect())
    }

    fn set_aov(&mut self, name: RStr<'_>) -> RResult<(), PluginError> {
        Aov::parse(name.as_str()).map(|aov| self.aov = aov).into()
    }

    fn scene_sections(&self) -> RResult<ROption<RVec<RString>>, PluginError> {
        let sections = [
            "facts",
            "prim_paths",
            "meshes",
            "mesh_uvs",
            "mesh_subsets",
            "materials",
            "textures",
            "lights",
            "time_range",
            "tracks",
            "mesh_double_sided",
        ];
        RResult::ROk(ROption::RSome(sections.into_iter().map(RString::from).collect()))
    }

    fn output_formats(&self) -> RResult<RVec<FrameSpec>, PluginError> {
        let mut specs = RVec::from(vec![FrameSpec::host(FrameFormat::RGBA8)]);
        if self.yuv.is_some() {
            specs.push(FrameSpec::host(FrameFormat::I420));
        }
        RResult::ROk(specs)
    }

    fn set_output_format(&mut self, spec: FrameSpec) -> RResult<(), PluginError> {
        self.set_output_format_impl(spec).into()
    }

    fn update_textures(&mut self, scene: SceneRef<'_>, indices: RSlice<'_, u32>) -> RResult<bool, PluginError> {
        self.update_textures_impl(&scene, indices.as_slice()).into()
    }
}

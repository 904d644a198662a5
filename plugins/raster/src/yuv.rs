//! RGBA → I420 on the GPU before readback (`shaders/yuv.wgsl`): a compute pass reads the final
//! colour target through a non-sRGB view and writes the Y, U and V planes into a storage buffer,
//! which is copied into a `MAP_READ` staging buffer that frames point into (as the RGBA readback
//! in `targets.rs`). 1.5 bytes per pixel cross the bus instead of 4, and the encoder
//! (`i420-to-h264`) skips its CPU colour conversion.
//!
//! Plane layout: [`ovhost_plugin_api::i420_layout`] with the Y pitch rounded up to 8 bytes (so a
//! shader invocation owns whole 32-bit words of every plane).

use ovhost_plugin_api::PluginError;

/// The non-sRGB view format the compute pass reads the colour targets through.
pub const RAW_VIEW_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Block the shader converts per invocation, and its workgroup size.
const BLOCK_W: u32 = 8;
const WORKGROUP: u32 = 8;

/// The compute pipeline (one per device, size-independent).
pub struct YuvPipeline {
    layout: wgpu::BindGroupLayout,
    pipeline: wgpu::ComputePipeline,
}

/// Mirrors `Params` in `yuv.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    width: u32,
    height: u32,
    pitch_words: u32,
    chroma_pitch_words: u32,
    u_word: u32,
    v_word: u32,
    blocks_x: u32,
    blocks_y: u32,
}

impl YuvPipeline {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = device.create_shader_module(wgpu::include_wgsl!("shaders/yuv.wgsl"));
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("raster yuv"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Storage { read_only: false },
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("raster yuv"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("raster yuv"),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Self { layout, pipeline }
    }
}

/// The size-dependent buffers and bind groups of the conversion (created on the first I420
/// frame at a size, dropped with the targets).
pub struct YuvTargets {
    /// Y pitch in bytes (a multiple of 8).
    pub pitch_bytes: u32,
    /// Bytes of the three planes.
    pub len: u64,
    storage: wgpu::Buffer,
    staging: wgpu::Buffer,
    /// Reading the colour target (the frame).
    from_color: wgpu::BindGroup,
    blocks: (u32, u32),
    /// The mapped staging buffer of the last I420 frame.
    mapped: Option<wgpu::BufferView>,
}

impl YuvTargets {
    /// `color_raw`: a non-sRGB ([`RAW_VIEW_FORMAT`]) view of the colour target.
    pub fn new(
        device: &wgpu::Device,
        pipeline: &YuvPipeline,
        width: u32,
        height: u32,
        color_raw: &wgpu::TextureView,
    ) -> Self {
        let pitch_bytes = width.next_multiple_of(BLOCK_W);
        let (u_offset, v_offset, chroma_pitch, len) =
            ovhost_plugin_api::i420_layout(width, height, pitch_bytes).unwrap_or((0, 0, 0, 0));
        let blocks = (width.div_ceil(BLOCK_W), height.div_ceil(2));
        let params = Params {
            width,
            height,
            pitch_words: pitch_bytes / 4,
            chroma_pitch_words: (chroma_pitch / 4) as u32,
            u_word: (u_offset / 4) as u32,
            v_word: (v_offset / 4) as u32,
            blocks_x: blocks.0,
            blocks_y: blocks.1,
        };
        let params_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("raster yuv params"),
            size: std::mem::size_of::<Params>() as u64,
            usage: wgpu::BufferUsages::UNIFORM,
            mapped_at_creation: true,
        });
        // Mapped at creation: the whole range is mappable, so the view exists.
        if let Ok(mut view) = params_buffer.slice(..).get_mapped_range_mut() {
            view.copy_from_slice(bytemuck::bytes_of(&params));
        }
        params_buffer.unmap();
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: len,
                usage,
                mapped_at_creation: false,
            })
        };
        let storage = buffer("raster yuv planes", wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
        let staging = buffer("raster yuv readback", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
        let from_color = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("raster yuv"),
            layout: &pipeline.layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(color_raw) },
                wgpu::BindGroupEntry { binding: 1, resource: storage.as_entire_binding() },
                wgpu::BindGroupEntry { binding: 2, resource: params_buffer.as_entire_binding() },
            ],
        });
        Self { pitch_bytes, len, storage, staging, from_color, blocks, mapped: None }
    }

    /// Closes the previous I420 frame's mapping.
    pub fn release_frame(&mut self) {
        if self.mapped.take().is_some() {
            self.staging.unmap();
        }
    }

    /// Records the conversion of the frame (the colour target) and the copy of its planes into
    /// the staging buffer.
    pub fn encode(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &YuvPipeline,
        timestamp_writes: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        {
            let mut pass = encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("raster yuv"), timestamp_writes });
            pass.set_pipeline(&pipeline.pipeline);
            pass.set_bind_group(0, &self.from_color, &[]);
            pass.dispatch_workgroups(self.blocks.0.div_ceil(WORKGROUP), self.blocks.1.div_ceil(WORKGROUP), 1);
        }
        encoder.copy_buffer_to_buffer(&self.storage, 0, &self.staging, 0, self.len);
    }

    /// Maps the staging buffer after the frame's submission and keeps the mapping open.
    pub fn map_frame(&mut self, device: &wgpu::Device) -> Result<&[u8], PluginError> {
        crate::targets::map_read(device, self.staging.slice(..))?;
        let view = self
            .staging
            .get_mapped_range(..)
            .map_err(|e| PluginError::internal(format!("mapping the I420 readback buffer failed: {e}")))?;
        Ok(self.mapped.insert(view))
    }
}

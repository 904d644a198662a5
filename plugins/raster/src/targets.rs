//! The size-dependent GPU resources: colour, id and depth targets, and the
//! readback of the frame (the colour target) into mapped host memory that frames point into.
//!
//! Readback is zero-copy on our side: the image is copied into a `MAP_READ` staging buffer whose
//! mapping stays open until the next frame, and the returned [`ovhost_plugin_api::Frame`] points
//! straight into it with rows padded to wgpu's 256-byte copy alignment. An I420 frame is read back
//! the same way from the planes `yuv.rs` converts on the GPU (made on the first I420 frame).

use std::sync::mpsc;

use ovhost_plugin_api::PluginError;

use crate::pipelines::{COLOR_FORMAT, DEPTH_FORMAT, ID_FORMAT};

pub struct Targets {
    pub width: u32,
    pub height: u32,
    /// Bytes per output row in the staging buffer (a multiple of 256).
    pub pitch_bytes: u32,
    pub color: wgpu::Texture,
    pub color_view: wgpu::TextureView,
    pub id: wgpu::Texture,
    pub id_view: wgpu::TextureView,
    pub depth_view: wgpu::TextureView,
    pub staging: wgpu::Buffer,
    /// The mapped staging buffer of the last frame; kept open so the frame can point into it.
    pub mapped: Option<wgpu::BufferView>,
    pick_buffer: wgpu::Buffer,
    /// A non-sRGB view of `color` (its bytes as stored), read by the YUV pass.
    color_raw: wgpu::TextureView,
    /// The GPU I420 conversion's buffers at this size, once an I420 frame was asked for.
    yuv: Option<crate::yuv::YuvTargets>,
}

fn target(
    device: &wgpu::Device,
    label: &str,
    size: wgpu::Extent3d,
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
    view_formats: &[wgpu::TextureFormat],
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats,
    })
}

/// Blocks until `slice` is mapped for reading.
pub fn map_read(device: &wgpu::Device, slice: wgpu::BufferSlice<'_>) -> Result<(), PluginError> {
    let (tx, rx) = mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |result| {
        let _ = tx.send(result);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| PluginError::internal(format!("waiting for the GPU failed: {e}")))?;
    match rx.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(PluginError::internal(format!("reading pixels back from the GPU failed: {e}"))),
        Err(_) => Err(PluginError::internal("the GPU never finished reading pixels back")),
    }
}

impl Targets {
    /// `raw_views`: give `color` a non-sRGB view for the GPU YUV pass (needs
    /// view-format reinterpretation, which GL lacks; without it the views are the plain ones and
    /// no I420 frame is asked for).
    pub fn new(device: &wgpu::Device, width: u32, height: u32, raw_views: bool) -> Self {
        let size = wgpu::Extent3d { width, height, depth_or_array_layers: 1 };
        let attach = wgpu::TextureUsages::RENDER_ATTACHMENT;
        let raw: &[wgpu::TextureFormat] = if raw_views { &[crate::yuv::RAW_VIEW_FORMAT] } else { &[] };
        let color = target(
            device,
            "raster color",
            size,
            COLOR_FORMAT,
            attach | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
            raw,
        );
        let id = target(
            device,
            "raster ids",
            size,
            ID_FORMAT,
            attach | wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC,
            &[],
        );
        let depth = target(device, "raster depth", size, DEPTH_FORMAT, attach, &[]);
        let pitch_bytes = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("raster readback"),
            size: u64::from(pitch_bytes) * u64::from(height),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let pick_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("raster pick"),
            size: u64::from(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let view = |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
        let raw_view = |t: &wgpu::Texture| {
            t.create_view(&wgpu::TextureViewDescriptor { format: raw.first().copied(), ..Default::default() })
        };
        Self {
            color_raw: raw_view(&color),
            yuv: None,
            width,
            height,
            pitch_bytes,
            color_view: view(&color),
            color,
            id_view: view(&id),
            id,
            depth_view: view(&depth),
            staging,
            mapped: None,
            pick_buffer,
        }
    }

    /// Closes the previous frame's mapping so the staging buffer can be written again.
    pub fn release_frame(&mut self) {
        if self.mapped.take().is_some() {
            self.staging.unmap();
        }
        if let Some(yuv) = &mut self.yuv {
            yuv.release_frame();
        }
    }

    /// The GPU I420 conversion's buffers at this size (made on first use).
    pub fn yuv(&mut self, device: &wgpu::Device, pipeline: &crate::yuv::YuvPipeline) -> &mut crate::yuv::YuvTargets {
        let (width, height) = (self.width, self.height);
        let color_raw = &self.color_raw;
        self.yuv.get_or_insert_with(|| crate::yuv::YuvTargets::new(device, pipeline, width, height, color_raw))
    }

    /// Records the copy of the frame (the colour target) into the staging buffer.
    pub fn encode_readback(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.copy_texture_to_buffer(
            self.color.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &self.staging,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.pitch_bytes),
                    rows_per_image: Some(self.height),
                },
            },
            wgpu::Extent3d { width: self.width, height: self.height, depth_or_array_layers: 1 },
        );
    }

    /// Maps the staging buffer after the frame's submission and keeps the mapping open.
    pub fn map_frame(&mut self, device: &wgpu::Device) -> Result<&[u8], PluginError> {
        map_read(device, self.staging.slice(..))?;
        let view = self
            .staging
            .get_mapped_range(..)
            .map_err(|e| PluginError::internal(format!("mapping the readback buffer failed: {e}")))?;
        Ok(self.mapped.insert(view))
    }

    /// Reads the prim id at pixel (x, y) of the id target.
    pub fn read_id(&self, device: &wgpu::Device, queue: &wgpu::Queue, x: u32, y: u32) -> Result<u32, PluginError> {
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("raster pick") });
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &self.id,
                mip_level: 0,
                origin: wgpu::Origin3d { x, y, z: 0 },
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &self.pick_buffer,
                layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: None, rows_per_image: None },
            },
            wgpu::Extent3d { width: 1, height: 1, depth_or_array_layers: 1 },
        );
        queue.submit([encoder.finish()]);
        map_read(device, self.pick_buffer.slice(0..4))?;
        let id = {
            let bytes = self
                .pick_buffer
                .get_mapped_range(0..4)
                .map_err(|e| PluginError::internal(format!("mapping the pick buffer failed: {e}")))?;
            u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
        };
        self.pick_buffer.unmap();
        Ok(id)
    }
}

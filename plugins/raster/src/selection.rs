//! The selected prim ids as a GPU bitset texture the outline passes read, and the outline's
//! intermediate targets.

/// Bitset words per texture row.
const ROW_WORDS: u32 = 1024;

pub struct SelectionSet {
    /// Kept so the bitset outlives every bind group that names its view.
    _texture: wgpu::Texture,
    pub view: wgpu::TextureView,
    pub count: usize,
}

impl SelectionSet {
    /// Uploads `prim_ids` (0 is ignored: it means "no prim").
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, prim_ids: &[u32]) -> Self {
        let max_id = prim_ids.iter().copied().max().unwrap_or(0);
        let words_needed = max_id / 32 + 1;
        let rows = words_needed.div_ceil(ROW_WORDS).max(1);
        let mut words = vec![0u32; (rows * ROW_WORDS) as usize];
        let mut count = 0;
        for &id in prim_ids.iter().filter(|&&id| id != 0) {
            words[(id / 32) as usize] |= 1 << (id % 32);
            count += 1;
        }
        let size = wgpu::Extent3d { width: ROW_WORDS, height: rows, depth_or_array_layers: 1 };
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("raster selection bitset"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::R32Uint,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            bytemuck::cast_slice(&words),
            wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(ROW_WORDS * 4), rows_per_image: Some(rows) },
            size,
        );
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        Self { _texture: texture, view, count }
    }
}

/// The selection outline's size-dependent intermediates (`post.wgsl`): the selected-pixel mask
/// and each pixel's horizontal distance to the nearest selected pixel of its row.
pub struct OutlineTargets {
    pub width: u32,
    pub height: u32,
    pub mask_view: wgpu::TextureView,
    pub rows_view: wgpu::TextureView,
}

impl OutlineTargets {
    pub fn new(device: &wgpu::Device, width: u32, height: u32) -> Self {
        let texture = |label: &str| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: crate::pipelines::OUTLINE_FORMAT,
                usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            })
        };
        let view = |t: wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
        Self {
            width,
            height,
            mask_view: view(texture("raster outline mask")),
            rows_view: view(texture("raster outline rows")),
        }
    }
}

/// Copies the whole `R32Uint` id target back to the host, row by row (tests and tools compare
/// outlines and picks against it; the frame path never calls this).
pub fn read_id_image(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    ids: &wgpu::Texture,
) -> Result<Vec<u32>, ovhost_plugin_api::PluginError> {
    let (width, height) = (ids.width(), ids.height());
    let pitch = (width * 4).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("raster id image"),
        size: u64::from(pitch) * u64::from(height),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("raster id image") });
    encoder.copy_texture_to_buffer(
        ids.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(pitch), rows_per_image: Some(height) },
        },
        ids.size(),
    );
    queue.submit([encoder.finish()]);
    crate::targets::map_read(device, buffer.slice(..))?;
    let bytes = buffer
        .get_mapped_range(..)
        .map_err(|e| ovhost_plugin_api::PluginError::internal(format!("mapping the id image failed: {e}")))?;
    let mut out = Vec::with_capacity((width * height) as usize);
    for row in bytes.chunks_exact(pitch as usize) {
        out.extend(row[..(width * 4) as usize].chunks_exact(4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])));
    }
    Ok(out)
}

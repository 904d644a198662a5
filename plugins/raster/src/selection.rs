//! The selected prim ids as a GPU bitset texture the post pass reads to draw outlines.

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

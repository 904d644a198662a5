//! The selected prim ids as a GPU bitset texture the outline passes read, where on screen the
//! selection can be (the outline passes are scissored to it), and the outline's intermediate
//! targets.

use glam::{DMat4, DVec4};
use ovhost_plugin_api::Bounds;

/// Bitset words per texture row.
const ROW_WORDS: u32 = 1024;

pub struct SelectionSet {
    /// Kept so the bitset outlives every bind group that names its view.
    _texture: wgpu::Texture,
    pub view: wgpu::TextureView,
    pub count: usize,
    /// The selected ids, sorted, without 0 or duplicates.
    pub ids: Vec<u32>,
}

impl SelectionSet {
    /// Uploads `prim_ids` (0 is ignored: it means "no prim").
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, prim_ids: &[u32]) -> Self {
        let max_id = prim_ids.iter().copied().max().unwrap_or(0);
        let words_needed = max_id / 32 + 1;
        let rows = words_needed.div_ceil(ROW_WORDS).max(1);
        let mut words = vec![0u32; (rows * ROW_WORDS) as usize];
        let mut ids: Vec<u32> = prim_ids.iter().copied().filter(|&id| id != 0).collect();
        ids.sort_unstable();
        ids.dedup();
        for &id in &ids {
            words[(id / 32) as usize] |= 1 << (id % 32);
        }
        let count = ids.len();
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
        Self { _texture: texture, view, count, ids }
    }
}

/// Where the selected prims can be in world space: the outline passes need only the pixels they
/// project to (plus the outline's width), not the whole frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Footprint {
    /// World boxes of every selected instance.
    Boxes(Vec<Bounds>),
    /// Somewhere unknown (a selected prim moves or deforms over time): the whole frame.
    Anywhere,
}

impl Footprint {
    /// The footprint of the sorted `selected` ids among `prims` (each instance's prim id and
    /// world box); `moving` lists the prim ids whose geometry changes over time.
    pub fn of(selected: &[u32], prims: &[(u32, Bounds)], moving: &std::collections::BTreeSet<u32>) -> Self {
        if selected.iter().any(|id| moving.contains(id)) {
            return Footprint::Anywhere;
        }
        Footprint::Boxes(prims.iter().filter(|(id, _)| selected.binary_search(id).is_ok()).map(|(_, b)| *b).collect())
    }
}

/// A pixel rectangle, `x0..x1` by `y0..y1` (never empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    /// Grown by `dx` and `dy` pixels on each side, clipped to a `width`×`height` frame.
    pub fn grown(self, dx: u32, dy: u32, width: u32, height: u32) -> Rect {
        Rect {
            x0: self.x0.saturating_sub(dx),
            y0: self.y0.saturating_sub(dy),
            x1: self.x1.saturating_add(dx).min(width),
            y1: self.y1.saturating_add(dy).min(height),
        }
    }
}

/// The pixels of a `width`×`height` frame that `footprint` can cover under `view_proj` (wgpu
/// clip space), with one pixel to spare for rasterization rounding. `None`: nothing selected is
/// on screen. A box reaching behind the eye plane has no bounded projection: the whole frame.
pub fn screen_rect(footprint: &Footprint, view_proj: &DMat4, width: u32, height: u32) -> Option<Rect> {
    let whole = Rect { x0: 0, y0: 0, x1: width, y1: height };
    let boxes = match footprint {
        Footprint::Anywhere => return (width > 0 && height > 0).then_some(whole),
        Footprint::Boxes(boxes) => boxes,
    };
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for b in boxes.iter().filter(|b| !b.is_empty()) {
        for corner in 0..8 {
            let pick = |axis: usize| if corner & (1 << axis) == 0 { b.min[axis] } else { b.max[axis] };
            let clip = *view_proj * DVec4::new(pick(0), pick(1), pick(2), 1.0);
            if clip.w <= 1e-9 || !clip.is_finite() {
                return (width > 0 && height > 0).then_some(whole);
            }
            // Clip x/y (-1..1, y up) to pixels (0..size, y down).
            let px =
                [(clip.x / clip.w + 1.0) * 0.5 * f64::from(width), (1.0 - clip.y / clip.w) * 0.5 * f64::from(height)];
            for axis in 0..2 {
                lo[axis] = lo[axis].min(px[axis]);
                hi[axis] = hi[axis].max(px[axis]);
            }
        }
    }
    let clamp = |v: f64, max: u32| v.clamp(0.0, f64::from(max)) as u32;
    let rect = Rect {
        x0: clamp(lo[0].floor() - 1.0, width),
        y0: clamp(lo[1].floor() - 1.0, height),
        x1: clamp(hi[0].ceil() + 1.0, width),
        y1: clamp(hi[1].ceil() + 1.0, height),
    };
    (rect.x0 < rect.x1 && rect.y0 < rect.y1).then_some(rect)
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

#[cfg(test)]
mod tests {
    use super::*;
    use ovhost_plugin_api::CameraView;

    fn view(eye: [f64; 3]) -> DMat4 {
        let camera = CameraView { eye, target: [0.0; 3], up: [0.0, 1.0, 0.0], ..Default::default() };
        crate::camera::view_projection(&camera, 2.0).unwrap()
    }

    fn unit_box_at(c: [f64; 3]) -> Bounds {
        Bounds { min: [c[0] - 0.5, c[1] - 0.5, c[2] - 0.5], max: [c[0] + 0.5, c[1] + 0.5, c[2] + 0.5] }
    }

    #[test]
    fn a_box_in_view_covers_a_rect_around_its_projection() {
        let vp = view([0.0, 0.0, 10.0]);
        let rect = screen_rect(&Footprint::Boxes(vec![unit_box_at([0.0; 3])]), &vp, 400, 200).unwrap();
        // Centred, small, and containing the projected centre.
        assert!(rect.x0 < 200 && rect.x1 > 200 && rect.y0 < 100 && rect.y1 > 100, "{rect:?}");
        assert!(rect.x1 - rect.x0 < 60 && rect.y1 - rect.y0 < 60, "{rect:?}");
        // Left of the centre in the world is left on screen.
        let left = screen_rect(&Footprint::Boxes(vec![unit_box_at([-3.0, 0.0, 0.0])]), &vp, 400, 200).unwrap();
        assert!(left.x1 <= rect.x0, "{left:?} {rect:?}");
        // Up in the world is up on screen (smaller y).
        let up = screen_rect(&Footprint::Boxes(vec![unit_box_at([0.0, 2.0, 0.0])]), &vp, 400, 200).unwrap();
        assert!(up.y1 <= rect.y0, "{up:?} {rect:?}");
        // Two boxes: their union.
        let both =
            screen_rect(&Footprint::Boxes(vec![unit_box_at([-3.0, 0.0, 0.0]), unit_box_at([0.0; 3])]), &vp, 400, 200);
        assert_eq!(both, Some(Rect { x0: left.x0, y0: left.y0.min(rect.y0), x1: rect.x1, y1: left.y1.max(rect.y1) }));
    }

    #[test]
    fn off_screen_empty_and_behind_the_eye() {
        let vp = view([0.0, 0.0, 10.0]);
        // Far to the side: nothing on screen, so no outline pass at all.
        assert_eq!(screen_rect(&Footprint::Boxes(vec![unit_box_at([100.0, 0.0, 0.0])]), &vp, 400, 200), None);
        assert_eq!(screen_rect(&Footprint::Boxes(vec![]), &vp, 400, 200), None);
        assert_eq!(screen_rect(&Footprint::Boxes(vec![Bounds::EMPTY]), &vp, 400, 200), None);
        // The eye inside the box (or the box behind it): the whole frame, conservatively.
        let whole = Some(Rect { x0: 0, y0: 0, x1: 400, y1: 200 });
        assert_eq!(screen_rect(&Footprint::Boxes(vec![unit_box_at([0.0, 0.0, 10.0])]), &vp, 400, 200), whole);
        assert_eq!(screen_rect(&Footprint::Anywhere, &vp, 400, 200), whole);
        // Partly off the frame's edge: clipped to it.
        let edge = screen_rect(&Footprint::Boxes(vec![unit_box_at([9.0, 0.0, 0.0])]), &vp, 400, 200).unwrap();
        assert_eq!(edge.x1, 400);
        assert!(edge.x0 > 200);
    }

    #[test]
    fn growing_clips_to_the_frame() {
        let r = Rect { x0: 2, y0: 5, x1: 10, y1: 20 };
        assert_eq!(r.grown(3, 3, 12, 100), Rect { x0: 0, y0: 2, x1: 12, y1: 23 });
        assert_eq!(r.grown(1, 0, 100, 100), Rect { x0: 1, y0: 5, x1: 11, y1: 20 });
    }

    #[test]
    fn moving_selected_prims_have_no_fixed_footprint() {
        let prims = [(1, unit_box_at([0.0; 3])), (2, unit_box_at([3.0, 0.0, 0.0])), (1, unit_box_at([6.0, 0.0, 0.0]))];
        let still = std::collections::BTreeSet::new();
        assert_eq!(
            Footprint::of(&[1], &prims, &still),
            Footprint::Boxes(vec![unit_box_at([0.0; 3]), unit_box_at([6.0, 0.0, 0.0])])
        );
        assert_eq!(
            Footprint::of(&[1], &prims, &[2].into()),
            Footprint::Boxes(vec![unit_box_at([0.0; 3]), unit_box_at([6.0, 0.0, 0.0])])
        );
        assert_eq!(Footprint::of(&[1, 2], &prims, &[2].into()), Footprint::Anywhere);
    }
}

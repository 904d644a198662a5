//! Materials on the GPU: one uniform block and bind group per scene material (UsdPreviewSurface
//! inputs as constants or texture slots), textures uploaded once with mipmaps, samplers per wrap
//! mode, and a displayColor material for meshes without one (or whose material fell back).
//!
//! Texture slots (the order `pbr.wgsl` reads them): diffuseColor, emissiveColor, specularColor,
//! metallic, roughness, clearcoat, clearcoatRoughness, opacity, normal, occlusion. A slot whose
//! texture has no pixels (not found, refused, not decodable) reads the input's fallback value.
//! `sourceColorSpace = auto` decodes sRGB for the colour inputs (diffuse, emissive, specular)
//! and raw for the others. `wrap = black` clamps to the edge (clamp-to-border is an optional
//! GPU feature); `useMetadata` repeats. One texture-coordinate set per mesh.

use bytemuck::{Pod, Zeroable};
use ovhost_plugin_api::{ColorSpace, Material, SceneRef, Texture, WrapMode};
use std::collections::HashMap;
use wgpu::util::DeviceExt;

/// The inputs that can be textured, in slot order.
pub const SLOTS: [&str; 10] = [
    "diffuseColor",
    "emissiveColor",
    "specularColor",
    "metallic",
    "roughness",
    "clearcoat",
    "clearcoatRoughness",
    "opacity",
    "normal",
    "occlusion",
];
const COLOR_SLOTS: [usize; 3] = [0, 1, 2];

/// One texture slot (mirrors `TexSlot` in `pbr.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
pub struct TexSlot {
    /// x: 1 when textured, y: channel (0 rgb, 1 r, 2 g, 3 b, 4 a), z, w unused.
    pub info: [u32; 4],
    pub scale: [f32; 4],
    pub bias: [f32; 4],
    /// The UsdTransform2d as a 2×3 matrix: rows (a, b, c) and (d, e, f): st' = (a s + b t + c, …).
    pub uv_row0: [f32; 4],
    pub uv_row1: [f32; 4],
}

/// A material's uniform block (mirrors `MaterialParams` in `pbr.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct MaterialParams {
    /// rgb diffuseColor, a unused.
    pub diffuse: [f32; 4],
    pub emissive: [f32; 4],
    pub specular: [f32; 4],
    /// metallic, roughness, clearcoat, clearcoatRoughness.
    pub surface: [f32; 4],
    /// opacity, opacityThreshold, ior, occlusion.
    pub opacity: [f32; 4],
    /// x: useSpecularWorkflow, y: 1 = use the mesh's displayColor instead of diffuseColor.
    pub flags: [u32; 4],
    pub slots: [TexSlot; 10],
}

impl MaterialParams {
    /// The displayColor material (UsdPreviewSurface fallbacks, vertex colour as base colour).
    pub fn display_color() -> Self {
        Self {
            diffuse: [0.18, 0.18, 0.18, 0.0],
            emissive: [0.0; 4],
            specular: [0.0; 4],
            surface: [0.0, 0.5, 0.0, 0.01],
            opacity: [1.0, 0.0, 1.5, 1.0],
            flags: [0, 1, 0, 0],
            slots: [TexSlot::default(); 10],
        }
    }
}

/// What the draw list needs to know about a material.
#[derive(Clone, Copy, Debug, Default)]
pub struct MaterialTraits {
    /// Drawn in the blended (sorted, no depth write) pass.
    pub blended: bool,
}

/// The scene's materials on the GPU. Index 0 is the displayColor material; scene material `i`
/// (1-based) is index `i`.
pub struct GpuMaterials {
    pub bind_groups: Vec<wgpu::BindGroup>,
    pub traits: Vec<MaterialTraits>,
    /// Textures uploaded (with pixels) and their total bytes including mipmaps.
    pub texture_count: usize,
    pub texture_bytes: u64,
    /// Indexed like the scene's textures: the uploaded ones (kept so textures streamed in later
    /// only upload themselves).
    uploaded: Vec<Option<Uploaded>>,
}

fn channel_code(channels: &str) -> u32 {
    match channels {
        "r" => 1,
        "g" => 2,
        "b" => 3,
        "a" => 4,
        _ => 0,
    }
}

/// The UsdTransform2d (scale, rotation in degrees, translation) as two matrix rows.
pub fn uv_rows(t: [f32; 5]) -> ([f32; 4], [f32; 4]) {
    let (sx, sy, deg, tx, ty) = (t[0], t[1], t[2], t[3], t[4]);
    let (s, c) = deg.to_radians().sin_cos();
    ([c * sx, -s * sy, tx, 0.0], [s * sx, c * sy, ty, 0.0])
}

/// Reads a scene material into its uniform block and the texture index of each slot.
pub fn params_of(material: &Material) -> (MaterialParams, [u32; 10], MaterialTraits) {
    let mut p = MaterialParams::display_color();
    let mut textures = [0u32; 10];
    if material.surface.as_str() != "UsdPreviewSurface" {
        return (p, textures, MaterialTraits::default()); // fell back: displayColor
    }
    p.flags[1] = 0;
    let mut opacity_textured = false;
    for input in material.inputs.iter() {
        let v = input.value;
        match input.name.as_str() {
            "diffuseColor" => p.diffuse = [v[0], v[1], v[2], 0.0],
            "emissiveColor" => p.emissive = [v[0], v[1], v[2], 0.0],
            "specularColor" => p.specular = [v[0], v[1], v[2], 0.0],
            "useSpecularWorkflow" => p.flags[0] = u32::from(v[0] != 0.0),
            "metallic" => p.surface[0] = v[0],
            "roughness" => p.surface[1] = v[0],
            "clearcoat" => p.surface[2] = v[0],
            "clearcoatRoughness" => p.surface[3] = v[0],
            "opacity" => p.opacity[0] = v[0],
            "opacityThreshold" => p.opacity[1] = v[0],
            "ior" => p.opacity[2] = v[0],
            "occlusion" => p.opacity[3] = v[0],
            _ => {}
        }
        if let Some(slot) = SLOTS.iter().position(|s| *s == input.name.as_str())
            && input.texture != 0
        {
            let (row0, row1) = uv_rows(input.uv_transform);
            p.slots[slot] = TexSlot {
                info: [1, channel_code(input.channels.as_str()), 0, 0],
                scale: input.scale,
                bias: input.bias,
                uv_row0: row0,
                uv_row1: row1,
            };
            textures[slot] = input.texture;
            opacity_textured |= slot == 7;
        }
    }
    let cutout = p.opacity[1] > 0.0;
    let blended = !cutout && (p.opacity[0] < 1.0 || opacity_textured);
    (p, textures, MaterialTraits { blended })
}

fn address_mode(wrap: WrapMode) -> wgpu::AddressMode {
    match wrap {
        WrapMode::CLAMP | WrapMode::BLACK => wgpu::AddressMode::ClampToEdge,
        WrapMode::MIRROR => wgpu::AddressMode::MirrorRepeat,
        _ => wgpu::AddressMode::Repeat,
    }
}

/// The full mip chain of an RGBA8 image (2×2 box filter), level 0 first.
pub fn mip_chain(width: u32, height: u32, rgba8: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let mut levels = vec![(width, height, rgba8.to_vec())];
    while let Some((w, h, data)) = levels.last().filter(|(w, h, _)| *w > 1 || *h > 1) {
        let (nw, nh) = ((w / 2).max(1), (h / 2).max(1));
        let mut next = vec![0u8; (nw * nh * 4) as usize];
        for y in 0..nh {
            for x in 0..nw {
                for c in 0..4 {
                    let mut sum = 0u32;
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let sx = (2 * x + dx).min(w - 1);
                        let sy = (2 * y + dy).min(h - 1);
                        sum += u32::from(data[((sy * w + sx) * 4 + c) as usize]);
                    }
                    next[((y * nw + x) * 4 + c) as usize] = ((sum + 2) / 4) as u8;
                }
            }
        }
        levels.push((nw, nh, next));
    }
    levels
}

struct Uploaded {
    texture: wgpu::Texture,
    bytes: u64,
}

fn upload_texture(device: &wgpu::Device, queue: &wgpu::Queue, tex: &Texture) -> Option<Uploaded> {
    let expected = (tex.width as usize).checked_mul(tex.height as usize)?.checked_mul(4)?;
    let max = device.limits().max_texture_dimension_2d;
    if tex.rgba8.is_empty() || tex.rgba8.len() != expected || tex.width > max || tex.height > max {
        return None;
    }
    let levels = mip_chain(tex.width, tex.height, &tex.rgba8);
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some(tex.asset_path.as_str()),
        size: wgpu::Extent3d { width: tex.width, height: tex.height, depth_or_array_layers: 1 },
        mip_level_count: levels.len() as u32,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[wgpu::TextureFormat::Rgba8UnormSrgb],
    });
    let mut bytes = 0u64;
    for (level, (w, h, data)) in levels.iter().enumerate() {
        bytes += data.len() as u64;
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: level as u32,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            data,
            wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(w * 4), rows_per_image: Some(*h) },
            wgpu::Extent3d { width: *w, height: *h, depth_or_array_layers: 1 },
        );
    }
    Some(Uploaded { texture, bytes })
}

/// A dome light's environment texture (with mipmaps for rough reflections), or `None` when the
/// texture has no pixels.
pub fn upload_env(device: &wgpu::Device, queue: &wgpu::Queue, tex: &Texture) -> Option<wgpu::Texture> {
    upload_texture(device, queue, tex).map(|u| u.texture)
}

/// A 1×1 texture of one colour (fills unused slots).
pub fn solid_texture(device: &wgpu::Device, queue: &wgpu::Queue, rgba: [u8; 4]) -> wgpu::Texture {
    device.create_texture_with_data(
        queue,
        &wgpu::TextureDescriptor {
            label: Some("raster solid"),
            size: wgpu::Extent3d { width: 1, height: 1, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[wgpu::TextureFormat::Rgba8UnormSrgb],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        &rgba,
    )
}

/// A sampler for a wrap pair: trilinear, anisotropic.
pub fn sampler(device: &wgpu::Device, wrap_s: WrapMode, wrap_t: WrapMode) -> wgpu::Sampler {
    device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some("raster material sampler"),
        address_mode_u: address_mode(wrap_s),
        address_mode_v: address_mode(wrap_t),
        address_mode_w: wgpu::AddressMode::Repeat,
        mag_filter: wgpu::FilterMode::Linear,
        min_filter: wgpu::FilterMode::Linear,
        mipmap_filter: wgpu::MipmapFilterMode::Linear,
        anisotropy_clamp: 1,
        ..Default::default()
    })
}

/// The material bind group layout: the uniform block, then 10 textures, then 10 samplers.
pub fn layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let mut entries = vec![wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }];
    for i in 0..SLOTS.len() as u32 {
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: 1 + i,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        });
    }
    for i in 0..SLOTS.len() as u32 {
        entries.push(wgpu::BindGroupLayoutEntry {
            binding: 11 + i,
            visibility: wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
            count: None,
        });
    }
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("raster material"),
        entries: &entries,
    })
}

impl GpuMaterials {
    /// Uploads the scene's textures (those with pixels) and builds one bind group per material.
    pub fn upload(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layout: &wgpu::BindGroupLayout,
        scene: &SceneRef<'_>,
    ) -> Self {
        let used = used_textures(scene);
        let uploaded: Vec<Option<Uploaded>> = scene
            .textures()
            .iter()
            .zip(&used)
            .map(|(t, &u)| if u { upload_texture(device, queue, t) } else { None })
            .collect();
        Self::build(device, queue, layout, scene, uploaded)
    }

    /// Textures whose pixels arrived after the stage (0-based indices into the scene's
    /// textures): uploads those some material reads and rebuilds the material bind groups.
    /// Returns how many were uploaded.
    pub fn update_textures(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layout: &wgpu::BindGroupLayout,
        scene: &SceneRef<'_>,
        indices: &[u32],
    ) -> usize {
        let used = used_textures(scene);
        let textures = scene.textures();
        let mut uploaded = std::mem::take(&mut self.uploaded);
        uploaded.resize_with(textures.len(), || None);
        let mut count = 0;
        for &i in indices {
            let i = i as usize;
            if let (Some(tex), true) = (textures.get(i), used.get(i).copied().unwrap_or(false))
                && let Some(up) = upload_texture(device, queue, tex)
            {
                uploaded[i] = Some(up);
                count += 1;
            }
        }
        *self = Self::build(device, queue, layout, scene, uploaded);
        count
    }

    fn build(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        layout: &wgpu::BindGroupLayout,
        scene: &SceneRef<'_>,
        uploaded: Vec<Option<Uploaded>>,
    ) -> Self {
        let textures = scene.textures();
        let materials = scene.materials();
        let white = solid_texture(device, queue, [255; 4]);
        let white_view = white.create_view(&wgpu::TextureViewDescriptor::default());
        let mut samplers: HashMap<(u32, u32), wgpu::Sampler> = HashMap::new();
        let mut sampler_for =
            |s: WrapMode, t: WrapMode| samplers.entry((s.0, t.0)).or_insert_with(|| sampler(device, s, t)).clone();
        let mut bind_groups = Vec::with_capacity(materials.len() + 1);
        let mut traits = Vec::with_capacity(materials.len() + 1);
        let mut build = |params: &MaterialParams, slot_textures: &[u32; 10]| {
            let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("raster material"),
                contents: bytemuck::bytes_of(params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let mut views = Vec::with_capacity(SLOTS.len());
            let mut slot_samplers = Vec::with_capacity(SLOTS.len());
            for (slot, &t) in slot_textures.iter().enumerate() {
                let found = (t as usize).checked_sub(1).and_then(|i| Some((&textures[i], uploaded.get(i)?.as_ref()?)));
                match found {
                    Some((tex, up)) => {
                        let srgb = tex.color_space == ColorSpace::SRGB
                            || (tex.color_space == ColorSpace::AUTO && COLOR_SLOTS.contains(&slot));
                        let format =
                            if srgb { wgpu::TextureFormat::Rgba8UnormSrgb } else { wgpu::TextureFormat::Rgba8Unorm };
                        views.push(
                            up.texture.create_view(&wgpu::TextureViewDescriptor {
                                format: Some(format),
                                ..Default::default()
                            }),
                        );
                        slot_samplers.push(sampler_for(tex.wrap_s, tex.wrap_t));
                    }
                    None => {
                        views.push(white_view.clone());
                        slot_samplers.push(sampler_for(WrapMode::REPEAT, WrapMode::REPEAT));
                    }
                }
            }
            let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: buffer.as_entire_binding() }];
            for (i, view) in views.iter().enumerate() {
                entries.push(wgpu::BindGroupEntry {
                    binding: 1 + i as u32,
                    resource: wgpu::BindingResource::TextureView(view),
                });
            }
            for (i, s) in slot_samplers.iter().enumerate() {
                entries
                    .push(wgpu::BindGroupEntry { binding: 11 + i as u32, resource: wgpu::BindingResource::Sampler(s) });
            }
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("raster material"),
                layout,
                entries: &entries,
            })
        };
        bind_groups.push(build(&MaterialParams::display_color(), &[0; 10]));
        traits.push(MaterialTraits::default());
        for material in materials.iter() {
            let (mut params, slot_textures, t) = params_of(material);
            // A slot whose texture has no pixels reads the input's fallback value instead.
            for (slot, &tex) in slot_textures.iter().enumerate() {
                let has_pixels =
                    (tex as usize).checked_sub(1).and_then(|i| uploaded.get(i)).is_some_and(|u| u.is_some());
                if tex != 0 && !has_pixels {
                    params.slots[slot].info[0] = 0;
                    let input = material.inputs.iter().find(|i| i.name.as_str() == SLOTS[slot]);
                    if let Some(v) = input.map(|i| i.value) {
                        apply_fallback(&mut params, slot, v);
                    }
                }
            }
            bind_groups.push(build(&params, &slot_textures));
            traits.push(t);
        }
        let texture_count = uploaded.iter().flatten().count();
        let texture_bytes = uploaded.iter().flatten().map(|u| u.bytes).sum();
        Self { bind_groups, traits, texture_count, texture_bytes, uploaded }
    }

    /// The bind group of a 1-based scene material (0 or out of range: displayColor).
    pub fn index_of(&self, material: u32) -> usize {
        let i = material as usize;
        if i < self.bind_groups.len() { i } else { 0 }
    }
}

/// Per scene texture: whether some material reads it (only those are uploaded).
fn used_textures(scene: &SceneRef<'_>) -> Vec<bool> {
    let mut used = vec![false; scene.textures().len()];
    for m in scene.materials().iter() {
        for i in m.inputs.iter() {
            if let Some(u) = (i.texture as usize).checked_sub(1).and_then(|t| used.get_mut(t)) {
                *u = true;
            }
        }
    }
    used
}

/// Puts a texture's fallback value into the constant the slot's input reads.
fn apply_fallback(p: &mut MaterialParams, slot: usize, v: [f32; 4]) {
    match slot {
        0 => p.diffuse = [v[0], v[1], v[2], 0.0],
        1 => p.emissive = [v[0], v[1], v[2], 0.0],
        2 => p.specular = [v[0], v[1], v[2], 0.0],
        3 => p.surface[0] = v[0],
        4 => p.surface[1] = v[0],
        5 => p.surface[2] = v[0],
        6 => p.surface[3] = v[0],
        7 => p.opacity[0] = v[0],
        9 => p.opacity[3] = v[0],
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mip_chain_halves_to_one_texel_and_averages() {
        let levels = mip_chain(4, 2, &[[0u8, 0, 0, 255], [255, 255, 255, 255]].repeat(4).concat());
        let sizes: Vec<(u32, u32)> = levels.iter().map(|(w, h, _)| (*w, *h)).collect();
        assert_eq!(sizes, vec![(4, 2), (2, 1), (1, 1)]);
        assert_eq!(levels[2].2, vec![128, 128, 128, 255]);
    }

    #[test]
    fn uv_rotation_of_90_degrees_maps_s_to_t() {
        let (r0, r1) = uv_rows([1.0, 1.0, 90.0, 0.0, 0.0]);
        // (1, 0) → (0, 1)
        assert!((r0[0]).abs() < 1e-6 && (r1[0] - 1.0).abs() < 1e-6);
    }
}

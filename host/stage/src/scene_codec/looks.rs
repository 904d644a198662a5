//! The scene codec's material sections: texture coordinates, face subsets, materials, textures
//! (with their decoded pixels) and lights, appended after the geometry.

use super::{Reader, put_f64s, put_len, put_str, put_u32};
use ovhost_plugin_api::abi_stable::std_types::RVec;
use ovhost_plugin_api::{
    ColorSpace, FaceSubset, Light, LightKind, Material, MaterialInput, StageScene, Texture, WrapMode,
};

fn put_f32s(out: &mut Vec<u8>, vs: &[f32]) {
    out.extend_from_slice(bytemuck::cast_slice(vs));
}

pub(super) fn encode(scene: &StageScene, out: &mut Vec<u8>) {
    put_len(out, scene.mesh_uvs.len());
    for uvs in &scene.mesh_uvs {
        put_len(out, uvs.len());
        out.extend_from_slice(bytemuck::cast_slice(uvs.as_slice()));
    }
    put_len(out, scene.mesh_subsets.len());
    for subsets in &scene.mesh_subsets {
        put_len(out, subsets.len());
        for s in subsets.iter() {
            for v in [s.first_index, s.index_count, s.material] {
                put_u32(out, v);
            }
        }
    }
    put_len(out, scene.materials.len());
    for m in scene.materials.iter() {
        put_str(out, &m.path);
        put_str(out, &m.surface);
        put_len(out, m.inputs.len());
        for i in m.inputs.iter() {
            put_str(out, &i.name);
            put_f32s(out, &i.value);
            put_u32(out, i.texture);
            put_str(out, &i.channels);
            put_f32s(out, &i.scale);
            put_f32s(out, &i.bias);
            put_str(out, &i.uv_set);
            put_f32s(out, &i.uv_transform);
        }
    }
    put_len(out, scene.textures.len());
    for t in scene.textures.iter() {
        put_texture(out, t);
    }
    put_len(out, scene.lights.len());
    for l in scene.lights.iter() {
        for v in [l.prim_id, l.kind.0, u32::from(l.normalize), l.texture] {
            put_u32(out, v);
        }
        put_f64s(out, &l.world_transform);
        put_f32s(out, &l.color);
        put_f32s(
            out,
            &[l.intensity, l.radius, l.width, l.height, l.length, l.angle_deg, l.cone_angle_deg, l.cone_softness],
        );
    }
    put_len(out, scene.mesh_double_sided.len());
    out.extend(scene.mesh_double_sided.iter().map(|&d| u8::from(d)));
}

pub(super) fn put_texture(out: &mut Vec<u8>, t: &Texture) {
    put_str(out, &t.asset_path);
    put_str(out, &t.resolved_path);
    for v in [t.color_space.0, t.wrap_s.0, t.wrap_t.0, t.width, t.height] {
        put_u32(out, v);
    }
    put_len(out, t.rgba8.len());
    out.extend_from_slice(&t.rgba8);
}

pub(super) fn read_texture(r: &mut Reader<'_>) -> Result<Texture, String> {
    let asset_path = r.string()?;
    let resolved_path = r.string()?;
    let [color_space, wrap_s, wrap_t, width, height] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?];
    let len = r.len()?;
    let rgba8 = r.pod_vec::<u8>(len)?;
    Ok(Texture {
        asset_path,
        resolved_path,
        color_space: ColorSpace(color_space),
        wrap_s: WrapMode(wrap_s),
        wrap_t: WrapMode(wrap_t),
        width,
        height,
        rgba8,
    })
}

impl Reader<'_> {
    fn f32_array<const N: usize>(&mut self) -> Result<[f32; N], String> {
        let mut out = [0.0f32; N];
        bytemuck::cast_slice_mut::<f32, u8>(&mut out).copy_from_slice(self.take(4 * N)?);
        Ok(out)
    }
}

pub(super) fn decode(r: &mut Reader<'_>, scene: &mut StageScene) -> Result<(), String> {
    let n = r.len()?;
    scene.mesh_uvs = (0..n)
        .map(|_| {
            let len = r.len()?;
            r.pod_vec::<[f32; 2]>(len)
        })
        .collect::<Result<_, _>>()?;
    let n = r.len()?;
    scene.mesh_subsets = (0..n)
        .map(|_| {
            let len = r.len()?;
            (0..len)
                .map(|_| Ok(FaceSubset { first_index: r.u32()?, index_count: r.u32()?, material: r.u32()? }))
                .collect::<Result<RVec<_>, String>>()
        })
        .collect::<Result<_, _>>()?;
    let n = r.len()?;
    let mut materials = RVec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let path = r.string()?;
        let surface = r.string()?;
        let count = r.len()?;
        let mut inputs = RVec::with_capacity(count.min(64));
        for _ in 0..count {
            inputs.push(MaterialInput {
                name: r.string()?,
                value: r.f32_array()?,
                texture: r.u32()?,
                channels: r.string()?,
                scale: r.f32_array()?,
                bias: r.f32_array()?,
                uv_set: r.string()?,
                uv_transform: r.f32_array()?,
            });
        }
        materials.push(Material { path, surface, inputs });
    }
    scene.materials = materials;
    let n = r.len()?;
    let mut textures = RVec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        textures.push(read_texture(r)?);
    }
    scene.textures = textures;
    let n = r.len()?;
    let mut lights = RVec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let [prim_id, kind, normalize, texture] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
        let world_transform = r.f64_array()?;
        let color = r.f32_array()?;
        let [intensity, radius, width, height, length, angle_deg, cone_angle_deg, cone_softness] = r.f32_array()?;
        lights.push(Light {
            prim_id,
            kind: LightKind(kind),
            world_transform,
            color,
            intensity,
            radius,
            width,
            height,
            length,
            angle_deg,
            normalize: normalize != 0,
            cone_angle_deg,
            cone_softness,
            texture,
        });
    }
    scene.lights = lights;
    let n = r.len()?;
    scene.mesh_double_sided = r.take(n)?.iter().map(|&b| b != 0).collect();
    Ok(())
}

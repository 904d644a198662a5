//! The compact binary form of a [`StageScene`] sent from the worker to the client.
//!
//! Layout (native byte order: both ends always run on the same host): magic `OVSC`, version,
//! stage facts, prim path table, cameras, then per mesh its counts followed by the raw
//! position / normal / color / index arrays (copied as whole slices) and its instances, then the
//! time section (range and baked tracks).
//! `url`, `resolved_path` and `generation` are not sent; the client fills them. The material
//! sections (texture coordinates, subsets, materials, textures, lights) follow ([`looks`]).

mod looks;

use ovhost_plugin_api::abi_stable::std_types::{RString, RVec};
use ovhost_plugin_api::{
    AuthoredCamera, Bounds, MeshData, MeshInstance, StageScene, TimeRange, Track, TrackTarget, UpAxis,
};

const MAGIC: &[u8; 4] = b"OVSC";
const VERSION: u32 = 5;

/// Encodes everything but `url`, `resolved_path` and `generation`.
pub fn encode(scene: &StageScene) -> Vec<u8> {
    let mesh_bytes: usize = scene
        .meshes
        .iter()
        .map(|m| {
            20 + 12 * (m.positions.len() + m.normals.len() + m.colors.len())
                + 4 * m.indices.len()
                + 132 * m.instances.len()
        })
        .sum();
    let mut out = Vec::with_capacity(256 + mesh_bytes + scene.prim_paths.iter().map(|p| p.len() + 4).sum::<usize>());
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, VERSION);
    put_f64(&mut out, scene.meters_per_unit);
    out.push(scene.up_axis.0);
    put_f64s(&mut out, &scene.bounds.min);
    put_f64s(&mut out, &scene.bounds.max);
    put_str(&mut out, &scene.root_prim_path);
    put_len(&mut out, scene.prim_paths.len());
    for path in scene.prim_paths.iter() {
        put_str(&mut out, path);
    }
    put_len(&mut out, scene.cameras.len());
    for cam in scene.cameras.iter() {
        put_str(&mut out, &cam.path);
        put_f64s(&mut out, &cam.world_transform);
        put_f64s(&mut out, &[cam.fov_y_deg, cam.near, cam.far]);
        put_f64s(&mut out, &[f64::from(cam.projection.0), cam.ortho_height, cam.lens_shift[0], cam.lens_shift[1]]);
    }
    put_len(&mut out, scene.meshes.len());
    for mesh in scene.meshes.iter() {
        for n in [mesh.positions.len(), mesh.normals.len(), mesh.colors.len(), mesh.indices.len(), mesh.instances.len()]
        {
            put_len(&mut out, n);
        }
        out.extend_from_slice(bytemuck::cast_slice(&mesh.positions));
        out.extend_from_slice(bytemuck::cast_slice(&mesh.normals));
        out.extend_from_slice(bytemuck::cast_slice(&mesh.colors));
        out.extend_from_slice(bytemuck::cast_slice(&mesh.indices));
        for inst in mesh.instances.iter() {
            put_u32(&mut out, inst.prim_id);
            put_f64s(&mut out, &inst.world_transform);
        }
    }
    put_time(&mut out, scene);
    looks::encode(scene, &mut out);
    out
}

/// Decodes [`encode`]'s output; `url`, `resolved_path` and `generation` are left empty / 0.
pub fn decode(bytes: &[u8]) -> Result<StageScene, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err("the scene data does not start with the OVSC magic".into());
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("scene data version {version} is not the supported version {VERSION}"));
    }
    let mut scene = StageScene::empty();
    scene.meters_per_unit = r.f64()?;
    scene.up_axis = UpAxis(r.take(1)?[0]);
    scene.bounds = Bounds { min: r.f64_array()?, max: r.f64_array()? };
    scene.root_prim_path = r.string()?;
    let paths = r.len()?;
    scene.prim_paths = (0..paths).map(|_| r.string()).collect::<Result<RVec<_>, _>>()?;
    let cameras = r.len()?;
    let mut cams = RVec::with_capacity(cameras.min(1 << 16));
    for _ in 0..cameras {
        let path = r.string()?;
        let world_transform = r.f64_array()?;
        let [fov_y_deg, near, far] = r.f64_array()?;
        let [projection, ortho_height, shift_x, shift_y] = r.f64_array()?;
        cams.push(AuthoredCamera {
            path,
            world_transform,
            fov_y_deg,
            near,
            far,
            projection: ovhost_plugin_api::Projection(projection as u32),
            ortho_height,
            lens_shift: [shift_x, shift_y],
        });
    }
    scene.cameras = cams;
    let meshes = r.len()?;
    let mut out = RVec::with_capacity(meshes.min(1 << 20));
    for _ in 0..meshes {
        let [np, nn, nc, ni, nx] = [r.len()?, r.len()?, r.len()?, r.len()?, r.len()?];
        let positions = r.pod_vec::<[f32; 3]>(np)?;
        let normals = r.pod_vec::<[f32; 3]>(nn)?;
        let colors = r.pod_vec::<[f32; 3]>(nc)?;
        let indices = r.pod_vec::<u32>(ni)?;
        let mut instances = RVec::with_capacity(nx.min(1 << 20));
        for _ in 0..nx {
            let prim_id = r.u32()?;
            instances.push(MeshInstance { prim_id, world_transform: r.f64_array()? });
        }
        out.push(MeshData { positions, normals, colors, indices, instances });
    }
    scene.meshes = out;
    read_time(&mut r, &mut scene)?;
    looks::decode(&mut r, &mut scene)?;
    if r.at != bytes.len() {
        return Err(format!("{} unexpected bytes after the scene data", bytes.len() - r.at));
    }
    Ok(scene)
}

/// Encodes a batch of streamed textures: (0-based index into the scene's textures, texture).
pub fn encode_textures(batch: &[(u32, ovhost_plugin_api::Texture)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + batch.iter().map(|(_, t)| 64 + t.rgba8.len()).sum::<usize>());
    out.extend_from_slice(TEXTURES_MAGIC);
    put_len(&mut out, batch.len());
    for (index, texture) in batch {
        put_u32(&mut out, *index);
        looks::put_texture(&mut out, texture);
    }
    out
}

/// Decodes [`encode_textures`]'s output.
pub fn decode_textures(bytes: &[u8]) -> Result<Vec<(u32, ovhost_plugin_api::Texture)>, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != TEXTURES_MAGIC {
        return Err("the texture batch does not start with the OVTX magic".into());
    }
    let n = r.len()?;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let index = r.u32()?;
        out.push((index, looks::read_texture(&mut r)?));
    }
    if r.at != bytes.len() {
        return Err(format!("{} unexpected bytes after the texture batch", bytes.len() - r.at));
    }
    Ok(out)
}

const TEXTURES_MAGIC: &[u8; 4] = b"OVTX";

/// The time section: a flag and the range, then each track's header, times and values.
fn put_time(out: &mut Vec<u8>, scene: &StageScene) {
    match &scene.time_range {
        Some(range) => {
            out.push(1);
            put_f64s(out, &[range.start_time_code, range.end_time_code, range.time_codes_per_second]);
        }
        None => out.push(0),
    }
    put_len(out, scene.tracks.len());
    for track in scene.tracks.iter() {
        for v in [track.target.0, track.mesh, track.instance, u32::from(track.held)] {
            put_u32(out, v);
        }
        put_len(out, track.times.len());
        put_len(out, track.values.len());
        put_f64s(out, &track.times);
        out.extend_from_slice(bytemuck::cast_slice(&track.values));
    }
}

fn read_time(r: &mut Reader<'_>, scene: &mut StageScene) -> Result<(), String> {
    if r.take(1)?[0] == 1 {
        let [start_time_code, end_time_code, time_codes_per_second] = r.f64_array()?;
        scene.time_range = Some(TimeRange { start_time_code, end_time_code, time_codes_per_second });
    }
    let n = r.len()?;
    let mut tracks = RVec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let [target, mesh, instance, held] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
        let (nt, nv) = (r.len()?, r.len()?);
        let times = r.pod_vec::<f64>(nt)?;
        let values = r.pod_vec::<f32>(nv)?;
        tracks.push(Track { target: TrackTarget(target), mesh, instance, held: held != 0, times, values });
    }
    scene.tracks = tracks;
    Ok(())
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_ne_bytes());
}
fn put_len(out: &mut Vec<u8>, n: usize) {
    put_u32(out, u32::try_from(n).unwrap_or(u32::MAX));
}
fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_ne_bytes());
}
fn put_f64s(out: &mut Vec<u8>, vs: &[f64]) {
    out.extend_from_slice(bytemuck::cast_slice(vs));
}
fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or("the scene data is truncated")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn len(&mut self) -> Result<usize, String> {
        Ok(self.u32()? as usize)
    }
    fn f64(&mut self) -> Result<f64, String> {
        let [v] = self.f64_array::<1>()?;
        Ok(v)
    }
    fn f64_array<const N: usize>(&mut self) -> Result<[f64; N], String> {
        let mut out = [0.0f64; N];
        bytemuck::cast_slice_mut::<f64, u8>(&mut out).copy_from_slice(self.take(8 * N)?);
        Ok(out)
    }
    fn string(&mut self) -> Result<RString, String> {
        let n = self.len()?;
        let text = std::str::from_utf8(self.take(n)?).map_err(|_| "a prim path in the scene data is not UTF-8")?;
        Ok(RString::from(text))
    }
    fn pod_vec<T: bytemuck::Pod>(&mut self, n: usize) -> Result<RVec<T>, String> {
        let size = std::mem::size_of::<T>().checked_mul(n).ok_or("the scene data is truncated")?;
        let src = self.take(size)?;
        let mut out = vec![T::zeroed(); n];
        bytemuck::cast_slice_mut::<T, u8>(&mut out).copy_from_slice(src);
        Ok(RVec::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_field() {
        let mut scene = StageScene::empty();
        scene.root_prim_path = "/World".into();
        scene.up_axis = UpAxis::Z;
        scene.meters_per_unit = 1.0;
        scene.bounds = Bounds { min: [-1.0, -2.0, -3.0], max: [1.0, 2.0, 3.0] };
        scene.prim_paths = vec![RString::from("/World/A"), RString::from("/World/B")].into();
        scene.cameras = vec![AuthoredCamera {
            path: "/World/Cam".into(),
            world_transform: std::array::from_fn(|i| i as f64),
            fov_y_deg: 30.0,
            near: 0.1,
            far: 100.0,
            projection: ovhost_plugin_api::Projection::ORTHOGRAPHIC,
            ortho_height: 4.5,
            lens_shift: [0.25, -0.125],
        }]
        .into();
        scene.meshes = vec![MeshData {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]].into(),
            normals: RVec::new(),
            colors: vec![[1.0, 0.0, 0.0]].into(),
            indices: vec![0, 1, 2].into(),
            instances: vec![MeshInstance { prim_id: 2, world_transform: std::array::from_fn(|i| i as f64 * 0.5) }]
                .into(),
        }]
        .into();
        scene.time_range = Some(TimeRange { start_time_code: 1.0, end_time_code: 48.0, time_codes_per_second: 24.0 });
        scene.tracks = vec![Track {
            target: TrackTarget::INSTANCE_VISIBILITY,
            mesh: 0,
            instance: 0,
            held: true,
            times: vec![1.0, 10.0].into(),
            values: vec![1.0, 0.0].into(),
        }]
        .into();
        let bytes = encode(&scene);
        let back = decode(&bytes).expect("decode");
        assert_eq!(back.time_range, scene.time_range);
        assert_eq!(back.tracks[0].target, TrackTarget::INSTANCE_VISIBILITY);
        assert!(back.tracks[0].held);
        assert_eq!(
            (back.tracks[0].times.as_slice(), back.tracks[0].values.as_slice()),
            (&[1.0, 10.0][..], &[1.0f32, 0.0][..])
        );
        assert_eq!(back.root_prim_path, scene.root_prim_path);
        assert_eq!(back.up_axis, UpAxis::Z);
        assert_eq!(back.bounds, scene.bounds);
        assert_eq!(back.prim_paths, scene.prim_paths);
        assert_eq!(back.cameras[0].world_transform, scene.cameras[0].world_transform);
        assert_eq!(back.cameras[0].projection, ovhost_plugin_api::Projection::ORTHOGRAPHIC);
        assert_eq!((back.cameras[0].ortho_height, back.cameras[0].lens_shift), (4.5, [0.25, -0.125]));
        assert_eq!(back.meshes[0].positions, scene.meshes[0].positions);
        assert_eq!(back.meshes[0].colors, scene.meshes[0].colors);
        assert_eq!(back.meshes[0].indices, scene.meshes[0].indices);
        assert_eq!(back.meshes[0].instances[0].prim_id, 2);
        assert_eq!(back.meshes[0].instances[0].world_transform[3], 1.5);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err(), "truncated data must be refused");
    }

    #[test]
    fn round_trips_the_material_sections() {
        use ovhost_plugin_api::{ColorSpace, FaceSubset, Light, LightKind, Material, MaterialInput, Texture, WrapMode};
        let mut scene = StageScene::empty();
        scene.meshes = vec![MeshData::default()].into();
        scene.mesh_uvs = vec![vec![[0.25, 0.75]].into()];
        scene.mesh_subsets = vec![vec![FaceSubset { first_index: 3, index_count: 6, material: 1 }].into()];
        scene.materials = vec![Material {
            path: "/M".into(),
            surface: "UsdPreviewSurface".into(),
            inputs: vec![MaterialInput {
                name: "diffuseColor".into(),
                value: [0.1, 0.2, 0.3, 1.0],
                texture: 1,
                channels: "rgb".into(),
                scale: [2.0; 4],
                bias: [-1.0; 4],
                uv_set: "uv".into(),
                uv_transform: [1.0, 2.0, 90.0, 0.5, 0.25],
            }]
            .into(),
        }]
        .into();
        scene.textures = vec![Texture {
            asset_path: "a.png".into(),
            resolved_path: "/r/a.png".into(),
            color_space: ColorSpace::RAW,
            wrap_s: WrapMode::MIRROR,
            wrap_t: WrapMode::CLAMP,
            width: 1,
            height: 1,
            rgba8: vec![1, 2, 3, 4].into(),
        }]
        .into();
        scene.lights = vec![Light {
            prim_id: 1,
            kind: LightKind::RECT,
            world_transform: std::array::from_fn(|i| i as f64),
            color: [1.0, 0.5, 0.25],
            intensity: 3.0,
            radius: 0.5,
            width: 2.0,
            height: 3.0,
            length: 4.0,
            angle_deg: 0.53,
            normalize: true,
            cone_angle_deg: 45.0,
            cone_softness: 0.2,
            texture: 0,
        }]
        .into();
        let back = decode(&encode(&scene)).expect("decode");
        assert_eq!(back.mesh_uvs, scene.mesh_uvs);
        assert_eq!(back.mesh_subsets, scene.mesh_subsets);
        let (a, b) = (&back.materials[0].inputs[0], &scene.materials[0].inputs[0]);
        assert_eq!(
            (a.value, a.texture, a.scale, a.bias, a.uv_transform),
            (b.value, b.texture, b.scale, b.bias, b.uv_transform)
        );
        assert_eq!((a.channels.as_str(), a.uv_set.as_str()), ("rgb", "uv"));
        let t = &back.textures[0];
        assert_eq!(
            (t.color_space, t.wrap_s, t.wrap_t, &t.rgba8[..]),
            (ColorSpace::RAW, WrapMode::MIRROR, WrapMode::CLAMP, &[1u8, 2, 3, 4][..])
        );
        let l = &back.lights[0];
        assert_eq!(
            (l.kind, l.normalize, l.height, l.cone_softness, l.world_transform[5]),
            (LightKind::RECT, true, 3.0, 0.2, 5.0)
        );
    }

    #[test]
    fn round_trips_double_sided_flags_and_texture_batches() {
        use ovhost_plugin_api::{ColorSpace, Texture, WrapMode};
        let mut scene = StageScene::empty();
        scene.mesh_double_sided = vec![true, false, true].into();
        assert_eq!(decode(&encode(&scene)).expect("decode").mesh_double_sided, scene.mesh_double_sided);
        let texture = Texture {
            asset_path: "a.png".into(),
            resolved_path: "/r/a.png".into(),
            color_space: ColorSpace::SRGB,
            wrap_s: WrapMode::REPEAT,
            wrap_t: WrapMode::BLACK,
            width: 1,
            height: 2,
            rgba8: vec![9; 8].into(),
        };
        let batch = decode_textures(&encode_textures(&[(7, texture.clone()), (3, texture)])).expect("batch");
        assert_eq!(batch.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [7, 3]);
        assert_eq!((batch[0].1.height, &batch[0].1.rgba8[..], batch[1].1.wrap_t), (2, &[9u8; 8][..], WrapMode::BLACK));
        assert!(decode_textures(b"OVTX").is_err(), "a short batch is an error, not a panic");
    }
}

//! Synthetic test geometry (cubes, planes, wavy grids) and scene assembly, for the tests and the
//! benchmark. Transforms are USD row-major row-vector matrices, as the host delivers them.

use ovhost_plugin_api::abi_stable::std_types::{RString, RVec};
use ovhost_plugin_api::{Bounds, MeshData, MeshInstance, StageScene};

/// A USD (row-vector, row-major) matrix translating by `t` and scaling uniformly by `scale`.
pub fn transform(t: [f64; 3], scale: f64) -> [f64; 16] {
    [
        scale, 0.0, 0.0, 0.0, //
        0.0, scale, 0.0, 0.0, //
        0.0, 0.0, scale, 0.0, //
        t[0], t[1], t[2], 1.0,
    ]
}

fn colors(color: Option<[f32; 3]>) -> RVec<[f32; 3]> {
    color.into_iter().collect()
}

/// An axis-aligned cube of half-size `half` around the origin, 8 shared corners and no normals
/// (the renderer derives faceted ones), one constant colour or none.
pub fn cube(half: f32, color: Option<[f32; 3]>) -> MeshData {
    let h = half;
    let positions: RVec<[f32; 3]> = (0..8)
        .map(|i| [if i & 1 == 0 { -h } else { h }, if i & 2 == 0 { -h } else { h }, if i & 4 == 0 { -h } else { h }])
        .collect();
    // Two triangles per face, counter-clockwise seen from outside.
    let indices: RVec<u32> = [
        0, 2, 3, 0, 3, 1, // -z
        4, 5, 7, 4, 7, 6, // +z
        0, 1, 5, 0, 5, 4, // -y
        2, 6, 7, 2, 7, 3, // +y
        0, 4, 6, 0, 6, 2, // -x
        1, 3, 7, 1, 7, 5, // +x
    ]
    .into_iter()
    .collect();
    MeshData { positions, normals: RVec::new(), colors: colors(color), indices, instances: RVec::new() }
}

/// A square in the XZ plane (y = 0) of side `size`, normal +Y, one constant colour.
pub fn plane(size: f32, color: [f32; 3]) -> MeshData {
    let s = size / 2.0;
    MeshData {
        positions: [[-s, 0.0, -s], [s, 0.0, -s], [s, 0.0, s], [-s, 0.0, s]].into_iter().collect(),
        normals: [[0.0, 1.0, 0.0]; 4].into_iter().collect(),
        colors: colors(Some(color)),
        indices: [0u32, 2, 1, 0, 3, 2].into_iter().collect(),
        instances: RVec::new(),
    }
}

/// A wavy `cells` x `cells` grid over [-1, 1]² in XZ: `2 * cells²` triangles with smooth
/// per-vertex normals and per-vertex colours.
pub fn grid(cells: u32) -> MeshData {
    let n = cells.max(1);
    let side = n + 1;
    let mut positions = RVec::with_capacity((side * side) as usize);
    let mut normals = RVec::with_capacity((side * side) as usize);
    let mut colors = RVec::with_capacity((side * side) as usize);
    for j in 0..side {
        for i in 0..side {
            let x = i as f32 / n as f32 * 2.0 - 1.0;
            let z = j as f32 / n as f32 * 2.0 - 1.0;
            let k = 6.0;
            let y = 0.1 * (k * x).sin() * (k * z).cos();
            let dx = 0.1 * k * (k * x).cos() * (k * z).cos();
            let dz = -0.1 * k * (k * x).sin() * (k * z).sin();
            let len = (dx * dx + 1.0 + dz * dz).sqrt();
            positions.push([x, y, z]);
            normals.push([-dx / len, 1.0 / len, -dz / len]);
            colors.push([0.5 + 0.5 * x, 0.6, 0.5 - 0.5 * z]);
        }
    }
    let mut indices = RVec::with_capacity((n * n * 6) as usize);
    for j in 0..n {
        for i in 0..n {
            let a = j * side + i;
            let (b, c, d) = (a + 1, a + side, a + side + 1);
            indices.extend_from_slice(&[a, c, b, b, c, d]);
        }
    }
    MeshData { positions, normals, colors, indices, instances: RVec::new() }
}

/// A scene from (prim path, mesh, instance transforms) entries. Prim ids are assigned 1, 2, …
/// in order; every instance of an entry gets its entry's prim id. Bounds are left empty (the
/// renderer computes them).
pub fn scene(entries: Vec<(&str, MeshData, Vec<[f64; 16]>)>) -> StageScene {
    let mut s = StageScene::empty();
    s.url = RString::from("synthetic.usda");
    s.generation = 1;
    s.root_prim_path = RString::from("/World");
    s.bounds = Bounds::EMPTY;
    for (index, (path, mut mesh, transforms)) in entries.into_iter().enumerate() {
        let prim_id = index as u32 + 1;
        mesh.instances =
            transforms.into_iter().map(|world_transform| MeshInstance { prim_id, world_transform }).collect();
        s.prim_paths.push(RString::from(path));
        s.meshes.push(mesh);
    }
    s
}

/// A UV sphere of `radius` around the origin with smooth normals: `rings` × `segments` quads.
pub fn sphere(radius: f32, rings: u32, segments: u32, color: Option<[f32; 3]>) -> MeshData {
    let (rings, segments) = (rings.max(2), segments.max(3));
    let mut positions = RVec::new();
    let mut normals = RVec::new();
    for r in 0..=rings {
        let theta = std::f32::consts::PI * r as f32 / rings as f32;
        for s in 0..=segments {
            let phi = 2.0 * std::f32::consts::PI * s as f32 / segments as f32;
            let n = [theta.sin() * phi.cos(), theta.cos(), -theta.sin() * phi.sin()];
            normals.push(n);
            positions.push(n.map(|c| c * radius));
        }
    }
    let mut indices = RVec::new();
    let row = segments + 1;
    for r in 0..rings {
        for s in 0..segments {
            let a = r * row + s;
            let (b, c, d) = (a + 1, a + row, a + row + 1);
            indices.extend_from_slice(&[a, c, b, b, c, d]);
        }
    }
    MeshData { positions, normals, colors: colors(color), indices, instances: RVec::new() }
}

/// A square of side `size` in the XY plane facing +Z, with texture coordinates `st` running
/// (0, 0) at the bottom-left corner to (1, 1) at the top-right.
pub fn textured_quad(size: f32) -> (MeshData, RVec<[f32; 2]>) {
    let h = size / 2.0;
    let mesh = MeshData {
        positions: [[-h, -h, 0.0], [h, -h, 0.0], [h, h, 0.0], [-h, h, 0.0]].into_iter().collect(),
        normals: [[0.0, 0.0, 1.0]; 4].into_iter().collect(),
        colors: RVec::new(),
        indices: [0u32, 1, 2, 0, 2, 3].into_iter().collect(),
        instances: RVec::new(),
    };
    (mesh, [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]].into_iter().collect())
}

/// A UsdPreviewSurface material from constant inputs (`(name, value)`).
pub fn preview_material(path: &str, inputs: &[(&str, [f32; 4])]) -> ovhost_plugin_api::Material {
    ovhost_plugin_api::Material {
        path: RString::from(path),
        surface: RString::from("UsdPreviewSurface"),
        inputs: inputs.iter().map(|(name, value)| constant_input(name, *value)).collect(),
    }
}

/// A constant material input.
pub fn constant_input(name: &str, value: [f32; 4]) -> ovhost_plugin_api::MaterialInput {
    ovhost_plugin_api::MaterialInput {
        name: RString::from(name),
        value,
        texture: 0,
        channels: RString::new(),
        scale: [1.0; 4],
        bias: [0.0; 4],
        uv_set: RString::from("st"),
        uv_transform: [1.0, 1.0, 0.0, 0.0, 0.0],
    }
}

/// Binds every triangle of scene mesh `mesh` to the 1-based material `material`.
pub fn bind(scene: &mut StageScene, mesh: usize, material: u32) {
    if scene.mesh_subsets.len() < scene.meshes.len() {
        scene.mesh_subsets.resize(scene.meshes.len(), RVec::new());
    }
    let count = scene.meshes[mesh].indices.len() as u32;
    scene.mesh_subsets[mesh] =
        vec![ovhost_plugin_api::FaceSubset { first_index: 0, index_count: count, material }].into();
}

//! Uploading a scene's meshes to the GPU once per stage: one vertex buffer, one
//! triangle index buffer, one edge index buffer (wireframe) and one instance buffer for all
//! meshes, plus the draw list that indexes into them.

use std::ops::Range;

use bytemuck::{Pod, Zeroable};
use glam::{DMat3, DMat4};
use ovhost_plugin_api::{Bounds, FaceSubset, MeshData, PluginError, SceneRef};
use wgpu::util::DeviceExt;

/// displayColor when a mesh has none (linear grey).
pub const DEFAULT_COLOR: [f32; 3] = [0.5, 0.5, 0.5];

/// One vertex: local position, local normal (zero = derive a faceted one), linear colour,
/// texture coordinates (USD `st`, origin bottom-left).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Vertex {
    pub position: [f32; 3],
    pub normal: [f32; 3],
    pub color: [f32; 3],
    pub uv: [f32; 2],
}

/// One placement: local-to-world (column-vector convention), its normal matrix (three columns,
/// `w` unused), the prim id written to the id pass and flags ([`Instance::CULL_BACK`]).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Instance {
    pub model: [[f32; 4]; 4],
    pub normal: [[f32; 4]; 3],
    pub prim_id: u32,
    pub flags: u32,
    pub _pad: [u32; 2],
}

impl Vertex {
    pub const ATTRIBUTES: [wgpu::VertexAttribute; 4] =
        wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3, 2 => Float32x3, 11 => Float32x2];
    pub fn layout() -> wgpu::VertexBufferLayout<'static> {
        wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<Self>() as u64,
            step_mode: wgpu::VertexStepMode::Vertex,
            attributes: &Self::ATTRIBUTES,
        }
    }
}

impl Instance {
    pub const ATTRIBUTES: [wgpu::VertexAttribute; 9] = wgpu::vertex_attr_array![
        3 => Float32x4, 4 => Float32x4, 5 => Float32x4, 6 => Float32x4,
        7 => Float32x4, 8 => Float32x4, 9 => Float32x4, 10 => Uint32, 12 => Uint32
    ];

    /// Flag: the mesh is single-sided (`doubleSided = false`): its back faces are culled (the
    /// shader accounts for mirroring transforms, whose determinant is negative).
    pub const CULL_BACK: u32 = 1;

    /// This placement with back faces culled when `single_sided`.
    pub fn single_sided(mut self, single_sided: bool) -> Self {
        if single_sided {
            self.flags |= Self::CULL_BACK;
        }
        self
    }
    pub fn layout() -> wgpu::VertexBufferLayout<'static> {
        wgpu::VertexBufferLayout {
            array_stride: std::mem::size_of::<Self>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &Self::ATTRIBUTES,
        }
    }

    /// From a row-major USD row-vector matrix (translation in the last row). Read column-major,
    /// the same 16 numbers are the column-vector matrix (translation in the last column).
    pub fn from_usd(world_transform: &[f64; 16], prim_id: u32) -> Self {
        let model = DMat4::from_cols_array(world_transform);
        let linear = DMat3::from_mat4(model);
        let det = linear.determinant();
        let normal = if det.abs() > 1e-300 && det.is_finite() { linear.inverse().transpose() } else { linear };
        let c = |v: glam::DVec4| [v.x as f32, v.y as f32, v.z as f32, v.w as f32];
        let n = |v: glam::DVec3| [v.x as f32, v.y as f32, v.z as f32, 0.0];
        Self {
            model: [c(model.x_axis), c(model.y_axis), c(model.z_axis), c(model.w_axis)],
            normal: [n(normal.x_axis), n(normal.y_axis), n(normal.z_axis)],
            prim_id,
            flags: 0,
            _pad: [0; 2],
        }
    }
}

/// One mesh subset's draw: index ranges into the shared buffers, its instances and material.
#[derive(Clone, Debug)]
pub struct DrawItem {
    pub triangles: Range<u32>,
    pub edges: Range<u32>,
    pub base_vertex: i32,
    pub instances: Range<u32>,
    /// 1-based scene material (0 = displayColor).
    pub material: u32,
    /// World-space centre of the first instance's bounds (back-to-front sorting).
    pub center: [f64; 3],
}

/// Where one scene mesh landed in the shared buffers (for time-varying updates).
#[derive(Clone, Copy, Debug)]
pub struct MeshSlot {
    pub base_vertex: u32,
    pub first_instance: u32,
    /// Local-space box of its positions.
    pub local_bounds: Bounds,
}

/// A stage's geometry on the GPU.
pub struct GpuScene {
    pub vertices: wgpu::Buffer,
    pub triangles: wgpu::Buffer,
    pub edges: wgpu::Buffer,
    pub instances: wgpu::Buffer,
    pub draws: Vec<DrawItem>,
    pub bounds: Bounds,
    pub triangle_count: u64,
    /// Meshes left out because their data was inconsistent (logged when uploaded).
    pub skipped_meshes: usize,
    /// Indexed like the scene's meshes: where each one was uploaded (`None`: not drawn).
    pub mesh_slots: Vec<Option<MeshSlot>>,
    /// Every drawn instance's prim id and world box at upload (the selection's footprint).
    pub prim_boxes: Vec<(u32, Bounds)>,
}

/// Why a mesh cannot be drawn, or `None` if it can.
fn mesh_problem(mesh: &MeshData) -> Option<String> {
    let n = mesh.positions.len();
    if !mesh.normals.is_empty() && mesh.normals.len() != n {
        return Some(format!("{} normals for {n} positions", mesh.normals.len()));
    }
    if mesh.colors.len() > 1 && mesh.colors.len() != n {
        return Some(format!("{} colors for {n} positions", mesh.colors.len()));
    }
    if !mesh.indices.len().is_multiple_of(3) {
        return Some(format!("{} indices is not a whole number of triangles", mesh.indices.len()));
    }
    if let Some(bad) = mesh.indices.iter().find(|&&i| i as usize >= n) {
        return Some(format!("index {bad} is past the {n} positions"));
    }
    None
}

/// The world bounds of the instances actually uploaded (used when the scene's bounds are empty).
fn instance_bounds(mesh: &MeshData) -> Bounds {
    let mut local = Bounds::EMPTY;
    for p in mesh.positions.iter() {
        local.include_point([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]);
    }
    let mut world = Bounds::EMPTY;
    if local.is_empty() {
        return world;
    }
    for inst in mesh.instances.iter() {
        let m = DMat4::from_cols_array(&inst.world_transform);
        for corner in 0..8 {
            let pick = |axis: usize| if corner & (1 << axis) == 0 { local.min[axis] } else { local.max[axis] };
            let p = m.transform_point3(glam::DVec3::new(pick(0), pick(1), pick(2)));
            world.include_point(p.to_array());
        }
    }
    world
}

/// World bounds of one placement of a mesh.
fn instance_bounds_of(mesh: &MeshData, world: &[f64; 16]) -> Bounds {
    let mut local = Bounds::EMPTY;
    for p in mesh.positions.iter() {
        local.include_point([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]);
    }
    transform_bounds(&local, world)
}

/// The world box around a local box's eight corners placed by `world`.
pub fn transform_bounds(local: &Bounds, world: &[f64; 16]) -> Bounds {
    let mut out = Bounds::EMPTY;
    if local.is_empty() {
        return out;
    }
    let m = DMat4::from_cols_array(world);
    for corner in 0..8 {
        let pick = |axis: usize| if corner & (1 << axis) == 0 { local.min[axis] } else { local.max[axis] };
        out.include_point(m.transform_point3(glam::DVec3::new(pick(0), pick(1), pick(2))).to_array());
    }
    out
}

/// The (first index, index count, material) runs to draw: the subsets when they are valid
/// (whole triangles inside the index list), else the whole mesh with no material.
pub fn subset_runs(subsets: &[FaceSubset], index_count: u32) -> Vec<(u32, u32, u32)> {
    let valid = !subsets.is_empty()
        && subsets.iter().all(|s| {
            s.first_index.is_multiple_of(3)
                && s.index_count.is_multiple_of(3)
                && s.first_index.checked_add(s.index_count).is_some_and(|end| end <= index_count)
        });
    if !valid {
        if !subsets.is_empty() {
            tracing::warn!("raster renderer ignores a mesh's face subsets that do not fit its triangles");
        }
        return vec![(0, index_count, 0)];
    }
    subsets.iter().filter(|s| s.index_count > 0).map(|s| (s.first_index, s.index_count, s.material)).collect()
}

impl GpuScene {
    /// Builds the GPU buffers for `scene`. Inconsistent meshes are skipped with a warning.
    pub fn upload(device: &wgpu::Device, scene: &SceneRef<'_>) -> Result<Self, PluginError> {
        let mut vertices: Vec<Vertex> = Vec::new();
        let mut triangles: Vec<u32> = Vec::new();
        let mut edges: Vec<u32> = Vec::new();
        let mut instances: Vec<Instance> = Vec::new();
        let mut draws = Vec::new();
        let mut bounds = Bounds::EMPTY;
        let mut triangle_count = 0u64;
        let mut skipped_meshes = 0;
        let mut mesh_slots = vec![None; scene.meshes().len()];
        let mut prim_boxes = Vec::new();
        for (index, mesh) in scene.meshes().iter().enumerate() {
            if mesh.indices.is_empty() || mesh.instances.is_empty() {
                continue;
            }
            if let Some(problem) = mesh_problem(mesh) {
                tracing::warn!(mesh = index, %problem, "raster renderer skips an inconsistent mesh");
                skipped_meshes += 1;
                continue;
            }
            let base_vertex = i32::try_from(vertices.len())
                .map_err(|_| PluginError::invalid_input("stage has more than 2^31 vertices"))?;
            vertices.extend(vertices_of(mesh, scene.mesh_uvs(index).as_slice()));
            let tri_start = triangles.len() as u32;
            triangles.extend_from_slice(&mesh.indices);
            let edge_start = edges.len() as u32;
            for t in mesh.indices.chunks_exact(3) {
                edges.extend_from_slice(&[t[0], t[1], t[1], t[2], t[2], t[0]]);
            }
            let inst_start = instances.len() as u32;
            let mut local_bounds = Bounds::EMPTY;
            for p in mesh.positions.iter() {
                local_bounds.include_point(p.map(f64::from));
            }
            mesh_slots[index] =
                Some(MeshSlot { base_vertex: base_vertex as u32, first_instance: inst_start, local_bounds });
            let cull = single_sided(scene, index);
            instances.extend(
                mesh.instances.iter().map(|i| Instance::from_usd(&i.world_transform, i.prim_id).single_sided(cull)),
            );
            prim_boxes.extend(
                mesh.instances.iter().map(|i| (i.prim_id, transform_bounds(&local_bounds, &i.world_transform))),
            );
            let center = mesh
                .instances
                .first()
                .map(|i| instance_bounds_of(mesh, &i.world_transform).center())
                .unwrap_or([0.0; 3]);
            for (first, count, material) in subset_runs(scene.mesh_subsets(index).as_slice(), mesh.indices.len() as u32)
            {
                draws.push(DrawItem {
                    triangles: tri_start + first..tri_start + first + count,
                    edges: edge_start + 2 * first..edge_start + 2 * (first + count),
                    base_vertex,
                    instances: inst_start..instances.len() as u32,
                    material,
                    center,
                });
            }
            triangle_count += (mesh.triangle_count() * mesh.instances.len()) as u64;
            bounds = bounds.union(&instance_bounds(mesh));
        }
        let max_bytes = device.limits().max_buffer_size;
        let biggest = [
            std::mem::size_of_val(vertices.as_slice()),
            std::mem::size_of_val(edges.as_slice()),
            std::mem::size_of_val(instances.as_slice()),
        ]
        .into_iter()
        .max()
        .unwrap_or(0) as u64;
        if biggest > max_bytes {
            return Err(PluginError::unavailable(format!(
                "stage needs a {biggest}-byte GPU buffer but this adapter allows at most {max_bytes} bytes"
            )));
        }
        let stage_bounds = scene.facts().bounds;
        if !stage_bounds.is_empty() {
            bounds = stage_bounds;
        }
        // wgpu refuses zero-sized vertex/index bindings; an empty stage keeps one dummy element.
        let buffer = |label: &str, bytes: &[u8], usage: wgpu::BufferUsages| {
            let contents: &[u8] = if bytes.is_empty() { &[0u8; 16] } else { bytes };
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage })
        };
        let index_usage = wgpu::BufferUsages::INDEX;
        Ok(Self {
            // COPY_DST: time-sampled points and transforms are rewritten per frame (animation.rs).
            vertices: buffer(
                "raster vertices",
                bytemuck::cast_slice(&vertices),
                wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            ),
            triangles: buffer("raster triangles", bytemuck::cast_slice(&triangles), index_usage),
            edges: buffer("raster edges", bytemuck::cast_slice(&edges), index_usage),
            instances: buffer(
                "raster instances",
                bytemuck::cast_slice(&instances),
                wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
            ),
            draws,
            bounds,
            triangle_count,
            skipped_meshes,
            mesh_slots,
            prim_boxes,
        })
    }
}

/// Whether a scene mesh is single-sided (back faces culled). A host that does not say (an
/// empty section) gets both sides drawn.
pub fn single_sided(scene: &SceneRef<'_>, mesh: usize) -> bool {
    scene.mesh_double_sided().get(mesh).is_some_and(|double| !double)
}

/// One mesh's vertices as uploaded: positions, normals (zero when absent, derived in the shader),
/// the colour (constant, per vertex, or the default) and texture coordinates (zero unless there is
/// one per vertex).
pub fn vertices_of<'m>(mesh: &'m MeshData, uvs: &'m [[f32; 2]]) -> impl Iterator<Item = Vertex> + 'm {
    let uvs = if uvs.len() == mesh.positions.len() { uvs } else { &[] };
    mesh.positions.iter().enumerate().map(move |(i, &position)| Vertex {
        position,
        normal: mesh.normals.get(i).copied().unwrap_or([0.0; 3]),
        color: match mesh.colors.len() {
            0 => DEFAULT_COLOR,
            1 => mesh.colors[0],
            _ => mesh.colors[i],
        },
        uv: uvs.get(i).copied().unwrap_or([0.0; 2]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_row_vector_translation_lands_in_the_last_column() {
        let mut m = [0.0; 16];
        m[0] = 2.0;
        m[5] = 2.0;
        m[10] = 2.0;
        m[15] = 1.0;
        m[12] = 5.0;
        m[13] = 6.0;
        m[14] = 7.0;
        let inst = Instance::from_usd(&m, 9);
        assert_eq!(inst.model[3], [5.0, 6.0, 7.0, 1.0]);
        // Uniform scale 2: the normal matrix is the inverse transpose, scale 1/2.
        assert!((inst.normal[0][0] - 0.5).abs() < 1e-6);
        assert_eq!(inst.prim_id, 9);
    }
}

//! Stage time in the raster renderer: the scene's baked [`Track`]s, interpolated at the
//! request's time code and written into the GPU buffers before the frame is drawn.
//!
//! Instance tracks (transform, visibility) rewrite the affected entries of the instance buffer;
//! an invisible instance gets a zero matrix, so it covers no pixel and cannot be picked. Mesh
//! tracks (positions, normals, colours: one per vertex or one for the mesh) rewrite that mesh's range of the vertex buffer from a CPU copy.
//! Nothing is written when the time code did not change since the last frame, so a paused or
//! static stage costs nothing per frame.

use std::collections::{BTreeMap, BTreeSet};

use ovhost_plugin_api::{Bounds, SceneRef, Track, TrackTarget};

use crate::geometry::{GpuScene, Instance, Vertex, transform_bounds, vertices_of};

struct AnimatedInstance {
    /// Index into the instance buffer.
    index: u32,
    prim_id: u32,
    single_sided: bool,
    start: [f64; 16],
    transform: Option<usize>,
    visibility: Option<usize>,
}

struct AnimatedMesh {
    base_vertex: u32,
    vertices: Vec<Vertex>,
    positions: Option<usize>,
    normals: Option<usize>,
    colors: Option<usize>,
}

pub struct Animation {
    tracks: Vec<Track>,
    instances: Vec<AnimatedInstance>,
    meshes: Vec<AnimatedMesh>,
    /// The time code last written (NaN: none yet).
    applied: f64,
    scratch: Vec<f32>,
    /// World bounds over every baked sample (the static bounds plus where things move).
    pub bounds: Bounds,
    /// Prim ids whose transform or points change over time (their upload-time box does not hold).
    pub moving: BTreeSet<u32>,
}

impl Animation {
    /// The scene's tracks bound to where `gpu` uploaded each mesh; `None` when nothing moves.
    pub fn new(scene: &SceneRef<'_>, gpu: &GpuScene) -> Option<Self> {
        let all = scene.tracks();
        if all.is_empty() {
            return None;
        }
        let meshes_in = scene.meshes();
        let mut tracks = Vec::new();
        let mut by_instance: BTreeMap<(u32, u32), AnimatedInstance> = BTreeMap::new();
        let mut by_mesh: BTreeMap<u32, AnimatedMesh> = BTreeMap::new();
        let mut bounds = Bounds::EMPTY;
        let mut moving = BTreeSet::new();
        for track in all.iter() {
            let Some(Some(slot)) = gpu.mesh_slots.get(track.mesh as usize) else { continue };
            let Some(mesh) = meshes_in.get(track.mesh as usize) else { continue };
            let stride = track.stride();
            let index = tracks.len();
            match track.target {
                TrackTarget::INSTANCE_TRANSFORM | TrackTarget::INSTANCE_VISIBILITY => {
                    let expected = if track.target == TrackTarget::INSTANCE_TRANSFORM { 16 } else { 1 };
                    let Some(inst) = mesh.instances.get(track.instance as usize) else { continue };
                    if stride != expected {
                        continue;
                    }
                    let entry = by_instance.entry((track.mesh, track.instance)).or_insert(AnimatedInstance {
                        index: slot.first_instance + track.instance,
                        prim_id: inst.prim_id,
                        single_sided: crate::geometry::single_sided(scene, track.mesh as usize),
                        start: inst.world_transform,
                        transform: None,
                        visibility: None,
                    });
                    if track.target == TrackTarget::INSTANCE_TRANSFORM {
                        moving.insert(inst.prim_id);
                        entry.transform = Some(index);
                        bounds = bounds.union(&swept_bounds(track, &slot.local_bounds));
                    } else {
                        entry.visibility = Some(index);
                    }
                }
                TrackTarget::MESH_POSITIONS | TrackTarget::MESH_NORMALS | TrackTarget::MESH_COLORS => {
                    let colors = track.target == TrackTarget::MESH_COLORS;
                    if stride != 3 * mesh.positions.len() && !(colors && stride == 3) {
                        continue;
                    }
                    let entry = by_mesh.entry(track.mesh).or_insert_with(|| AnimatedMesh {
                        base_vertex: slot.base_vertex,
                        vertices: vertices_of(mesh, scene.mesh_uvs(track.mesh as usize).as_slice()).collect(),
                        positions: None,
                        normals: None,
                        colors: None,
                    });
                    if track.target == TrackTarget::MESH_POSITIONS {
                        moving.extend(mesh.instances.iter().map(|i| i.prim_id));
                        entry.positions = Some(index);
                        let mut local = Bounds::EMPTY;
                        for p in track.values.chunks_exact(3) {
                            local.include_point([f64::from(p[0]), f64::from(p[1]), f64::from(p[2])]);
                        }
                        for inst in mesh.instances.iter() {
                            bounds = bounds.union(&transform_bounds(&local, &inst.world_transform));
                        }
                    } else if colors {
                        entry.colors = Some(index);
                    } else if !mesh.normals.is_empty() {
                        entry.normals = Some(index);
                    }
                }
                _ => continue,
            }
            tracks.push(track.clone());
        }
        if tracks.is_empty() {
            return None;
        }
        Some(Self {
            tracks,
            instances: {
                let mut v: Vec<AnimatedInstance> = by_instance.into_values().collect();
                v.sort_by_key(|i| i.index);
                v
            },
            meshes: by_mesh.into_values().collect(),
            applied: f64::NAN,
            scratch: Vec::new(),
            bounds,
            moving,
        })
    }

    /// Writes the state at time code `t` into the scene's buffers (nothing when `t` is NaN or
    /// was the last time written).
    pub fn apply(&mut self, queue: &wgpu::Queue, gpu: &GpuScene, t: f64) {
        if !t.is_finite() || t == self.applied {
            return;
        }
        self.applied = t;
        // Instances are kept sorted by buffer index: consecutive ones go up in one write.
        let mut run: Vec<Instance> = Vec::new();
        let mut run_start = 0u32;
        for inst in &self.instances {
            let mut world = inst.start;
            if let Some(k) = inst.transform {
                self.scratch.resize(16, 0.0);
                if self.tracks[k].sample_into(t, &mut self.scratch) {
                    world = std::array::from_fn(|i| f64::from(self.scratch[i]));
                }
            }
            if let Some(k) = inst.visibility {
                self.scratch.resize(1, 0.0);
                if self.tracks[k].sample_into(t, &mut self.scratch) && self.scratch[0] < 0.5 {
                    world = [0.0; 16];
                }
            }
            if !run.is_empty() && run_start + run.len() as u32 != inst.index {
                write_instances(queue, gpu, run_start, &run);
                run.clear();
            }
            if run.is_empty() {
                run_start = inst.index;
            }
            run.push(Instance::from_usd(&world, inst.prim_id).single_sided(inst.single_sided));
        }
        if !run.is_empty() {
            write_instances(queue, gpu, run_start, &run);
        }
        for mesh in &mut self.meshes {
            for (k, which) in [(mesh.positions, 0), (mesh.normals, 1), (mesh.colors, 2)] {
                let Some(k) = k else { continue };
                self.scratch.resize(self.tracks[k].stride(), 0.0);
                if !self.tracks[k].sample_into(t, &mut self.scratch) {
                    continue;
                }
                if self.scratch.len() == 3 && which == 2 {
                    // One colour for the whole mesh.
                    let c = [self.scratch[0], self.scratch[1], self.scratch[2]];
                    mesh.vertices.iter_mut().for_each(|v| v.color = c);
                    continue;
                }
                for (v, p) in mesh.vertices.iter_mut().zip(self.scratch.chunks_exact(3)) {
                    let value = [p[0], p[1], p[2]];
                    match which {
                        0 => v.position = value,
                        1 => v.normal = value,
                        _ => v.color = value,
                    }
                }
            }
            let offset = u64::from(mesh.base_vertex) * std::mem::size_of::<Vertex>() as u64;
            queue.write_buffer(&gpu.vertices, offset, bytemuck::cast_slice(&mesh.vertices));
        }
    }
}

fn write_instances(queue: &wgpu::Queue, gpu: &GpuScene, first: u32, instances: &[Instance]) {
    let offset = u64::from(first) * std::mem::size_of::<Instance>() as u64;
    queue.write_buffer(&gpu.instances, offset, bytemuck::cast_slice(instances));
}

/// World bounds of a local box placed by every sample of a transform track.
fn swept_bounds(track: &Track, local: &Bounds) -> Bounds {
    let mut out = Bounds::EMPTY;
    for m in track.values.chunks_exact(16) {
        let world: [f64; 16] = std::array::from_fn(|i| f64::from(m[i]));
        out = out.union(&transform_bounds(local, &world));
    }
    out
}

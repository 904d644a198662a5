//! Walks the composed stage and builds the renderable [`StageScene`]: meshes placed by world
//! transforms, native instances sharing one mesh, PointInstancers expanded, authored cameras,
//! and world bounds.
//!
//! Skipped, with their subtrees: inactive, undefined (`over`-only), abstract (`class`) prims,
//! `visibility = invisible`, and `guide` / `proxy` purposes (pxr's inheritance rules for both).
//! PointInstancer prototypes are drawn only through their instancer.

use super::materials::MaterialTable;
use super::xform::{self, Mat4};
use super::{animated, curves, extents, gprims, lights, materials, mesh, skel, time};
use openusd::{sdf, usd};
use ovhost_plugin_api::abi_stable::std_types::{RString, RVec};
use ovhost_plugin_api::{AuthoredCamera, Bounds, FaceSubset, MeshInstance, StageScene, TimeRange, Track, TrackTarget};
use std::collections::HashMap;

/// Nested PointInstancers deeper than this are not expanded (guards against cycles).
const MAX_INSTANCER_DEPTH: usize = 8;

/// The extraction result plus what later `bounds` queries need.
pub struct Extracted {
    pub scene: StageScene,
    /// Each drawn placement: the namespace path it belongs to and its world bounds.
    pub drawn: Vec<(String, Bounds)>,
    /// The materials and texture requests (pixels are decoded afterwards, `textures.rs`).
    pub materials: MaterialTable,
}

/// One mesh placement found by a walk, in the walk's frame.
struct Placement {
    /// The drawn mesh, or `None` for a bounds-only prim (implicit shape, light).
    mesh: Option<usize>,
    /// Local-space box of what is placed.
    local: Bounds,
    world: Mat4,
    /// The prim a pick on this placement selects (instance root / instancer / the mesh).
    pick_path: String,
    /// Where it lives in namespace (for subtree bounds).
    namespace_path: String,
    /// A PointInstancer instance whose instancer's `invisibleIds` is time-sampled: its id
    /// (its visibility is baked as a held track; statically masked instances are not placed).
    mask_id: Option<i64>,
}

/// A skinned mesh posed at the start: its index, prim, skinning, world transform and the
/// texture-coordinate set it was built with.
type Skinned = (usize, usd::Prim, skel::Skinning, xform::Mat4, Option<String>);

/// Context inherited from an enclosing native instance.
#[derive(Clone)]
struct InstanceCtx {
    instance_path: String,
    prototype_key: String,
}

impl InstanceCtx {
    /// The key a prim's mesh is shared under: inside a native instance, its path below the
    /// prototype (so every instance of it shares one mesh); elsewhere its own path.
    fn key_of(inst: Option<&Self>, path: &str) -> String {
        match inst {
            Some(ctx) => format!("{}{}", ctx.prototype_key, &path[ctx.instance_path.len()..]),
            None => path.to_owned(),
        }
    }
}

struct Extractor<'s> {
    stage: &'s usd::Stage,
    scene: StageScene,
    /// Dedupe key → mesh index (instances of one prototype share geometry).
    mesh_by_key: HashMap<String, usize>,
    mesh_local_bounds: Vec<Bounds>,
    prim_ids: HashMap<String, u32>,
    /// PointInstancer prototype path → its placements relative to the prototype's parent.
    prototype_cache: HashMap<String, Vec<Placement>>,
    /// A prim whose own `visibility` is not consulted (bounds queries on hidden prims).
    ignore_visibility_of: Option<String>,
    /// Re-walks at other times: meshes are only looked up, never built again.
    frozen: bool,
    /// The `Mesh` prim each mesh index was built from and the texture-coordinate set it was built
    /// with (time-sampled and skinned points are rebuilt the same way, so vertices line up).
    mesh_sources: HashMap<usize, (usd::Prim, Option<String>)>,
    /// The prim and builder of each mesh the worker tessellated itself (gprims, curves, points,
    /// tet meshes): rebuilt at each sample time when their attributes are time-sampled.
    shape_sources: HashMap<usize, (usd::Prim, animated::Builder)>,
    /// Bound materials and the textures they use (`materials.rs`).
    materials: MaterialTable,
}

/// Extracts everything renderers need from an opened stage, at its start time code, with the
/// time-varying part baked into tracks (see [`super::time`]).
pub fn extract(stage: &usd::Stage) -> Extracted {
    let mut ex = Extractor::new(stage, None);
    let t0 = time::start(stage);
    let root = stage.prim(sdf::Path::abs_root());
    let (placements, recorded) = time::at(Some(t0), || time::recording(|| ex.walk(&root, xform::IDENTITY, true, 0)));
    let skinned = time::at(Some(t0), || ex.pose_skinned(&placements));
    let visibility = VisibilityChains::new(stage, &placements);
    let visible_at_start: Vec<bool> =
        time::at(Some(t0), || placements.iter().map(|p| shown(stage, &visibility, p)).collect());
    let mut drawn = Vec::with_capacity(placements.len());
    let mut bounds = Bounds::EMPTY;
    let mut slots: Vec<Option<(usize, usize)>> = Vec::with_capacity(placements.len());
    for (p, &visible) in placements.iter().zip(&visible_at_start) {
        let world_bounds = transform_bounds(&p.local, &p.world);
        if visible {
            bounds = bounds.union(&world_bounds);
            drawn.push((p.namespace_path.clone(), world_bounds));
        }
        slots.push(p.mesh.map(|mesh| {
            let prim_id = ex.prim_id(&p.pick_path);
            let instances = &mut ex.scene.meshes[mesh].instances;
            instances.push(MeshInstance { prim_id, world_transform: p.world });
            (mesh, instances.len() - 1)
        }));
    }
    let mut tracks = if recorded.is_empty() {
        Vec::new()
    } else {
        ex.bake_tracks(&root, t0, &recorded, &placements, &slots, &visibility)
    };
    tracks.extend(ex.bake_skinning(skinned));
    // Meshes that ended up with no placement (e.g. an unused prototype) are dropped, with their
    // texture coordinates and subsets.
    let keep: Vec<bool> = ex.scene.meshes.iter().map(|m| !m.instances.is_empty()).collect();
    ex.scene.mesh_uvs = kept(std::mem::take(&mut ex.scene.mesh_uvs), &keep);
    ex.scene.mesh_subsets = kept(std::mem::take(&mut ex.scene.mesh_subsets), &keep);
    ex.scene.mesh_double_sided = kept(std::mem::take(&mut ex.scene.mesh_double_sided).into_vec(), &keep).into();
    let mut remap = vec![u32::MAX; ex.scene.meshes.len()];
    let mut kept_meshes = RVec::new();
    for (i, m) in std::mem::take(&mut ex.scene.meshes).into_iter().enumerate() {
        if !m.instances.is_empty() {
            remap[i] = kept_meshes.len() as u32;
            kept_meshes.push(m);
        }
    }
    ex.scene.meshes = kept_meshes;
    ex.scene.tracks = tracks
        .into_iter()
        .filter_map(|mut t| {
            if t.target != TrackTarget::CAMERA {
                t.mesh = *remap.get(t.mesh as usize).filter(|m| **m != u32::MAX)?;
            }
            Some(t)
        })
        .collect();
    ex.scene.tracks.extend(lights::bake_tracks(stage, &ex.scene.lights, &ex.scene.prim_paths, &recorded));
    let (range, authored) = time::stage_range(stage);
    ex.scene.time_range = if authored {
        Some(range)
    } else {
        // No authored range: the span of the baked samples (an animated file still plays).
        let times = ex.scene.tracks.iter().flat_map(|t| [t.times.first().copied(), t.times.last().copied()]).flatten();
        let (lo, hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| (lo.min(t), hi.max(t)));
        (lo <= hi).then_some(TimeRange { start_time_code: lo, end_time_code: hi, ..range })
    };
    if ex.scene.mesh_uvs.iter().all(|u| u.is_empty()) {
        ex.scene.mesh_uvs.clear();
    }
    if ex.scene.mesh_subsets.iter().all(|s| s.is_empty()) {
        ex.scene.mesh_subsets.clear();
    }
    ex.scene.materials = std::mem::take(&mut ex.materials.materials).into();
    ex.scene.bounds = bounds;
    Extracted { scene: ex.scene, drawn, materials: ex.materials }
}

/// Which placements sit under a prim whose `visibility` is time-sampled (their visibility is
/// baked as a held track rather than decided once by the walk).
struct VisibilityChains {
    /// Prim path → whether its own `visibility` varies.
    varies: HashMap<String, bool>,
}

impl VisibilityChains {
    fn new(stage: &usd::Stage, placements: &[Placement]) -> Self {
        let mut varies = HashMap::new();
        for p in placements {
            for path in ancestors(&p.namespace_path) {
                varies.entry(path.to_owned()).or_insert_with(|| {
                    prim_at(stage, path).is_some_and(|prim| time::varies(&prim.attribute("visibility")))
                });
            }
        }
        Self { varies }
    }

    /// Whether anything on the chain of `path` has time-sampled visibility.
    fn animated(&self, path: &str) -> bool {
        ancestors(path).any(|a| self.varies.get(a).copied().unwrap_or(false))
    }

    /// Visibility of `path` at the current time: false when it or an ancestor with time-sampled
    /// visibility is `invisible` (statically invisible prims were never walked).
    fn visible(&self, stage: &usd::Stage, path: &str) -> bool {
        !ancestors(path).filter(|a| self.varies.get(*a).copied().unwrap_or(false)).any(|a| {
            prim_at(stage, a).is_some_and(|prim| {
                matches!(time::get(&prim.attribute("visibility")), Ok(Some(sdf::Value::Token(t))) if t.as_str() == "invisible")
            })
        })
    }
}

/// `path` and its ancestors (not the root), nearest first.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| p.rfind('/').filter(|&i| i > 0).map(|i| &p[..i]))
}

fn prim_at(stage: &usd::Stage, path: &str) -> Option<usd::Prim> {
    let parsed = sdf::Path::new(path).ok()?;
    let prim = stage.prim(parsed);
    prim.is_valid().unwrap_or(false).then_some(prim)
}

impl Extractor<'_> {
    fn new<'s>(stage: &'s usd::Stage, ignore_visibility_of: Option<String>) -> Extractor<'s> {
        Extractor {
            stage,
            scene: StageScene::empty(),
            mesh_by_key: HashMap::new(),
            mesh_local_bounds: Vec::new(),
            prim_ids: HashMap::new(),
            prototype_cache: HashMap::new(),
            ignore_visibility_of,
            frozen: false,
            mesh_sources: HashMap::new(),
            shape_sources: HashMap::new(),
            materials: MaterialTable::default(),
        }
    }

    /// Poses every skinned mesh at the current time (its bind-pose points replaced, its normals
    /// dropped so the renderer derives them from the posed surface). Returns what
    /// [`Self::bake_skinning`] needs.
    fn pose_skinned(&mut self, placements: &[Placement]) -> Vec<Skinned> {
        let mut sources: Vec<(usize, usd::Prim, Option<String>)> =
            self.mesh_sources.iter().map(|(i, (p, uv))| (*i, p.clone(), uv.clone())).collect();
        sources.sort_by_key(|(i, _, _)| *i);
        let mut out = Vec::new();
        for (mesh, prim, uv_set) in sources {
            let Some(skinning) = skel::Skinning::of(self.stage, &prim) else { continue };
            let Some(world) = placements.iter().find(|p| p.mesh == Some(mesh)).map(|p| p.world) else { continue };
            let Some(posed) = posed_mesh(&prim, &skinning, &world, uv_set.as_deref()) else { continue };
            if posed.positions.len() == self.scene.meshes[mesh].positions.len() {
                let mut local = Bounds::EMPTY;
                for p in posed.positions.iter() {
                    local.include_point(p.map(f64::from));
                }
                self.mesh_local_bounds[mesh] = local;
                self.scene.meshes[mesh].positions = posed.positions;
                self.scene.meshes[mesh].normals = RVec::new();
                out.push((mesh, prim, skinning, world, uv_set));
            }
        }
        out
    }

    /// Mesh position tracks for skinned meshes, at their animation's sample times.
    fn bake_skinning(&self, skinned: Vec<Skinned>) -> Vec<Track> {
        let mut budget = time::TRACK_BYTES_CAP;
        let mut tracks = Vec::new();
        for (mesh, prim, skinning, world, uv_set) in skinned {
            // Skinning is not linear in time (joint rotations slerp): posed at each whole time
            // code too, as pxr's UsdSkel.BakeSkinning does, the renderer's blend in between is close.
            let times = time::walk_times(&skinning.sample_times());
            if times.len() < 2 {
                continue;
            }
            let n = self.scene.meshes[mesh].positions.len();
            let mut values = Vec::with_capacity(times.len() * n * 3);
            for &t in &times {
                match time::at(Some(t), || posed_mesh(&prim, &skinning, &world, uv_set.as_deref())) {
                    Some(posed) if posed.positions.len() == n => values.extend(posed.positions.iter().flatten()),
                    _ => break,
                }
            }
            if values.len() == times.len() * n * 3 {
                push_track(&mut tracks, &mut budget, TrackTarget::MESH_POSITIONS, mesh, 0, false, &times, values);
            }
        }
        tracks
    }

    /// Walks the stage again at every time the start walk met (see [`super::time`]) and bakes
    /// what changed: instance transforms (linear), instance visibility (held), mesh positions
    /// and normals at each mesh's own sample times (linear, as USD interpolates arrays).
    fn bake_tracks(
        &mut self,
        root: &usd::Prim,
        t0: f64,
        recorded: &[f64],
        placements: &[Placement],
        slots: &[Option<(usize, usize)>],
        visibility: &VisibilityChains,
    ) -> Vec<Track> {
        let mut budget = time::TRACK_BYTES_CAP;
        let mut tracks = Vec::new();
        let times = time::walk_times(recorded);
        let cameras = self.scene.cameras.len();
        let lights = self.scene.lights.len();
        self.frozen = true;
        // Per placement: baked matrices so far (None while equal to the start pose).
        let mut matrices: Vec<Option<Vec<f32>>> = vec![None; placements.len()];
        let mut visible: Vec<Vec<f32>> = vec![Vec::new(); placements.len()];
        let animated_vis: Vec<bool> =
            placements.iter().map(|p| p.mask_id.is_some() || visibility.animated(&p.namespace_path)).collect();
        let mut walked = 0usize;
        // Per authored camera: its samples at each walked time, and whether any differs.
        let mut camera_values: Vec<Vec<f32>> = vec![Vec::new(); cameras];
        let mut camera_moves = vec![false; cameras];
        for &t in &times {
            let now = time::at(Some(t), || self.walk(root, xform::IDENTITY, true, 0));
            let posed_cameras: Vec<AuthoredCamera> = self.scene.cameras.drain(cameras..).collect();
            // Lights are read once, at the start; their motion is baked by `lights::bake_tracks`.
            self.scene.lights.truncate(lights);
            let aligned = now.len() == placements.len() && now.iter().zip(placements).all(|(a, b)| a.mesh == b.mesh);
            if !aligned {
                eprintln!(
                    "ovhost stage worker: the prims drawn at time {t} differ from the start; that time is not baked"
                );
                continue;
            }
            for (c, start) in self.scene.cameras.iter().enumerate() {
                let posed = posed_cameras.iter().find(|p| p.path == start.path).unwrap_or(start);
                let sample = posed.track_sample();
                camera_moves[c] |= sample != start.track_sample();
                camera_values[c].extend(sample);
            }
            for (i, (p, start)) in now.iter().zip(placements).enumerate() {
                if slots[i].is_none() {
                    continue;
                }
                match &mut matrices[i] {
                    Some(v) => v.extend(p.world.iter().map(|&x| x as f32)),
                    None if p.world != start.world => {
                        let mut v = Vec::with_capacity(times.len() * 16);
                        for _ in 0..walked {
                            v.extend(start.world.iter().map(|&x| x as f32));
                        }
                        v.extend(p.world.iter().map(|&x| x as f32));
                        matrices[i] = Some(v);
                    }
                    None => {}
                }
                if animated_vis[i] {
                    let shown = time::at(Some(t), || shown(self.stage, visibility, p));
                    visible[i].push(if shown { 1.0 } else { 0.0 });
                }
            }
            walked += 1;
        }
        self.frozen = false;
        // A walk that did not line up (the drawn prims changed) leaves the times and values
        // out of step: transforms and visibility are then not baked at all.
        let baked_times = times.clone();
        let complete = walked == times.len();
        for (i, slot) in slots.iter().enumerate() {
            let Some((mesh, instance)) = *slot else { continue };
            if complete && let Some(values) = matrices[i].take() {
                push_track(
                    &mut tracks,
                    &mut budget,
                    TrackTarget::INSTANCE_TRANSFORM,
                    mesh,
                    instance,
                    false,
                    &baked_times,
                    values,
                );
            }
            if complete && animated_vis[i] {
                let values = std::mem::take(&mut visible[i]);
                push_track(
                    &mut tracks,
                    &mut budget,
                    TrackTarget::INSTANCE_VISIBILITY,
                    mesh,
                    instance,
                    true,
                    &baked_times,
                    values,
                );
            }
        }
        let _ = t0; // the start pose is the walk at `t0`, already in the scene
        // Authored cameras whose transform or lens is sampled.
        for (c, values) in camera_values.into_iter().enumerate() {
            if complete && camera_moves[c] {
                push_track(&mut tracks, &mut budget, TrackTarget::CAMERA, c, 0, false, &baked_times, values);
            }
        }
        // Mesh points and normals, at their own sample times.
        let mut sources: Vec<(usize, usd::Prim, Option<String>)> =
            self.mesh_sources.iter().map(|(i, (p, uv))| (*i, p.clone(), uv.clone())).collect();
        sources.sort_by_key(|(i, _, _)| *i);
        for (mesh, prim, uv_set) in sources {
            if skel::Skinning::of(self.stage, &prim).is_some() {
                continue; // posed by `bake_skinning`
            }
            let attrs = animated::varying(&prim);
            if attrs.is_empty() {
                continue;
            }
            let sample_times = animated::sample_times(&attrs);
            let base = &self.scene.meshes[mesh];
            let mut samples = animated::MeshSamples::new(base);
            let mut consistent = true;
            // The points' samples are read once (each read at a time would resolve the whole
            // sample map again) and the topology once; each sample only swaps the points in.
            let point_samples = prim.attribute("points").time_samples().ok().flatten().unwrap_or_default();
            let base_topo = time::at(Some(sample_times[0]), || mesh::read_topology(&prim));
            for &t in &sample_times {
                let exact = point_samples
                    .binary_search_by(|(x, _)| x.total_cmp(&t))
                    .ok()
                    .and_then(|i| mesh::vec3s(point_samples[i].1.clone()));
                let topo = match (&base_topo, exact) {
                    (Some(base), Some(points)) => Some(mesh::Topology { points, ..base.clone() }),
                    _ => time::at(Some(t), || mesh::read_topology(&prim)),
                };
                let built =
                    time::at(Some(t), || topo.map(|topo| mesh::build_full(&prim, &topo, uv_set.as_deref()).mesh));
                if !built.is_some_and(|data| samples.push(t, &data)) {
                    consistent = false;
                    break;
                }
            }
            if !consistent {
                eprintln!(
                    "ovhost stage worker: {} changes topology over time; drawn at its start pose",
                    prim.path().as_str()
                );
                continue;
            }
            for (target, times, values) in samples.finish() {
                push_track(&mut tracks, &mut budget, target, mesh, 0, false, &times, values);
            }
        }
        // Gprims, curves, points and tet meshes whose own attributes are time-sampled.
        let mut shapes: Vec<(usize, usd::Prim, animated::Builder)> =
            self.shape_sources.iter().map(|(i, (p, b))| (*i, p.clone(), b.clone())).collect();
        shapes.sort_by_key(|(i, _, _)| *i);
        for (mesh, prim, builder) in shapes {
            match time::at(None, || animated::bake(&prim, &builder, &self.scene.meshes[mesh])) {
                Ok(baked) => {
                    for (target, times, values) in baked {
                        push_track(&mut tracks, &mut budget, target, mesh, 0, false, &times, values);
                    }
                }
                Err(why) => eprintln!("ovhost stage worker: {why}"),
            }
        }
        tracks
    }
    fn prim_id(&mut self, path: &str) -> u32 {
        if let Some(&id) = self.prim_ids.get(path) {
            return id;
        }
        self.scene.prim_paths.push(RString::from(path));
        let id = self.scene.prim_paths.len() as u32;
        self.prim_ids.insert(path.to_owned(), id);
        id
    }

    /// Depth-first walk under `start` (exclusive when `skip_start`), with `parent_world` the
    /// frame of `start`'s parent. `top_level` walks also collect cameras.
    fn walk(&mut self, start: &usd::Prim, parent_world: Mat4, top_level: bool, depth: usize) -> Vec<Placement> {
        let mut out = Vec::new();
        let mut stack: Vec<(usd::Prim, Mat4, Option<InstanceCtx>)> = Vec::new();
        if start.path().is_abs_root() {
            for child in start.children().unwrap_or_default().into_iter().rev() {
                stack.push((child, parent_world, None));
            }
        } else {
            stack.push((start.clone(), parent_world, None));
        }
        while let Some((prim, parent, inst)) = stack.pop() {
            if !self.is_drawable_subtree(&prim) {
                continue;
            }
            let local = xform::local_transform(&prim);
            let world = if local.resets_stack { local.matrix } else { xform::mul(&local.matrix, &parent) };
            let path = prim.path().as_str().to_owned();
            let type_name = prim.type_name().ok().flatten().map(|t| t.as_str().to_owned()).unwrap_or_default();
            match type_name.as_str() {
                "Mesh" => {
                    let key = InstanceCtx::key_of(inst.as_ref(), &path);
                    if let Some(mesh) = self.mesh_for(&prim, key) {
                        let pick_path = inst.as_ref().map_or_else(|| path.clone(), |c| c.instance_path.clone());
                        let local = self.mesh_local_bounds[mesh];
                        out.push(Placement {
                            mesh: Some(mesh),
                            local,
                            world,
                            pick_path,
                            namespace_path: path.clone(),
                            mask_id: None,
                        });
                    }
                }
                shape if gprims::is_implicit(shape) => {
                    // Equal shapes with the same material share one mesh, whether or not they are
                    // native instances.
                    let plan = self.materials.plan_mesh(self.stage, &prim);
                    // An animated shape gets its own mesh (its samples are baked into it).
                    let key = gprims::dedupe_key(&prim, shape)
                        .filter(|_| !animated::is_animated(&prim))
                        .unwrap_or_else(|| path.clone());
                    let key = format!("{key}#material{}#{}", plan.mesh_material, materials::double_sided(&prim));
                    let pick_path = inst.as_ref().map_or_else(|| path.clone(), |c| c.instance_path.clone());
                    let mesh = self.gprim_for(&prim, shape, key, plan.mesh_material);
                    if let Some(m) = mesh.filter(|_| !self.frozen) {
                        self.shape_sources
                            .entry(m)
                            .or_insert_with(|| (prim.clone(), animated::Builder::Gprim(shape.to_owned())));
                    }
                    // Bounds as pxr's BBoxCache reports them (authored extent wins), drawn or not.
                    let local = extents::implicit_extent(&prim, shape)
                        .or_else(|| mesh.map(|m| self.mesh_local_bounds[m]))
                        .unwrap_or(Bounds::EMPTY);
                    if mesh.is_some() || !local.is_empty() {
                        out.push(Placement {
                            mesh,
                            local,
                            world,
                            pick_path,
                            namespace_path: path.clone(),
                            mask_id: None,
                        });
                    }
                }
                shape if curves::is_curves(shape) || shape == "Points" => {
                    let key = InstanceCtx::key_of(inst.as_ref(), &path);
                    let builder = if shape == "Points" {
                        animated::Builder::Points
                    } else {
                        animated::Builder::Curves(shape.to_owned())
                    };
                    // Tubes and spheres are seen from both sides, as Storm draws curves and points.
                    let mesh = self.shape_mesh(key, &prim, builder, true);
                    // Bounds as pxr's extents (points padded by the widest half-width), drawn or not.
                    let local = curves::extent(&prim, shape == "Points")
                        .or_else(|| mesh.map(|m| self.mesh_local_bounds[m]))
                        .unwrap_or(Bounds::EMPTY);
                    let pick_path = inst.as_ref().map_or_else(|| path.clone(), |c| c.instance_path.clone());
                    if mesh.is_some() || !local.is_empty() {
                        out.push(Placement {
                            mesh,
                            local,
                            world,
                            pick_path,
                            namespace_path: path.clone(),
                            mask_id: None,
                        });
                    }
                }
                "TetMesh" => {
                    let key = InstanceCtx::key_of(inst.as_ref(), &path);
                    let double_sided = materials::double_sided(&prim);
                    let mesh = self.shape_mesh(key, &prim, animated::Builder::Tet, double_sided);
                    if let Some(mesh) = mesh {
                        let pick_path = inst.as_ref().map_or_else(|| path.clone(), |c| c.instance_path.clone());
                        let local = self.mesh_local_bounds[mesh];
                        out.push(Placement {
                            mesh: Some(mesh),
                            local,
                            world,
                            pick_path,
                            namespace_path: path.clone(),
                            mask_id: None,
                        });
                    }
                }
                "Camera" if top_level => self.add_camera(&prim, &path, world),
                light if top_level && lights::kind_of(light).is_some() => {
                    if let Some(kind) = lights::kind_of(light) {
                        let prim_id = self.prim_id(&path);
                        let light = lights::read(&prim, kind, world, prim_id, &mut self.materials);
                        self.scene.lights.push(light);
                    }
                    if let Some(local) = extents::implicit_extent(&prim, &type_name) {
                        out.push(Placement {
                            mesh: None,
                            local,
                            world,
                            pick_path: path.clone(),
                            namespace_path: path.clone(),
                            mask_id: None,
                        });
                    }
                }
                "PointInstancer" => {
                    if depth < MAX_INSTANCER_DEPTH {
                        let pick = inst.as_ref().map_or_else(|| path.clone(), |c| c.instance_path.clone());
                        out.extend(self.expand_instancer(&prim, world, &pick, depth));
                    }
                    continue; // prototypes are drawn only through the instancer
                }
                other => {
                    if let Some(local) = extents::implicit_extent(&prim, other) {
                        out.push(Placement {
                            mesh: None,
                            local,
                            world,
                            pick_path: path.clone(),
                            namespace_path: path.clone(),
                            mask_id: None,
                        });
                    }
                }
            }
            let inst = match inst {
                Some(ctx) => Some(ctx),
                None if prim.is_instance().unwrap_or(false) => {
                    let key = prim.prototype().ok().flatten().map_or_else(|| path.clone(), |p| p.as_str().to_owned());
                    Some(InstanceCtx { instance_path: path.clone(), prototype_key: key })
                }
                None => None,
            };
            for child in prim.children().unwrap_or_default().into_iter().rev() {
                stack.push((child, world, inst.clone()));
            }
        }
        out
    }

    /// Active, defined, concrete, visible, and of default/render purpose.
    fn is_drawable_subtree(&self, prim: &usd::Prim) -> bool {
        if !prim.is_active().unwrap_or(false)
            || !prim.is_defined().unwrap_or(false)
            || prim.is_abstract().unwrap_or(true)
        {
            return false;
        }
        let token = |name: &str| match super::time::get(&prim.attribute(name)) {
            Ok(Some(sdf::Value::Token(t))) => Some(t.as_str().to_owned()),
            _ => None,
        };
        let consult_visibility = self.ignore_visibility_of.as_deref() != Some(prim.path().as_str());
        // Time-sampled visibility is baked as a track (see `VisibilityChains`), not decided here.
        if consult_visibility
            && token("visibility").as_deref() == Some("invisible")
            && !time::varies(&prim.attribute("visibility"))
        {
            return false;
        }
        !matches!(token("purpose").as_deref(), Some("guide" | "proxy"))
    }

    /// The mesh index for a dedupe key, building it on first sight.
    fn mesh_for(&mut self, prim: &usd::Prim, key: String) -> Option<usize> {
        if let Some(&idx) = self.mesh_by_key.get(&key) {
            return Some(idx);
        }
        if self.frozen {
            return None;
        }
        let topo = mesh::read_topology(prim)?;
        let plan = self.materials.plan_mesh(self.stage, prim);
        let mut built = mesh::build_full(prim, &topo, plan.uv_set.as_deref());
        let subsets = plan.apply(&mut built.mesh.indices, &built.tri_faces);
        let idx = self.push_mesh(built.mesh, key, built.uvs, subsets, materials::double_sided(prim))?;
        self.mesh_sources.insert(idx, (prim.clone(), plan.uv_set.clone()));
        Some(idx)
    }

    /// The mesh of a shape `builder` tessellates (curves, points, a tet mesh): the one already
    /// made under `key`, else built now (unless frozen) and remembered with its source, so time
    /// samples of its attributes can rebuild it.
    fn shape_mesh(
        &mut self,
        key: String,
        prim: &usd::Prim,
        builder: animated::Builder,
        double_sided: bool,
    ) -> Option<usize> {
        if let Some(&idx) = self.mesh_by_key.get(&key) {
            return Some(idx);
        }
        if self.frozen {
            return None;
        }
        let mesh = builder.build(prim).and_then(|d| self.push_mesh(d, key, Vec::new(), RVec::new(), double_sided));
        if let Some(m) = mesh {
            self.shape_sources.insert(m, (prim.clone(), builder));
        }
        mesh
    }

    /// Adds a built mesh under a dedupe key; returns its index.
    fn push_mesh(
        &mut self,
        data: ovhost_plugin_api::MeshData,
        key: String,
        uvs: Vec<[f32; 2]>,
        subsets: RVec<FaceSubset>,
        double_sided: bool,
    ) -> Option<usize> {
        let mut local = Bounds::EMPTY;
        for p in data.positions.iter() {
            local.include_point(p.map(f64::from));
        }
        self.scene.meshes.push(data);
        self.scene.mesh_uvs.push(uvs.into());
        self.scene.mesh_subsets.push(subsets);
        self.scene.mesh_double_sided.push(double_sided);
        self.mesh_local_bounds.push(local);
        let idx = self.scene.meshes.len() - 1;
        self.mesh_by_key.insert(key, idx);
        Some(idx)
    }

    /// The mesh index of an implicit gprim for a dedupe key, tessellating it on first sight.
    fn gprim_for(&mut self, prim: &usd::Prim, type_name: &str, key: String, material: u32) -> Option<usize> {
        if let Some(&idx) = self.mesh_by_key.get(&key) {
            return Some(idx);
        }
        if self.frozen {
            return None;
        }
        let data = gprims::build(prim, type_name)?;
        let subsets: RVec<FaceSubset> = if material == 0 {
            RVec::new()
        } else {
            vec![FaceSubset { first_index: 0, index_count: data.indices.len() as u32, material }].into()
        };
        self.push_mesh(data, key, Vec::new(), subsets, materials::double_sided(prim))
    }

    fn add_camera(&mut self, prim: &usd::Prim, path: &str, world: Mat4) {
        let num = |name: &str, fallback: f64| {
            super::time::get(&prim.attribute(name))
                .ok()
                .flatten()
                .and_then(|v| xform::numbers(&v))
                .and_then(|n| n.first().copied())
                .unwrap_or(fallback)
        };
        // Schema fallbacks (UsdGeomCamera): focalLength 50, verticalAperture 15.2908, clippingRange (1, 1e6).
        let focal = num("focalLength", 50.0);
        let aperture = num("verticalAperture", 15.2908);
        let (near, far) = match super::time::get(&prim.attribute("clippingRange")) {
            Ok(Some(sdf::Value::Vec2f(v))) => (f64::from(v.x), f64::from(v.y)),
            Ok(Some(sdf::Value::Vec2d(v))) => (v.x, v.y),
            _ => (1.0, 1.0e6),
        };
        let fov_y_deg = if focal > 0.0 { (2.0 * (aperture / (2.0 * focal)).atan()).to_degrees() } else { 60.0 };
        let h_aperture = num("horizontalAperture", 20.955);
        let shift = |offset: &str, size: f64| if size > 0.0 { num(offset, 0.0) / size } else { 0.0 };
        let orthographic = matches!(
            super::time::get(&prim.attribute("projection")),
            Ok(Some(sdf::Value::Token(t))) if t.as_str() == "orthographic"
        );
        self.scene.cameras.push(AuthoredCamera {
            path: RString::from(path),
            world_transform: world,
            fov_y_deg,
            near,
            far,
            projection: if orthographic {
                ovhost_plugin_api::Projection::ORTHOGRAPHIC
            } else {
                ovhost_plugin_api::Projection::PERSPECTIVE
            },
            // Apertures are in tenths of a stage unit (GfCamera's aperture unit).
            ortho_height: aperture * 0.1,
            lens_shift: [shift("horizontalApertureOffset", h_aperture), shift("verticalApertureOffset", aperture)],
        });
    }

    /// Places every prototype mesh once per instance: `rel · S·R·T(instance) · instancer_world`.
    fn expand_instancer(&mut self, prim: &usd::Prim, world: Mat4, pick_path: &str, depth: usize) -> Vec<Placement> {
        let get = |name: &str| super::time::get(&prim.attribute(name)).ok().flatten();
        let Some(proto_indices) = mesh::ints(get("protoIndices")) else { return Vec::new() };
        let positions = get("positions").and_then(mesh::vec3s).unwrap_or_default();
        let scales = get("scales").and_then(mesh::vec3s).unwrap_or_default();
        let orientations = get("orientations").or_else(|| get("orientationsf")).map(quats).unwrap_or_default();
        let targets = prim.relationship("prototypes").targets().unwrap_or_default();
        let mut protos: Vec<Vec<(Option<usize>, Bounds, Mat4)>> = Vec::with_capacity(targets.len());
        for target in &targets {
            let key = target.as_str().to_owned();
            if !self.prototype_cache.contains_key(&key) {
                let proto = self.stage.prim(target.clone());
                let placements = if proto.is_valid().unwrap_or(false) {
                    self.walk(&proto, xform::IDENTITY, false, depth + 1)
                } else {
                    Vec::new()
                };
                self.prototype_cache.insert(key.clone(), placements);
            }
            let rel = self
                .prototype_cache
                .get(&key)
                .map(|v| v.iter().map(|p| (p.mesh, p.local, p.world)).collect())
                .unwrap_or_default();
            protos.push(rel);
        }
        // A time-sampled mask places every instance and bakes each one's visibility.
        let mask_varies = time::varies(&prim.attribute("invisibleIds"));
        let invisible: Vec<i64> = if mask_varies { Vec::new() } else { invisible_ids(prim) };
        let ids: Option<Vec<i64>> = match get("ids") {
            Some(sdf::Value::Int64Vec(v)) => Some(v),
            _ => None,
        };
        let namespace_path = prim.path().as_str().to_owned();
        let mut out = Vec::new();
        for (i, &proto) in proto_indices.iter().enumerate() {
            let id = ids.as_ref().and_then(|v| v.get(i).copied()).unwrap_or(i as i64);
            if invisible.contains(&id) {
                continue;
            }
            let Some(rel) = usize::try_from(proto).ok().and_then(|p| protos.get(p)) else { continue };
            let s = scales.get(i).map_or([1.0; 3], |s| s.map(f64::from));
            let r = orientations.get(i).map_or(xform::IDENTITY, |q| xform::quaternion(*q));
            let t = positions.get(i).map_or([0.0; 3], |p| p.map(f64::from));
            let inst = xform::mul(&xform::mul(&xform::scale(s), &r), &xform::translation(t));
            let inst_world = xform::mul(&inst, &world);
            for (mesh, local, rel_world) in rel {
                out.push(Placement {
                    mesh: *mesh,
                    local: *local,
                    world: xform::mul(rel_world, &inst_world),
                    pick_path: pick_path.to_owned(),
                    namespace_path: namespace_path.clone(),
                    mask_id: mask_varies.then_some(id),
                });
            }
        }
        out
    }
}

/// A PointInstancer's `invisibleIds` at the current time.
fn invisible_ids(prim: &usd::Prim) -> Vec<i64> {
    match time::get(&prim.attribute("invisibleIds")) {
        Ok(Some(sdf::Value::Int64Vec(v))) => v,
        Ok(Some(sdf::Value::IntVec(v))) => v.into_iter().map(i64::from).collect(),
        _ => Vec::new(),
    }
}

/// Whether placement `p` is shown at the current time: its visibility chain, and for an instance
/// of a PointInstancer with a time-sampled mask, that mask.
fn shown(stage: &usd::Stage, visibility: &VisibilityChains, p: &Placement) -> bool {
    visibility.visible(stage, &p.namespace_path)
        && p.mask_id.is_none_or(|id| {
            prim_at(stage, &p.namespace_path).is_none_or(|instancer| !invisible_ids(&instancer).contains(&id))
        })
}

/// The entries of `v` whose `keep` flag is set.
fn kept<T>(v: Vec<T>, keep: &[bool]) -> Vec<T> {
    v.into_iter().zip(keep).filter(|(_, k)| **k).map(|(x, _)| x).collect()
}

/// Quaternion arrays as `(w, x, y, z)`.
fn quats(value: sdf::Value) -> Vec<[f64; 4]> {
    use sdf::Value as V;
    match value {
        V::QuathVec(v) => v.iter().map(|q| [q.w, q.x, q.y, q.z].map(|c| f64::from(c.to_f32()))).collect(),
        V::QuatfVec(v) => v.iter().map(|q| [q.w, q.x, q.y, q.z].map(f64::from)).collect(),
        V::QuatdVec(v) => v.iter().map(|q| [q.w, q.x, q.y, q.z]).collect(),
        _ => Vec::new(),
    }
}

/// World bounds of the subtree at `prim`, as pxr's `BBoxCache::ComputeWorldBound(prim)` reports
/// them: the visibility of `prim` and its ancestors is ignored (descendants' own is honored).
/// When nothing on the ancestor chain is invisible this is the union of the open stage's drawn
/// placements under `prim`; otherwise the subtree is walked again.
pub fn subtree_bounds(stage: &usd::Stage, prim: &usd::Prim, drawn: &[(String, Bounds)]) -> Bounds {
    let chain: Vec<usd::Prim> = prim.path().ancestors().filter(|p| !p.is_abs_root()).map(|p| stage.prim(p)).collect();
    let hidden = |p: &usd::Prim| matches!(super::time::get(&p.attribute("visibility")), Ok(Some(sdf::Value::Token(t))) if t.as_str() == "invisible");
    if !chain.iter().any(hidden) {
        let path = prim.path().as_str();
        let prefix = format!("{path}/");
        return drawn
            .iter()
            .filter(|(p, _)| p == path || p.starts_with(&prefix))
            .fold(Bounds::EMPTY, |acc, (_, b)| acc.union(b));
    }
    // Parent frame: ancestors' local transforms from the root down, honoring resets.
    let mut parent_world = xform::IDENTITY;
    for ancestor in chain.iter().rev().filter(|a| a.path() != prim.path()) {
        let local = xform::local_transform(ancestor);
        parent_world = if local.resets_stack { local.matrix } else { xform::mul(&local.matrix, &parent_world) };
    }
    let mut ex = Extractor::new(stage, Some(prim.path().as_str().to_owned()));
    ex.walk(prim, parent_world, false, 0)
        .iter()
        .fold(Bounds::EMPTY, |acc, p| acc.union(&transform_bounds(&p.local, &p.world)))
}

/// The mesh `prim` rebuilt with its points skinned at the current time.
fn posed_mesh(
    prim: &usd::Prim,
    skinning: &skel::Skinning,
    world: &xform::Mat4,
    uv_set: Option<&str>,
) -> Option<ovhost_plugin_api::MeshData> {
    let mut topo = mesh::read_topology(prim)?;
    topo.points = skinning.pose(&topo.points, world);
    Some(mesh::build_full(prim, &topo, uv_set).mesh)
}

/// Appends a track unless the bake budget is spent (then the prim stays at its start pose).
#[allow(clippy::too_many_arguments)]
fn push_track(
    tracks: &mut Vec<Track>,
    budget: &mut usize,
    target: TrackTarget,
    mesh: usize,
    instance: usize,
    held: bool,
    times: &[f64],
    values: Vec<f32>,
) {
    let bytes = values.len() * 4 + times.len() * 8;
    if bytes > *budget {
        eprintln!(
            "ovhost stage worker: the baked animation passed {} bytes; a track was left out",
            time::TRACK_BYTES_CAP
        );
        return;
    }
    *budget -= bytes;
    tracks.push(Track {
        target,
        mesh: mesh as u32,
        instance: instance as u32,
        held,
        times: times.to_vec().into(),
        values: values.into(),
    });
}

/// World AABB of a local box: its 8 corners transformed (what pxr's BBoxCache reports).
pub fn transform_bounds(local: &Bounds, world: &Mat4) -> Bounds {
    let mut out = Bounds::EMPTY;
    if local.is_empty() {
        return out;
    }
    for corner in 0..8 {
        let p = std::array::from_fn(|i| if corner >> i & 1 == 0 { local.min[i] } else { local.max[i] });
        out.include_point(xform::transform_point(world, p));
    }
    out
}

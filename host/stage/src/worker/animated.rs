//! Time-sampled geometry of the prims the worker tessellates itself (implicit gprims, curves,
//! points, tet meshes) and time-sampled colours of every drawn mesh: rebuilt at each sample time
//! and baked as mesh tracks (positions, normals, colours) beside the transform and points tracks
//! of [`super::time`].
//!
//! What varies is found from the prim's own attributes: any authored attribute with more than one
//! sample that is not a transform op, `visibility` or `purpose` (those are baked per instance).
//! So `radius`/`size`/`height` of a gprim, `points`/`widths`/`curveVertexCounts` of curves and
//! points, the tet mesh's points and `primvars:displayColor` of any of them all animate. A rebuild
//! whose vertex count or triangles differ from the start (a topology change) is not baked: the prim
//! stays at its start shape and the worker says so on stderr.

use openusd::usd;
use ovhost_plugin_api::{MeshData, TrackTarget};

use super::{curves, gprims, tetmesh, time};

/// What builds a non-`Mesh` drawn prim (see `extract.rs`).
#[derive(Clone)]
pub enum Builder {
    Gprim(String),
    Curves(String),
    Points,
    Tet,
}

impl Builder {
    /// Builds the prim at the current sample time.
    pub fn build(&self, prim: &usd::Prim) -> Option<MeshData> {
        match self {
            Self::Gprim(shape) => gprims::build(prim, shape),
            Self::Curves(shape) => curves::build_curves(prim, shape),
            Self::Points => curves::build_points(prim),
            Self::Tet => tetmesh::build(prim),
        }
    }
}

/// Whether an attribute name is baked elsewhere (per instance) rather than into the mesh.
fn per_instance(name: &str) -> bool {
    name.starts_with("xformOp:") || matches!(name, "xformOpOrder" | "visibility" | "purpose" | "proxyPrim")
}

/// The prim's attributes that shape its mesh and have more than one sample.
pub fn varying(prim: &usd::Prim) -> Vec<usd::Attribute> {
    prim.attributes()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| {
            let name = a.path().property_suffix().trim_start_matches('.');
            !per_instance(name) && time::varies(a)
        })
        .collect()
}

/// Whether anything of the prim's mesh changes over time.
pub fn is_animated(prim: &usd::Prim) -> bool {
    !varying(prim).is_empty()
}

/// The union of the sample times of `attrs`, ascending.
pub fn sample_times(attrs: &[usd::Attribute]) -> Vec<f64> {
    let mut times: Vec<f64> = attrs.iter().flat_map(time::sample_times).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    times
}

/// A baked mesh track: target, times, values.
pub type MeshTrack = (TrackTarget, Vec<f64>, Vec<f32>);

/// Collects a mesh rebuilt at each sample time into positions, normals and colour tracks against
/// the start mesh `base` (a track only for what differs from it at some time).
pub struct MeshSamples<'b> {
    base: &'b MeshData,
    times: Vec<f64>,
    positions: Vec<f32>,
    normals: Vec<f32>,
    colors: Vec<f32>,
    positions_vary: bool,
    normals_vary: bool,
    colors_vary: bool,
}

impl<'b> MeshSamples<'b> {
    pub fn new(base: &'b MeshData) -> Self {
        Self {
            base,
            times: Vec::new(),
            positions: Vec::new(),
            normals: Vec::new(),
            colors: Vec::new(),
            positions_vary: false,
            normals_vary: false,
            colors_vary: false,
        }
    }

    /// Adds the mesh built at `t`; false (nothing added) when its topology differs from the
    /// start's: another vertex count, other triangles, or another number of normals or colours.
    pub fn push(&mut self, t: f64, data: &MeshData) -> bool {
        let base = self.base;
        if data.positions.len() != base.positions.len()
            || data.indices != base.indices
            || data.normals.len() != base.normals.len()
            || data.colors.len() != base.colors.len()
        {
            return false;
        }
        self.times.push(t);
        self.positions_vary |= data.positions != base.positions;
        self.normals_vary |= data.normals != base.normals;
        self.colors_vary |= data.colors != base.colors;
        self.positions.extend(data.positions.iter().flatten());
        self.normals.extend(data.normals.iter().flatten());
        self.colors.extend(data.colors.iter().flatten());
        true
    }

    /// The tracks of what varied (positions and normals go together: a moved surface needs both).
    pub fn finish(self) -> Vec<MeshTrack> {
        let mut out = Vec::new();
        if self.times.len() < 2 {
            return out;
        }
        if self.positions_vary || self.normals_vary {
            out.push((TrackTarget::MESH_POSITIONS, self.times.clone(), self.positions));
            if !self.base.normals.is_empty() {
                out.push((TrackTarget::MESH_NORMALS, self.times.clone(), self.normals));
            }
        }
        if self.colors_vary && !self.base.colors.is_empty() {
            out.push((TrackTarget::MESH_COLORS, self.times, self.colors));
        }
        out
    }
}

/// Rebuilds `prim` at each sample time of its varying attributes and returns the tracks of what
/// changed; `Err` names the prim when its topology changes over time.
pub fn bake(prim: &usd::Prim, builder: &Builder, base: &MeshData) -> Result<Vec<MeshTrack>, String> {
    let attrs = varying(prim);
    if attrs.is_empty() {
        return Ok(Vec::new());
    }
    let mut samples = MeshSamples::new(base);
    for t in sample_times(&attrs) {
        let built = time::at(Some(t), || builder.build(prim));
        if !built.is_some_and(|data| samples.push(t, &data)) {
            return Err(format!("{} changes topology over time; drawn at its start shape", prim.path().as_str()));
        }
    }
    Ok(samples.finish())
}

//! What a renderer is given when a stage is opened: stage facts plus extracted render geometry.
//!
//! The host's stage service opens USD in a separate process and hands renderers a [`StageScene`]
//! by reference. Renderers that read USD themselves (e.g. ovrtx) use `resolved_path` and may ignore
//! the geometry.

use abi_stable::{
    StableAbi,
    std_types::{RString, RVec},
};

/// The stage's up axis (USD `upAxis` metadata).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct UpAxis(pub u8);

impl UpAxis {
    pub const Y: Self = Self(b'Y');
    pub const Z: Self = Self(b'Z');

    /// The world-space up vector.
    pub fn vector(self) -> [f64; 3] {
        if self == Self::Z { [0.0, 0.0, 1.0] } else { [0.0, 1.0, 0.0] }
    }

    pub fn as_str(self) -> &'static str {
        if self == Self::Z { "Z" } else { "Y" }
    }

    /// Parses `"Y"`/`"Z"` (any case); anything else is Y, as USD's own fallback.
    pub fn parse(s: &str) -> Self {
        if s.eq_ignore_ascii_case("z") { Self::Z } else { Self::Y }
    }
}

/// An axis-aligned box. Empty when any `min` component exceeds its `max`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Debug)]
pub struct Bounds {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl Bounds {
    pub const EMPTY: Self = Self { min: [f64::INFINITY; 3], max: [f64::NEG_INFINITY; 3] };

    pub fn is_empty(&self) -> bool {
        // NaN bounds count as empty too, hence `partial_cmp` rather than `>`.
        self.min.iter().zip(&self.max).any(|(lo, hi)| lo.partial_cmp(hi).is_none_or(|o| o.is_gt()))
    }

    pub fn center(&self) -> [f64; 3] {
        std::array::from_fn(|i| 0.5 * (self.min[i] + self.max[i]))
    }

    pub fn size(&self) -> [f64; 3] {
        std::array::from_fn(|i| (self.max[i] - self.min[i]).max(0.0))
    }

    pub fn include_point(&mut self, p: [f64; 3]) {
        for ((lo, hi), v) in self.min.iter_mut().zip(self.max.iter_mut()).zip(p) {
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
    }

    pub fn union(&self, other: &Bounds) -> Bounds {
        if other.is_empty() {
            return *self;
        }
        if self.is_empty() {
            return *other;
        }
        Bounds {
            min: std::array::from_fn(|i| self.min[i].min(other.min[i])),
            max: std::array::from_fn(|i| self.max[i].max(other.max[i])),
        }
    }
}

/// One placement of a mesh in the world.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct MeshInstance {
    /// 1-based index into [`StageScene::prim_paths`]; 0 means "no prim" (not pickable).
    pub prim_id: u32,
    /// Local-to-world, row-major, USD row-vector convention (translation in the last row).
    pub world_transform: [f64; 16],
}

/// A triangulated mesh with flattened per-vertex attributes, placed by one or more instances.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct MeshData {
    /// Local-space positions.
    pub positions: RVec<[f32; 3]>,
    /// Per-vertex normals (same length as `positions`), or empty: the renderer derives faceted ones.
    pub normals: RVec<[f32; 3]>,
    /// Per-vertex linear RGB (same length as `positions`), or exactly one constant color, or empty.
    pub colors: RVec<[f32; 3]>,
    /// Triangle list into `positions`.
    pub indices: RVec<u32>,
    /// Where the mesh is drawn; the same geometry may be drawn many times (instancing).
    pub instances: RVec<MeshInstance>,
}

impl MeshData {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }
}

/// An authored USD camera, for "switch to this camera".
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct AuthoredCamera {
    pub path: RString,
    pub world_transform: [f64; 16],
    /// Vertical field of view in degrees derived from focal length and aperture.
    pub fov_y_deg: f64,
    pub near: f64,
    pub far: f64,
}

/// A loaded stage as renderers see it.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct StageScene {
    /// The URL the client asked for (relative to the asset root).
    pub url: RString,
    /// Absolute file path on the host (already checked to be inside the asset root).
    pub resolved_path: RString,
    /// Bumped by every load; anything tagged with an older generation is stale.
    pub generation: u64,
    pub root_prim_path: RString,
    pub up_axis: UpAxis,
    pub meters_per_unit: f64,
    /// World bounds of renderable geometry (`default` + `render` purposes, visible prims).
    pub bounds: Bounds,
    /// Prim path table; `prim_id` N refers to `prim_paths[N - 1]`.
    pub prim_paths: RVec<RString>,
    pub meshes: RVec<MeshData>,
    pub cameras: RVec<AuthoredCamera>,
}

impl StageScene {
    /// An empty scene (no geometry), e.g. for renderers that draw no stage.
    pub fn empty() -> Self {
        Self {
            url: RString::new(),
            resolved_path: RString::new(),
            generation: 0,
            root_prim_path: RString::new(),
            up_axis: UpAxis::Y,
            meters_per_unit: 0.01,
            bounds: Bounds::EMPTY,
            prim_paths: RVec::new(),
            meshes: RVec::new(),
            cameras: RVec::new(),
        }
    }

    /// The path of a 1-based prim id.
    pub fn prim_path(&self, prim_id: u32) -> Option<&str> {
        let index = (prim_id as usize).checked_sub(1)?;
        self.prim_paths.get(index).map(|p| p.as_str())
    }

    pub fn triangle_count(&self) -> usize {
        self.meshes.iter().map(|m| m.triangle_count() * m.instances.len()).sum()
    }
}

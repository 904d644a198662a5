//! What a renderer is given when a stage is opened: a scene handle whose **sections** can be
//! appended to in later 0.2.x versions without breaking built renderers.
//!
//! The host's stage service opens USD in a separate process and hands renderers a [`SceneRef`]
//! borrowed for the duration of [`crate::RendererBackend::open_stage`]: stage facts, the prim
//! table, meshes, authored cameras, and the sections the next capabilities fill (texture
//! coordinates, face subsets with materials, material and texture tables, lights, curves, points,
//! the time range and time-varying tracks). Every section is a method of the [`Scene`] accessor
//! trait: a renderer reads the sections it understands and ignores the rest; a section a host
//! does not provide reads as empty (its default body), so a renderer built against a newer 0.2.x
//! still opens stages on an older host. Sections are slices into the host's memory: nothing is
//! copied to cross the boundary; a renderer copies (uploads) once at open.
//!
//! Renderers that read USD themselves (e.g. ovrtx) use [`StageFacts::resolved_path`] and may
//! ignore the geometry. [`StageScene`] is the plain Rust container the host (and renderer tests)
//! fill; it implements [`Scene`] and never crosses the boundary itself.

use abi_stable::{
    StableAbi, sabi_trait,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RSlice, RString, RVec},
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

/// One placement of a mesh, curve set or point set in the world.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct MeshInstance {
    /// 1-based index into [`Scene::prim_paths`]; 0 means "no prim" (not pickable).
    pub prim_id: u32,
    /// Local-to-world, row-major, USD row-vector convention (translation in the last row).
    pub world_transform: [f64; 16],
}

/// A triangulated mesh with flattened per-vertex attributes, placed by one or more instances.
/// Texture coordinates and face subsets are their own sections ([`Scene::mesh_uvs`],
/// [`Scene::mesh_subsets`]), indexed like [`Scene::meshes`].
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

/// An authored USD camera (`UsdGeomCamera`), for "look through this camera".
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct AuthoredCamera {
    pub path: RString,
    pub world_transform: [f64; 16],
    /// Vertical field of view in degrees derived from focal length and aperture.
    pub fov_y_deg: f64,
    pub near: f64,
    pub far: f64,
    pub projection: crate::Projection,
    /// Vertical aperture in stage units for orthographic cameras.
    pub ortho_height: f64,
    /// Aperture offsets over apertures (see [`crate::CameraView::lens_shift`]).
    pub lens_shift: [f64; 2],
}

impl AuthoredCamera {
    /// Since 0.2.2. This camera as one sample of a [`TrackTarget::CAMERA`] track.
    pub fn track_sample(&self) -> [f32; CAMERA_TRACK_STRIDE] {
        let mut out = [0.0f32; CAMERA_TRACK_STRIDE];
        for (o, m) in out.iter_mut().zip(self.world_transform) {
            *o = m as f32;
        }
        let rest = [self.fov_y_deg, self.near, self.far, self.ortho_height, self.lens_shift[0], self.lens_shift[1]];
        for (o, v) in out[16..].iter_mut().zip(rest) {
            *o = v as f32;
        }
        out
    }

    /// Since 0.2.2. This camera posed by a [`TrackTarget::CAMERA`] sample (`values`:
    /// [`CAMERA_TRACK_STRIDE`] floats; a short slice leaves the camera as it is).
    pub fn with_track_sample(&self, values: &[f32]) -> Self {
        let mut out = self.clone();
        if values.len() >= CAMERA_TRACK_STRIDE {
            out.world_transform = std::array::from_fn(|i| f64::from(values[i]));
            let v = |i: usize| f64::from(values[16 + i]);
            (out.fov_y_deg, out.near, out.far, out.ortho_height) = (v(0), v(1), v(2), v(3));
            out.lens_shift = [v(4), v(5)];
        }
        out
    }
}

/// Facts about the open stage.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct StageFacts {
    /// The URL the client asked for (relative to the asset root).
    pub url: RString,
    /// Absolute file path on the host (already checked to be inside the asset root).
    pub resolved_path: RString,
    /// Bumped by every load; anything tagged with an older generation is stale.
    pub generation: u64,
    pub root_prim_path: RString,
    pub up_axis: UpAxis,
    pub meters_per_unit: f64,
    /// World bounds of drawn geometry (`default` + `render` purposes, visible prims).
    pub bounds: Bounds,
}

/// A contiguous run of a mesh's triangle list drawn with one material (a `GeomSubset` of family
/// `materialBind`, or the whole mesh).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaceSubset {
    /// First index into [`MeshData::indices`] (a multiple of 3).
    pub first_index: u32,
    pub index_count: u32,
    /// 1-based index into [`Scene::materials`]; 0 = no bound material (displayColor).
    pub material: u32,
}

/// One input of a material: a constant, or a texture lookup (UsdPreviewSurface's `UsdUVTexture`
/// network), keyed by the input's USD name (`diffuseColor`, `roughness`, `normal`, ...). Keyed by
/// name so new inputs need no layout change.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct MaterialInput {
    pub name: RString,
    /// The constant value (or the texture's fallback), up to 4 components.
    pub value: [f32; 4],
    /// 1-based index into [`Scene::textures`]; 0 = constant.
    pub texture: u32,
    /// Which texture output feeds the input: `r`, `g`, `b`, `a`, `rgb`, `rgba`.
    pub channels: RString,
    /// `UsdUVTexture` scale and bias, applied to the sampled value.
    pub scale: [f32; 4],
    pub bias: [f32; 4],
    /// The primvar the texture coordinates come from (`st` by default).
    pub uv_set: RString,
    /// `UsdTransform2d`: scale x/y, rotation degrees, translation x/y.
    pub uv_transform: [f32; 5],
}

/// A material's surface as the renderer may draw it.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Material {
    /// The `UsdShadeMaterial` prim path.
    pub path: RString,
    /// The surface shader's id (`UsdPreviewSurface`), or what it fell back from.
    pub surface: RString,
    pub inputs: RVec<MaterialInput>,
}

/// Texture colour space code (`UsdUVTexture.sourceColorSpace`).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ColorSpace(pub u32);

impl ColorSpace {
    pub const AUTO: Self = Self(0);
    pub const RAW: Self = Self(1);
    pub const SRGB: Self = Self(2);
}

/// Texture wrap code (`UsdUVTexture.wrapS/wrapT`).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct WrapMode(pub u32);

impl WrapMode {
    pub const USE_METADATA: Self = Self(0);
    pub const BLACK: Self = Self(1);
    pub const CLAMP: Self = Self(2);
    pub const REPEAT: Self = Self(3);
    pub const MIRROR: Self = Self(4);
}

/// A texture, decoded by the host (inside the asset root) to 8-bit RGBA.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Texture {
    /// The asset path as authored, and where it resolved (inside the asset root, or a package).
    pub asset_path: RString,
    pub resolved_path: RString,
    pub color_space: ColorSpace,
    pub wrap_s: WrapMode,
    pub wrap_t: WrapMode,
    pub width: u32,
    pub height: u32,
    /// `width × height × 4` bytes, rows top to bottom; empty when the file could not be decoded.
    pub rgba8: RVec<u8>,
}

/// Light kind code (UsdLux).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct LightKind(pub u32);

impl LightKind {
    pub const DISTANT: Self = Self(1);
    pub const SPHERE: Self = Self(2);
    pub const RECT: Self = Self(3);
    pub const DISK: Self = Self(4);
    pub const CYLINDER: Self = Self(5);
    pub const DOME: Self = Self(6);
}

/// A UsdLux light in world space.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Light {
    pub prim_id: u32,
    pub kind: LightKind,
    pub world_transform: [f64; 16],
    /// Linear RGB colour, already multiplied by the colour temperature when enabled.
    pub color: [f32; 3],
    /// `intensity × 2^exposure`.
    pub intensity: f32,
    /// Sphere/disk/cylinder radius, rect width/height, cylinder length, distant angle (degrees).
    pub radius: f32,
    pub width: f32,
    pub height: f32,
    pub length: f32,
    pub angle_deg: f32,
    pub normalize: bool,
    /// `ShapingAPI` cone angle (degrees; 180 = none) and softness.
    pub cone_angle_deg: f32,
    pub cone_softness: f32,
    /// 1-based index into [`Scene::textures`] (dome light texture); 0 = none.
    pub texture: u32,
}

/// `BasisCurves` basis code.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct CurveBasis(pub u32);

impl CurveBasis {
    pub const LINEAR: Self = Self(0);
    pub const BEZIER: Self = Self(1);
    pub const BSPLINE: Self = Self(2);
    pub const CATMULL_ROM: Self = Self(3);
}

/// A set of curves (`BasisCurves`, `NurbsCurves` approximated) in local space.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct Curves {
    pub basis: CurveBasis,
    pub periodic: bool,
    pub points: RVec<[f32; 3]>,
    pub vertex_counts: RVec<u32>,
    /// Widths: one (constant), one per curve, or one per point.
    pub widths: RVec<f32>,
    /// Colours: one (constant), or one per point.
    pub colors: RVec<[f32; 3]>,
    pub instances: RVec<MeshInstance>,
}

/// A point set (`Points`) in local space.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct PointSet {
    pub positions: RVec<[f32; 3]>,
    /// Widths: one (constant) or one per point.
    pub widths: RVec<f32>,
    pub colors: RVec<[f32; 3]>,
    pub instances: RVec<MeshInstance>,
}

/// The stage's time metadata.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq)]
pub struct TimeRange {
    pub start_time_code: f64,
    pub end_time_code: f64,
    pub time_codes_per_second: f64,
}

/// What a [`Track`] animates: a code set, append-only.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TrackTarget(pub u32);

impl TrackTarget {
    /// An instance's local-to-world matrix (`mesh`, `instance`); values: 16 per sample, row-major.
    pub const INSTANCE_TRANSFORM: Self = Self(1);
    /// A mesh's positions; values: 3 × vertex count.
    pub const MESH_POSITIONS: Self = Self(2);
    /// A mesh's normals; values: 3 × vertex count.
    pub const MESH_NORMALS: Self = Self(3);
    /// A mesh's colours; values: 3 × (vertex count or 1).
    pub const MESH_COLORS: Self = Self(4);
    /// An instance's visibility; values: 1 (0 invisible, 1 visible).
    pub const INSTANCE_VISIBILITY: Self = Self(5);
    /// Since 0.2.2. An authored camera over time (`mesh`: index into [`Scene::cameras`],
    /// `instance` 0); values: [`CAMERA_TRACK_STRIDE`] per sample: the world transform (16,
    /// row-major as [`AuthoredCamera::world_transform`]), then `fov_y_deg`, `near`, `far`,
    /// `ortho_height`, `lens_shift[0]`, `lens_shift[1]`.
    pub const CAMERA: Self = Self(6);
    /// Since 0.2.2: a light's local-to-world matrix (`mesh` = index into [`Scene::lights`]);
    /// values: 16 per sample, row-major like [`Light::world_transform`].
    pub const LIGHT_TRANSFORM: Self = Self(7);
    /// Since 0.2.2: a light's visibility (`mesh` = index into [`Scene::lights`]); values: 1.
    pub const LIGHT_VISIBILITY: Self = Self(8);
}

/// Since 0.2.2. Floats per sample of a [`TrackTarget::CAMERA`] track.
pub const CAMERA_TRACK_STRIDE: usize = 22;

/// Time-varying data baked at load: one attribute of one mesh (or instance) sampled at
/// `times` (time codes, ascending), `values.len() / times.len()` floats per sample.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Track {
    pub target: TrackTarget,
    /// Index into [`Scene::meshes`].
    pub mesh: u32,
    /// Index into that mesh's instances (instance targets), else 0.
    pub instance: u32,
    /// Held (no interpolation between samples) rather than linear.
    pub held: bool,
    pub times: RVec<f64>,
    pub values: RVec<f32>,
}

impl Track {
    /// Floats per sample (0 when the track is malformed).
    pub fn stride(&self) -> usize {
        if self.times.is_empty() || !self.values.len().is_multiple_of(self.times.len()) {
            0
        } else {
            self.values.len() / self.times.len()
        }
    }

    /// Writes the value at time code `t` into `out` (`stride()` floats) as USD resolves samples:
    /// clamped to the first/last sample outside them, held or linear between them. Returns false
    /// (leaving `out` alone) for a malformed track, a non-finite `t` or a short `out`.
    pub fn sample_into(&self, t: f64, out: &mut [f32]) -> bool {
        let stride = self.stride();
        if stride == 0 || out.len() < stride || !t.is_finite() {
            return false;
        }
        let times = self.times.as_slice();
        let value = |i: usize| &self.values[i * stride..(i + 1) * stride];
        let upper = times.partition_point(|&x| x <= t);
        if upper == 0 {
            out[..stride].copy_from_slice(value(0));
        } else if upper == times.len() || self.held {
            out[..stride].copy_from_slice(value(upper - 1));
        } else {
            let (t0, t1) = (times[upper - 1], times[upper]);
            let a = if t1 > t0 { ((t - t0) / (t1 - t0)) as f32 } else { 0.0 };
            for ((o, x), y) in out.iter_mut().zip(value(upper - 1)).zip(value(upper)) {
                *o = x + (y - x) * a;
            }
        }
        true
    }
}

/// The scene as renderers read it: one method per section. Implemented by the host.
///
/// # Evolution
/// New sections are appended after the last one, each with a default body returning an empty
/// section, so a renderer that calls a section an older host lacks reads it as empty, and a
/// renderer that ignores a section keeps working.
#[sabi_trait]
pub trait Scene {
    fn facts(&self) -> StageFacts;

    /// Prim path table; `prim_id` N refers to `prim_paths()[N - 1]`.
    fn prim_paths(&self) -> RSlice<'_, RString>;

    fn meshes(&self) -> RSlice<'_, MeshData>;

    fn cameras(&self) -> RSlice<'_, AuthoredCamera> {
        RSlice::EMPTY
    }

    /// Per-vertex texture coordinates of mesh `mesh` (same length as its positions), or empty.
    fn mesh_uvs(&self, _mesh: usize) -> RSlice<'_, [f32; 2]> {
        RSlice::EMPTY
    }

    /// The material runs of mesh `mesh`'s triangle list, or empty (no materials).
    fn mesh_subsets(&self, _mesh: usize) -> RSlice<'_, FaceSubset> {
        RSlice::EMPTY
    }

    fn materials(&self) -> RSlice<'_, Material> {
        RSlice::EMPTY
    }

    fn textures(&self) -> RSlice<'_, Texture> {
        RSlice::EMPTY
    }

    fn lights(&self) -> RSlice<'_, Light> {
        RSlice::EMPTY
    }

    fn curves(&self) -> RSlice<'_, Curves> {
        RSlice::EMPTY
    }

    fn points(&self) -> RSlice<'_, PointSet> {
        RSlice::EMPTY
    }

    /// The stage's time range, when it has one.
    fn time_range(&self) -> ROption<TimeRange> {
        ROption::RNone
    }

    /// Time-varying data baked at load.
    #[sabi(last_prefix_field)]
    fn tracks(&self) -> RSlice<'_, Track> {
        RSlice::EMPTY
    }

    /// Since 0.2.2: per mesh (indexed like [`Scene::meshes`]), whether both sides are drawn
    /// (`UsdGeomGprim.doubleSided`; tessellated curves and points are double-sided). A
    /// single-sided mesh's back faces (clockwise as seen, after `orientation` was applied by
    /// the host) are culled, as usdview does. Empty (an older host): not said; draw both sides.
    fn mesh_double_sided(&self) -> RSlice<'_, bool> {
        RSlice::EMPTY
    }
}

/// The scene handle renderers receive, valid for the call it is passed to.
pub type SceneRef<'a> = Scene_TO<'a, abi_stable::sabi_types::RRef<'a, ()>>;

/// The plain container behind a [`SceneRef`]: what the host's stage service fills, and what
/// renderer tests build. Never crosses the boundary itself; pass [`StageScene::as_scene`].
#[derive(Clone, Debug)]
pub struct StageScene {
    pub url: RString,
    pub resolved_path: RString,
    pub generation: u64,
    pub root_prim_path: RString,
    pub up_axis: UpAxis,
    pub meters_per_unit: f64,
    pub bounds: Bounds,
    pub prim_paths: RVec<RString>,
    pub meshes: RVec<MeshData>,
    pub cameras: RVec<AuthoredCamera>,
    /// Indexed like `meshes` (or empty: no mesh has any).
    pub mesh_uvs: Vec<RVec<[f32; 2]>>,
    /// Indexed like `meshes` (or empty).
    pub mesh_subsets: Vec<RVec<FaceSubset>>,
    pub materials: RVec<Material>,
    pub textures: RVec<Texture>,
    pub lights: RVec<Light>,
    pub curves: RVec<Curves>,
    pub points: RVec<PointSet>,
    pub time_range: Option<TimeRange>,
    pub tracks: RVec<Track>,
    /// Indexed like `meshes` (or empty: not said, draw both sides).
    pub mesh_double_sided: RVec<bool>,
}

impl Default for StageScene {
    fn default() -> Self {
        Self::empty()
    }
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
            mesh_uvs: Vec::new(),
            mesh_subsets: Vec::new(),
            materials: RVec::new(),
            textures: RVec::new(),
            lights: RVec::new(),
            curves: RVec::new(),
            points: RVec::new(),
            time_range: None,
            tracks: RVec::new(),
            mesh_double_sided: RVec::new(),
        }
    }

    /// The handle a renderer receives, borrowing this scene.
    pub fn as_scene(&self) -> SceneRef<'_> {
        Scene_TO::from_ptr(self, TD_Opaque)
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

impl Scene for StageScene {
    fn facts(&self) -> StageFacts {
        StageFacts {
            url: self.url.clone(),
            resolved_path: self.resolved_path.clone(),
            generation: self.generation,
            root_prim_path: self.root_prim_path.clone(),
            up_axis: self.up_axis,
            meters_per_unit: self.meters_per_unit,
            bounds: self.bounds,
        }
    }
    fn prim_paths(&self) -> RSlice<'_, RString> {
        self.prim_paths.as_rslice()
    }
    fn meshes(&self) -> RSlice<'_, MeshData> {
        self.meshes.as_rslice()
    }
    fn cameras(&self) -> RSlice<'_, AuthoredCamera> {
        self.cameras.as_rslice()
    }
    fn mesh_uvs(&self, mesh: usize) -> RSlice<'_, [f32; 2]> {
        self.mesh_uvs.get(mesh).map(|v| v.as_rslice()).unwrap_or(RSlice::EMPTY)
    }
    fn mesh_subsets(&self, mesh: usize) -> RSlice<'_, FaceSubset> {
        self.mesh_subsets.get(mesh).map(|v| v.as_rslice()).unwrap_or(RSlice::EMPTY)
    }
    fn materials(&self) -> RSlice<'_, Material> {
        self.materials.as_rslice()
    }
    fn textures(&self) -> RSlice<'_, Texture> {
        self.textures.as_rslice()
    }
    fn lights(&self) -> RSlice<'_, Light> {
        self.lights.as_rslice()
    }
    fn curves(&self) -> RSlice<'_, Curves> {
        self.curves.as_rslice()
    }
    fn points(&self) -> RSlice<'_, PointSet> {
        self.points.as_rslice()
    }
    fn time_range(&self) -> ROption<TimeRange> {
        self.time_range.into()
    }
    fn tracks(&self) -> RSlice<'_, Track> {
        self.tracks.as_rslice()
    }
    fn mesh_double_sided(&self) -> RSlice<'_, bool> {
        self.mesh_double_sided.as_rslice()
    }
}

/// Helpers on any scene handle.
pub trait SceneExt {
    /// The path of a 1-based prim id.
    fn prim_path(&self, prim_id: u32) -> Option<&str>;
}

impl SceneExt for SceneRef<'_> {
    fn prim_path(&self, prim_id: u32) -> Option<&str> {
        let index = (prim_id as usize).checked_sub(1)?;
        self.prim_paths().as_slice().get(index).map(|p| p.as_str())
    }
}

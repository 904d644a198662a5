//! The camera a controller produces and a renderer consumes.

use abi_stable::StableAbi;

/// How a view projects: a code set, append-only.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Projection(pub u32);

impl Projection {
    /// Pinhole perspective with vertical field of view [`CameraView::fov_y_deg`].
    pub const PERSPECTIVE: Self = Self(0);
    /// Parallel projection showing [`CameraView::ortho_height`] stage units vertically.
    pub const ORTHOGRAPHIC: Self = Self(1);
}

/// A view: where the camera is, how it projects. Controllers keep every field finite; the host
/// refuses non-finite views. The layout is fixed for the 0.2 series: it holds a complete
/// USD camera (`UsdGeomCamera`: perspective or orthographic, apertures as the field of view and
/// aspect, aperture offsets as the lens shift, clipping range).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Debug)]
pub struct CameraView {
    pub eye: [f64; 3],
    pub target: [f64; 3],
    pub up: [f64; 3],
    /// Vertical field of view, degrees.
    pub fov_y_deg: f64,
    /// Clip range, in stage units.
    pub near: f64,
    pub far: f64,
    pub projection: Projection,
    /// Vertical extent of an orthographic view, in stage units (ignored for perspective).
    pub ortho_height: f64,
    /// Lens shift (USD aperture offsets divided by the apertures): the image window moves by this
    /// fraction of its width (x) and height (y). Zero for an ordinary centred view.
    pub lens_shift: [f64; 2],
}

impl Default for CameraView {
    fn default() -> Self {
        Self {
            eye: [0.0, 0.0, 10.0],
            target: [0.0; 3],
            up: [0.0, 1.0, 0.0],
            fov_y_deg: 45.0,
            near: 0.01,
            far: 1.0e4,
            projection: Projection::PERSPECTIVE,
            ortho_height: 10.0,
            lens_shift: [0.0; 2],
        }
    }
}

impl CameraView {
    pub fn is_finite(&self) -> bool {
        self.eye.iter().chain(&self.target).chain(&self.up).all(|v| v.is_finite())
            && self.fov_y_deg.is_finite()
            && self.near.is_finite()
            && self.far.is_finite()
            && self.ortho_height.is_finite()
            && self.lens_shift.iter().all(|v| v.is_finite())
    }

    /// Camera-to-world as a row-major USD matrix (row-vector convention): row 0 = right,
    /// row 1 = up, row 2 = -forward (backward), row 3 = eye.
    pub fn to_usd_matrix(&self) -> [f64; 16] {
        let sub = |a: [f64; 3], b: [f64; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
        let cross = |a: [f64; 3], b: [f64; 3]| {
            [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
        };
        let norm = |a: [f64; 3]| {
            let l = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
            if l > 0.0 { [a[0] / l, a[1] / l, a[2] / l] } else { a }
        };
        let back = norm(sub(self.eye, self.target));
        let right = norm(cross(self.up, back));
        let up = cross(back, right);
        [
            right[0],
            right[1],
            right[2],
            0.0, //
            up[0],
            up[1],
            up[2],
            0.0, //
            back[0],
            back[1],
            back[2],
            0.0, //
            self.eye[0],
            self.eye[1],
            self.eye[2],
            1.0,
        ]
    }
}

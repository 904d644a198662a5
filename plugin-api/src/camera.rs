//! The camera a controller produces and a renderer consumes.

use abi_stable::StableAbi;

/// A perspective view. Controllers keep every field finite; the host refuses non-finite views.
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
}

impl Default for CameraView {
    fn default() -> Self {
        Self { eye: [0.0, 0.0, 10.0], target: [0.0; 3], up: [0.0, 1.0, 0.0], fov_y_deg: 45.0, near: 0.01, far: 1.0e4 }
    }
}

impl CameraView {
    pub fn is_finite(&self) -> bool {
        self.eye.iter().chain(&self.target).chain(&self.up).all(|v| v.is_finite())
            && self.fov_y_deg.is_finite()
            && self.near.is_finite()
            && self.far.is_finite()
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

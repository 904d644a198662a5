//! Camera math: the host's [`CameraView`] to a wgpu view-projection matrix, and the distance
//! range the depth AOV normalizes over.

use glam::{DMat4, DVec3};
use ovhost_plugin_api::{Bounds, CameraView, PluginError};

/// Right-handed perspective view-projection (wgpu depth 0..1) for an output of `aspect` = w / h.
pub fn view_projection(camera: &CameraView, aspect: f64) -> Result<DMat4, PluginError> {
    if !camera.is_finite() {
        return Err(PluginError::invalid_input("camera has a non-finite value"));
    }
    let eye = DVec3::from(camera.eye);
    let forward = DVec3::from(camera.target) - eye;
    if forward.length_squared() <= 0.0 {
        return Err(PluginError::invalid_input("camera eye and target are the same point"));
    }
    if !(camera.near > 0.0 && camera.far > camera.near) {
        return Err(PluginError::invalid_input(format!(
            "camera clip range must satisfy 0 < near < far, got near {} far {}",
            camera.near, camera.far
        )));
    }
    if !(camera.fov_y_deg > 0.0 && camera.fov_y_deg < 180.0) {
        return Err(PluginError::invalid_input(format!(
            "camera vertical field of view must be between 0 and 180 degrees, got {}",
            camera.fov_y_deg
        )));
    }
    let mut up = DVec3::from(camera.up);
    if forward.cross(up).length_squared() <= 1e-24 * forward.length_squared() * up.length_squared().max(1e-300) {
        // Up is parallel to the view direction (or zero): any perpendicular keeps the view valid.
        up = forward.any_orthonormal_vector();
    }
    let view = glam::dcamera::rh::view::look_at_mat4(eye, eye + forward, up);
    // wgpu's clip space is Direct3D's: depth 0..1, Y up.
    let projection =
        glam::dcamera::rh::proj::directx::perspective(camera.fov_y_deg.to_radians(), aspect, camera.near, camera.far);
    Ok(projection * view)
}

/// Nearest and farthest distance from `eye` to the box `bounds` (for the depth AOV); a fallback
/// range when the box is empty.
pub fn depth_range(eye: [f64; 3], bounds: &Bounds) -> (f64, f64) {
    if bounds.is_empty() {
        return (0.0, 100.0);
    }
    let e = DVec3::from(eye);
    let min = DVec3::from(bounds.min);
    let max = DVec3::from(bounds.max);
    let nearest = e.clamp(min, max).distance(e);
    let mut farthest: f64 = 0.0;
    for corner in 0..8 {
        let pick = |axis: usize| if corner & (1 << axis) == 0 { min[axis] } else { max[axis] };
        farthest = farthest.max(DVec3::new(pick(0), pick(1), pick(2)).distance(e));
    }
    (nearest, farthest.max(nearest + 1e-6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_projects_to_the_centre() {
        let cam = CameraView { eye: [0.0, 0.0, 10.0], ..Default::default() };
        let m = view_projection(&cam, 16.0 / 9.0).unwrap();
        let p = m.project_point3(DVec3::new(0.0, 0.0, 0.0));
        assert!(p.x.abs() < 1e-9 && p.y.abs() < 1e-9 && p.z > 0.0 && p.z < 1.0);
        // A point to the right (+x) is on the right of the screen.
        assert!(m.project_point3(DVec3::new(1.0, 0.0, 0.0)).x > 0.0);
    }

    #[test]
    fn rejects_degenerate_cameras() {
        let same = CameraView { eye: [0.0; 3], target: [0.0; 3], ..Default::default() };
        assert!(view_projection(&same, 1.0).is_err());
        let bad_clip = CameraView { near: 0.0, ..Default::default() };
        assert!(view_projection(&bad_clip, 1.0).is_err());
        let parallel_up = CameraView { up: [0.0, 0.0, 1.0], ..Default::default() };
        assert!(view_projection(&parallel_up, 1.0).unwrap().is_finite());
    }

    #[test]
    fn depth_range_spans_the_box() {
        let b = Bounds { min: [-1.0; 3], max: [1.0; 3] };
        let (near, far) = depth_range([0.0, 0.0, 10.0], &b);
        assert!((near - 9.0).abs() < 1e-9);
        assert!((far - (11.0f64 * 11.0 + 2.0).sqrt()).abs() < 1e-9);
    }
}

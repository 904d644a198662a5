//! Test helpers: scripted input events, controller construction and view geometry.

use glam::DVec3;
use ovhost_plugin_api::{
    BUTTONS_LEFT, BUTTONS_MIDDLE, BUTTONS_RIGHT, Bounds, CameraController, CameraView, FromConfig, InputEvent,
    InputKind, UpAxis,
};

use crate::navigator::Navigator;
use crate::schemes::Scheme;

pub fn bit(button: u32) -> u32 {
    [BUTTONS_LEFT, BUTTONS_MIDDLE, BUTTONS_RIGHT][button as usize]
}

pub fn press(button: u32, modifiers: u32) -> InputEvent {
    InputEvent { button, buttons: bit(button), modifiers, ..InputEvent::new(InputKind::POINTER_DOWN) }
}

pub fn drag(button: u32, dx: f32, dy: f32) -> InputEvent {
    InputEvent {
        buttons: bit(button),
        dx,
        dy,
        x: 100.0 + dx,
        y: 100.0 + dy,
        ..InputEvent::new(InputKind::POINTER_MOVE)
    }
}

pub fn release(button: u32) -> InputEvent {
    InputEvent { button, buttons: 0, ..InputEvent::new(InputKind::POINTER_UP) }
}

pub fn wheel(notches: f32) -> InputEvent {
    InputEvent { wheel_notches: notches, ..InputEvent::new(InputKind::WHEEL) }
}

pub fn key(name: &str, down: bool) -> InputEvent {
    let kind = if down { InputKind::KEY_DOWN } else { InputKind::KEY_UP };
    InputEvent { key: name.into(), ..InputEvent::new(kind) }
}

pub fn unit_box() -> Bounds {
    Bounds { min: [-1.0; 3], max: [1.0; 3] }
}

/// A controller of scheme `S` with default config, a 1280×720 viewport, fitted to `bounds`.
pub fn fitted<S: Scheme>(bounds: &Bounds, up: UpAxis) -> Navigator<S> {
    let mut camera = Navigator::<S>::from_config("{}").unwrap();
    camera.set_viewport(1280, 720).unwrap();
    camera.fit(bounds, up).unwrap();
    camera
}

pub fn view_of(camera: &mut impl CameraController) -> CameraView {
    camera.advance(0).unwrap()
}

/// Feeds events, asserting each was used.
pub fn feed(camera: &mut impl CameraController, events: &[InputEvent]) {
    for event in events {
        assert!(camera.input(event).unwrap(), "event not used: {event:?}");
    }
}

pub fn v3(a: [f64; 3]) -> DVec3 {
    DVec3::from_array(a)
}

pub fn forward(view: &CameraView) -> DVec3 {
    (v3(view.target) - v3(view.eye)).normalize()
}

pub fn assert_close(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!((a - b).abs() <= tolerance, "{what}: {a} vs {b} (tolerance {tolerance})");
}

pub fn assert_vec_close(a: [f64; 3], b: [f64; 3], tolerance: f64, what: &str) {
    let gap = (v3(a) - v3(b)).length();
    assert!(gap <= tolerance, "{what}: {a:?} vs {b:?} differ by {gap}");
}

pub fn assert_views_close(a: &CameraView, b: &CameraView, tolerance: f64) {
    assert_vec_close(a.eye, b.eye, tolerance, "eye");
    assert_vec_close(a.target, b.target, tolerance, "target");
    assert_vec_close(a.up, b.up, tolerance, "up");
    assert_close(a.fov_y_deg, b.fov_y_deg, tolerance, "fov_y_deg");
    assert_close(a.near, b.near, tolerance, "near");
    assert_close(a.far, b.far, tolerance, "far");
}

/// Where a world point lands: (x, y) in normalized device coordinates (±1 = frustum edge) and
/// its depth in front of the camera, using the view's USD matrix.
pub fn project(view: &CameraView, aspect: f64, point: DVec3) -> (f64, f64, f64) {
    let m = view.to_usd_matrix();
    let row = |r: usize| DVec3::new(m[4 * r], m[4 * r + 1], m[4 * r + 2]);
    let local = point - row(3);
    let depth = -local.dot(row(2));
    let tan_half_y = (0.5 * view.fov_y_deg.to_radians()).tan();
    let x = local.dot(row(0)) / (depth * tan_half_y * aspect);
    let y = local.dot(row(1)) / (depth * tan_half_y);
    (x, y, depth)
}

pub fn corners(bounds: &Bounds) -> Vec<DVec3> {
    (0..8)
        .map(|i| {
            let pick = |axis: usize| if i >> axis & 1 == 0 { bounds.min[axis] } else { bounds.max[axis] };
            DVec3::new(pick(0), pick(1), pick(2))
        })
        .collect()
}

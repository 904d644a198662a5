//! The shared camera math every scheme uses: the orbit state (target, distance, azimuth,
//! elevation about a world up axis), its conversion to and from a [`CameraView`], framing
//! bounds (`fit`, `focus`), the clip range derived from the scene, and the elementary moves
//! (orbit, look, pan, dolly, translate). Nothing here knows about input events.
//!
//! Conventions: azimuth is a right-handed rotation about world up, measured from the "front"
//! direction (+Z for Y-up stages, −Y for Z-up stages), so the camera looks along −Z (Y-up) or +Y
//! (Z-up) at azimuth 0. Elevation is the angle of the eye above the horizon plane through the
//! target. Every move keeps the state finite: a move that would produce a non-finite value is
//! dropped by [`OrbitRig::apply`].

use std::f64::consts::{FRAC_PI_2, PI, TAU};

use glam::DVec3;
use ovhost_plugin_api::{CameraView, UpAxis};

use crate::framing::{Sphere, Subject};

/// Elevation limit: the camera never looks exactly along world up, so its basis stays defined.
pub const MAX_ELEVATION_RAD: f64 = FRAC_PI_2 - 0.01;
/// Smallest eye-to-target distance, stage units.
pub const MIN_DISTANCE: f64 = 1e-4;
/// Largest eye-to-target distance, stage units (keeps every derived value finite).
pub const MAX_DISTANCE: f64 = 1e12;
/// Field-of-view range the rig accepts, degrees.
const FOV_RANGE_DEG: (f64, f64) = (1.0, 170.0);

/// The world up vector and the two horizontal axes azimuth is measured in: `front` (azimuth 0)
/// and `side` = `up × front` (azimuth +90°).
fn world_axes(up_axis: UpAxis) -> (DVec3, DVec3, DVec3) {
    if up_axis == UpAxis::Z { (DVec3::Z, DVec3::NEG_Y, DVec3::X) } else { (DVec3::Y, DVec3::Z, DVec3::X) }
}

/// The world up axis a view was built around: Z when its up vector leans more to Z than to Y.
pub fn infer_up_axis(view: &CameraView) -> UpAxis {
    if view.up[2].abs() > view.up[1].abs() { UpAxis::Z } else { UpAxis::Y }
}

/// The orbit camera state. See the module docs for conventions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitRig {
    pub target: DVec3,
    pub distance: f64,
    pub azimuth_rad: f64,
    pub elevation_rad: f64,
    pub up_axis: UpAxis,
    pub fov_y_deg: f64,
    /// What the clip range must contain: the fitted scene (grown by focus), or an estimate
    /// around the target after a `set_view` without a fit.
    pub scene: Sphere,
}

impl OrbitRig {
    /// A rig looking at a unit sphere at the origin from the given direction.
    pub fn new(fov_y_deg: f64, azimuth_deg: f64, elevation_deg: f64) -> Self {
        let mut rig = Self {
            target: DVec3::ZERO,
            distance: 10.0,
            azimuth_rad: 0.0,
            elevation_rad: 0.0,
            up_axis: UpAxis::Y,
            fov_y_deg: fov_y_deg.clamp(FOV_RANGE_DEG.0, FOV_RANGE_DEG.1),
            scene: Sphere::UNIT,
        };
        rig.set_direction(azimuth_deg.to_radians(), elevation_deg.to_radians());
        rig
    }

    pub fn world_up(&self) -> DVec3 {
        world_axes(self.up_axis).0
    }

    /// Unit vector from the target to the eye.
    pub fn eye_direction(&self) -> DVec3 {
        let (up, front, side) = world_axes(self.up_axis);
        let (sin_az, cos_az) = self.azimuth_rad.sin_cos();
        let (sin_el, cos_el) = self.elevation_rad.sin_cos();
        (front * cos_az + side * sin_az) * cos_el + up * sin_el
    }

    pub fn eye(&self) -> DVec3 {
        self.target + self.eye_direction() * self.distance
    }

    /// Unit viewing direction (eye towards target).
    pub fn forward(&self) -> DVec3 {
        -self.eye_direction()
    }

    /// Unit camera right vector (horizontal, never degenerate thanks to the elevation clamp).
    pub fn right(&self) -> DVec3 {
        self.forward().cross(self.world_up()).normalize()
    }

    /// Unit camera up vector (perpendicular to forward and right).
    pub fn camera_up(&self) -> DVec3 {
        self.right().cross(self.forward())
    }

    /// Sets azimuth (wrapped to [−π, π)) and elevation (clamped).
    fn set_direction(&mut self, azimuth_rad: f64, elevation_rad: f64) {
        self.azimuth_rad = (azimuth_rad + PI).rem_euclid(TAU) - PI;
        self.elevation_rad = elevation_rad.clamp(-MAX_ELEVATION_RAD, MAX_ELEVATION_RAD);
    }

    fn set_distance(&mut self, distance: f64) {
        self.distance = distance.clamp(MIN_DISTANCE, MAX_DISTANCE);
    }

    /// The view this state produces; `up` is the world up vector.
    pub fn view(&self) -> CameraView {
        let eye = self.eye();
        let (near, far) = self.clip_range(eye);
        CameraView {
            eye: eye.to_array(),
            target: self.target.to_array(),
            up: self.world_up().to_array(),
            fov_y_deg: self.fov_y_deg,
            near,
            far,
            ..CameraView::default()
        }
    }

    /// Near/far planes from the scene sphere (centre at `to_center` from the eye, radius r):
    /// near = `to_center − 1.5 r`, far = `to_center + 3 r` (for a fit, `to_center` is the
    /// distance). Inside or close to the scene, near falls back to a thousandth of r, but never
    /// more than a tenth of the target distance (so a small focused object is not clipped); far
    /// always reaches past the target.
    fn clip_range(&self, eye: DVec3) -> (f64, f64) {
        let radius = self.scene.radius;
        let to_center = (eye - self.scene.center).length();
        let floor = (radius * 1e-3).min(self.distance * 0.1);
        let near = (to_center - 1.5 * radius).max(floor).max(MIN_DISTANCE * 0.1);
        let far = (to_center + 3.0 * radius).max(self.distance + radius);
        (near, far)
    }

    /// Adopts a finite view: target, distance and direction from eye/target, its field of view.
    /// The direction is kept when eye and target coincide; elevation and distance are clamped.
    pub fn adopt(&mut self, view: &CameraView) {
        let target = DVec3::from_array(view.target);
        let offset = DVec3::from_array(view.eye) - target;
        let length = offset.length();
        if length > 0.0 {
            let (up, front, side) = world_axes(self.up_axis);
            let elevation = (offset.dot(up) / length).clamp(-1.0, 1.0).asin();
            let azimuth = offset.dot(side).atan2(offset.dot(front));
            self.set_direction(azimuth, elevation);
        }
        self.target = target;
        self.set_distance(length);
        self.fov_y_deg = view.fov_y_deg.clamp(FOV_RANGE_DEG.0, FOV_RANGE_DEG.1);
    }

    /// Frames `subject` from the given direction with `up_axis` as world up; the subject is
    /// also the scene the clip range is derived from.
    pub fn fit(&mut self, subject: &Subject, up_axis: UpAxis, view_dir_deg: (f64, f64), aspect: f64, padding: f64) {
        self.up_axis = up_axis;
        self.scene = subject.sphere;
        self.set_direction(view_dir_deg.0.to_radians(), view_dir_deg.1.to_radians());
        self.frame(subject, aspect, padding);
    }

    /// Centres on `subject` keeping the viewing direction; the clip range grows to contain it.
    pub fn focus(&mut self, subject: &Subject, aspect: f64, padding: f64) {
        self.scene = self.scene.union(&subject.sphere);
        self.frame(subject, aspect, padding);
    }

    fn frame(&mut self, subject: &Subject, aspect: f64, padding: f64) {
        let tan_half_y = (0.5 * self.fov_y_deg.to_radians()).tan();
        let tan_half = (tan_half_y * aspect, tan_half_y);
        let axes = (self.right(), self.camera_up(), self.forward());
        self.target = subject.sphere.center;
        self.set_distance(subject.framing_distance(axes, tan_half, padding));
    }

    /// Rotates the eye around the target.
    pub fn orbit(&mut self, delta_azimuth_rad: f64, delta_elevation_rad: f64) {
        self.set_direction(self.azimuth_rad + delta_azimuth_rad, self.elevation_rad + delta_elevation_rad);
    }

    /// Rotates the viewing direction around the eye (mouse-look); the eye stays put.
    pub fn look(&mut self, delta_azimuth_rad: f64, delta_elevation_rad: f64) {
        let eye = self.eye();
        self.orbit(delta_azimuth_rad, delta_elevation_rad);
        self.target = eye - self.eye_direction() * self.distance;
    }

    /// Moves the target in the view plane so the point at the target's depth follows the
    /// pointer: `dx_px`/`dy_px` in stream pixels, `viewport_height_px` the stream height.
    pub fn pan(&mut self, dx_px: f64, dy_px: f64, viewport_height_px: f64) {
        let units_per_px = 2.0 * self.distance * (0.5 * self.fov_y_deg.to_radians()).tan() / viewport_height_px;
        self.target += (self.camera_up() * dy_px - self.right() * dx_px) * units_per_px;
    }

    /// Multiplies the eye-to-target distance (below 1 moves closer).
    pub fn dolly(&mut self, factor: f64) {
        self.set_distance(self.distance * factor);
    }

    /// Moves eye and target together.
    pub fn translate(&mut self, delta: DVec3) {
        self.target += delta;
    }

    /// True when every value is finite and the distance is in range.
    pub fn is_valid(&self) -> bool {
        self.target.is_finite()
            && self.scene.center.is_finite()
            && self.scene.radius.is_finite()
            && self.scene.radius > 0.0
            && self.distance.is_finite()
            && (MIN_DISTANCE..=MAX_DISTANCE).contains(&self.distance)
            && self.azimuth_rad.is_finite()
            && self.elevation_rad.is_finite()
            && self.fov_y_deg.is_finite()
            && self.eye().is_finite()
    }

    /// Applies a move; if the result is not valid (non-finite input, overflow) the state is
    /// left as it was. Returns whether the move was kept.
    pub fn apply(&mut self, change: impl FnOnce(&mut Self)) -> bool {
        let mut next = *self;
        change(&mut next);
        let keep = next.is_valid() && next.view().is_finite();
        if keep {
            *self = next;
        }
        keep
    }
}

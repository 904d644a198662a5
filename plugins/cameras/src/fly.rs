//! Fly movement: which of W/A/S/D/Q/E are held, the fly speed (scene-relative, adjusted by the
//! wheel) and the time-based step `advance` applies while a fly gesture lasts.

use glam::DVec3;

use crate::rig::OrbitRig;

/// Longest time step one `advance` moves for, seconds: a stalled frame does not teleport.
pub const MAX_STEP_S: f64 = 0.25;
/// Range of the wheel-controlled speed multiplier.
const SPEED_SCALE_RANGE: (f64, f64) = (1e-3, 1e3);

/// Held movement keys and the speed multiplier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlyState {
    forward: bool,
    back: bool,
    left: bool,
    right: bool,
    down: bool,
    up: bool,
    /// Multiplier on the scene-relative base speed, changed by the wheel.
    speed_scale: f64,
}

impl Default for FlyState {
    fn default() -> Self {
        Self { forward: false, back: false, left: false, right: false, down: false, up: false, speed_scale: 1.0 }
    }
}

impl FlyState {
    /// Records a key press or release; returns false for keys that are not movement keys.
    pub fn set_key(&mut self, key: &str, down: bool) -> bool {
        let slot = match key {
            "w" => &mut self.forward,
            "s" => &mut self.back,
            "a" => &mut self.left,
            "d" => &mut self.right,
            "q" => &mut self.down,
            "e" => &mut self.up,
            _ => return false,
        };
        *slot = down;
        true
    }

    /// Forgets held keys (their releases may never arrive after a cancel).
    pub fn release_keys(&mut self) {
        *self = Self { speed_scale: self.speed_scale, ..Self::default() };
    }

    /// Multiplies the speed by `ratio_per_notch ^ notches` (within a sane range).
    pub fn adjust_speed(&mut self, ratio_per_notch: f64, notches: f64) {
        let scale = self.speed_scale * ratio_per_notch.powf(notches);
        if scale.is_finite() {
            self.speed_scale = scale.clamp(SPEED_SCALE_RANGE.0, SPEED_SCALE_RANGE.1);
        }
    }

    /// Current speed, stage units per second.
    pub fn speed_units_per_s(&self, rig: &OrbitRig, scene_radii_per_s: f64) -> f64 {
        rig.scene.radius * scene_radii_per_s * self.speed_scale
    }

    /// The displacement for `dt_s` seconds of flight: along the view direction (W/S), camera
    /// right (D/A) and world up (E/Q); zero when no key (or opposing keys) is held.
    pub fn step(&self, rig: &OrbitRig, speed_units_per_s: f64, dt_s: f64) -> DVec3 {
        let axis = |plus: bool, minus: bool| f64::from(u8::from(plus)) - f64::from(u8::from(minus));
        let direction = rig.forward() * axis(self.forward, self.back)
            + rig.right() * axis(self.right, self.left)
            + rig.world_up() * axis(self.up, self.down);
        direction.normalize_or_zero() * speed_units_per_s * dt_s.clamp(0.0, MAX_STEP_S)
    }
}

//! The camera controller shared by every scheme: gesture tracking (press → drag → release or
//! cancel), turning drags, wheel notches, keys and time into rig moves, and the
//! [`CameraController`] implementation. The scheme parameter only decides which button starts
//! which gesture (see [`crate::schemes`]).

use std::marker::PhantomData;

use glam::DVec3;
use ovhost_plugin_api::abi_stable::std_types::{RResult, RString};
use ovhost_plugin_api::{
    BUTTONS_LEFT, BUTTONS_MIDDLE, BUTTONS_RIGHT, Bounds, CameraController, CameraView, FromConfig, InputEvent,
    InputKind, PluginError, UpAxis,
};

use crate::config::CameraConfig;
use crate::fly::FlyState;
use crate::framing::{Sphere, Subject};
use crate::rig::{OrbitRig, infer_up_axis};
use crate::schemes::{Gesture, Scheme, WheelAction};
use crate::state::state_json;

/// Stream size assumed until `set_viewport` is called.
const DEFAULT_VIEWPORT_PX: (u32, u32) = (1280, 720);

/// A drag in progress: the gesture and the button that started it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ActiveGesture {
    gesture: Gesture,
    button: u32,
}

/// A camera controller with input scheme `S`. Construct with [`FromConfig::from_config`].
#[derive(Debug)]
pub struct Navigator<S: Scheme> {
    config: CameraConfig,
    rig: OrbitRig,
    /// The view last given to `set_view`, returned exactly until the first move.
    adopted: Option<CameraView>,
    /// True once `fit` has set the world up axis and the scene sphere.
    fitted: bool,
    viewport_px: (u32, u32),
    active: Option<ActiveGesture>,
    fly: FlyState,
    scheme: PhantomData<S>,
}

impl<S: Scheme> FromConfig for Navigator<S> {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        let config = CameraConfig::parse(config_json)?;
        let mut navigator = Self {
            config,
            rig: OrbitRig::new(config.fov_y_deg, config.fit_azimuth_deg, config.fit_elevation_deg),
            adopted: None,
            fitted: false,
            viewport_px: DEFAULT_VIEWPORT_PX,
            active: None,
            fly: FlyState::default(),
            scheme: PhantomData,
        };
        navigator.fit_subject(&Subject::unit(), UpAxis::Y);
        navigator.fitted = false;
        Ok(navigator)
    }
}

fn button_bit(button: u32) -> u32 {
    match button {
        0 => BUTTONS_LEFT,
        1 => BUTTONS_MIDDLE,
        2 => BUTTONS_RIGHT,
        _ => 0,
    }
}

impl<S: Scheme> Navigator<S> {
    /// The current view (the adopted one, exactly, until the first move).
    pub fn view(&self) -> CameraView {
        self.adopted.unwrap_or_else(|| self.rig.view())
    }

    /// The orbit state (read-only), e.g. for tests and diagnostics.
    pub fn rig(&self) -> &OrbitRig {
        &self.rig
    }

    /// Current fly speed, stage units per second.
    pub fn fly_speed_units_per_s(&self) -> f64 {
        self.fly.speed_units_per_s(&self.rig, self.config.fly_scene_radii_per_s)
    }

    fn aspect(&self) -> f64 {
        f64::from(self.viewport_px.0) / f64::from(self.viewport_px.1)
    }

    /// Applies a rig move; a kept move ends the exact adopted view.
    fn mutate(&mut self, change: impl FnOnce(&mut OrbitRig)) -> bool {
        let kept = self.rig.apply(change);
        if kept {
            self.adopted = None;
        }
        kept
    }

    fn fit_subject(&mut self, subject: &Subject, up: UpAxis) {
        let (aspect, padding) = (self.aspect(), self.config.fit_padding);
        let direction_deg = (self.config.fit_azimuth_deg, self.config.fit_elevation_deg);
        if self.mutate(|rig| rig.fit(subject, up, direction_deg, aspect, padding)) {
            self.fitted = true;
        }
    }

    /// Applies a drag of (`dx`, `dy`) stream pixels to the active gesture.
    fn drag(&mut self, gesture: Gesture, dx: f64, dy: f64) {
        let config = self.config;
        let viewport_height_px = f64::from(self.viewport_px.1);
        // Orbit follows the "grab the scene" metaphor, look the first-person one; both come out
        // as: drag right turns the camera's azimuth negative, drag down raises the elevation.
        self.mutate(|rig| match gesture {
            Gesture::Orbit => {
                let rad_per_px = config.orbit_deg_per_px.to_radians();
                rig.orbit(-dx * rad_per_px, dy * rad_per_px);
            }
            Gesture::Fly => {
                let rad_per_px = config.look_deg_per_px.to_radians();
                rig.look(-dx * rad_per_px, dy * rad_per_px);
            }
            Gesture::Pan => rig.pan(dx, dy, viewport_height_px),
            Gesture::Dolly => rig.dolly((-(dx - dy) * config.dolly_per_px).exp()),
        });
    }

    fn wheel(&mut self, notches: f64) {
        let flying = matches!(self.active, Some(ActiveGesture { gesture: Gesture::Fly, .. }));
        if flying || S::WHEEL == WheelAction::FlySpeed {
            self.fly.adjust_speed(self.config.fly_speed_ratio_per_notch, notches);
        } else {
            let factor = self.config.zoom_ratio_per_notch.powf(-notches);
            self.mutate(|rig| rig.dolly(factor));
        }
    }

    fn handle_input(&mut self, event: &InputEvent) -> bool {
        let numbers = [event.x, event.y, event.dx, event.dy, event.wheel_notches];
        if numbers.iter().any(|v| !v.is_finite()) {
            return false;
        }
        match event.kind {
            InputKind::POINTER_DOWN => {
                if self.active.is_some() {
                    return false;
                }
                let Some(gesture) = S::gesture(event.button, event.modifiers) else { return false };
                self.active = Some(ActiveGesture { gesture, button: event.button });
                true
            }
            InputKind::POINTER_UP => match self.active {
                Some(active) if active.button == event.button => {
                    self.active = None;
                    true
                }
                _ => false,
            },
            InputKind::POINTER_MOVE => {
                let Some(active) = self.active else { return false };
                if event.buttons & button_bit(active.button) == 0 {
                    // The release was lost: the gesture is over, this move is not part of it.
                    self.active = None;
                    return false;
                }
                self.drag(active.gesture, f64::from(event.dx), f64::from(event.dy));
                true
            }
            InputKind::WHEEL => {
                if event.wheel_notches == 0.0 {
                    return false;
                }
                self.wheel(f64::from(event.wheel_notches));
                true
            }
            InputKind::KEY_DOWN | InputKind::KEY_UP => {
                let is_move_key = self.fly.set_key(event.key.as_str(), event.kind == InputKind::KEY_DOWN);
                is_move_key && matches!(self.active, Some(ActiveGesture { gesture: Gesture::Fly, .. }))
            }
            InputKind::CANCEL => {
                self.end_gesture();
                true
            }
            _ => false,
        }
    }

    fn end_gesture(&mut self) {
        self.active = None;
        self.fly.release_keys();
    }

    fn advance_by(&mut self, dt_us: u64) -> CameraView {
        if matches!(self.active, Some(ActiveGesture { gesture: Gesture::Fly, .. })) {
            let speed = self.fly_speed_units_per_s();
            let delta = self.fly.step(&self.rig, speed, dt_us as f64 * 1e-6);
            if delta != DVec3::ZERO {
                self.mutate(|rig| rig.translate(delta));
            }
        }
        self.view()
    }

    fn adopt_view(&mut self, view: &CameraView) -> Result<(), PluginError> {
        if !view.is_finite() {
            return Err(PluginError::invalid_input(
                "camera view has a non-finite value (NaN or infinity); the camera was left where it was",
            ));
        }
        let fitted = self.fitted;
        let kept = self.rig.apply(|rig| {
            if !fitted {
                // Without a fit (a scheme switch), the view's own up and clip range stand in for
                // the stage's up axis and extent: our far plane is 3 scene radii past the scene
                // centre; the clamp keeps foreign clip ranges (far = 1e4) from inflating it.
                rig.up_axis = infer_up_axis(view);
                let distance = DVec3::from_array(view.eye).distance(DVec3::from_array(view.target));
                let radius = ((view.far - distance) / 3.0).clamp(distance * 0.05, distance * 3.0).max(1e-3);
                rig.scene = Sphere { center: DVec3::from_array(view.target), radius };
            }
            rig.adopt(view);
        });
        if !kept {
            return Err(PluginError::invalid_input("camera view is out of range; the camera was left where it was"));
        }
        self.adopted = Some(*view);
        Ok(())
    }
}

/// The sphere to frame for `bounds`: `None` when they are empty (nothing to frame), an error
/// when they hold NaN or an infinite extent.
fn subject_of(bounds: &Bounds) -> Result<Option<Subject>, PluginError> {
    let has_nan = bounds.min.iter().chain(&bounds.max).any(|v| v.is_nan());
    if !has_nan && bounds.is_empty() {
        return Ok(None);
    }
    match Subject::from_bounds(bounds) {
        Some(subject) => Ok(Some(subject)),
        None => Err(PluginError::invalid_input(
            "bounds have a non-finite value (NaN or infinity); the camera was left where it was",
        )),
    }
}

impl<S: Scheme> CameraController for Navigator<S> {
    fn set_viewport(&mut self, width: u32, height: u32) -> RResult<(), PluginError> {
        if width == 0 || height == 0 {
            return RResult::RErr(PluginError::invalid_input(format!(
                "viewport size {width}x{height} is empty; use a width and height of at least 1 pixel"
            )));
        }
        self.viewport_px = (width, height);
        RResult::ROk(())
    }

    fn input(&mut self, event: &InputEvent) -> RResult<bool, PluginError> {
        RResult::ROk(self.handle_input(event))
    }

    fn advance(&mut self, dt_us: u64) -> RResult<CameraView, PluginError> {
        RResult::ROk(self.advance_by(dt_us))
    }

    fn set_view(&mut self, view: &CameraView) -> RResult<(), PluginError> {
        self.adopt_view(view).into()
    }

    fn fit(&mut self, bounds: &Bounds, up: UpAxis) -> RResult<(), PluginError> {
        match subject_of(bounds) {
            Ok(subject) => {
                // An empty stage still gets a sensible camera: a unit sphere at the origin.
                self.fit_subject(&subject.unwrap_or_else(Subject::unit), up);
                RResult::ROk(())
            }
            Err(e) => RResult::RErr(e),
        }
    }

    fn focus(&mut self, bounds: &Bounds) -> RResult<(), PluginError> {
        match subject_of(bounds) {
            Ok(Some(subject)) => {
                let (aspect, padding) = (self.aspect(), self.config.fit_padding);
                self.mutate(|rig| rig.focus(&subject, aspect, padding));
                RResult::ROk(())
            }
            // Nothing selected: nothing to focus on.
            Ok(None) => RResult::ROk(()),
            Err(e) => RResult::RErr(e),
        }
    }

    fn cancel(&mut self) -> RResult<(), PluginError> {
        self.end_gesture();
        RResult::ROk(())
    }

    fn state(&self) -> RResult<RString, PluginError> {
        let json = state_json(S::ID, &self.view(), &self.rig, self.fly_speed_units_per_s());
        RResult::ROk(RString::from(json.to_string()))
    }
}

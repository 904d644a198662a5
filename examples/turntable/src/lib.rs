//! Turntable: a camera-controller plugin that circles the target at a steady speed. Dragging
//! with the left button spins it by hand (and pauses the automatic turn while held), the wheel
//! moves closer or further, a click toggles the motion. Registers camera scheme `turntable`.
//!
//! Config (JSON): `{"degrees_per_second": 20}`.

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::{BUTTONS_LEFT, export_plugin};
use serde::Deserialize;
use serde_json::json;

export_plugin! {
    name: "turntable",
    description: "A camera that circles the stage on its own",
    register: register,
}

fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.camera::<Turntable>("turntable", "Circles the target; left-drag spins by hand, wheel zooms");
    Ok(())
}

#[derive(Deserialize)]
#[serde(default)]
struct Config {
    degrees_per_second: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self { degrees_per_second: 20.0 }
    }
}

pub struct Turntable {
    speed_deg_per_s: f64,
    target: [f64; 3],
    up: [f64; 3],
    distance: f64,
    height: f64,
    angle_deg: f64,
    fov_y_deg: f64,
    near: f64,
    far: f64,
    dragging: bool,
    width_px: f64,
}

impl FromConfig for Turntable {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        let config: Config = serde_json::from_str(config_json)?;
        if !config.degrees_per_second.is_finite() {
            return Err(PluginError::invalid_input("degrees_per_second must be a finite number"));
        }
        Ok(Self {
            speed_deg_per_s: config.degrees_per_second,
            target: [0.0; 3],
            up: [0.0, 1.0, 0.0],
            distance: 10.0,
            height: 3.0,
            angle_deg: 45.0,
            fov_y_deg: 45.0,
            near: 0.01,
            far: 1e4,
            dragging: false,
            width_px: 1280.0,
        })
    }
}

impl Turntable {
    fn z_up(&self) -> bool {
        self.up[2] > 0.5
    }

    fn view(&self) -> CameraView {
        let a = self.angle_deg.to_radians();
        let (s, c) = (a.sin() * self.distance, a.cos() * self.distance);
        let offset = if self.z_up() { [s, -c, self.height] } else { [s, self.height, c] };
        CameraView {
            eye: std::array::from_fn(|i| self.target[i] + offset[i]),
            target: self.target,
            up: self.up,
            fov_y_deg: self.fov_y_deg,
            near: self.near,
            far: self.far,
            ..CameraView::default()
        }
    }
}

impl CameraController for Turntable {
    fn set_viewport(&mut self, width: u32, _height: u32) -> RResult<(), PluginError> {
        self.width_px = f64::from(width.max(1));
        RResult::ROk(())
    }

    fn input(&mut self, event: &InputEvent) -> RResult<bool, PluginError> {
        let used = match event.kind {
            InputKind::POINTER_DOWN if event.button == 0 => {
                self.dragging = true;
                true
            }
            InputKind::POINTER_UP if event.button == 0 => {
                self.dragging = false;
                true
            }
            InputKind::POINTER_MOVE if event.buttons & BUTTONS_LEFT != 0 && event.dx.is_finite() => {
                self.angle_deg -= f64::from(event.dx) * 360.0 / self.width_px;
                true
            }
            InputKind::WHEEL if event.wheel_notches.is_finite() => {
                self.distance = (self.distance * 0.9f64.powf(f64::from(event.wheel_notches))).max(1e-3);
                true
            }
            InputKind::CANCEL => {
                self.dragging = false;
                true
            }
            _ => false,
        };
        RResult::ROk(used)
    }

    fn advance(&mut self, dt_us: u64) -> RResult<CameraView, PluginError> {
        if !self.dragging {
            self.angle_deg = (self.angle_deg + self.speed_deg_per_s * dt_us as f64 / 1e6) % 360.0;
        }
        RResult::ROk(self.view())
    }

    fn set_view(&mut self, view: &CameraView) -> RResult<(), PluginError> {
        if !view.is_finite() {
            return RResult::RErr(PluginError::invalid_input("non-finite view"));
        }
        self.target = view.target;
        self.up = if view.up[2].abs() > view.up[1].abs() { [0.0, 0.0, 1.0] } else { [0.0, 1.0, 0.0] };
        let d: [f64; 3] = std::array::from_fn(|i| view.eye[i] - view.target[i]);
        let (h, across, vertical) = if self.z_up() { (d[0], -d[1], d[2]) } else { (d[0], d[2], d[1]) };
        self.distance = (h * h + across * across).sqrt().max(1e-3);
        self.height = vertical;
        self.angle_deg = h.atan2(across).to_degrees();
        self.fov_y_deg = view.fov_y_deg;
        self.near = view.near;
        self.far = view.far;
        RResult::ROk(())
    }

    fn fit(&mut self, bounds: &Bounds, up: UpAxis) -> RResult<(), PluginError> {
        if bounds.is_empty() {
            return RResult::ROk(());
        }
        self.up = up.vector();
        self.target = bounds.center();
        let size = bounds.size();
        let radius = 0.5 * (size[0] * size[0] + size[1] * size[1] + size[2] * size[2]).sqrt().max(1e-6);
        let reach = 1.2 * radius / (self.fov_y_deg.to_radians() / 2.0).tan();
        self.distance = reach * 0.9;
        self.height = reach * 0.4;
        self.near = (reach - radius * 1.5).max(radius * 1e-3);
        self.far = reach + radius * 3.0;
        RResult::ROk(())
    }

    fn focus(&mut self, bounds: &Bounds) -> RResult<(), PluginError> {
        if !bounds.is_empty() {
            self.target = bounds.center();
        }
        RResult::ROk(())
    }

    fn cancel(&mut self) -> RResult<(), PluginError> {
        self.dragging = false;
        RResult::ROk(())
    }

    fn state(&self) -> RResult<RString, PluginError> {
        let view = self.view();
        RResult::ROk(
            json!({
                "scheme": "turntable",
                "angle_deg": self.angle_deg,
                "distance": self.distance,
                "degrees_per_second": self.speed_deg_per_s,
                "eye": view.eye,
                "target": view.target,
            })
            .to_string()
            .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_with_time_and_keeps_a_view_it_is_given() {
        let mut t = Turntable::from_config(r#"{"degrees_per_second": 90}"#).unwrap();
        let start = t.advance(0).unwrap();
        let later = t.advance(1_000_000).unwrap();
        assert!((t.angle_deg - 135.0).abs() < 1e-9);
        assert_ne!(start.eye, later.eye);
        let view = CameraView { eye: [3.0, 4.0, 5.0], target: [1.0, 1.0, 1.0], ..CameraView::default() };
        t.set_view(&view).unwrap();
        let back = t.view();
        for i in 0..3 {
            assert!((back.eye[i] - view.eye[i]).abs() < 1e-9, "{back:?}");
        }
    }
}

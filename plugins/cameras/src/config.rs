//! The creation config shared by every camera scheme: field of view, framing and input
//! sensitivities. Parsed from the plugin's JSON config; `{}` (or an empty string) gives the
//! defaults, unknown keys and out-of-range values are refused with a sentence naming the key.

use ovhost_plugin_api::PluginError;
use serde::Deserialize;

/// Tunables of a camera controller. Every field has a default; see [`CameraConfig::default`].
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// Vertical field of view in degrees, until a `set_view` adopts another one.
    pub fov_y_deg: f64,
    /// Framing padding: the fitted bounds reach `1 / fit_padding` of the half field of view in
    /// their tightest direction (1.2 leaves ~20 % margin).
    pub fit_padding: f64,
    /// Azimuth of the fitted view, degrees about world up (0 = looking along −Z for Y-up stages,
    /// along +Y for Z-up stages).
    pub fit_azimuth_deg: f64,
    /// Elevation of the fitted view above the horizon, degrees.
    pub fit_elevation_deg: f64,
    /// Orbit rotation per pixel of drag, degrees.
    pub orbit_deg_per_px: f64,
    /// Mouse-look rotation per pixel of drag (fly), degrees.
    pub look_deg_per_px: f64,
    /// Drag dolly rate: the distance is multiplied by `exp(-dolly_per_px)` per pixel towards
    /// the target (drag right or up).
    pub dolly_per_px: f64,
    /// Wheel zoom: the distance is divided by this ratio per notch away from the user.
    pub zoom_ratio_per_notch: f64,
    /// Fly speed as scene radii per second (the scene radius comes from the last fit).
    pub fly_scene_radii_per_s: f64,
    /// Wheel fly-speed change: the speed is multiplied by this ratio per notch away from the user.
    pub fly_speed_ratio_per_notch: f64,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            fov_y_deg: 45.0,
            fit_padding: 1.2,
            fit_azimuth_deg: 45.0,
            fit_elevation_deg: 25.0,
            orbit_deg_per_px: 0.25,
            look_deg_per_px: 0.15,
            dolly_per_px: 0.005,
            zoom_ratio_per_notch: 1.15,
            fly_scene_radii_per_s: 1.0,
            fly_speed_ratio_per_notch: 1.2,
        }
    }
}

impl CameraConfig {
    /// Parses and validates a JSON config object.
    pub fn parse(config_json: &str) -> Result<Self, PluginError> {
        let text = config_json.trim();
        let config: Self = if text.is_empty() {
            Self::default()
        } else {
            let invalid = |e: String| PluginError::invalid_input(format!("invalid camera controller config: {e}"));
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
            if !value.is_object() {
                return Err(invalid(format!("expected a JSON object like {{\"fov_y_deg\": 45}}, got {value}")));
            }
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), PluginError> {
        let in_range = |key: &str, value: f64, min: f64, max: f64| {
            if value.is_finite() && value >= min && value <= max {
                Ok(())
            } else {
                Err(PluginError::invalid_input(format!(
                    "camera controller config \"{key}\" is {value}; use a number from {min} to {max}"
                )))
            }
        };
        in_range("fov_y_deg", self.fov_y_deg, 1.0, 170.0)?;
        in_range("fit_padding", self.fit_padding, 1.0, 100.0)?;
        in_range("fit_azimuth_deg", self.fit_azimuth_deg, -360.0, 360.0)?;
        in_range("fit_elevation_deg", self.fit_elevation_deg, -89.0, 89.0)?;
        in_range("orbit_deg_per_px", self.orbit_deg_per_px, 0.0, 10.0)?;
        in_range("look_deg_per_px", self.look_deg_per_px, 0.0, 10.0)?;
        in_range("dolly_per_px", self.dolly_per_px, 0.0, 1.0)?;
        in_range("zoom_ratio_per_notch", self.zoom_ratio_per_notch, 1.0, 10.0)?;
        in_range("fly_scene_radii_per_s", self.fly_scene_radii_per_s, 1e-6, 1e6)?;
        in_range("fly_speed_ratio_per_notch", self.fly_speed_ratio_per_notch, 1.0, 10.0)?;
        Ok(())
    }
}

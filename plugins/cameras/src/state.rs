//! The controller state as JSON, sent to clients as `cameraStateChanged`:
//! `{scheme, eye, target, up, fov_y_deg, near, far, azimuth_deg, elevation_deg, distance,
//! up_axis, fly_speed_units_per_s}`. Vectors are `[x, y, z]` arrays in stage units.

use ovhost_plugin_api::CameraView;
use serde_json::{Value, json};

use crate::rig::OrbitRig;

/// Builds the state object. `view` is the view the controller returns (eye, target, up, clip
/// range); `rig` supplies the orbit angles and distance.
pub fn state_json(scheme: &str, view: &CameraView, rig: &OrbitRig, fly_speed_units_per_s: f64) -> Value {
    json!({
        "scheme": scheme,
        "eye": view.eye,
        "target": view.target,
        "up": view.up,
        "fov_y_deg": view.fov_y_deg,
        "near": view.near,
        "far": view.far,
        "azimuth_deg": rig.azimuth_rad.to_degrees(),
        "elevation_deg": rig.elevation_rad.to_degrees(),
        "distance": rig.distance,
        "up_axis": rig.up_axis.as_str(),
        "fly_speed_units_per_s": fly_speed_units_per_s,
    })
}

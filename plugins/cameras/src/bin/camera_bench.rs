//! Cost of the camera controllers per call, printed as one JSON object:
//! `cargo run --release -p ovhost-plugin-cameras --bin camera_bench`.

use std::hint::black_box;
use std::time::Instant;

use ovhost_plugin_api::{
    BUTTONS_LEFT, BUTTONS_RIGHT, Bounds, CameraController, FromConfig, InputEvent, InputKind, UpAxis,
};
use ovhost_plugin_cameras::{FlyCamera, OrbitCamera};

const ITERATIONS: u32 = 1_000_000;

fn ns_per_call(mut call: impl FnMut(u32)) -> f64 {
    let start = Instant::now();
    for i in 0..ITERATIONS {
        call(i);
    }
    start.elapsed().as_nanos() as f64 / f64::from(ITERATIONS)
}

fn main() -> Result<(), ovhost_plugin_api::PluginError> {
    let bounds = Bounds { min: [-1.0; 3], max: [1.0; 3] };
    let mut orbit = OrbitCamera::from_config("{}")?;
    orbit.fit(&bounds, UpAxis::Y).into_result()?;
    let press = InputEvent { button: 0, buttons: BUTTONS_LEFT, ..InputEvent::new(InputKind::POINTER_DOWN) };
    orbit.input(&press).into_result()?;
    let orbit_drag_ns = ns_per_call(|i| {
        let dx = if i % 2 == 0 { 3.0 } else { -3.0 };
        let event = InputEvent { buttons: BUTTONS_LEFT, dx, dy: 1.0, ..InputEvent::new(InputKind::POINTER_MOVE) };
        black_box(orbit.input(black_box(&event)));
    });
    let orbit_advance_ns = ns_per_call(|_| {
        black_box(orbit.advance(black_box(16_667)));
    });
    let fit_ns = ns_per_call(|_| {
        black_box(orbit.fit(black_box(&bounds), UpAxis::Z));
    });

    let mut fly = FlyCamera::from_config("{}")?;
    fly.fit(&bounds, UpAxis::Z).into_result()?;
    let press = InputEvent { button: 2, buttons: BUTTONS_RIGHT, ..InputEvent::new(InputKind::POINTER_DOWN) };
    fly.input(&press).into_result()?;
    fly.input(&InputEvent { key: "w".into(), ..InputEvent::new(InputKind::KEY_DOWN) }).into_result()?;
    let fly_advance_ns = ns_per_call(|_| {
        black_box(fly.advance(black_box(16_667)));
    });
    let state_ns = ns_per_call(|_| {
        black_box(fly.state());
    });

    println!(
        "{}",
        serde_json::json!({
            "iterations": ITERATIONS,
            "orbit_drag_input_ns": orbit_drag_ns,
            "orbit_advance_ns": orbit_advance_ns,
            "fit_ns": fit_ns,
            "fly_advance_moving_ns": fly_advance_ns,
            "state_json_ns": state_ns,
        })
    );
    Ok(())
}

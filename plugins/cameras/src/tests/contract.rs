//! The controller contract: NaN safety, scheme switches, focus, state JSON, config and
//! registration through the public plugin API.

use ovhost_plugin_api::abi_stable::std_types::{RResult, RStr};
use ovhost_plugin_api::{
    Bounds, BuiltinPlugin, CameraController, CameraView, ErrorKind, FromConfig, InputEvent, InputKind, UpAxis,
};
use serde_json::Value;

use super::support::*;
use crate::navigator::Navigator;
use crate::schemes::{FlyScheme, KitScheme, OrbitScheme, Scheme};

fn assert_nan_inputs_ignored<S: Scheme>() {
    let mut camera = fitted::<S>(&unit_box(), UpAxis::Z);
    let before = view_of(&mut camera);
    // A press with a NaN coordinate starts nothing.
    for button in 0..3 {
        let bad_press = InputEvent { x: f32::NAN, ..press(button, ovhost_plugin_api::MOD_ALT) };
        assert!(!camera.input(&bad_press).unwrap());
    }
    for button in 0..3 {
        let _ = camera.input(&press(button, ovhost_plugin_api::MOD_ALT)).unwrap();
        for (dx, dy) in [(f32::NAN, 1.0), (1.0, f32::INFINITY), (f32::NEG_INFINITY, 0.0)] {
            assert!(!camera.input(&drag(button, dx, dy)).unwrap(), "{}: non-finite drag used", S::ID);
        }
        let _ = camera.input(&release(button)).unwrap();
    }
    for notches in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(!camera.input(&wheel(notches)).unwrap());
    }
    let nan_view = CameraView { eye: [f64::NAN, 0.0, 0.0], ..before };
    assert_eq!(camera.set_view(&nan_view).unwrap_err().kind, ErrorKind::INVALID_INPUT);
    let inf_view = CameraView { far: f64::INFINITY, ..before };
    assert!(camera.set_view(&inf_view).is_err());
    let nan_bounds = Bounds { min: [f64::NAN, 0.0, 0.0], max: [1.0; 3] };
    assert_eq!(camera.fit(&nan_bounds, UpAxis::Y).unwrap_err().kind, ErrorKind::INVALID_INPUT);
    let infinite_bounds = Bounds { min: [f64::NEG_INFINITY; 3], max: [f64::INFINITY; 3] };
    assert!(camera.fit(&infinite_bounds, UpAxis::Y).is_err());
    assert!(camera.focus(&nan_bounds).is_err());
    assert_views_close(&view_of(&mut camera), &before, 0.0);

    // Absurd but finite input keeps everything finite.
    for button in 0..3 {
        let _ = camera.input(&press(button, ovhost_plugin_api::MOD_ALT)).unwrap();
        for (dx, dy) in [(f32::MAX, f32::MAX), (-f32::MAX, -f32::MAX), (1e30, -1e30)] {
            let _ = camera.input(&drag(button, dx, dy)).unwrap();
            assert!(view_of(&mut camera).is_finite(), "{}: button {button} drag ({dx}, {dy})", S::ID);
        }
        for notches in [1e30, -1e30, f32::MAX] {
            let _ = camera.input(&wheel(notches)).unwrap();
            assert!(view_of(&mut camera).is_finite());
        }
        for name in ["w", "a", "s", "d", "q", "e"] {
            let _ = camera.input(&key(name, true)).unwrap();
        }
        for _ in 0..100 {
            assert!(camera.advance(u64::MAX).unwrap().is_finite());
        }
        let _ = camera.input(&release(button)).unwrap();
    }
    let state: Value = serde_json::from_str(camera.state().unwrap().as_str()).unwrap();
    assert!(state["distance"].as_f64().unwrap().is_finite());
}

#[test]
fn non_finite_inputs_are_ignored_and_state_stays_finite() {
    assert_nan_inputs_ignored::<OrbitScheme>();
    assert_nan_inputs_ignored::<FlyScheme>();
    assert_nan_inputs_ignored::<KitScheme>();
}

/// Moves a camera of scheme `A` around, hands its view to a fresh camera of scheme `B` and checks
/// the view is kept exactly.
fn assert_switch_keeps_view<A: Scheme, B: Scheme>(up_axis: UpAxis) {
    let mut from = fitted::<A>(&Bounds { min: [-2.0, 0.0, -1.0], max: [3.0, 1.0, 4.0] }, up_axis);
    let _ = from.input(&press(1, 0)).unwrap();
    let _ = from.input(&drag(1, 25.0, -10.0)).unwrap();
    let _ = from.input(&release(1)).unwrap();
    let _ = from.input(&wheel(1.5)).unwrap();
    let view = view_of(&mut from);

    let mut to = Navigator::<B>::from_config("{}").unwrap();
    to.set_viewport(1280, 720).unwrap();
    to.set_view(&view).unwrap();
    assert_eq!(view_of(&mut to), view, "{} -> {}: view changed on switch", A::ID, B::ID);
    assert_eq!(view_of(&mut to), view, "{} -> {}: view drifted", A::ID, B::ID);
    // The new controller carries on around the same up axis and from the same place.
    let orbit_state = |c: &Navigator<B>| (c.rig().distance, c.rig().up_axis);
    let from_state = (from.rig().distance, from.rig().up_axis);
    assert_close(orbit_state(&to).0, from_state.0, 1e-9, "distance");
    assert_eq!(orbit_state(&to).1, from_state.1);
    // The scene extent is estimated from the clip range: fly speed stays in the same range.
    let speed_ratio = to.fly_speed_units_per_s() / from.fly_speed_units_per_s();
    assert!((0.5..2.0).contains(&speed_ratio), "{} -> {}: fly speed ratio {speed_ratio}", A::ID, B::ID);
    let _ = to.input(&wheel(-1.0)).unwrap();
    let _ = to.input(&press(1, 0)).unwrap();
    let _ = to.input(&drag(1, 1.0, 1.0)).unwrap();
    let moved = view_of(&mut to);
    assert_eq!(moved.up, up_axis.vector());
    assert!(v3(moved.eye).distance(v3(view.eye)) < 10.0, "the first move after a switch must not jump");

    // Host variant: fit (stage up axis and extent) then set_view keeps the view exactly as well.
    let mut refit = fitted::<B>(&unit_box(), up_axis);
    refit.set_view(&view).unwrap();
    assert_eq!(view_of(&mut refit), view);
}

#[test]
fn switching_schemes_through_view_and_set_view_keeps_the_view() {
    for up_axis in [UpAxis::Y, UpAxis::Z] {
        assert_switch_keeps_view::<OrbitScheme, FlyScheme>(up_axis);
        assert_switch_keeps_view::<OrbitScheme, KitScheme>(up_axis);
        assert_switch_keeps_view::<FlyScheme, OrbitScheme>(up_axis);
        assert_switch_keeps_view::<FlyScheme, KitScheme>(up_axis);
        assert_switch_keeps_view::<KitScheme, OrbitScheme>(up_axis);
        assert_switch_keeps_view::<KitScheme, FlyScheme>(up_axis);
        assert_switch_keeps_view::<OrbitScheme, OrbitScheme>(up_axis);
    }
}

#[test]
fn a_foreign_clip_range_does_not_inflate_the_scene_estimate() {
    // The host's view before any stage: eye 10 units out, far plane at 10 000.
    let mut camera = Navigator::<FlyScheme>::from_config("{}").unwrap();
    camera.set_view(&CameraView::default()).unwrap();
    assert!(camera.fly_speed_units_per_s() <= 30.0, "fly speed {}", camera.fly_speed_units_per_s());
    assert_eq!(camera.rig().up_axis, UpAxis::Y);
}

#[test]
fn any_view_is_adopted_exactly_even_beyond_the_orbit_limits() {
    let straight_down = CameraView {
        eye: [0.0, 10.0, 0.0],
        target: [0.0, 0.0, 0.0],
        up: [0.0, 0.0, -1.0],
        fov_y_deg: 60.0,
        near: 0.5,
        far: 50.0,
        ..CameraView::default()
    };
    let rolled = CameraView { eye: [1.0, 2.0, 3.0], target: [1.0, 2.0, 2.0], up: [0.6, 0.8, 0.0], ..straight_down };
    let coincident = CameraView { eye: [5.0; 3], target: [5.0; 3], ..straight_down };
    for view in [straight_down, rolled, coincident] {
        let mut camera = fitted::<OrbitScheme>(&unit_box(), UpAxis::Y);
        camera.set_view(&view).unwrap();
        assert_eq!(view_of(&mut camera), view);
        // The first move snaps to a valid orbit state instead of producing garbage.
        feed(&mut camera, &[press(0, 0), drag(0, 1.0, 0.0)]);
        let moved = view_of(&mut camera);
        assert!(moved.is_finite());
        assert_vec_close(moved.target, view.target, 1e-9, "orbit keeps the adopted target");
    }
}

#[test]
fn focus_retargets_keeping_the_direction_and_the_subject_stays_visible() {
    let scene = Bounds { min: [-100.0; 3], max: [100.0; 3] };
    let mut camera = fitted::<OrbitScheme>(&scene, UpAxis::Y);
    let direction_before = forward(&view_of(&mut camera));
    let subject = Bounds { min: [50.0, 0.0, 50.0], max: [50.5, 0.5, 50.5] };
    camera.focus(&subject).unwrap();
    let view = view_of(&mut camera);
    assert_vec_close(view.target, subject.center(), 1e-12, "target = subject centre");
    assert_vec_close(forward(&view).to_array(), direction_before.to_array(), 1e-12, "direction kept");
    for corner in corners(&subject) {
        let (x, y, depth) = project(&view, 1280.0 / 720.0, corner);
        assert!(x.abs() < 1.0 && y.abs() < 1.0 && view.near < depth && depth < view.far, "{corner} not visible");
    }
    // The rest of the scene is still inside the far plane.
    for corner in corners(&scene) {
        assert!(v3(view.eye).distance(corner) < view.far, "far plane clips the scene");
    }
    // Nothing selected: nothing happens.
    camera.focus(&Bounds::EMPTY).unwrap();
    assert_eq!(view_of(&mut camera), view);
}

#[test]
fn fit_of_an_empty_stage_frames_the_origin() {
    let mut camera = fitted::<OrbitScheme>(&Bounds::EMPTY, UpAxis::Z);
    let view = view_of(&mut camera);
    assert_eq!(view.target, [0.0; 3]);
    assert_eq!(view.up, [0.0, 0.0, 1.0]);
    assert!(view.is_finite());
}

#[test]
fn state_reports_every_field() {
    let mut camera = fitted::<FlyScheme>(&Bounds { min: [0.0; 3], max: [2.0, 4.0, 6.0] }, UpAxis::Z);
    let view = view_of(&mut camera);
    let state: Value = serde_json::from_str(camera.state().unwrap().as_str()).unwrap();
    assert_eq!(state["scheme"], "fly");
    assert_eq!(state["up_axis"], "Z");
    let vector = |key: &str| -> [f64; 3] {
        let values: Vec<f64> = state[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        [values[0], values[1], values[2]]
    };
    // serde_json's default float parsing may differ from the printed value in the last bit.
    assert_vec_close(vector("eye"), view.eye, 1e-12, "eye");
    assert_vec_close(vector("target"), view.target, 1e-12, "target");
    assert_vec_close(vector("up"), view.up, 1e-12, "up");
    let number = |key: &str| state[key].as_f64().unwrap_or_else(|| panic!("{key} missing"));
    assert_close(number("fov_y_deg"), view.fov_y_deg, 1e-12, "fov_y_deg");
    assert_close(number("near"), view.near, 1e-12, "near");
    assert_close(number("far"), view.far, 1e-12, "far");
    assert_close(number("azimuth_deg"), 45.0, 1e-9, "azimuth_deg");
    assert_close(number("elevation_deg"), 25.0, 1e-9, "elevation_deg");
    assert_close(number("distance"), v3(view.eye).distance(v3(view.target)), 1e-9, "distance");
    assert_close(number("fly_speed_units_per_s"), camera.fly_speed_units_per_s(), 1e-12, "fly speed");
}

#[test]
fn config_defaults_overrides_and_clear_errors() {
    let camera = Navigator::<OrbitScheme>::from_config("{}").unwrap();
    assert_eq!(camera.rig().fov_y_deg, 45.0);
    assert!(Navigator::<OrbitScheme>::from_config("").is_ok());
    let narrow = Navigator::<OrbitScheme>::from_config(r#"{"fov_y_deg": 30, "zoom_ratio_per_notch": 2}"#).unwrap();
    assert_eq!(narrow.rig().fov_y_deg, 30.0);
    let mut zoomy = narrow;
    let distance = zoomy.rig().distance;
    feed(&mut zoomy, &[wheel(1.0)]);
    assert_close(zoomy.rig().distance, distance / 2.0, 1e-9, "configured zoom ratio");

    let unknown = Navigator::<OrbitScheme>::from_config(r#"{"fov": 30}"#).unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::INVALID_INPUT);
    assert!(unknown.message.contains("unknown field `fov`"), "{unknown}");
    let out_of_range = Navigator::<FlyScheme>::from_config(r#"{"fit_padding": 0.5}"#).unwrap_err();
    assert!(out_of_range.message.contains("\"fit_padding\" is 0.5"), "{out_of_range}");
    let not_object = Navigator::<KitScheme>::from_config("[1, 2]").unwrap_err();
    assert!(not_object.message.contains("expected a JSON object"), "{not_object}");
}

#[test]
fn an_empty_viewport_is_refused() {
    let mut camera = Navigator::<OrbitScheme>::from_config("{}").unwrap();
    let error = camera.set_viewport(0, 720).unwrap_err();
    assert_eq!(error.kind, ErrorKind::INVALID_INPUT);
    assert!(camera.set_viewport(640, 480).is_ok());
}

#[test]
fn registers_three_schemes_that_work_through_the_plugin_boundary() {
    let collect = ovhost_plugin_api::Recorded::of(crate::register).unwrap();
    let ids: Vec<&str> = collect.cameras.iter().map(|e| e.id().as_str()).collect();
    assert_eq!(ids, crate::SCHEME_IDS);
    assert_eq!(crate::DEFAULT_SCHEME, "orbit");
    assert_eq!(collect.renderers.len() + collect.converters.len() + collect.handlers.len(), 0);

    for entry in &collect.cameras {
        let RResult::ROk(mut camera) = (entry.create())(RStr::from_str("{}")) else {
            panic!("{} failed to create", entry.id())
        };
        camera.set_viewport(640, 480).unwrap();
        camera.fit(&unit_box(), UpAxis::Z).unwrap();
        let before = camera.advance(0).unwrap();
        assert!(camera.input(&press(1, 0)).unwrap(), "{}: middle press", entry.id());
        assert!(camera.input(&drag(1, 10.0, 0.0)).unwrap());
        assert_ne!(camera.advance(16_000).unwrap().target, before.target, "{}: middle drag pans", entry.id());
        assert!(camera.input(&InputEvent::new(InputKind::CANCEL)).unwrap());
        let state: Value = serde_json::from_str(camera.state().unwrap().as_str()).unwrap();
        assert_eq!(state["scheme"], entry.id().as_str());

        let RResult::RErr(error) = (entry.create())(RStr::from_str(r#"{"bogus": 1}"#)) else {
            panic!("{} accepted a bad config", entry.id())
        };
        assert_eq!(error.kind, ErrorKind::INVALID_INPUT);
    }
}

#[test]
fn is_a_builtin_plugin() {
    let ours: Vec<&BuiltinPlugin> = ovhost_plugin_api::inventory::iter::<BuiltinPlugin>
        .into_iter()
        .filter(|p| p.crate_name == "ovhost-plugin-cameras")
        .collect();
    assert_eq!(ours.len(), 1);
    let info = (ours[0].module)().info()();
    assert_eq!(info.name.as_str(), "cameras");
}

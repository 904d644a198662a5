//! The shared math: orbit ⇄ view round trips, framing, clamps and the USD matrix.

use glam::DVec3;
use ovhost_plugin_api::{Bounds, CameraController, CameraView, FromConfig, UpAxis};

use super::support::*;
use crate::framing::Sphere;
use crate::rig::{MAX_ELEVATION_RAD, MIN_DISTANCE, OrbitRig};
use crate::schemes::OrbitScheme;

const UP_AXES: [UpAxis; 2] = [UpAxis::Y, UpAxis::Z];

#[test]
fn orbit_state_survives_a_round_trip_through_a_view() {
    for up_axis in UP_AXES {
        for azimuth_deg in [-170.0, -90.0, -30.0, 0.0, 45.0, 135.0, 179.0] {
            for elevation_deg in [-89.0, -40.0, 0.0, 25.0, 89.0] {
                let mut rig = OrbitRig::new(50.0, azimuth_deg, elevation_deg);
                rig.up_axis = up_axis;
                rig.target = DVec3::new(3.0, -2.0, 7.5);
                rig.distance = 12.25;
                let mut back = OrbitRig::new(30.0, 0.0, 0.0);
                back.up_axis = up_axis;
                back.adopt(&rig.view());
                let what = format!("{up_axis:?} az {azimuth_deg} el {elevation_deg}");
                assert_close(back.azimuth_rad, rig.azimuth_rad, 1e-9, &format!("{what} azimuth"));
                assert_close(back.elevation_rad, rig.elevation_rad, 1e-9, &format!("{what} elevation"));
                assert_close(back.distance, rig.distance, 1e-9, &format!("{what} distance"));
                assert_vec_close(back.target.to_array(), rig.target.to_array(), 1e-12, &what);
                assert_close(back.fov_y_deg, 50.0, 0.0, &what);
            }
        }
    }
}

#[test]
fn a_view_survives_a_round_trip_through_orbit_state() {
    let views = [
        ([4.0, 3.0, 5.0], [0.0, 0.0, 0.0]),
        ([-10.0, 2.0, -1.0], [1.0, 1.0, 1.0]),
        ([0.5, -8.0, 0.25], [0.5, 0.0, 0.0]),
        ([100.0, 200.0, -300.0], [-5.0, 6.0, 7.0]),
    ];
    for up_axis in UP_AXES {
        for (eye, target) in views {
            let view = CameraView { eye, target, up: up_axis.vector(), ..CameraView::default() };
            let mut rig = OrbitRig::new(45.0, 0.0, 0.0);
            rig.up_axis = up_axis;
            rig.adopt(&view);
            let back = rig.view();
            assert_vec_close(back.eye, eye, 1e-9, "eye");
            assert_vec_close(back.target, target, 0.0, "target");
            assert_eq!(back.up, up_axis.vector());
        }
    }
}

#[test]
fn azimuth_zero_looks_down_the_stage_front_axis() {
    let mut rig = OrbitRig::new(45.0, 0.0, 0.0);
    assert_vec_close(rig.forward().to_array(), [0.0, 0.0, -1.0], 1e-12, "Y-up forward");
    assert_vec_close(rig.right().to_array(), [1.0, 0.0, 0.0], 1e-12, "Y-up right");
    rig.up_axis = UpAxis::Z;
    assert_vec_close(rig.forward().to_array(), [0.0, 1.0, 0.0], 1e-12, "Z-up forward");
    assert_vec_close(rig.right().to_array(), [1.0, 0.0, 0.0], 1e-12, "Z-up right");
    assert_vec_close(rig.camera_up().to_array(), [0.0, 0.0, 1.0], 1e-12, "Z-up camera up");
}

#[test]
fn fitted_view_contains_every_corner_for_both_up_axes_and_many_aspects() {
    let boxes = [
        unit_box(),
        Bounds { min: [10.0, 20.0, 30.0], max: [11.0, 20.5, 34.0] },
        Bounds { min: [-500.0, -1.0, -500.0], max: [500.0, 1.0, 500.0] },
        Bounds { min: [-0.01, -3.0, -0.01], max: [0.01, 3.0, 0.01] },
        Bounds { min: [2.0, 2.0, 2.0], max: [2.0, 2.0, 2.0] },
    ];
    let viewports = [(1280, 720), (720, 1280), (800, 800), (2000, 500), (500, 2000)];
    for up_axis in UP_AXES {
        for bounds in &boxes {
            for (width, height) in viewports {
                let mut camera = fitted::<OrbitScheme>(&unit_box(), UpAxis::Y);
                camera.set_viewport(width, height).unwrap();
                camera.fit(bounds, up_axis).unwrap();
                let view = view_of(&mut camera);
                let aspect = f64::from(width) / f64::from(height);
                let mut widest_ndc: f64 = 0.0;
                for corner in corners(bounds) {
                    let (x, y, depth) = project(&view, aspect, corner);
                    let what = format!("{up_axis:?} {bounds:?} {width}x{height} corner {corner}");
                    assert!(x.abs() <= 1.0 && y.abs() <= 1.0, "{what} outside the frustum: ndc ({x}, {y})");
                    assert!(view.near <= depth && depth <= view.far, "{what} depth {depth} outside clip {view:?}");
                    widest_ndc = widest_ndc.max(x.abs()).max(y.abs());
                }
                // ~20 % padding: in its tightest direction the box reaches 1/1.2 of the half view
                // (a point sits in the middle of the view).
                let expected_fill = if bounds.size() == [0.0; 3] { 0.0 } else { 1.0 / 1.2 };
                assert_close(widest_ndc, expected_fill, 1e-9, &format!("{up_axis:?} {bounds:?} {width}x{height} fill"));
            }
        }
    }
}

#[test]
fn fit_uses_the_default_direction_and_the_stage_up_axis() {
    for up_axis in UP_AXES {
        let mut camera = fitted::<OrbitScheme>(&unit_box(), up_axis);
        let rig = *camera.rig();
        assert_close(rig.elevation_rad.to_degrees(), 25.0, 1e-9, "elevation");
        assert_close(rig.azimuth_rad.to_degrees(), 45.0, 1e-9, "azimuth");
        let view = view_of(&mut camera);
        assert_eq!(view.up, up_axis.vector());
        let height_above_target = (v3(view.eye) - v3(view.target)).dot(v3(up_axis.vector()));
        assert!(height_above_target > 0.0, "{up_axis:?}: the fitted eye is not above the target");
        assert_close(height_above_target / rig.distance, 25f64.to_radians().sin(), 1e-9, "elevation along up");
    }
}

#[test]
fn fit_clip_range_follows_the_suggested_formula_when_it_leaves_room() {
    // With a narrow field of view the framing distance is large, so near = distance − 1.5 r.
    let mut camera = crate::Navigator::<OrbitScheme>::from_config(r#"{"fov_y_deg": 20}"#).unwrap();
    camera.fit(&unit_box(), UpAxis::Y).unwrap();
    let view = view_of(&mut camera);
    let radius = 3f64.sqrt();
    let distance = camera.rig().distance;
    assert_close(view.near, distance - 1.5 * radius, 1e-9, "near");
    assert_close(view.far, distance + 3.0 * radius, 1e-9, "far");
}

#[test]
fn elevation_is_clamped_and_the_basis_stays_defined() {
    for up_axis in UP_AXES {
        let mut rig = OrbitRig::new(45.0, 30.0, 0.0);
        rig.up_axis = up_axis;
        rig.orbit(0.0, 10.0);
        assert_eq!(rig.elevation_rad, MAX_ELEVATION_RAD);
        rig.orbit(0.0, -100.0);
        assert_eq!(rig.elevation_rad, -MAX_ELEVATION_RAD);
        let matrix = rig.view().to_usd_matrix();
        assert!(matrix.iter().all(|v| v.is_finite()));
        let right = DVec3::new(matrix[0], matrix[1], matrix[2]);
        assert_close(right.length(), 1.0, 1e-9, "right is a unit vector");
    }
}

#[test]
fn distance_never_drops_below_the_minimum() {
    let mut rig = OrbitRig::new(45.0, 0.0, 0.0);
    rig.dolly(1e-30);
    assert_eq!(rig.distance, MIN_DISTANCE);
    let view = rig.view();
    assert!(view.near > 0.0 && view.near < MIN_DISTANCE && view.far > view.near, "{view:?}");
}

#[test]
fn a_move_that_would_become_non_finite_is_dropped() {
    let mut rig = OrbitRig::new(45.0, 0.0, 0.0);
    let before = rig;
    assert!(!rig.apply(|r| r.translate(DVec3::new(f64::NAN, 0.0, 0.0))));
    assert!(!rig.apply(|r| r.orbit(f64::INFINITY, 0.0)));
    assert!(!rig.apply(|r| r.translate(DVec3::splat(f64::MAX))));
    assert_eq!(rig, before);
    assert!(rig.apply(|r| r.translate(DVec3::X)));
    assert_eq!(rig.target, DVec3::X);
}

#[test]
fn sphere_union_contains_both() {
    let a = Sphere { center: DVec3::ZERO, radius: 1.0 };
    let b = Sphere { center: DVec3::new(10.0, 0.0, 0.0), radius: 2.0 };
    let u = a.union(&b);
    assert_close(u.radius, 6.5, 1e-12, "radius");
    assert_vec_close(u.center.to_array(), [5.5, 0.0, 0.0], 1e-12, "center");
    assert_eq!(a.union(&Sphere { center: DVec3::X * 0.1, radius: 0.5 }), a);
}

#[test]
fn usd_matrix_rows_are_right_up_back_and_eye() {
    let mut camera = fitted::<OrbitScheme>(&Bounds { min: [0.0, 0.0, 0.0], max: [4.0, 2.0, 1.0] }, UpAxis::Z);
    let view = view_of(&mut camera);
    let m = view.to_usd_matrix();
    let row = |r: usize| DVec3::new(m[4 * r], m[4 * r + 1], m[4 * r + 2]);
    assert_vec_close(row(2).to_array(), (-forward(&view)).to_array(), 1e-12, "row 2 = -forward");
    assert_vec_close(row(3).to_array(), view.eye, 0.0, "row 3 = eye");
    assert_eq!([m[3], m[7], m[11], m[15]], [0.0, 0.0, 0.0, 1.0]);
    assert_close(row(0).dot(row(1)), 0.0, 1e-12, "right ⟂ up");
    assert_close(row(0).dot(row(2)), 0.0, 1e-12, "right ⟂ back");
    assert_close(row(0).dot(DVec3::Z), 0.0, 1e-12, "right is horizontal for a Z-up stage");
    assert!(row(1).dot(DVec3::Z) > 0.0, "camera up leans to the stage up");
    assert_vec_close(row(0).to_array(), camera.rig().right().to_array(), 1e-12, "row 0 = rig right");
}

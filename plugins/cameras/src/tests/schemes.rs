//! Each scheme driven by scripted input: press, drag, release, wheel, keys and time.

use ovhost_plugin_api::{CameraController, MOD_ALT, UpAxis};

use super::support::*;
use crate::schemes::{FlyScheme, KitScheme, OrbitScheme};

#[test]
fn orbit_left_drag_turns_azimuth_with_the_drag_direction() {
    for up_axis in [UpAxis::Y, UpAxis::Z] {
        let mut camera = fitted::<OrbitScheme>(&unit_box(), up_axis);
        let before = view_of(&mut camera);
        let (azimuth_before, distance_before) = (camera.rig().azimuth_rad, camera.rig().distance);
        feed(&mut camera, &[press(0, 0), drag(0, 40.0, 0.0)]);
        let after_right = view_of(&mut camera);
        let right_before = camera_right(&before);
        assert_close(camera.rig().azimuth_rad - azimuth_before, -(40.0 * 0.25f64).to_radians(), 1e-9, "azimuth");
        assert!((v3(after_right.eye) - v3(before.eye)).dot(right_before) < 0.0, "{up_axis:?}: eye did not swing left");
        assert_vec_close(after_right.target, before.target, 0.0, "orbit keeps the target");
        assert_close(camera.rig().distance, distance_before, 1e-12, "orbit keeps the distance");

        feed(&mut camera, &[drag(0, -80.0, 0.0)]);
        assert_close(camera.rig().azimuth_rad - azimuth_before, (40.0 * 0.25f64).to_radians(), 1e-9, "back past start");

        let elevation_before = camera.rig().elevation_rad;
        feed(&mut camera, &[drag(0, 0.0, 20.0), release(0)]);
        assert!(camera.rig().elevation_rad > elevation_before, "drag down raises the eye");
        // After the release, moves do nothing.
        let settled = view_of(&mut camera);
        assert!(!camera.input(&drag(0, 50.0, 50.0)).unwrap());
        assert_views_close(&view_of(&mut camera), &settled, 0.0);
    }
}

fn camera_right(view: &ovhost_plugin_api::CameraView) -> glam::DVec3 {
    forward(view).cross(v3(view.up)).normalize()
}

#[test]
fn orbit_middle_drag_moves_the_target_with_the_pointer() {
    for up_axis in [UpAxis::Y, UpAxis::Z] {
        let mut camera = fitted::<OrbitScheme>(&unit_box(), up_axis);
        let before = view_of(&mut camera);
        let distance = camera.rig().distance;
        feed(&mut camera, &[press(1, 0), drag(1, 72.0, 0.0)]);
        let after = view_of(&mut camera);
        // 720 px of height span 2·d·tan(fov/2) at the target's depth; 72 px is a tenth of that.
        let expected_shift = 0.1 * 2.0 * distance * 22.5f64.to_radians().tan();
        let moved = v3(after.target) - v3(before.target);
        assert_close(moved.length(), expected_shift, 1e-9, "pan distance");
        assert_close(moved.normalize().dot(camera_right(&before)), -1.0, 1e-9, "drag right moves the target left");
        assert_vec_close(
            (v3(after.eye) - v3(after.target)).to_array(),
            (v3(before.eye) - v3(before.target)).to_array(),
            1e-9,
            "pan keeps the offset",
        );

        feed(&mut camera, &[drag(1, 0.0, 30.0), release(1)]);
        let lifted = v3(view_of(&mut camera).target) - v3(after.target);
        assert!(lifted.dot(v3(up_axis.vector())) > 0.0, "{up_axis:?}: drag down moves the target up");
    }
}

#[test]
fn orbit_wheel_and_right_drag_dolly() {
    let mut camera = fitted::<OrbitScheme>(&unit_box(), UpAxis::Y);
    let start = camera.rig().distance;
    feed(&mut camera, &[wheel(1.0)]);
    assert_close(camera.rig().distance, start / 1.15, 1e-9, "wheel forward zooms in");
    feed(&mut camera, &[wheel(-2.0)]);
    assert_close(camera.rig().distance, start * 1.15, 1e-9, "wheel back zooms out");
    let before = camera.rig().distance;
    feed(&mut camera, &[press(2, 0), drag(2, 0.0, -100.0)]);
    assert_close(camera.rig().distance, before * (-0.5f64).exp(), 1e-9, "right-drag up dollies in");
    feed(&mut camera, &[drag(2, -100.0, 0.0), release(2)]);
    assert_close(camera.rig().distance, before, 1e-9, "right-drag left dollies back out");
    assert!(!camera.input(&wheel(0.0)).unwrap(), "a zero wheel event is not used");
}

#[test]
fn a_second_button_does_not_hijack_the_gesture_and_cancel_ends_it() {
    let mut camera = fitted::<OrbitScheme>(&unit_box(), UpAxis::Y);
    feed(&mut camera, &[press(0, 0)]);
    assert!(!camera.input(&press(1, 0)).unwrap());
    let target = view_of(&mut camera).target;
    let orbit_and_middle = ovhost_plugin_api::InputEvent { buttons: bit(0) | bit(1), ..drag(0, 10.0, 0.0) };
    feed(&mut camera, &[orbit_and_middle]);
    assert_vec_close(view_of(&mut camera).target, target, 0.0, "still orbiting, not panning");
    assert!(!camera.input(&release(1)).unwrap(), "releasing the other button is not ours");
    camera.cancel().unwrap();
    let settled = view_of(&mut camera);
    assert!(!camera.input(&drag(0, 30.0, 0.0)).unwrap(), "moves after cancel are not used");
    assert_views_close(&view_of(&mut camera), &settled, 0.0);
    // The CANCEL event does the same.
    feed(&mut camera, &[press(0, 0), ovhost_plugin_api::InputEvent::new(ovhost_plugin_api::InputKind::CANCEL)]);
    assert!(!camera.input(&drag(0, 30.0, 0.0)).unwrap());
    // A move whose button bits say the button is up ends the gesture (lost release).
    feed(&mut camera, &[press(0, 0)]);
    let lost = ovhost_plugin_api::InputEvent { buttons: 0, ..drag(0, 30.0, 0.0) };
    assert!(!camera.input(&lost).unwrap());
    assert!(!camera.input(&drag(0, 30.0, 0.0)).unwrap());
    assert_views_close(&view_of(&mut camera), &settled, 0.0);
}

#[test]
fn fly_w_for_one_second_moves_forward_by_the_speed() {
    for up_axis in [UpAxis::Y, UpAxis::Z] {
        let mut camera = fitted::<FlyScheme>(&unit_box(), up_axis);
        let before = view_of(&mut camera);
        let speed = camera.fly_speed_units_per_s();
        assert_close(speed, 3f64.sqrt(), 1e-12, "speed is one scene radius per second");
        feed(&mut camera, &[press(2, 0), key("w", true)]);
        for _ in 0..10 {
            camera.advance(100_000).unwrap();
        }
        let after = view_of(&mut camera);
        let moved = v3(after.eye) - v3(before.eye);
        assert_vec_close(moved.to_array(), (forward(&before) * speed).to_array(), 1e-9, "W moves forward");
        assert_vec_close((v3(after.target) - v3(before.target)).to_array(), moved.to_array(), 1e-9, "target follows");

        // E rises along world up, not camera up.
        feed(&mut camera, &[key("w", false), key("e", true)]);
        camera.advance(250_000).unwrap();
        camera.advance(250_000).unwrap();
        let risen = v3(view_of(&mut camera).eye) - v3(after.eye);
        assert_vec_close(risen.to_array(), (v3(up_axis.vector()) * speed * 0.5).to_array(), 1e-9, "E rises");

        // Releasing the right button stops the flight even with the key still held.
        feed(&mut camera, &[release(2)]);
        let parked = view_of(&mut camera);
        camera.advance(1_000_000).unwrap();
        assert_views_close(&view_of(&mut camera), &parked, 0.0);
    }
}

#[test]
fn fly_keys_without_the_right_button_do_not_move_and_are_not_used() {
    let mut camera = fitted::<FlyScheme>(&unit_box(), UpAxis::Y);
    let before = view_of(&mut camera);
    assert!(!camera.input(&key("w", true)).unwrap());
    camera.advance(1_000_000).unwrap();
    assert_views_close(&view_of(&mut camera), &before, 0.0);
    // A key held before the press starts moving as soon as the right button is down.
    feed(&mut camera, &[press(2, 0)]);
    camera.advance(100_000).unwrap();
    assert!(v3(view_of(&mut camera).eye).distance(v3(before.eye)) > 0.0);
    assert!(!camera.input(&key("f", true)).unwrap(), "F is the host's (it calls focus)");
}

#[test]
fn fly_strafe_mouse_look_and_wheel_speed() {
    let mut camera = fitted::<FlyScheme>(&unit_box(), UpAxis::Y);
    let before = view_of(&mut camera);
    let speed = camera.fly_speed_units_per_s();
    feed(&mut camera, &[press(2, 0), key("d", true)]);
    camera.advance(200_000).unwrap();
    let strafed = v3(view_of(&mut camera).eye) - v3(before.eye);
    assert_vec_close(strafed.to_array(), (camera_right(&before) * speed * 0.2).to_array(), 1e-9, "D strafes right");
    feed(&mut camera, &[key("d", false)]);

    // Mouse-look keeps the eye and turns the view: drag right looks right.
    let eye = view_of(&mut camera).eye;
    let forward_before = forward(&view_of(&mut camera));
    feed(&mut camera, &[drag(2, 60.0, 0.0)]);
    let looked = view_of(&mut camera);
    assert_vec_close(looked.eye, eye, 1e-9, "look keeps the eye");
    assert!(forward(&looked).dot(camera_right(&before)) > forward_before.dot(camera_right(&before)), "looks right");

    // Wheel forward speeds up, back slows down.
    feed(&mut camera, &[wheel(1.0)]);
    assert_close(camera.fly_speed_units_per_s(), speed * 1.2, 1e-9, "faster");
    feed(&mut camera, &[release(2), wheel(-2.0)]);
    assert_close(camera.fly_speed_units_per_s(), speed / 1.2, 1e-9, "slower (fly scheme wheel)");
    // A huge frame gap moves at most a quarter second.
    feed(&mut camera, &[press(2, 0), key("w", true)]);
    let start = view_of(&mut camera).eye;
    camera.advance(10_000_000).unwrap();
    let hop = v3(view_of(&mut camera).eye).distance(v3(start));
    assert_close(hop, speed / 1.2 * 0.25, 1e-9, "step capped");
}

#[test]
fn kit_needs_alt_to_orbit_and_zoom_with_the_mouse() {
    let mut camera = fitted::<KitScheme>(&unit_box(), UpAxis::Y);
    let before = view_of(&mut camera);
    assert!(!camera.input(&press(0, 0)).unwrap(), "plain left is the host's (selection)");
    assert!(!camera.input(&drag(0, 40.0, 0.0)).unwrap());
    assert_views_close(&view_of(&mut camera), &before, 0.0);
    assert!(!camera.input(&release(0)).unwrap());

    let azimuth = camera.rig().azimuth_rad;
    feed(&mut camera, &[press(0, MOD_ALT), drag(0, 40.0, 0.0), release(0)]);
    assert!(camera.rig().azimuth_rad < azimuth, "Alt+left drag right orbits");

    let distance = camera.rig().distance;
    feed(&mut camera, &[press(2, MOD_ALT), drag(2, 50.0, 0.0), release(2)]);
    assert!(camera.rig().distance < distance, "Alt+right drag right zooms in");

    let target = view_of(&mut camera).target;
    feed(&mut camera, &[press(1, 0), drag(1, 10.0, 10.0), release(1)]);
    assert!(v3(view_of(&mut camera).target).distance(v3(target)) > 0.0, "middle pans");

    let distance = camera.rig().distance;
    feed(&mut camera, &[wheel(1.0)]);
    assert!(camera.rig().distance < distance, "wheel forward zooms in");

    // Plain right flies, as in Kit.
    let eye = v3(view_of(&mut camera).eye);
    let look = forward(&view_of(&mut camera));
    feed(&mut camera, &[press(2, 0), key("w", true)]);
    camera.advance(100_000).unwrap();
    let moved = v3(view_of(&mut camera).eye) - eye;
    assert_close(moved.normalize().dot(look), 1.0, 1e-9, "right + W flies forward");
}

//! Stage time in the raster renderer: baked tracks (instance transforms, held visibility, mesh
//! positions) move what is drawn and picked, and the same time code always gives the same frame.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

mod support;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::{RenderRequest, Track, TrackTarget};
use ovhost_plugin_raster::{Raster, synthetic};
use support::*;

fn render_at(r: &mut Raster, t: f64) -> Image {
    let request = RenderRequest { time_code: t, ..request() };
    request.with_ref(|q| capture(&r.render(q).unwrap()))
}

fn track(target: TrackTarget, mesh: u32, held: bool, times: &[f64], values: Vec<f32>) -> Track {
    Track { target, mesh, instance: 0, held, times: times.to_vec().into(), values: values.into() }
}

fn matrix(at: [f64; 3]) -> Vec<f32> {
    synthetic::transform(at, 1.0).iter().map(|&x| x as f32).collect()
}

/// A red cube sliding from x=-2 (t=0) to x=2 (t=10); a green cube that hides from t=5 on; a
/// blue cube whose points rise by 1.5 between t=0 and t=10.
fn animated_scene() -> ovhost_plugin_api::StageScene {
    let (left, right) = ([-2.0, 0.5, 0.0], [2.0, 0.5, 0.0]);
    let mut scene = synthetic::scene(vec![
        ("/World/Red", synthetic::cube(0.5, Some(RED)), vec![synthetic::transform(left, 1.0)]),
        ("/World/Green", synthetic::cube(0.4, Some(GREEN)), vec![synthetic::transform([0.0, 0.5, -1.5], 1.0)]),
        ("/World/Blue", synthetic::cube(0.3, Some(BLUE)), vec![synthetic::transform([0.0, 0.5, 1.5], 1.0)]),
    ]);
    let raised: Vec<f32> = scene.meshes[2].positions.iter().flat_map(|p| [p[0], p[1] + 1.5, p[2]]).collect();
    let start: Vec<f32> = scene.meshes[2].positions.iter().flatten().copied().collect();
    scene.tracks = vec![
        track(TrackTarget::INSTANCE_TRANSFORM, 0, false, &[0.0, 10.0], [matrix(left), matrix(right)].concat()),
        track(TrackTarget::INSTANCE_VISIBILITY, 1, true, &[0.0, 5.0], vec![1.0, 0.0]),
        track(TrackTarget::MESH_POSITIONS, 2, false, &[0.0, 10.0], [start, raised].concat()),
    ]
    .into();
    scene.time_range =
        Some(ovhost_plugin_api::TimeRange { start_time_code: 0.0, end_time_code: 10.0, time_codes_per_second: 24.0 });
    scene
}

#[test]
fn tracks_move_hide_and_deform_and_a_seek_repeats_the_frame() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(animated_scene().as_scene()).unwrap();
    let start = render_at(&mut r, 0.0);
    let (lx, ly) = project([-2.0, 0.5, 0.0]);
    let (rx, ry) = project([2.0, 0.5, 0.0]);
    let (gx, gy) = project([0.0, 0.5, -1.5]);
    let blue_top = project([0.0, 2.2, 1.5]);
    assert!(is_red(start.px(lx, ly)) && !is_red(start.px(rx, ry)), "t=0: the red cube is on the left");
    assert_eq!(r.pick(lx, ly).unwrap(), 1);
    assert!(is_green(start.px(gx, gy)), "t=0: the green cube shows: {:?}", start.px(gx, gy));
    assert_eq!(r.pick(gx, gy).unwrap(), 2);
    assert!(!is_blue(start.px(blue_top.0, blue_top.1)), "t=0: nothing above the blue cube");

    let end = render_at(&mut r, 10.0);
    end.save_png("animation-t10");
    assert!(is_red(end.px(rx, ry)) && !is_red(end.px(lx, ly)), "t=10: the red cube moved right");
    assert_eq!(r.pick(rx, ry).unwrap(), 1, "picking follows the moving cube");
    assert_eq!(r.pick(lx, ly).unwrap(), 0);
    assert!(is_neutral(end.px(gx, gy)), "t=10: the green cube is hidden: {:?}", end.px(gx, gy));
    assert_eq!(r.pick(gx, gy).unwrap(), 0, "a hidden prim cannot be picked");
    assert!(
        is_blue(end.px(blue_top.0, blue_top.1)),
        "t=10: the blue cube's points rose: {:?}",
        end.px(blue_top.0, blue_top.1)
    );
    assert!(start.mean_abs_diff(&end) > 1.0, "the frames differ where things moved");

    let half = render_at(&mut r, 5.0);
    let (mx, my) = project([0.45, 0.2, 0.5]); // on its front face, clear of the blue cube
    assert!(is_red(half.px(mx, my)), "t=5: halfway, the red cube is in the middle");
    let again = render_at(&mut r, 0.0);
    assert_eq!(again.rgba, start.rgba, "seeking back to t=0 gives the same frame");
    let static_frame = render_at(&mut r, f64::NAN);
    assert_eq!(static_frame.rgba, again.rgba, "no time code keeps the last pose");
}

/// A colour track (one colour for the mesh, as a gprim's time-sampled `displayColor` bakes)
/// recolours the cube: red at t=0, blue at t=10, and a per-vertex track works the same way.
#[test]
fn colour_tracks_recolour_the_mesh() {
    let _gpu = gpu_lock();
    let mut r = raster();
    let mut scene = synthetic::scene(vec![
        ("/World/Shape", synthetic::cube(0.8, Some(RED)), vec![synthetic::transform([-1.5, 0.5, 0.0], 1.0)]),
        ("/World/Other", synthetic::cube(0.8, Some(RED)), vec![synthetic::transform([1.5, 0.5, 0.0], 1.0)]),
    ]);
    scene.meshes[0].colors = vec![RED].into();
    let n = scene.meshes[1].positions.len();
    let per_vertex: Vec<f32> = [vec![RED; n], vec![GREEN; n]].concat().into_iter().flatten().collect();
    scene.tracks = vec![
        track(TrackTarget::MESH_COLORS, 0, false, &[0.0, 10.0], [RED, BLUE].concat()),
        track(TrackTarget::MESH_COLORS, 1, false, &[0.0, 10.0], per_vertex),
    ]
    .into();
    r.open_stage(scene.as_scene()).unwrap();
    let (x, y) = project([-1.5, 0.5, 0.8]);
    let (ox, oy) = project([1.5, 0.5, 0.8]);
    let start = render_at(&mut r, 0.0);
    assert!(is_red(start.px(x, y)) && is_red(start.px(ox, oy)), "t=0: both red");
    let end = render_at(&mut r, 10.0);
    assert!(is_blue(end.px(x, y)), "t=10: the one-colour track made it blue: {:?}", end.px(x, y));
    assert!(is_green(end.px(ox, oy)), "t=10: the per-vertex track made it green: {:?}", end.px(ox, oy));
    assert_eq!(render_at(&mut r, 0.0).rgba, start.rgba, "seeking back gives the same frame");
}

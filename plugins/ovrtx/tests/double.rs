//! The plugin against the ovrtx TEST DOUBLE (tests/fixtures/ovrtx-double): call order, camera,
//! picking through the path dictionary, selection, settings, AOVs, surfaced errors.

mod common;

use common::*;
use ovhost_plugin_api::abi_stable::std_types::{RSlice, RStr};
use ovhost_plugin_api::{ErrorKind, FromConfig, MemoryLocation, RendererBackend};
use ovhost_plugin_ovrtx::Ovrtx;

/// Asserts `want` appears in `log` in this order (other calls may come between).
fn assert_in_order(log: &[String], want: &[&str]) {
    let mut it = log.iter();
    for w in want {
        assert!(it.any(|l| l == w), "call {w} missing or out of order in {log:#?}");
    }
}

#[test]
fn documented_call_sequence_is_followed() {
    let mut r = create(r#""warmup_frames": 2"#);
    r.resize(64, 48).into_result().unwrap();
    r.open_stage(scene("seq").as_scene()).into_result().unwrap();
    let (frame, _) = render(&mut r, [0.0, 0.0, 10.0]);
    assert_eq!((frame.width, frame.height, frame.location), (64, 48, MemoryLocation::HOST));
    r.pick(5, 30).into_result().unwrap();
    let log = trace(&r);
    assert_in_order(
        &log,
        &[
            "ovrtx_create_renderer",
            "ovrtx_get_path_dictionary",
            "ovrtx_set_selection_group_styles",
            "ovrtx_open_usd_from_string",
            "ovrtx_wait_op",
            "ovrtx_reset",
            // two warm-up steps
            "ovrtx_step",
            "ovrtx_fetch_results",
            "ovrtx_destroy_results",
            "ovrtx_step",
            "ovrtx_fetch_results",
            "ovrtx_destroy_results",
            // the frame
            "ovrtx_write_attribute(omni:xform)",
            "ovrtx_step",
            "ovrtx_fetch_results",
            "ovrtx_map_render_var_output",
            "ovrtx_unmap_render_var_output",
            "ovrtx_destroy_results",
            // the pick
            "ovrtx_enqueue_pick_query",
            "ovrtx_step",
            "ovrtx_fetch_results",
            "ovrtx_map_render_var_output",
            "ovrtx_unmap_render_var_output",
            "ovrtx_destroy_results",
        ],
    );
    assert_eq!(live_handles(&r), 0, "every result and mapping is released: {log:#?}");
}

#[test]
fn camera_changes_change_the_image_and_same_camera_is_not_rewritten() {
    let mut r = create("");
    r.resize(32, 32).into_result().unwrap();
    r.open_stage(scene("camera").as_scene()).into_result().unwrap();
    let (_, a) = render(&mut r, [0.0, 0.0, 10.0]);
    let (_, a2) = render(&mut r, [0.0, 0.0, 10.0]);
    let (_, b) = render(&mut r, [3.0, 1.0, 10.0]);
    assert_eq!(a, a2);
    assert_ne!(a, b, "the camera written must reach the renderer");
    let writes = trace(&r).iter().filter(|l| l.starts_with("ovrtx_write_attribute")).count();
    assert_eq!(writes, 2, "an unchanged camera is written once");
    // A non-finite camera is skipped, not written: the image stays.
    let (_, c) = render(&mut r, [f64::NAN, 0.0, 10.0]);
    assert_eq!(b, c);
}

#[test]
fn picks_map_dictionary_ids_to_stage_prim_ids() {
    let mut r = create("");
    r.resize(100, 100).into_result().unwrap();
    let scene = scene("pick");
    r.open_stage(scene.as_scene()).into_result().unwrap();
    assert_eq!(r.pick(1, 50).into_result().unwrap_err().kind, ErrorKind::BAD_STATE, "no frame yet");
    render(&mut r, [0.0, 0.0, 10.0]);
    let left = r.pick(10, 50).into_result().unwrap();
    let right = r.pick(90, 50).into_result().unwrap();
    let miss = r.pick(50, 2).into_result().unwrap();
    assert_eq!(scene.prim_path(left), Some("/World/Left"));
    assert_eq!(scene.prim_path(right), Some("/World/Right"));
    assert_eq!((left, right, miss), (2, 3, 0));
    assert_eq!(r.pick(100, 0).into_result().unwrap_err().kind, ErrorKind::INVALID_INPUT);
}

#[test]
fn selection_outline_and_its_colour_reach_the_renderer() {
    let mut r = create("");
    r.resize(16, 16).into_result().unwrap();
    r.open_stage(scene("select").as_scene()).into_result().unwrap();
    let (_, plain) = render(&mut r, [0.0, 0.0, 10.0]);
    r.set_selection(RSlice::from_slice(&[2])).into_result().unwrap();
    let (_, selected) = render(&mut r, [0.0, 0.0, 10.0]);
    assert_eq!(&selected[..4], &[0xff, 0x8c, 0x00, 0xff], "default outline colour at the top-left");
    assert_ne!(plain[..4], selected[..4]);
    let applies = r.set_render_setting(RStr::from("outline_color"), RStr::from("\"#00ff00\"")).into_result().unwrap();
    assert_eq!(applies.as_str(), "immediate");
    let (_, recoloured) = render(&mut r, [0.0, 0.0, 10.0]);
    assert_eq!(&recoloured[..4], &[0, 0xff, 0, 0xff]);
    r.set_selection(RSlice::from_slice(&[])).into_result().unwrap();
    let (_, cleared) = render(&mut r, [0.0, 0.0, 10.0]);
    assert_eq!(cleared, plain);
    assert_eq!(r.set_selection(RSlice::from_slice(&[9])).into_result().unwrap_err().kind, ErrorKind::INVALID_INPUT);
}

#[test]
fn settings_declare_honest_applies_at() {
    let mut r = create("");
    let a = r.set_render_setting(RStr::from("render_mode"), RStr::from("\"PathTracing\"")).into_result().unwrap();
    assert_eq!(a.as_str(), "reload_required");
    let e = r.set_render_setting(RStr::from("exposure"), RStr::from("1")).into_result().unwrap_err();
    assert_eq!(e.kind, ErrorKind::UNSUPPORTED);
    let json: serde_json::Value = serde_json::from_str(r.render_settings().into_result().unwrap().as_str()).unwrap();
    assert_eq!(json["settings"]["render_mode"], "PathTracing");
    // The new mode is authored into the layer on the next open (the double parses it fine).
    r.resize(8, 8).into_result().unwrap();
    r.open_stage(scene("settings").as_scene()).into_result().unwrap();
}

#[test]
fn aovs_come_from_the_render_product() {
    let mut r = create(r#""aovs": ["DistanceToCameraSD", "NormalSD"]"#);
    r.resize(8, 4).into_result().unwrap();
    r.open_stage(scene("aov").as_scene()).into_result().unwrap();
    render(&mut r, [0.0, 0.0, 10.0]);
    let names: Vec<String> = r.aovs().into_result().unwrap().iter().map(|s| s.to_string()).collect();
    assert_eq!(names, ["LdrColor", "DistanceToCameraSD", "NormalSD"]);
    r.set_aov(RStr::from("NormalSD")).into_result().unwrap();
    let (frame, normals) = render(&mut r, [0.0, 0.0, 10.0]);
    assert_eq!((frame.width, frame.height), (8, 4));
    // Camera looks down -Z: back vector (0,0,1) → (128,128,255).
    assert_eq!(&normals[..4], &[128, 128, 255, 255]);
    r.set_aov(RStr::from("DistanceToCameraSD")).into_result().unwrap();
    let (_, depth) = render(&mut r, [0.0, 0.0, 10.0]);
    assert!(depth[0] > depth[(8 - 1) * 4], "nearer is brighter");
    assert_eq!(r.set_aov(RStr::from("HdrColor")).into_result().unwrap_err().kind, ErrorKind::NOT_FOUND);
}

#[test]
fn library_errors_are_surfaced_with_the_call_name() {
    let mut r = create("");
    r.resize(8, 8).into_result().unwrap();
    let mut missing = scene("missing");
    missing.resolved_path = "/nonexistent/scene.usd".into();
    let e = r.open_stage(missing.as_scene()).into_result().unwrap_err();
    assert!(e.message.contains("ovrtx_open_usd_from_string failed"), "{e}");
    assert!(e.message.contains("Failed to open layer @/nonexistent/scene.usd@"), "{e}");
    // Without a stage a frame is still produced (background) and nothing is stepped.
    let (frame, _) = render(&mut r, [0.0, 0.0, 10.0]);
    assert_eq!(frame.width, 8);
    assert!(!trace(&r).iter().any(|l| l == "ovrtx_step"));

    // The CUDA output path on a machine without CUDA (with a driver the double maps real device
    // memory: tests/cuda_output.rs).
    if ovhost_plugin_cuda::driver_present() {
        return;
    }
    let mut cuda =
        Ovrtx::from_config(&config(r#""warmup_frames": 0, "active_cuda_gpus": "0""#).replace("\"cpu\"", "\"cuda\""))
            .unwrap();
    cuda.resize(8, 8).into_result().unwrap();
    cuda.open_stage(scene("cuda").as_scene()).into_result().unwrap();
    let e = request([0.0, 0.0, 10.0]).with_ref(|q| cuda.render(q).into_result().map(|_| ()).unwrap_err());
    assert!(e.message.contains("ovrtx_map_render_var_output failed"), "{e}");
    assert!(e.message.contains("no NVIDIA driver"), "{e}");
    assert_eq!(live_handles(&cuda), 0, "a failed frame releases its results");
}

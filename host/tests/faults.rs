//! Plugin faults against the real `ovhost` binary, with the `faulty` and `services-probe` fixture
//! plugins: a renderer that panics or keeps producing invalid frames is replaced by the
//! diagnostic renderer and reported once; cameras with a non-object state or a panic keep the
//! stream going; every host service is callable with typed arguments through `HostContextExt`;
//! a converter whose output descriptor cannot hold its rows is refused before anything reads it.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost::plugins::Registry;
use ovhost::runtime::chain::Chain;
use ovhost_plugin_api::{ErrorKind, Frame, FrameFormat, FrameSpec};
use ovhost_test_support::{Host, Ws, plugin_library, wait_until};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");

fn faulty() -> String {
    plugin_library("faulty").to_str().unwrap().to_string()
}

/// Reads messages for `duration`, returning every `pluginDisabled` seen.
fn collect_disabled(ws: &mut Ws, duration: Duration) -> Vec<Value> {
    let deadline = Instant::now() + duration;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(message) = ws.recv(Duration::from_millis(100))
            && message["event_type"] == "pluginDisabled"
        {
            seen.push(message["payload"].clone());
        }
    }
    seen
}

fn frames_rendered(host: &Host) -> u64 {
    host.get_json("/api/state")["frames_rendered"].as_u64().unwrap()
}

#[test]
fn a_renderer_that_panics_on_its_10th_frame_is_replaced_and_reported_once() {
    let plugin = faulty();
    let args =
        ["--plugin", &plugin, "--renderer", "panic-at-frame-10", "--fps", "240", "--width", "64", "--height", "48"];
    let host = Host::start(Path::new(BIN), &args);
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    let mut disabled = collect_disabled(&mut ws, Duration::from_secs(2));
    // The stream continues on the diagnostic renderer until well past 1,000 frames.
    assert!(wait_until(Duration::from_secs(60), || frames_rendered(&host) >= 1_000), "{}", host.logs().join("\n"));
    let frames_before = ws.binary_frames;
    disabled.extend(collect_disabled(&mut ws, Duration::from_secs(1)));
    assert!(ws.binary_frames > frames_before, "video keeps flowing after the fallback");
    assert_eq!(disabled.len(), 1, "exactly one pluginDisabled: {disabled:?}");
    assert_eq!(disabled[0]["kind"], "renderer");
    assert_eq!(disabled[0]["id"], "panic-at-frame-10");
    assert_eq!(disabled[0]["plugin"], "faulty");
    assert_eq!(disabled[0]["fallback"], "testpattern");
    assert!(disabled[0]["reason"].as_str().unwrap().contains("frame 10"), "{}", disabled[0]);
    let state = host.get_json("/api/state");
    assert_eq!(state["renderer"], "testpattern");
    assert_eq!(state["disabled"].as_array().unwrap().len(), 1, "listed once after 1,000 frames: {}", state["disabled"]);
    assert!(state["frames_rendered"].as_u64().unwrap() >= 1_000);
    assert_eq!(host.get("/healthz").0, 200);

    // A client that joins later is told once too, in its hello answer.
    let mut late = host.ws();
    late.hello(&["jpeg"]);
    let told = collect_disabled(&mut late, Duration::from_millis(500));
    assert_eq!(told.len(), 1, "{told:?}");
}

#[test]
fn a_renderer_that_keeps_returning_invalid_frames_is_replaced() {
    let plugin = faulty();
    let args = ["--plugin", &plugin, "--renderer", "short-frame", "--fps", "120", "--width", "64", "--height", "48"];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(Duration::from_secs(15)), "the fallback renderer feeds the sinks");
    let state = host.get_json("/api/state");
    assert_eq!(state["renderer"], "testpattern");
    let disabled = state["disabled"].as_array().unwrap();
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    let reason = disabled[0]["reason"].as_str().unwrap();
    assert!(reason.contains("consecutive frames failed") && reason.contains("invalid frame descriptor"), "{reason}");
    assert!(reason.contains("needs"), "the error names the missing bytes: {reason}");
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    assert!(ws.recv_binary(Duration::from_secs(5)).is_some());
}

#[test]
fn a_camera_whose_state_is_not_an_object_keeps_the_stream_going() {
    let plugin = faulty();
    let args = ["--plugin", &plugin, "--renderer", "testpattern", "--camera", "array-state"];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(Duration::from_secs(15)));
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    let before = frames_rendered(&host);
    assert!(ws.recv_binary(Duration::from_secs(5)).is_some());
    assert!(wait_until(Duration::from_secs(5), || frames_rendered(&host) > before + 10));
    let state = host.get_json("/api/state");
    assert_eq!(state["camera"]["scheme"], "array-state");
    assert!(state["camera"]["view"]["eye"].is_array(), "{}", state["camera"]);
    assert!(state["disabled"].as_array().unwrap().is_empty(), "a bad state is not a fault: {}", state["disabled"]);
    assert!(host.logs().iter().any(|l| l.contains("camera state ignored") && l.contains("an array")));
}

#[test]
fn a_camera_that_panics_falls_back_to_the_default_scheme() {
    let plugin = faulty();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, json!({ "camera_scheme": "panicking-camera" }).to_string()).unwrap();
    let args = [
        "--plugin",
        &plugin,
        "--renderer",
        "testpattern",
        "--camera",
        "orbit",
        "--settings",
        settings.to_str().unwrap(),
    ];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(Duration::from_secs(15)));
    assert!(
        wait_until(Duration::from_secs(10), || host.get_json("/api/state")["camera"]["scheme"] == "orbit"),
        "{}",
        host.get_json("/api/state")
    );
    let state = host.get_json("/api/state");
    let disabled = state["disabled"].as_array().unwrap();
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!((disabled[0]["kind"].as_str(), disabled[0]["id"].as_str()), (Some("camera"), Some("panicking-camera")));
    assert_eq!(disabled[0]["fallback"], "orbit");
    let before = frames_rendered(&host);
    assert!(wait_until(Duration::from_secs(5), || frames_rendered(&host) > before + 10), "frames keep coming");
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    assert_eq!(collect_disabled(&mut ws, Duration::from_millis(500)).len(), 1);
}

#[test]
fn every_host_service_is_callable_with_typed_arguments() {
    let probe = plugin_library("services_probe");
    let args = [
        "--plugin",
        probe.to_str().unwrap(),
        "--asset-root",
        "examples/stages",
        "--stage",
        "sample_yup.usda",
        "--width",
        "320",
        "--height",
        "180",
    ];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_stage_loaded(Duration::from_secs(30)));
    assert!(host.wait_ready(Duration::from_secs(15)));
    let mut ws = host.ws();
    ws.hello(&[]);
    ws.send("probeServices", json!({}));
    let answer = ws.recv_type("probeServicesResult", Duration::from_secs(20)).expect("probeServicesResult");
    let results = answer["payload"]["results"].as_object().unwrap();
    let declared: Vec<&str> = ovhost_plugin_api::services::SERVICES.iter().map(|s| s.name).collect();
    for name in &declared {
        assert_eq!(results.get(*name).and_then(Value::as_str), Some("ok"), "{name}: {answer}");
    }
    assert_eq!(results.len(), declared.len(), "{answer}");
    assert_eq!(answer["payload"]["unknown"], "not_found");
    assert_eq!(answer["payload"]["bad_args"], "invalid_input");
}

#[test]
fn a_converter_output_shorter_than_its_rows_is_refused_before_it_is_read() {
    let mut registry = Registry::default();
    registry.add_file(&plugin_library("faulty"));
    assert!(registry.errors.is_empty(), "{:?}", registry.errors.iter().map(|e| &e.message).collect::<Vec<_>>());
    let target = FrameSpec::host(FrameFormat::BGRA8);
    let mut chain = Chain::build(&registry, target, vec!["short-bgra".into()], |_| "{}".into()).unwrap();
    let pixels = vec![7u8; 16 * 8 * 4];
    let input = Frame::host(FrameFormat::RGBA8, 16, 8, 64, &pixels);
    let error = chain.run(&input).map(|f| f.len_bytes()).unwrap_err();
    assert_eq!(error.kind, ErrorKind::INVALID_INPUT);
    assert!(error.message.contains("short-bgra") && error.message.contains("needs"), "{error}");
}

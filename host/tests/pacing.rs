//! Render on demand, video options and readiness against the real binary: an idle host costs
//! next to no CPU; with a client on a static stage frames stop after one quality refresh (a
//! keyframe) and resume on input; `--video-bitrate-kbps` and `--keyframe-interval-s` reach the
//! encoder; a sink nothing can feed keeps `/healthz` at 503 with the reason in `/api/state`.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws, plugin_library, wait_until};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(10);

/// User plus system CPU seconds the process has used (`/proc/<pid>/stat`, USER_HZ = 100).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn static_stage_host(extra: &[&str]) -> Host {
    let mut args = vec!["--asset-root", "examples/stages", "--stage", "sample_yup.usda", "--fps", "30"];
    args.extend_from_slice(extra);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(Duration::from_secs(60)), "ready: {}", host.logs().join("\n"));
    assert!(host.wait_stage_loaded(Duration::from_secs(60)));
    host
}

/// (keyframe, frame number) of a video message.
fn header(frame: &[u8]) -> (bool, u64) {
    assert_eq!(&frame[0..4], b"OVHF");
    (frame[6] & 1 == 1, u64::from_le_bytes(frame[8..16].try_into().unwrap()))
}

/// Every video frame that arrives within `window`.
fn frames_within(ws: &mut Ws, window: Duration) -> Vec<(bool, u64)> {
    let deadline = Instant::now() + window;
    let mut frames = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match ws.recv_binary(left) {
            Some(frame) => frames.push(header(&frame)),
            None => break,
        }
    }
    frames
}

fn drag(ws: &mut Ws, seq: u32) {
    ws.send(
        "input",
        json!({"seq": seq, "events": [
            {"type": "pointerdown", "x": 300, "y": 200, "button": 0, "buttons": 1},
            {"type": "pointermove", "x": 340, "y": 210, "dx": 40, "dy": 10, "buttons": 1},
            {"type": "pointerup", "x": 340, "y": 210, "button": 0, "buttons": 0},
        ]}),
    );
}

#[test]
fn idle_host_with_no_client_and_a_static_stage_uses_under_two_percent_of_a_core() {
    let host = static_stage_host(&["--width", "1280", "--height", "720"]);
    let pid = host.child.id();
    std::thread::sleep(Duration::from_secs(1)); // the refresh and start-up work settle
    let (cpu0, t0) = (cpu_seconds(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(10));
    let share = (cpu_seconds(pid) - cpu0) / t0.elapsed().as_secs_f64();
    println!("idle host CPU: {:.2} % of one core over 10 s (no client, static stage, 1280x720 raster)", share * 100.0);
    assert!(share < 0.02, "an idle host used {:.2} % of a core", share * 100.0);
    let state = host.get_json("/api/state");
    assert_eq!(host.get("/healthz").0, 200, "still ready although nothing renders");
    assert!(state["pacing"]["frames_changed"].as_u64().unwrap() <= 3, "{}", state["pacing"]);
}

#[test]
fn static_stage_frames_stop_after_one_refresh_keyframe_and_resume_on_input() {
    let host = static_stage_host(&["--width", "640", "--height", "360"]);
    let mut ws = host.ws();
    assert_eq!(ws.hello(&["h264"])["payload"]["video"]["codec"], "h264");
    let first = frames_within(&mut ws, Duration::from_secs(2));
    assert!(first.first().is_some_and(|f| f.0), "a joining client gets a keyframe first: {first:?}");
    assert!(first.last().unwrap().0, "the last frame before the picture settles is the refresh keyframe: {first:?}");
    assert!(first.len() <= 3, "a static stage sends its frame and one refresh, not a stream: {first:?}");
    let quiet = frames_within(&mut ws, Duration::from_secs(2));
    assert!(quiet.is_empty(), "nothing changes, nothing is sent: {quiet:?}");

    drag(&mut ws, 1);
    let resumed = frames_within(&mut ws, Duration::from_secs(2));
    assert!(!resumed.is_empty(), "input renders again");
    assert!(!resumed[0].0, "a change is an ordinary (P) frame, not a keyframe: {resumed:?}");
    assert!(resumed.last().unwrap().0, "and ends with one refresh keyframe: {resumed:?}");
    assert!(resumed.windows(2).all(|w| w[1].1 > w[0].1), "frame numbers increase");
    assert!(frames_within(&mut ws, Duration::from_secs(1)).is_empty(), "quiet again");
    let state = host.get_json("/api/state");
    assert!(state["pacing"]["frames_refresh"].as_u64().unwrap() >= 2, "{}", state["pacing"]);
}

/// Streams `testpattern` (a picture that changes every frame) at 320x240 20 fps for 3 s with
/// `extra` options; returns (keyframe flags, kbit/s, `/api/state`).
fn stream_with(extra: &[&str]) -> (Vec<bool>, f64, serde_json::Value) {
    let mut args = vec!["--renderer", "testpattern", "--width", "320", "--height", "240", "--fps", "20"];
    args.extend_from_slice(extra);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    ws.hello(&["h264"]);
    let (mut keyframes, mut bytes) = (Vec::new(), 0usize);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        let frame = ws.recv_binary(SECS).expect("frames keep coming for a changing picture");
        keyframes.push(header(&frame).0);
        bytes += frame.len() - 40;
    }
    let kbps = bytes as f64 * 8.0 / 1000.0 / started.elapsed().as_secs_f64();
    (keyframes, kbps, host.get_json("/api/state"))
}

#[test]
fn cli_video_options_reach_the_encoder() {
    let (keyframes, low_kbps, state) = stream_with(&["--video-bitrate-kbps", "150", "--keyframe-interval-s", "0.5"]);
    assert_eq!(state["video"], json!({"fps": 20, "bitrate_kbps": 150, "keyframe_interval_s": 0.5, "quality": null}));
    let idr: Vec<usize> = keyframes.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect();
    let gaps: Vec<usize> = idr.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 3 && gaps.iter().all(|g| *g == 10), "an IDR every 10 frames (0.5 s at 20 fps): {gaps:?}");
    let (_, high_kbps, _) = stream_with(&["--video-bitrate-kbps", "6000", "--keyframe-interval-s", "0.5"]);
    println!("testpattern 320x240@20: --video-bitrate-kbps 150 → {low_kbps:.0} kbit/s, 6000 → {high_kbps:.0} kbit/s");
    assert!(low_kbps < 150.0 * 1.3, "the stream holds --video-bitrate-kbps 150: {low_kbps:.0} kbit/s");
    assert!(low_kbps * 1.3 < high_kbps, "the bitrate follows the flag: {low_kbps:.0} vs {high_kbps:.0} kbit/s");
}

#[test]
fn a_sink_nothing_can_feed_keeps_healthz_at_503_with_the_reason() {
    let fixture = plugin_library("slow_renderer");
    let args = ["--plugin", fixture.to_str().unwrap(), "--renderer", "bgra-grey", "--width", "320", "--height", "240"];
    let host = Host::start(Path::new(BIN), &args);
    let rendered = wait_until(SECS, || host.get_json("/api/state")["frames_rendered"].as_u64().unwrap_or(0) > 0);
    assert!(rendered, "the renderer renders");
    let reason = wait_until(SECS, || host.get_json("/api/state")["not_ready_reason"].is_string());
    assert!(reason, "the reason is published: {}", host.get_json("/api/state"));
    std::thread::sleep(Duration::from_millis(500));
    let (code, _) = host.get("/healthz");
    assert_eq!(code, 503, "a sink nothing can feed: not ready");
    let state = host.get_json("/api/state");
    let reason = state["not_ready_reason"].as_str().unwrap();
    assert!(reason.contains("'web'") && reason.contains("bgra8@host"), "{reason}");
    assert_eq!(state["ready"], false);
}

#[test]
fn a_viewer_that_lost_sync_gets_a_keyframe_on_request() {
    let args = ["--renderer", "testpattern", "--width", "320", "--height", "240", "--keyframe-interval-s", "0"];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    ws.hello(&["h264"]);
    let before = frames_within(&mut ws, Duration::from_secs(1));
    assert!(before.len() > 5 && before[0].0, "{before:?}");
    assert!(before[1..].iter().all(|f| !f.0), "no periodic keyframes with --keyframe-interval-s 0: {before:?}");
    ws.send("requestKeyframe", json!({"reason": "decoder_error"}));
    let after = frames_within(&mut ws, Duration::from_millis(600));
    assert!(after.first().is_some_and(|f| f.0), "the next frame this viewer gets is a keyframe: {after:?}");
    assert_eq!(after.iter().filter(|f| f.0).count(), 1, "one keyframe per request: {after:?}");
    let clients = &host.get_json("/api/state")["clients"];
    assert_eq!(clients[0]["keyframes_requested"], 1, "{clients}");
}

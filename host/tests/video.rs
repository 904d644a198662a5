//! Video over `/ws` against the real binary: H.264 and JPEG clients get framed, decodable-looking
//! payloads starting with a keyframe; a client that stops reading neither grows the host's memory
//! nor slows another client down.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);

fn header(frame: &[u8]) -> (u8, bool, u64, u32, u32) {
    assert_eq!(&frame[0..4], b"OVHF", "magic");
    assert_eq!(frame[4], 1, "version");
    let number = u64::from_le_bytes(frame[8..16].try_into().unwrap());
    let width = u32::from_le_bytes(frame[24..28].try_into().unwrap());
    let height = u32::from_le_bytes(frame[28..32].try_into().unwrap());
    (frame[5], frame[6] & 1 == 1, number, width, height)
}

/// NAL unit types in an Annex B access unit.
fn nal_types(mut data: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    while let Some(pos) = data.windows(3).position(|w| w == [0, 0, 1]) {
        data = &data[pos + 3..];
        if let Some(b) = data.first() {
            types.push(b & 0x1f);
        }
    }
    types
}

fn start(width: &str, height: &str) -> Host {
    let args = ["--renderer", "testpattern", "--width", width, "--height", height, "--fps", "30"];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS));
    host
}

#[test]
fn h264_client_gets_a_keyframe_first_then_a_stream() {
    let host = start("640", "360");
    let mut ws = host.ws();
    let hello = ws.hello(&["h264", "jpeg"]);
    assert_eq!(hello["payload"]["video"]["codec"], "h264");
    let first = ws.recv_binary(SECS).expect("video frame");
    let (codec, keyframe, number, width, height) = header(&first);
    assert_eq!((codec, keyframe, width, height), (1, true, 640, 360));
    let nals = nal_types(&first[40..]);
    assert!(nals.starts_with(&[7, 8]) && nals.contains(&5), "IDR access unit must carry SPS, PPS, IDR: {nals:?}");
    let mut last = number;
    for _ in 0..20 {
        let frame = ws.recv_binary(SECS).expect("more frames");
        let (_, _, n, _, _) = header(&frame);
        assert!(n > last, "frame numbers increase");
        last = n;
    }
}

#[test]
fn jpeg_only_client_gets_jpeg_and_a_client_without_codecs_gets_no_video() {
    let host = start("640", "360");
    let mut jpeg = host.ws();
    assert_eq!(jpeg.hello(&["vp9", "jpeg"])["payload"]["video"]["codec"], "jpeg");
    let frame = jpeg.recv_binary(SECS).expect("jpeg frame");
    let (codec, keyframe, ..) = header(&frame);
    assert_eq!((codec, keyframe), (2, true));
    assert_eq!(&frame[40..42], &[0xFF, 0xD8], "JPEG SOI marker");
    let mut silent = host.ws();
    assert!(silent.hello(&[])["payload"]["video"]["codec"].is_null());
    assert!(silent.recv_binary(Duration::from_millis(800)).is_none());
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap()
}

fn frames_in(ws: &mut Ws, window: Duration) -> usize {
    let until = Instant::now() + window;
    let mut n = 0;
    while Instant::now() < until {
        if ws.recv_binary(until.saturating_duration_since(Instant::now())).is_some() {
            n += 1;
        }
    }
    n
}

#[test]
fn a_client_that_stops_reading_leaves_memory_flat_and_others_unaffected() {
    let host = start("1280", "720");
    let mut reader = host.ws();
    reader.hello(&["jpeg"]);
    frames_in(&mut reader, Duration::from_millis(500));
    let baseline = frames_in(&mut reader, Duration::from_secs(2));

    // The stalled client asks for video and then never reads again.
    let mut stalled = host.ws();
    stalled.send("hello", serde_json::json!({ "video": { "codecs": ["jpeg"] } }));
    std::thread::sleep(Duration::from_secs(2)); // let its socket buffers fill
    let pid = host.child.id();
    let rss_before = rss_kib(pid);
    let during = frames_in(&mut reader, Duration::from_secs(4)) as f64 / 2.0;
    let rss_after = rss_kib(pid);

    assert!(baseline >= 20, "baseline frame rate too low to compare: {baseline} frames in 2 s");
    assert!(
        during >= baseline as f64 * 0.8,
        "the reading client slowed down while another stalled: {baseline} → {during} frames per 2 s"
    );
    let growth_kib = rss_after.saturating_sub(rss_before);
    assert!(growth_kib < 16 * 1024, "host memory grew by {growth_kib} KiB while a client was stalled");
    let state = host.get_json("/api/state");
    let dropped: u64 = state["clients"].as_array().unwrap().iter().map(|c| c["frames_dropped"].as_u64().unwrap()).sum();
    assert!(dropped > 0, "the stalled client's frames must be dropped, not buffered: {state}");
    drop(stalled);
}

//! Save image and Record against the real `ovhost` binary: `GET /api/snapshot.png` is a PNG of
//! the current stream size (before and after a `setStreamSize`), and a 5-second recording
//! (`startRecording` … `stopRecording`) downloads from `GET /api/recordings/<name>` as an MP4 that
//! PyAV (FFmpeg's demuxer and decoder, in the webrtc test venv) opens and decodes to about
//! 5 s × fps frames. Spectators cannot record; `--recordings-dir` keeps the file on the host.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ovhost_test_support::{Host, Ws};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);
const FPS: u32 = 15;

/// `GET path` → (status, body bytes).
fn get_bytes(port: u16, path: &str) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, raw[split + 4..].to_vec())
}

fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()))
}

fn hello(ws: &mut Ws) -> Value {
    ws.send("hello", json!({"client": "ovhost-test", "video": {"codecs": ["jpeg"]}}));
    ws.recv_type("helloResult", SECS).expect("helloResult")["payload"].clone()
}

/// PyAV from the webrtc venv (scripts/webrtc/setup-venv.sh), or `None` after printing SKIPPED
/// when it cannot be set up and OVHOST_SKIP_WEBRTC=1.
fn pyav() -> Option<PathBuf> {
    let script = ovhost_test_support::workspace_root().join("scripts/webrtc/setup-venv.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    if out.status.success() {
        return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    let why = String::from_utf8_lossy(&out.stderr).to_string();
    if std::env::var("OVHOST_SKIP_WEBRTC").as_deref() == Ok("1") {
        eprintln!("SKIPPED: PyAV is unavailable and OVHOST_SKIP_WEBRTC=1 ({why})");
        return None;
    }
    panic!("PyAV (scripts/webrtc/setup-venv.sh) is needed to check recordings: {why}");
}

#[test]
fn save_image_is_a_png_of_the_current_stream_size() {
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--width", "320", "--height", "180"]);
    assert!(host.wait_ready(SECS));
    let (status, png) = get_bytes(host.port, "/api/snapshot.png");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    assert_eq!(png_size(&png), (320, 180));
    let mut ws = host.ws();
    hello(&mut ws);
    ws.send("setStreamSize", json!({"width": 640, "height": 360}));
    ws.recv_type("streamSizeChanged", SECS).expect("streamSizeChanged");
    let (_, png) = get_bytes(host.port, "/api/snapshot.png");
    assert_eq!(png_size(&png), (640, 360), "the still follows the stream size");
}

#[test]
fn a_five_second_recording_is_an_mp4_that_pyav_decodes() {
    let Some(python) = pyav() else { return };
    let dir = tempfile_dir("ovhost-recordings-test");
    let fps = FPS.to_string();
    let host = Host::start(
        Path::new(BIN),
        &[
            "--renderer",
            "testpattern",
            "--width",
            "320",
            "--height",
            "180",
            "--fps",
            &fps,
            "--recordings-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(host.wait_ready(SECS));
    let mut owner = host.ws();
    hello(&mut owner);
    let mut watcher = host.ws();
    hello(&mut watcher);

    watcher.send("startRecording", json!({}));
    let refused = watcher.recv_type("viewerError", SECS).expect("a spectator is refused")["payload"].clone();
    assert_eq!(refused["code"], "not_permitted", "{refused}");

    owner.send("startRecording", json!({}));
    for ws in [&mut owner, &mut watcher] {
        let started = ws.recv_type("recordingState", SECS).expect("recordingState (started)")["payload"].clone();
        assert_eq!(started["recording"], true, "{started}");
    }
    owner.send("startRecording", json!({}));
    let twice = owner.recv_type("viewerError", SECS).expect("one recording at a time")["payload"].clone();
    assert_eq!(twice["code"], "bad_state");
    std::thread::sleep(Duration::from_secs(5));
    owner.send("stopRecording", json!({}));
    let stopped = owner.recv_type("recordingState", SECS).expect("recordingState (stopped)")["payload"].clone();
    assert_eq!(stopped["recording"], false, "{stopped}");
    assert_eq!(stopped["reason"], "stopped");
    let file = stopped["file"].clone();
    assert_eq!(file["kept"], true);
    let name = file["name"].as_str().unwrap();
    assert!(dir.join(name).is_file(), "--recordings-dir keeps the file");

    let (status, mp4) = get_bytes(host.port, file["url"].as_str().unwrap());
    assert_eq!(status, 200);
    assert_eq!(mp4.len() as u64, file["bytes"].as_u64().unwrap());
    let downloaded = dir.join("downloaded.mp4");
    std::fs::write(&downloaded, &mp4).unwrap();
    let script = ovhost_test_support::workspace_root().join("scripts/capture/check_mp4.py");
    let out = Command::new(&python).arg(&script).arg(&downloaded).output().unwrap();
    assert!(out.status.success(), "PyAV could not read the recording: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("recording: {file} → PyAV: {report}");
    assert!(report["format"].as_str().unwrap().contains("mp4"), "{report}");
    assert_eq!(report["codec"], "h264");
    assert_eq!((report["width"].as_u64(), report["height"].as_u64()), (Some(320), Some(180)));
    let frames = report["frames"].as_f64().unwrap();
    let expected = 5.0 * f64::from(FPS);
    assert!(
        (frames - expected).abs() <= expected * 0.2,
        "{frames} frames decoded, expected about {expected}: {report}"
    );
    assert_eq!(frames as u64, file["frames"].as_u64().unwrap(), "every written frame decodes");
    assert!(report["keyframes"].as_u64().unwrap() >= 1);
    let span = report["last_pts_s"].as_f64().unwrap() - report["first_pts_s"].as_f64().unwrap();
    assert!((span - 5.0).abs() < 1.0, "timestamps span {span} s: {report}");

    let (status, _) = get_bytes(host.port, "/api/recordings/..%2F..%2Fetc%2Fpasswd.mp4");
    assert_eq!(status, 404);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_recording_stops_itself_at_its_time_cap_and_the_temporary_file_downloads() {
    let host = Host::start(
        Path::new(BIN),
        &["--renderer", "testpattern", "--width", "160", "--height", "96", "--recording-max-s", "1"],
    );
    assert!(host.wait_ready(SECS));
    let mut owner = host.ws();
    hello(&mut owner);
    owner.send("startRecording", json!({}));
    assert_eq!(owner.recv_type("recordingState", SECS).unwrap()["payload"]["recording"], true);
    let stopped = owner.recv_type("recordingState", SECS).expect("stops by itself")["payload"].clone();
    assert_eq!(stopped["reason"], "cap", "{stopped}");
    assert_eq!(stopped["file"]["kept"], false, "no --recordings-dir: offered for download only");
    let (status, mp4) = get_bytes(host.port, stopped["file"]["url"].as_str().unwrap());
    assert_eq!(status, 200);
    assert_eq!(&mp4[4..8], b"ftyp");
    let listed = host.get_json("/api/recordings");
    assert_eq!(listed["files"][0]["name"], stopped["file"]["name"]);
}

//! Transport selection on a machine without an NVIDIA driver (CI): ovstream transports fail fast
//! with a clear error; with `web` alongside, the host logs the failure and keeps serving.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ovhost_test_support::Host;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");

fn names_the_missing_piece(text: &str) -> bool {
    // Either the library is absent (how to fetch it) or the driver is (libcuda.so.1).
    text.contains("libcuda") || text.contains("NVIDIA driver") || text.contains("OVSTREAM_LIB_PATH")
}

#[test]
fn an_ovstream_only_transport_fails_fast_naming_what_is_missing() {
    if Path::new("/dev/nvidia0").exists() {
        ovhost_test_support::skip("this machine has an NVIDIA GPU, so ovstream may start");
        return;
    }
    for transport in ["ovstream-webrtc", "ovstream-shm", "ovstream-rtsp", "ovstream-native", "ovstream-cudashm"] {
        let started = Instant::now();
        let output = Command::new(BIN)
            .args(["--renderer", "testpattern", "--http-port", "0", "--transport", transport])
            .current_dir(ovhost_test_support::workspace_root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{transport}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{transport} took {:?}", started.elapsed());
        assert!(names_the_missing_piece(&stderr), "{transport}: the error must name the driver or library: {stderr}");
    }
}

#[test]
fn with_web_alongside_the_host_logs_the_failure_and_keeps_serving() {
    if Path::new("/dev/nvidia0").exists() {
        ovhost_test_support::skip("this machine has an NVIDIA GPU");
        return;
    }
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--transport", "web,ovstream-webrtc"]);
    assert!(host.wait_ready(Duration::from_secs(5)));
    let line = host.wait_for_log("transport could not start", Duration::from_secs(2)).expect("failure logged");
    assert!(line.contains("ovstream-webrtc") && names_the_missing_piece(&line), "{line}");
    let state = host.get_json("/api/state");
    // The web sink and the built-in recorder (which takes H.264 only while recording).
    assert_eq!(state["sinks"], serde_json::json!(["web", "recording"]));
    let mut ws = host.ws();
    assert_eq!(ws.hello(&["jpeg"])["payload"]["video"]["codec"], "jpeg");
    assert!(ws.recv_binary(Duration::from_secs(5)).is_some(), "the web sink still streams");
}

#[test]
fn strict_transports_turns_the_failure_into_an_exit() {
    if Path::new("/dev/nvidia0").exists() {
        ovhost_test_support::skip("this machine has an NVIDIA GPU");
        return;
    }
    let output = Command::new(BIN)
        .args([
            "--renderer",
            "testpattern",
            "--http-port",
            "0",
            "--transport",
            "web,ovstream-shm",
            "--strict-transports",
        ])
        .current_dir(ovhost_test_support::workspace_root())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ovstream-shm"));
}

#[test]
fn an_unknown_transport_is_a_configuration_error() {
    let output = Command::new(BIN).args(["--http-port", "0", "--transport", "web,carrier-pigeon"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("carrier-pigeon") && stderr.contains("ovstream-webrtc"), "{stderr}");
}

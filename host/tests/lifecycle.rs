//! Host lifecycle against the real binary: readiness, signals, error replies on /ws.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use ovhost_test_support::{Host, plugin_library, wait_until};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);

#[test]
fn healthz_is_503_until_the_first_frame_then_200() {
    let slow = plugin_library("slow_renderer");
    let host = Host::start(Path::new(BIN), &["--renderer", "slow-start", "--plugin", slow.to_str().unwrap()]);
    let (status, body) = host.get("/healthz");
    assert_eq!((status, body.as_str()), (503, "not ready"));
    assert!(host.wait_ready(Duration::from_secs(10)));
    assert_eq!(host.get("/healthz"), (200, "ok".to_string()));
    assert_eq!(host.get_json("/api/state")["ready"], true);
}

#[test]
fn stock_host_is_ready_within_two_seconds() {
    let started = Instant::now();
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern"]);
    assert!(host.wait_ready(Duration::from_secs(2)), "not ready within 2 s of start");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let state = host.get_json("/api/state");
    assert_eq!(state["state"], "idle");
    assert_eq!(state["stream"]["width"], 1280);
    assert_eq!(state["renderer"], "testpattern");
}

#[test]
fn sigint_and_sigterm_shut_down_cleanly_within_two_seconds() {
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let mut host = Host::start(Path::new(BIN), &["--renderer", "testpattern"]);
        assert!(host.wait_ready(SECS));
        let _ws = host.ws(); // a connected client must not hold the process up
        let (took, status) = host
            .signal_and_wait(signal, Duration::from_secs(2))
            .unwrap_or_else(|| panic!("{signal} did not stop the host within 2 s"));
        assert!(status.success(), "{signal}: exit status {status}");
        assert!(took < Duration::from_secs(2));
        assert!(host.wait_for_log("render loop stopped", Duration::from_millis(100)).is_some(), "{:?}", host.logs());
    }
}

#[test]
fn bad_messages_get_error_replies_and_the_connection_stays_open() {
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern"]);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    let cases: Vec<(String, &str)> = vec![
        (json!({"event_type": "noSuchThing", "payload": {}}).to_string(), "unknown_event_type"),
        ("{this is not json".to_string(), "malformed_json"),
        (json!({"payload": {}}).to_string(), "invalid_envelope"),
        (json!({"event_type": "hello", "payload": [1, 2]}).to_string(), "invalid_envelope"),
        (json!({"event_type": "x", "payload": {"blob": "y".repeat(70 * 1024)}}).to_string(), "message_too_large"),
        (json!({"event_type": "input", "payload": {"type": "teleport"}}).to_string(), "invalid_input"),
    ];
    for (message, code) in cases {
        ws.send_text(&message);
        let reply = ws.recv_type("viewerError", SECS).unwrap_or_else(|| panic!("no viewerError for {code}"));
        assert_eq!(reply["payload"]["code"], code, "{reply}");
        assert_eq!(ovhost_protocol::ServerMessages::check("viewerError", &reply["payload"]), Some(Ok(())));
        assert!(!reply["payload"]["message"].as_str().unwrap().is_empty());
    }
    // Still open and answering.
    let hello = ws.hello(&[]);
    assert_eq!(hello["payload"]["host"], "ovhost");
    assert_eq!(ovhost_protocol::ServerMessages::check("helloResult", &hello["payload"]), Some(Ok(())));
    assert_eq!(hello["payload"]["plugin_api_version"], ovhost_plugin_api::API_VERSION);
    assert!(hello["payload"]["features"].as_array().unwrap().len() >= 3);
    assert_eq!(host.get("/healthz").0, 200);
}

#[test]
fn wrapped_library_frames_are_unwrapped() {
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern"]);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    let inner = json!({"event_type": "hello", "payload": {}}).to_string();
    ws.send_text(&json!({"messageRecipient": "app", "messageType": "json", "data": inner}).to_string());
    assert!(ws.recv_type("helloResult", SECS).is_some());
}

#[test]
fn access_token_and_origin_are_enforced_when_configured() {
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--access-token", "s3cret"]);
    assert!(host.wait_ready(SECS));
    assert!(ovhost_test_support::Ws::try_connect(host.port, "").is_err(), "no token must be refused");
    assert!(ovhost_test_support::Ws::try_connect(host.port, "?token=wrong").is_err());
    let mut ws = ovhost_test_support::Ws::try_connect(host.port, "?token=s3cret").unwrap();
    assert!(ws.hello(&[])["payload"]["client_id"].is_u64());
    assert!(wait_until(SECS, || host.get("/healthz").0 == 200));
}

#[test]
fn unknown_renderer_fails_at_start_listing_the_available_ones() {
    let output = std::process::Command::new(BIN).args(["--renderer", "nope", "--http-port", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("renderer 'nope' is not registered") && stderr.contains("testpattern"), "{stderr}");
}

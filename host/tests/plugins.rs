//! Plugin loading against the real `ovhost` binary: example plugins answer over /ws, every
//! fixture yields its error kind while the host keeps serving, duplicates are reported, and
//! `--strict-plugins` turns failures into a non-zero exit.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use ovhost_test_support::{Host, json_subset, plugin_library};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);

fn plugin_dir_with(names: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        let src = plugin_library(name);
        std::fs::copy(&src, dir.path().join(src.file_name().unwrap())).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn error_kinds(plugins: &Value) -> Vec<(String, String)> {
    plugins["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["source"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn example_plugins_load_from_a_plugin_dir_and_answer_over_ws() {
    let (_keep, dir) = plugin_dir_with(&["bookmarks", "turntable"]);
    let host = Host::start(
        Path::new(BIN),
        &["--renderer", "testpattern", "--camera", "turntable", "--plugin-dir", dir.to_str().unwrap()],
    );
    assert!(host.wait_ready(SECS));
    let plugins = host.get_json("/api/plugins");
    assert!(plugins["errors"].as_array().unwrap().is_empty(), "{plugins}");
    let names: Vec<&str> = plugins["plugins"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"bookmarks") && names.contains(&"turntable"), "{names:?}");

    // The turntable camera is active and turns on its own.
    let first = host.get_json("/api/state")["camera"].clone();
    assert_eq!(first["scheme"], "turntable");
    std::thread::sleep(Duration::from_millis(300));
    let second = host.get_json("/api/state")["camera"].clone();
    assert_ne!(first["view"]["eye"], second["view"]["eye"], "turntable must move the camera over time");

    // Bookmarks: save, recall (the camera jumps back), list, errors.
    let mut ws = host.ws();
    ws.send("saveBookmarkRequest", json!({ "name": "start" }));
    let saved = ws.recv_type("bookmarksChanged", SECS).expect("bookmarksChanged");
    assert_eq!(saved["payload"]["bookmarks"], json!(["start"]));
    let saved_view = host.get_json("/api/state")["camera"]["view"].clone();
    std::thread::sleep(Duration::from_millis(200));
    ws.send("recallBookmarkRequest", json!({ "name": "start" }));
    let recalled = ws.recv_type("bookmarkRecalled", SECS).expect("bookmarkRecalled");
    assert_eq!(recalled["payload"]["name"], "start");
    assert!(recalled["payload"]["view"]["eye"].is_array());
    ws.send("recallBookmarkRequest", json!({ "name": "nowhere" }));
    let error = ws.recv_type("viewerError", SECS).expect("viewerError for a missing bookmark");
    assert_eq!(error["payload"]["code"], "not_found");
    ws.send("saveBookmarkRequest", json!({ "name": 42 }));
    let error = ws.recv_type("viewerError", SECS).expect("viewerError for a bad name");
    assert_eq!(error["payload"]["code"], "invalid_input");
    drop(saved_view);
}

#[test]
fn handler_examples_replay_against_the_live_host() {
    // Every loaded handler's examples (built-ins and the bookmarks example) against the sample stage.
    let (_keep, dir) = plugin_dir_with(&["bookmarks"]);
    let host = Host::start(
        Path::new(BIN),
        &[
            "--renderer",
            "testpattern",
            "--asset-root",
            "examples/stages",
            "--stage",
            "sample_yup.usda",
            "--plugin-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(host.wait_ready(SECS));
    assert!(host.wait_stage_loaded(Duration::from_secs(20)), "the sample stage did not load");
    let plugins = host.get_json("/api/plugins");
    let examples = plugins["examples"].as_object().unwrap();
    let mut replayed = 0;
    for (handler, list) in examples {
        // Each dialect's handlers are replayed over a connection of that dialect (declared by the
        // handler, listed at /api/plugins).
        let dialect = plugins["handlers"]["active"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == handler.as_str())
            .map(|h| h["dialect"].as_str().unwrap().to_string())
            .unwrap_or_default();
        let mut ws = if dialect.is_empty() {
            host.ws()
        } else {
            ovhost_test_support::Ws::connect(host.port, &format!("?dialect={dialect}"))
        };
        // Each reply is matched to its request and checked against its declared type
        // (tests/support/src/replay.rs).
        let done = ovhost_test_support::replay_examples(&mut ws, handler, list.as_array().unwrap(), SECS)
            .unwrap_or_else(|e| panic!("{e}"));
        if handler == "bookmarks" {
            replayed += done.replies();
        }
        // The next handler's connection must find this one gone, or under `--control first` it
        // would watch as a spectator and its mutating examples be refused.
        ws.leave();
    }
    assert!(replayed >= 3, "the bookmarks examples must be replayed, got {replayed}");
}

#[test]
fn every_fixture_yields_its_error_kind_while_the_host_keeps_serving() {
    let (_keep, dir) =
        plugin_dir_with(&["not_a_plugin", "constructor_error", "constructor_panic", "missing_symbol", "handler_panic"]);
    let incompatible = plugin_library("incompatible_api");
    let missing = dir.join("libovhost_plugin_does_not_exist.so");
    let host = Host::start(
        Path::new(BIN),
        &[
            "--renderer",
            "testpattern",
            "--plugin-dir",
            dir.to_str().unwrap(),
            "--plugin",
            incompatible.to_str().unwrap(),
            "--plugin",
            missing.to_str().unwrap(),
        ],
    );
    assert!(host.wait_ready(SECS), "host must keep serving despite bad plugins");
    let plugins = host.get_json("/api/plugins");
    let kinds = error_kinds(&plugins);
    let expect = [
        ("not_a_plugin", "libovhost_plugin_not_a_plugin.so"),
        ("constructor_error", "libovhost_plugin_constructor_error.so"),
        ("constructor_panic", "libovhost_plugin_constructor_panic.so"),
        ("missing_symbol", "libovhost_plugin_missing_symbol.so"),
        ("incompatible_api_version", "libovhost_plugin_incompatible_api.so"),
        ("file_not_found", "libovhost_plugin_does_not_exist.so"),
    ];
    for (kind, file) in expect {
        assert!(
            kinds.iter().any(|(k, s)| k == kind && s.ends_with(file)),
            "expected a {kind} error for {file}, got {kinds:?}"
        );
    }
    assert_eq!(kinds.len(), expect.len(), "{kinds:?}");
    let incompatible_msg = plugins["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "incompatible_api_version")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        incompatible_msg.contains(ovhost_plugin_api::API_VERSION)
            && incompatible_msg.contains("0.1.0")
            && incompatible_msg.contains("rebuild"),
        "{incompatible_msg}"
    );
    let constructor_msg =
        plugins["errors"].as_array().unwrap().iter().find(|e| e["kind"] == "constructor_error").unwrap();
    assert_eq!(constructor_msg["plugin"], "constructor-error");
    assert!(constructor_msg["message"].as_str().unwrap().contains("widget service"));
    // The good plugin in the same directory still loaded.
    assert!(plugins["plugins"].as_array().unwrap().iter().any(|p| p["name"] == "handler-panic"));
    // Each failure is logged once.
    let logged =
        host.logs().iter().filter(|l| l.contains("plugin load failed") && l.contains("constructor_error.so")).count();
    assert_eq!(logged, 1);
}

#[test]
fn strict_plugins_exits_non_zero_naming_the_failure() {
    let (_keep, dir) = plugin_dir_with(&["constructor_error"]);
    let output = std::process::Command::new(BIN)
        .args([
            "--renderer",
            "testpattern",
            "--http-port",
            "0",
            "--strict-plugins",
            "--plugin-dir",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--strict-plugins") && stderr.contains("constructor-error"), "{stderr}");
}

#[test]
fn registering_an_id_twice_names_both_sources() {
    let dir = tempfile::tempdir().unwrap();
    let src = plugin_library("bookmarks");
    std::fs::copy(&src, dir.path().join("libovhost_plugin_bookmarks.so")).unwrap();
    std::fs::copy(&src, dir.path().join("libovhost_plugin_bookmarks_copy.so")).unwrap();
    let host =
        Host::start(Path::new(BIN), &["--renderer", "testpattern", "--plugin-dir", dir.path().to_str().unwrap()]);
    assert!(host.wait_ready(SECS));
    let plugins = host.get_json("/api/plugins");
    let errors = plugins["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["kind"], "duplicate_id");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("libovhost_plugin_bookmarks.so") && message.contains("libovhost_plugin_bookmarks_copy.so"),
        "{message}"
    );
}

#[test]
fn a_panicking_handler_is_disabled_and_reported_while_the_stream_continues() {
    let host = Host::start(
        Path::new(BIN),
        &["--renderer", "testpattern", "--plugin", plugin_library("handler_panic").to_str().unwrap()],
    );
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    ws.send("fixtureEcho", json!({ "n": 1 }));
    let echo = ws.recv_type("fixtureEchoResult", SECS).expect("echo works before the panic");
    assert_eq!(echo["payload"]["n"], 1);
    let mut watcher = host.ws();
    ws.send("fixturePanic", json!({}));
    for client in [&mut ws, &mut watcher] {
        let error = client.recv_type("viewerError", SECS).expect("every client is told");
        assert_eq!(error["payload"]["code"], "plugin_disabled");
        assert!(error["payload"]["message"].as_str().unwrap().contains("panicky"));
    }
    let frames_before = host.get_json("/api/state")["frames_rendered"].as_u64().unwrap();
    ws.send("fixtureEcho", json!({ "n": 2 }));
    let error = ws.recv_type("viewerError", SECS).expect("a disabled handler no longer answers");
    assert_eq!(error["payload"]["code"], "unknown_event_type");
    std::thread::sleep(Duration::from_millis(300));
    let state = host.get_json("/api/state");
    assert!(state["frames_rendered"].as_u64().unwrap() > frames_before, "the stream continues");
    let disabled = &state["handlers"]["disabled"];
    assert_eq!(disabled[0]["id"], "panicky", "{state}");
    assert!(host.get("/healthz").0 == 200);
    assert!(json_subset(&json!({"state": "idle"}), &state));
    let (_, metrics) = host.get("/metrics");
    assert!(metrics.contains(r#"ovhost_plugin_failures_total{kind="handler",panic="true"} 1"#), "{metrics}");
}

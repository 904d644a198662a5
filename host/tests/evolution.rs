//! Plugin API evolution against the real `ovhost` binary: a plugin built against the frozen
//! plugin API 0.2.0 sources (`tests/fixtures/api-0.2.0`) loads into this host (API 0.2.1, which
//! appended a root-module field, `shutdown`, and a renderer method, `scene_sections`). The new
//! field reads as absent, the new method answers through its default body, and the old plugin's
//! renderer and handler work. (A plugin built against another minor version is refused with the
//! typed `incompatible_api_version` error: `plugins.rs`.)

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use ovhost_test_support::{Host, plugin_library};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");

#[test]
fn a_plugin_built_against_0_2_0_loads_and_works_in_a_later_0_2_host() {
    assert_ne!(ovhost_plugin_api::API_VERSION, "0.2.0", "the host must be newer than the fixture's API");
    let compat = plugin_library("compat_0_2_0");
    let args = ["--plugin", compat.to_str().unwrap(), "--renderer", "compat-0-2-0", "--strict-plugins"];
    let mut host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(Duration::from_secs(15)), "{}", host.logs().join("\n"));

    let plugins = host.get_json("/api/plugins");
    let record = |name: &str| -> Value {
        plugins["plugins"].as_array().unwrap().iter().find(|p| p["name"] == name).cloned().unwrap_or(Value::Null)
    };
    let old = record("compat-0-2-0");
    assert_eq!(old["api_version"], "0.2.0", "{old}");
    assert_eq!(old["shutdown_hook"], false, "the field appended in 0.2.1 reads as absent: {old}");
    assert_eq!(record("raster")["shutdown_hook"], true, "current plugins have it");
    assert!(plugins["errors"].as_array().unwrap().is_empty(), "{}", plugins["errors"]);

    let state = host.get_json("/api/state");
    assert_eq!(state["plugin_api_version"], ovhost_plugin_api::API_VERSION);
    assert_eq!(state["renderer"], "compat-0-2-0");
    assert!(state["renderer_sections"].is_null(), "the appended method answers its default: {state}");

    // The old renderer's frames reach a client, and they change from frame to frame.
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    let first = ws.recv_binary(Duration::from_secs(5)).expect("a frame");
    let changed = (0..30).filter_map(|_| ws.recv_binary(Duration::from_secs(2))).any(|f| f[40..] != first[40..]);
    assert!(changed, "the 0.2.0 renderer's frames are delivered");

    // The old handler calls a typed host service and replies.
    ws.send("compatPing", json!({}));
    let pong = ws.recv_type("compatPong", Duration::from_secs(5)).expect("compatPong");
    assert!(pong["payload"]["client"].as_u64().unwrap() > 0);
    assert_eq!(pong["payload"]["services"], ovhost_plugin_api::services::SERVICES.len());
    assert_eq!(pong["payload"]["api_version"], "0.2.0");

    // Shutdown runs the shutdown entries it finds and skips the absent one.
    let (_, status) = host.signal_and_wait(nix::sys::signal::Signal::SIGTERM, Duration::from_secs(5)).expect("exits");
    assert!(status.success(), "{status}");
}

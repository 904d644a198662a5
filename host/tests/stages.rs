//! Bad stages against the real host: each gets a clear error reply while the host keeps
//! streaming the stage it had, including a stage that crashes the USD parser (which runs in a
//! separate worker process, so only the worker dies).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use ovhost_test_support::{Host, wait_until};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");

#[test]
fn bad_stages_get_clear_errors_while_the_host_keeps_streaming() {
    let root = tempfile::tempdir().unwrap();
    let sample = ovhost_test_support::workspace_root().join("examples/stages/sample_yup.usda");
    std::fs::copy(&sample, root.path().join("good.usda")).unwrap();
    // Nested inherits that make openusd 0.6.0 recurse until its stack overflows.
    let crash = ovhost_test_support::workspace_root().join("tests/fixtures/stages/nested_inherits_crash.usda");
    std::fs::copy(crash, root.path().join("crash.usda")).unwrap();
    std::fs::write(root.path().join("not_usd.usda"), "a shopping list\n- eggs {{{\n").unwrap();
    let mut truncated = b"PXR-USDC".to_vec();
    truncated.extend_from_slice(&[0u8; 8]);
    truncated.extend_from_slice(&[0xAB; 40]);
    std::fs::write(root.path().join("truncated.usdc"), truncated).unwrap();

    let host = Host::start(
        Path::new(BIN),
        &["--renderer", "testpattern", "--asset-root", root.path().to_str().unwrap(), "--stage", "good.usda"],
    );
    assert!(host.wait_stage_loaded(Duration::from_secs(20)), "the good stage did not load: {:?}", host.logs());
    let mut ws = host.ws();
    ws.hello(&[]);

    let cases = [
        ("no_such.usda", "no USD file"),
        ("../outside.usda", "refused"),
        ("/etc/passwd", "refused"),
        ("file:///etc/hosts", "refused"),
        ("%2e%2e/escape.usda", "refused"),
        ("not_usd.usda", "could not open"),
        ("truncated.usdc", "could not open"),
        ("crash.usda", "the USD parser crashed"),
    ];
    for (url, expected) in cases {
        let frames_before = host.get_json("/api/state")["frames_rendered"].as_u64().unwrap();
        ws.send("openStageRequest", json!({ "url": url }));
        let result = loop {
            let message = ws
                .recv_type("openStageResult", Duration::from_secs(30))
                .unwrap_or_else(|| panic!("{url}: no openStageResult"));
            if message["payload"]["url"] == url {
                break message;
            }
        };
        assert_eq!(result["payload"]["result"], "error", "{url}: {result}");
        let error = result["payload"]["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains(expected), "{url}: expected '{expected}' in '{error}'");
        let viewer_error =
            ws.recv_type("viewerError", Duration::from_secs(5)).unwrap_or_else(|| panic!("{url}: no viewerError"));
        assert!(!viewer_error["payload"]["message"].as_str().unwrap().is_empty());

        // The host kept streaming the good stage.
        assert!(
            wait_until(Duration::from_secs(5), || host.get_json("/api/state")["frames_rendered"].as_u64().unwrap()
                > frames_before + 3),
            "{url}: frames stopped"
        );
        let state = host.get_json("/api/state");
        assert_eq!(state["stage"]["url"], "good.usda", "{url}: the previous stage must stay loaded: {state}");
        assert_eq!(host.get("/healthz").0, 200);
    }

    // After the crash, the worker was restarted with the good stage: hierarchy queries work.
    ws.send("getChildrenRequest", json!({ "prim_path": "/World" }));
    let children = ws.recv_type("getChildrenResult", Duration::from_secs(10)).expect("children after a parser crash");
    assert!(!children["payload"]["children"].as_array().unwrap().is_empty());
}

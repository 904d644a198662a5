//! The Kit USD Viewer dialect (`kit-compat`, handler `kit-usd-viewer`) against the real `ovhost`
//! binary over real `/ws` sockets: its examples, Kit's reply names and shapes, no selection echo,
//! load pushes, and separation from default-dialect clients connected at the same time.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws, sample_renderer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);
/// How long to listen when asserting that a message does NOT come.
const QUIET: Duration = Duration::from_millis(400);

fn sample_host(extra: &[&str]) -> Host {
    // Several clients here each change the session: dialects are under test, not roles
    // (`--control first` and spectators: tests/viewers.rs).
    let mut args = vec!["--control", "shared"];
    args.extend_from_slice(extra);
    Host::sample(Path::new(BIN), &sample_renderer(ovhost::builtins::RENDERERS), &args)
}

fn kit(host: &Host) -> Ws {
    Ws::connect(host.port, "?dialect=kit")
}

fn request(ws: &mut Ws, event_type: &str, payload: Value, reply_type: &str) -> Value {
    ws.send(event_type, payload.clone());
    ws.recv_type(reply_type, SECS).unwrap_or_else(|| panic!("no '{reply_type}' reply to {event_type} {payload}"))["payload"]
        .clone()
}

fn drain(ws: &mut Ws, window: Duration) -> Vec<Value> {
    let deadline = Instant::now() + window;
    let mut out = Vec::new();
    while let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) {
        out.push(message);
    }
    out
}

fn types(messages: &[Value]) -> Vec<&str> {
    messages.iter().map(|m| m["event_type"].as_str().unwrap()).collect()
}

#[test]
fn kit_examples_replay_over_a_kit_connection() {
    let host = sample_host(&[]);
    let plugins = host.get_json("/api/plugins");
    let examples = plugins["examples"]["kit-usd-viewer"].as_array().expect("kit-usd-viewer declares examples").clone();
    assert!(examples.len() >= 5);
    let mut ws = kit(&host);
    // Each reply is matched to its request (tests/support/src/replay.rs).
    let replayed = ovhost_test_support::replay_examples(&mut ws, "kit-usd-viewer", &examples, SECS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replayed.exchanges.len(), examples.len());
}

#[test]
fn kit_and_default_clients_connected_at_once_each_get_their_own_reply_names() {
    let host = sample_host(&[]);
    let mut default = host.ws();
    let mut by_query = kit(&host);
    let mut by_hello = host.ws();
    by_hello.send("hello", json!({"client": "web-viewer-sample", "dialect": "kit"}));
    by_hello.recv_type("helloResult", SECS).expect("helloResult");
    assert!(drain(&mut by_hello, QUIET).is_empty(), "the Kit dialect pushes no initial state after hello");

    for kit_client in [&mut by_query, &mut by_hello] {
        kit_client.send("openStageRequest", json!({"url": "sample_yup.usda"}));
        let replies = drain(kit_client, Duration::from_millis(600));
        assert_eq!(types(&replies), ["openedStageResult"], "{replies:?}");
        assert_eq!(replies[0]["payload"], json!({"url": "sample_yup.usda", "result": "success", "error": ""}));

        let children = request(
            kit_client,
            "getChildrenRequest",
            json!({"prim_path": "/World", "filters": []}),
            "getChildrenResponse",
        );
        assert_eq!(
            children,
            json!({"prim_path": "/World", "children": [
                {"name": "Ground", "path": "/World/Ground"},
                {"name": "Props", "path": "/World/Props", "children": []},
                {"name": "Camera", "path": "/World/Camera"},
                {"name": "Sun", "path": "/World/Sun"},
            ]})
        );
    }
    default.send("openStageRequest", json!({"url": "sample_yup.usda"}));
    let replies = drain(&mut default, Duration::from_millis(600));
    assert_eq!(types(&replies), ["openStageResult", "getChildrenResult"], "{replies:?}");
    let rows = request(&mut default, "getChildrenRequest", json!({"prim_path": "/World"}), "getChildrenResult");
    assert_eq!(
        rows["children"][1],
        json!({"name": "Props", "path": "/World/Props", "type": "xform", "children": true})
    );
    // Messages only the default dialect knows still reach its handler from a Kit client.
    let count = request(&mut by_query, "getPrimCountRequest", json!({}), "getPrimCountResult");
    assert!(count["count"].as_u64().is_some_and(|c| c > 0));
}

#[test]
fn kit_selection_is_not_echoed_but_viewport_and_other_dialect_changes_are() {
    let host = sample_host(&[]);
    let mut default = host.ws();
    let mut kit_client = kit(&host);

    kit_client.send("selectPrimsRequest", json!({"paths": ["/World/Props/BlueCylinder"]}));
    assert!(
        !types(&drain(&mut kit_client, QUIET)).contains(&"stageSelectionChanged"),
        "Kit does not echo a selection the client made"
    );
    let seen = default.recv_type("stageSelectionChanged", SECS).expect("default clients see the canonical selection");
    assert_eq!(seen["payload"]["prims"], json!(["/World/Props/BlueCylinder"]));
    assert!(ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["selection"]
        == json!(["/World/Props/BlueCylinder"])));

    // A change made by someone else (a default-dialect client) is reported to the Kit client.
    default.send("selectPrimsRequest", json!({"paths": ["/World/Ground"]}));
    let pushed = kit_client.recv_type("stageSelectionChanged", SECS).expect("a change the Kit client did not make");
    assert_eq!(pushed["payload"]["prims"], json!(["/World/Ground"]));
    // Without `paths` the request is refused (it would otherwise be silent: Kit does not echo);
    // an empty list clears.
    kit_client.send("selectPrimsRequest", json!({}));
    let refused = kit_client.recv_type("viewerError", SECS).expect("a selectPrimsRequest without paths is refused");
    assert_eq!(refused["payload"]["code"], "invalid_input", "{refused}");
    kit_client.send("selectPrimsRequest", json!({"paths": []}));
    assert_eq!(default.recv_type("stageSelectionChanged", SECS).unwrap()["payload"]["prims"], json!(["/World/Ground"]));
    assert_eq!(default.recv_type("stageSelectionChanged", SECS).unwrap()["payload"]["prims"], json!([]));
}

#[test]
fn kit_reset_pickable_loading_and_errors_use_kit_shapes() {
    let host = sample_host(&[]);
    let mut ws = kit(&host);
    let mut default = host.ws();

    // resetStage frames the stage again (no reload): the camera returns to the fitted view.
    let fitted = host.get_json("/api/state")["camera"]["view"].clone();
    ws.send(
        "input",
        json!({"events": [
            {"type": "pointerdown", "x": 640, "y": 360, "button": 0, "buttons": 1},
            {"type": "pointermove", "x": 760, "y": 380, "dx": 120, "dy": 20, "buttons": 1},
            {"type": "pointerup", "x": 760, "y": 380, "button": 0, "buttons": 0},
        ]}),
    );
    assert!(
        ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["camera"]["view"] != fitted),
        "the drag moved the camera"
    );
    let reset = request(&mut ws, "resetStage", json!({}), "resetStageResponse");
    assert_eq!(reset, json!({"result": "success", "error": ""}));
    assert!(
        ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["camera"]["view"] == fitted),
        "reset restores the framed view"
    );
    assert!(!types(&drain(&mut default, QUIET)).contains(&"openStageResult"), "a Kit reset is not a reload");

    let pickable =
        request(&mut ws, "makePrimsPickable", json!({"paths": ["/World/Props"]}), "makePrimsPickableResponse");
    assert_eq!(pickable, json!({"result": "success", "error": ""}));
    let bad = request(&mut ws, "makePrimsPickable", json!({"paths": [3]}), "makePrimsPickableResponse");
    assert_eq!(bad["result"], "error");
    assert!(bad["error"].as_str().unwrap().contains("payload.paths[0]"), "{bad}");

    let loading = request(&mut ws, "loadingStateQuery", json!({}), "loadingStateResponse");
    assert_eq!(loading, json!({"url": "sample_yup.usda", "loading_state": "idle"}));

    // Kit answers unknown prims with an empty list and skips nothing else at /World.
    let missing = request(
        &mut ws,
        "getChildrenRequest",
        json!({"prim_path": "/World/Nope", "filters": ["USDGeom"]}),
        "getChildrenResponse",
    );
    assert_eq!(missing, json!({"prim_path": "/World/Nope", "children": []}));
    let unknown_filter = request(
        &mut ws,
        "getChildrenRequest",
        json!({"prim_path": "/World", "filters": ["teapot"]}),
        "getChildrenResponse",
    );
    assert_eq!(unknown_filter["children"], json!([]));
    let root = request(&mut ws, "getChildrenRequest", json!({"prim_path": "/", "filters": []}), "getChildrenResponse");
    assert_eq!(root["children"], json!([{"name": "World", "path": "/World", "children": []}]));

    // A stage outside the asset root: Kit's error shape, the stage stays.
    let refused = request(&mut ws, "openStageRequest", json!({"url": "../Cargo.toml"}), "openedStageResult");
    assert_eq!((refused["url"].as_str(), refused["result"].as_str()), (Some("../Cargo.toml"), Some("error")));
    assert!(refused["error"].as_str().is_some_and(|e| !e.is_empty()), "{refused}");
    assert_eq!(request(&mut ws, "loadingStateQuery", json!({}), "loadingStateResponse")["url"], "sample_yup.usda");

    // Malformed requests still get the host's viewerError.
    ws.send("getChildrenRequest", json!({"filters": []}));
    let error = ws.recv_type("viewerError", SECS).expect("viewerError");
    assert_eq!(error["payload"]["code"], "invalid_input");
}

#[test]
fn kit_load_pushes_progress_then_opened_stage_result() {
    let host = sample_host(&[]);
    let mut ws = kit(&host);
    let mut default = host.ws();
    ws.send("openStageRequest", json!({"url": "sample_zup.usda"}));
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && !seen.iter().any(|m: &Value| m["event_type"] == "openedStageResult") {
        if let Some(message) = ws.recv(Duration::from_millis(200)) {
            seen.push(message);
        }
    }
    let names = types(&seen);
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no {name} in {names:?}"));
    assert!(at("updateProgressAmount") < at("openedStageResult"));
    assert!(at("updateProgressActivity") < at("openedStageResult"));
    assert!(!names.contains(&"openStageResult"), "{names:?}");
    assert_eq!(seen.last().unwrap()["payload"], json!({"url": "sample_zup.usda", "result": "success", "error": ""}));
    // The default client got its own dialect's result for the same load.
    let opened = default.recv_type("openStageResult", SECS).expect("openStageResult for the default client");
    assert_eq!(opened["payload"]["up_axis"], "Z");
    assert!(!types(&drain(&mut default, QUIET)).contains(&"openedStageResult"));
}

#[test]
fn dialect_flag_makes_kit_the_default_for_clients_that_do_not_choose() {
    let host = sample_host(&["--dialect", "kit"]);
    let mut ws = host.ws();
    let reply = request(&mut ws, "openStageRequest", json!({"url": "sample_yup.usda"}), "openedStageResult");
    assert_eq!(reply["result"], "success");
    let mut chooser = Ws::connect(host.port, "?dialect=default");
    let reply = request(&mut chooser, "openStageRequest", json!({"url": "sample_yup.usda"}), "openStageResult");
    assert_eq!(reply["result"], "success");
}

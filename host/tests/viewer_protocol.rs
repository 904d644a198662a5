//! Conformance of the stock `viewer-protocol` handler (the default dialect) against the real
//! `ovhost` binary over real `/ws` sockets, on `examples/stages/sample_yup.usda`: every message,
//! its error paths, the initial state pushed after `hello`, and scripted input (drag moves the
//! camera, a click selects the prim under it).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws, sample_renderer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);
/// How long to listen when asserting that a message does NOT come.
const QUIET: Duration = Duration::from_millis(400);

fn sample_host() -> Host {
    Host::sample(Path::new(BIN), &sample_renderer(ovhost::builtins::RENDERERS), &[])
}

fn request(ws: &mut Ws, event_type: &str, payload: Value, reply_type: &str) -> Value {
    ws.send(event_type, payload.clone());
    let reply =
        ws.recv_type(reply_type, SECS).unwrap_or_else(|| panic!("no '{reply_type}' reply to {event_type} {payload}"));
    reply["payload"].clone()
}

/// Sends a message that must be refused; returns the `viewerError` payload after checking its code.
fn refused(ws: &mut Ws, event_type: &str, payload: Value, code: &str) -> Value {
    ws.send(event_type, payload.clone());
    let error = ws
        .recv_type("viewerError", SECS)
        .unwrap_or_else(|| panic!("no viewerError for {event_type} {payload}"))["payload"]
        .clone();
    assert_eq!(error["code"], code, "{event_type} {payload}: {error}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    error
}

/// Every message received within `window`.
fn drain(ws: &mut Ws, window: Duration) -> Vec<Value> {
    let deadline = Instant::now() + window;
    let mut out = Vec::new();
    while let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) {
        out.push(message);
    }
    out
}

fn count_of(messages: &[Value], event_type: &str) -> usize {
    messages.iter().filter(|m| m["event_type"] == event_type).count()
}

/// Scans the stream on a 32-pixel grid with pipelined `pickRequest`s (batches of 100) and returns
/// the first pixel that shows a prim, with its path.
fn find_pickable_pixel(ws: &mut Ws, width: u64, height: u64) -> Option<(u64, u64, String)> {
    let grid: Vec<(u64, u64)> =
        (16..height).step_by(32).flat_map(|y| (16..width).step_by(32).map(move |x| (x, y))).collect();
    for batch in grid.chunks(100) {
        for (x, y) in batch {
            ws.send("pickRequest", json!({"request_id": format!("{x},{y}"), "x": x, "y": y}));
        }
        let mut found = None;
        for (x, y) in batch {
            let pick = ws.recv_type("pickResult", SECS).expect("pickResult")["payload"].clone();
            assert_eq!(pick["request_id"], format!("{x},{y}"), "pick results come back in request order");
            if let (None, Some(path)) = (&found, pick["path"].as_str()) {
                found = Some((*x, *y, path.to_string()));
            }
        }
        if found.is_some() {
            return found;
        }
    }
    None
}

fn names(rows: &Value) -> Vec<&str> {
    rows.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect()
}

#[test]
fn handler_examples_replay_against_the_sample_stage() {
    let host = sample_host();
    let plugins = host.get_json("/api/plugins");
    let examples =
        plugins["examples"]["viewer-protocol"].as_array().expect("viewer-protocol declares examples").clone();
    assert!(examples.len() >= 20, "{}", examples.len());
    let mut ws = host.ws();
    // Each reply is matched to its request (tests/support/src/replay.rs).
    let replayed = ovhost_test_support::replay_examples(&mut ws, "viewer-protocol", &examples, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replayed.exchanges.len(), examples.len());
}

#[test]
fn hello_pushes_the_initial_state_and_silent_clients_get_none() {
    let host = sample_host();
    let mut silent = host.ws();
    let mut ws = host.ws();
    ws.send("hello", json!({ "client": "conformance" }));
    let mut got = Vec::new();
    let deadline = Instant::now() + SECS;
    while Instant::now() < deadline {
        let Some(message) = ws.recv(Duration::from_millis(500)) else { break };
        let done = message["event_type"] == "pluginsResult";
        got.push(message);
        if done {
            break;
        }
    }
    let types: Vec<&str> = got.iter().map(|m| m["event_type"].as_str().unwrap()).collect();
    let order = [
        "helloResult",
        "presence", // the host's own: who is connected and who drives
        "loadingStateResponse",
        "openStageResult",
        "getChildrenResult",
        "stageSelectionChanged",
        "renderSettingsChanged",
        "availableAOVsResult",
        "activeAOVState",
        "cameraSchemesResult",
        "camera_list",
        "cameraStateChanged",
        "timelineState",
        "pluginsResult",
    ];
    assert_eq!(types, order, "initial state after hello");
    let timeline = got.iter().find(|m| m["event_type"] == "timelineState").unwrap()["payload"].clone();
    assert_eq!(
        (timeline["animated"].clone(), timeline["playing"].clone()),
        (json!(false), json!(false)),
        "a static stage"
    );
    let by_type = |t: &str| got.iter().find(|m| m["event_type"] == t).unwrap()["payload"].clone();
    assert_eq!(by_type("loadingStateResponse")["loading_state"], "idle");
    let opened = by_type("openStageResult");
    assert_eq!(
        (opened["result"].as_str(), opened["root_prim_path"].as_str(), opened["up_axis"].as_str()),
        (Some("success"), Some("/World"), Some("Y"))
    );
    assert_eq!(
        by_type("getChildrenResult"),
        json!({"prim_path": "/World", "children": [
            {"name": "Ground", "path": "/World/Ground", "type": "geom", "children": false},
            {"name": "Props", "path": "/World/Props", "type": "xform", "children": true},
            {"name": "Camera", "path": "/World/Camera", "type": "camera", "children": false},
            {"name": "Sun", "path": "/World/Sun", "type": "light", "children": false},
        ]})
    );
    assert_eq!(by_type("stageSelectionChanged"), json!({"prims": []}));
    assert_eq!(by_type("activeAOVState")["active"], "LdrColor");
    assert_eq!(by_type("cameraSchemesResult")["active"], "orbit");
    let cameras = by_type("camera_list");
    assert_eq!(cameras["cameras"][0]["path"], "/World/Camera");
    assert_eq!(cameras["cameras"][0]["name"], "Camera");
    assert!(by_type("cameraStateChanged")["view"]["eye"].is_array());
    assert!(by_type("pluginsResult")["plugins"].as_array().is_some_and(|p| !p.is_empty()));
    // A client that never said hello is sent nothing unsolicited.
    assert!(drain(&mut silent, QUIET).is_empty());
}

#[test]
fn hierarchy_properties_and_variants_with_their_errors() {
    let host = sample_host();
    let mut ws = host.ws();
    let root = request(&mut ws, "getChildrenRequest", json!({"prim_path": "/"}), "getChildrenResult");
    assert_eq!(names(&root["children"]), ["World"]);
    let props = request(&mut ws, "getChildrenRequest", json!({"prim_path": "/World/Props"}), "getChildrenResult");
    assert_eq!(names(&props["children"]), ["RedGroup", "GreenSphere", "BlueCylinder", "Showcase"]);
    let filtered = request(
        &mut ws,
        "getChildrenRequest",
        json!({"prim_path": "/World", "filters": ["xform", "light"]}),
        "getChildrenResult",
    );
    assert_eq!(names(&filtered["children"]), ["Props", "Sun"]);

    let properties = request(
        &mut ws,
        "getPropertiesRequest",
        json!({"prim_path": "/World/Props/GreenSphere"}),
        "getPropertiesResponse",
    );
    assert_eq!(properties["prim_path"], "/World/Props/GreenSphere");
    assert!(properties["properties"].as_object().is_some_and(|p| !p.is_empty()), "{properties}");

    let variants =
        request(&mut ws, "getVariantsRequest", json!({"prim_path": "/World/Props/Showcase"}), "getVariantsResponse");
    assert_eq!(variants["variants"]["shapeVariant"]["selection"], "cube");
    let none = request(&mut ws, "getVariantsRequest", json!({"prim_path": "/World/Ground"}), "getVariantsResponse");
    assert_eq!(none["variants"], json!({}));

    // Switching a variant recomposes: fresh variants and a fresh root listing follow.
    ws.send(
        "setVariantRequest",
        json!({"prim_path": "/World/Props/Showcase", "variant_set": "shapeVariant", "variant_selection": "sphere"}),
    );
    let switched = ws.recv_type("getVariantsResponse", Duration::from_secs(10)).expect("variants after the switch");
    assert_eq!(switched["payload"]["variants"]["shapeVariant"]["selection"], "sphere");
    let fresh = ws.recv_type("getChildrenResult", SECS).expect("root children after the switch");
    assert_eq!(fresh["payload"]["prim_path"], "/World");

    // Error paths: the connection stays usable after each.
    let e = refused(&mut ws, "getChildrenRequest", json!({}), "invalid_input");
    assert!(e["message"].as_str().unwrap().contains("payload.prim_path must be a string"), "{e}");
    refused(&mut ws, "getChildrenRequest", json!({"prim_path": 7}), "invalid_input");
    refused(&mut ws, "getChildrenRequest", json!({"prim_path": "World"}), "invalid_input");
    refused(&mut ws, "getChildrenRequest", json!({"prim_path": "/World/../etc"}), "invalid_input");
    refused(&mut ws, "getChildrenRequest", json!({"prim_path": "/World", "filters": ["teapot"]}), "invalid_input");
    refused(&mut ws, "getChildrenRequest", json!({"prim_path": "/World", "filters": "USDGeom"}), "invalid_input");
    refused(&mut ws, "getChildrenRequest", json!({"prim_path": "/World/NoSuchPrim"}), "not_found");
    refused(&mut ws, "getPropertiesRequest", json!({"prim_path": "/World/NoSuchPrim"}), "not_found");
    refused(&mut ws, "getPropertiesRequest", json!({"prim_path": "/World", "max_bytes": -5}), "invalid_input");
    refused(&mut ws, "getVariantsRequest", json!({"prim_path": "/Nope"}), "not_found");
    refused(
        &mut ws,
        "setVariantRequest",
        json!({"prim_path": "/World/Props/Showcase", "variant_set": "shapeVariant"}),
        "invalid_input",
    );
    refused(
        &mut ws,
        "setVariantRequest",
        json!({"prim_path": "/World/Props/Showcase", "variant_set": "shapeVariant", "variant_selection": "teapot"}),
        "not_found",
    );
    refused(&mut ws, "noSuchRequest", json!({}), "unknown_event_type");
    let count = request(&mut ws, "getPrimCountRequest", json!({}), "getPrimCountResult");
    assert!(count["count"].as_u64().is_some_and(|c| c >= 10), "{count}");
}

#[test]
fn stage_open_reload_switch_and_refusals() {
    let host = sample_host();
    let mut ws = host.ws();
    let mut other = host.ws();

    // Already open: fast success with the root children, to the requester only.
    let fast = request(&mut ws, "openStageRequest", json!({"url": "sample_yup.usda"}), "openStageResult");
    assert_eq!((fast["result"].as_str(), fast["root_prim_path"].as_str()), (Some("success"), Some("/World")));
    assert_eq!(ws.recv_type("getChildrenResult", SECS).unwrap()["payload"]["prim_path"], "/World");
    assert_eq!(count_of(&drain(&mut other, QUIET), "openStageResult"), 0);

    // A different stage: progress, then the result and the new root to every client.
    ws.send("openStageRequest", json!({"url": "sample_zup.usda"}));
    for client in [&mut ws, &mut other] {
        let progress = client.recv_type("updateProgressActivity", SECS).expect("progress push");
        assert!(progress["payload"]["activity"].as_str().unwrap().contains("sample_zup.usda"));
        let opened =
            client.recv_type("openStageResult", Duration::from_secs(15)).expect("openStageResult")["payload"].clone();
        assert_eq!(
            (opened["url"].as_str(), opened["result"].as_str(), opened["up_axis"].as_str()),
            (Some("sample_zup.usda"), Some("success"), Some("Z"))
        );
        let root = client.recv_type("getChildrenResult", SECS).unwrap()["payload"].clone();
        assert_eq!(root["prim_path"], opened["root_prim_path"]);
        assert!(client.recv_type("camera_list", SECS).is_some());
    }
    let loading = request(&mut ws, "loadingStateQuery", json!({}), "loadingStateResponse");
    assert_eq!((loading["url"].as_str(), loading["loading_state"].as_str()), (Some("sample_zup.usda"), Some("idle")));

    // Reset reloads the current stage.
    ws.send("resetStage", json!({}));
    let reloaded = ws.recv_type("openStageResult", Duration::from_secs(15)).expect("openStageResult after reset");
    assert_eq!(
        (reloaded["payload"]["url"].as_str(), reloaded["payload"]["result"].as_str()),
        (Some("sample_zup.usda"), Some("success"))
    );

    // Refusals: openStageResult error plus viewerError, and the open stage stays.
    for url in ["../Cargo.toml", "/etc/passwd", "../../README.md", "no_such_stage.usda"] {
        ws.send("openStageRequest", json!({ "url": url }));
        let result = ws
            .recv_type("openStageResult", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no openStageResult for {url}"));
        assert_eq!(result["payload"]["result"], "error", "{url}: {result}");
        assert!(result["payload"]["error"].as_str().is_some_and(|e| !e.is_empty()), "{result}");
        let error = ws.recv_type("viewerError", SECS).unwrap_or_else(|| panic!("no viewerError for {url}"));
        assert!(error["payload"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let info = request(&mut ws, "loadingStateQuery", json!({}), "loadingStateResponse");
    assert_eq!(info["url"], "sample_zup.usda", "a refused open must leave the stage in place");
    refused(&mut ws, "openStageRequest", json!({}), "invalid_input");
    refused(&mut ws, "openStageRequest", json!({"url": ["x"]}), "invalid_input");

    let scenes = request(&mut ws, "listScenesRequest", json!({}), "listScenesResult");
    let scenes: Vec<&str> = scenes["scenes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(scenes.contains(&"sample_yup.usda") && scenes.contains(&"sample_zup.usda"), "{scenes:?}");
    assert!(
        scenes.iter().all(|s| !s.starts_with('/') && !s.contains("..")),
        "scene names never reveal server paths: {scenes:?}"
    );
}

#[test]
fn selection_is_canonical_broadcast_once_and_clicks_select() {
    let host = sample_host();
    let mut ws = host.ws();
    let mut other = host.ws();

    ws.send("selectPrimsRequest", json!({"paths": ["/World/Props/GreenSphere", "/World/NoSuchPrim"]}));
    for client in [&mut ws, &mut other] {
        let messages = drain(client, Duration::from_millis(600));
        let changes: Vec<&Value> = messages.iter().filter(|m| m["event_type"] == "stageSelectionChanged").collect();
        assert_eq!(changes.len(), 1, "exactly one canonical selection message: {messages:?}");
        assert_eq!(changes[0]["payload"]["prims"], json!(["/World/Props/GreenSphere"]), "unknown paths are dropped");
    }
    refused(&mut ws, "selectPrimsRequest", json!({"paths": "/World"}), "invalid_input");
    refused(&mut ws, "selectPrimsRequest", json!({"paths": [1]}), "invalid_input");
    refused(&mut ws, "makePrimsSelectable", json!({}), "invalid_input");
    refused(&mut ws, "pickRequest", json!({"x": "1", "y": 2}), "invalid_input");
    refused(&mut ws, "setViewportInputActive", json!({"active": "yes"}), "invalid_input");
    let cleared = request(&mut ws, "selectPrimsRequest", json!({"paths": []}), "stageSelectionChanged");
    assert_eq!(cleared["prims"], json!([]));
    assert_eq!(other.recv_type("stageSelectionChanged", SECS).unwrap()["payload"]["prims"], json!([]));

    // Find a pixel over some prim by asking the host (pickRequest), then click it with real input.
    let state = host.get_json("/api/state");
    let (width, height) = (state["stream"]["width"].as_u64().unwrap(), state["stream"]["height"].as_u64().unwrap());
    let hit = find_pickable_pixel(&mut ws, width, height);
    let (x, y, path) = hit.expect("some pixel of the sample stage shows a prim");
    let click = |ws: &mut Ws| {
        ws.send(
            "input",
            json!({"events": [
                {"type": "pointermove", "x": x, "y": y, "buttons": 0},
                {"type": "pointerdown", "x": x, "y": y, "button": 0, "buttons": 1},
                {"type": "pointerup", "x": x, "y": y, "button": 0, "buttons": 0},
            ]}),
        );
    };
    click(&mut ws);
    for client in [&mut ws, &mut other] {
        let selected = client.recv_type("stageSelectionChanged", SECS).expect("a click selects");
        assert_eq!(selected["payload"]["prims"], json!([path]));
    }

    // Input gate: while inactive, clicks do nothing.
    request(&mut ws, "selectPrimsRequest", json!({"paths": []}), "stageSelectionChanged");
    ws.send("setViewportInputActive", json!({"active": false}));
    click(&mut ws);
    assert_eq!(count_of(&drain(&mut ws, QUIET), "stageSelectionChanged"), 0, "an inactive viewport ignores clicks");
    ws.send("setViewportInputActive", json!({"active": true}));
    click(&mut ws);
    assert_eq!(ws.recv_type("stageSelectionChanged", SECS).unwrap()["payload"]["prims"], json!([path]));

    // Pickable set: once only another prim is selectable, clicking the hit prim changes nothing.
    request(&mut ws, "selectPrimsRequest", json!({"paths": []}), "stageSelectionChanged");
    let elsewhere = if path.starts_with("/World/Ground") { "/World/Props" } else { "/World/Ground" };
    let answer = request(&mut ws, "makePrimsPickable", json!({"paths": [elsewhere]}), "makePrimsPickableResponse");
    assert_eq!(answer["result"], "success", "{answer}");
    click(&mut ws);
    let after = drain(&mut ws, QUIET);
    assert_eq!(count_of(&after, "stageSelectionChanged"), 0, "{after:?}");
    assert_eq!(count_of(&after, "viewerError"), 0, "{after:?}");
}

#[test]
fn camera_requests_and_a_scripted_drag_move_the_camera() {
    let host = sample_host();
    let mut ws = host.ws();
    let fitted =
        request(&mut ws, "fitCameraRequest", json!({"prim_path": "/World/Props/BlueCylinder"}), "cameraStateChanged");
    assert!(fitted["view"]["eye"].is_array(), "{fitted}");
    let reset = request(&mut ws, "cameraCommandRequest", json!({"command": "reset"}), "cameraStateChanged");
    assert_ne!(reset["view"], fitted["view"]);
    assert_eq!(count_of(&drain(&mut ws, QUIET), "cameraStateChanged"), 0, "one cameraStateChanged per request");
    request(&mut ws, "selectPrimsRequest", json!({"paths": ["/World/Props/GreenSphere"]}), "stageSelectionChanged");
    request(&mut ws, "cameraCommandRequest", json!({"command": "focusSelection"}), "cameraStateChanged");
    refused(&mut ws, "cameraCommandRequest", json!({"command": "spin"}), "invalid_input");
    refused(&mut ws, "cameraCommandRequest", json!({}), "invalid_input");
    refused(&mut ws, "fitCameraRequest", json!({"prim_path": "/World/NoSuchPrim"}), "not_found");

    let changed = request(&mut ws, "set_camera", json!({"path": "/World/Camera"}), "camera_changed");
    assert_eq!(changed["activeCamera"], "/World/Camera");
    let authored = ws.recv_type("cameraStateChanged", SECS).expect("camera state after set_camera")["payload"].clone();
    assert_eq!(authored["view"]["eye"], json!([0.0, 250.0, 600.0]), "the authored camera's position is copied");
    refused(&mut ws, "set_camera", json!({"path": "/World/Ground"}), "not_found");

    let schemes = request(&mut ws, "getCameraSchemesRequest", json!({}), "cameraSchemesResult");
    let ids: Vec<&str> = schemes["schemes"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"orbit") && ids.contains(&"fly"), "{ids:?}");
    let fly = request(&mut ws, "setCameraSchemeRequest", json!({"scheme": "fly"}), "cameraStateChanged");
    assert_eq!(fly["scheme"], "fly", "{fly}");
    assert!(ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["camera"]["scheme"] == "fly"));
    refused(&mut ws, "setCameraSchemeRequest", json!({"scheme": "teleport"}), "not_found");
    request(&mut ws, "setCameraSchemeRequest", json!({"scheme": "orbit"}), "cameraStateChanged");
    request(&mut ws, "cameraCommandRequest", json!({"command": "reset"}), "cameraStateChanged");

    // A left-button drag orbits: the camera in /api/state moves.
    let before = host.get_json("/api/state")["camera"]["view"]["eye"].clone();
    ws.send("input", json!({"events": [{"type": "pointerdown", "x": 640, "y": 360, "button": 0, "buttons": 1}]}));
    for step in 1..=10 {
        ws.send(
            "input",
            json!({"seq": step, "events": [
                {"type": "pointermove", "x": 640 + step * 15, "y": 360 + step * 3, "dx": 15, "dy": 3, "buttons": 1}
            ]}),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    ws.send("input", json!({"events": [{"type": "pointerup", "x": 790, "y": 390, "button": 0, "buttons": 0}]}));
    let moved =
        ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["camera"]["view"]["eye"] != before);
    assert!(moved, "a drag must move the camera (eye stayed at {before})");
    // A drag is not a click: the selection is unchanged.
    assert_eq!(count_of(&drain(&mut ws, QUIET), "stageSelectionChanged"), 0);
}

#[test]
fn render_settings_aovs_stats_and_plugins() {
    let host = sample_host();
    let mut ws = host.ws();
    let settings = request(&mut ws, "getRenderSettingsRequest", json!({}), "renderSettingsChanged");
    assert!(settings["settings"].is_object() && settings["capabilities"].is_array(), "{settings}");
    let refused_setting = request(
        &mut ws,
        "setRenderSettingRequest",
        json!({"key": "no.such.key", "value": true}),
        "renderSettingsChanged",
    );
    assert_eq!(
        (
            refused_setting["result"].as_str(),
            refused_setting["applied"].as_bool(),
            refused_setting["applies_at"].as_str()
        ),
        (Some("error"), Some(false), Some("unsupported"))
    );
    assert!(refused_setting["message"].as_str().is_some_and(|m| !m.is_empty()));
    // A supported setting (the first capability the renderer declares, set to its current value).
    if let Some(capability) = settings["capabilities"].as_array().and_then(|c| c.first()) {
        let key = capability["key"].as_str().unwrap();
        let value = settings["settings"][key].clone();
        let applied =
            request(&mut ws, "setRenderSettingRequest", json!({"key": key, "value": value}), "renderSettingsChanged");
        assert_eq!((applied["key"].as_str(), applied["result"].as_str()), (Some(key), Some("success")), "{applied}");
        assert!(applied["applies_at"].is_string() && applied["requires_reload"].is_boolean());
    }
    refused(&mut ws, "setRenderSettingRequest", json!({"value": 1}), "invalid_input");
    refused(&mut ws, "setRenderSettingRequest", json!({"key": "x"}), "invalid_input");

    let aovs = request(&mut ws, "getAvailableAOVs", json!({}), "availableAOVsResult");
    assert_eq!(aovs["aovs"], aovs["available"]);
    assert_eq!(aovs["aovs"][0], "LdrColor");
    let switched = request(&mut ws, "changeAOVRequest", json!({"name": "LdrColor"}), "activeAOVState");
    assert_eq!((switched["active"].as_str(), switched["result"].as_str()), (Some("LdrColor"), Some("success")));
    assert!(ws.recv_type("availableAOVsResult", SECS).is_some());
    let unknown = request(&mut ws, "changeAOVRequest", json!({"aov": "NoSuchAOV"}), "activeAOVState");
    assert_eq!(
        (unknown["result"].as_str(), unknown["active"].as_str(), unknown["requested"].as_str()),
        (Some("error"), Some("LdrColor"), Some("NoSuchAOV"))
    );
    assert!(unknown["reason"].as_str().unwrap().contains("NoSuchAOV"));
    refused(&mut ws, "changeAOVRequest", json!({}), "invalid_input");

    let stats = request(&mut ws, "getStatsRequest", json!({}), "getStatsResult");
    assert!(stats["fps"].is_number() && stats["frames_rendered"].is_number(), "{stats}");
    let plugins = request(&mut ws, "getPluginsRequest", json!({}), "pluginsResult");
    let handlers = plugins.to_string();
    assert!(handlers.contains("viewer-protocol") && handlers.contains("kit-usd-viewer"), "{plugins}");
    assert!(plugins["errors"].as_array().is_some_and(|e| e.is_empty()), "{plugins}");
}

/// Implicit gprims are drawn: a stage made only of a `Sphere` (fallback radius) and a `Capsule`
/// opens with the camera fitted to them, and picking the middle of the stream hits the sphere
/// while a corner shows background.
#[test]
fn implicit_gprims_are_drawn_and_pickable() {
    let renderer = sample_renderer(ovhost::builtins::RENDERERS);
    if renderer != "raster" {
        ovhost_test_support::skip(&format!(
            "picking implicit gprims needs the raster renderer (this host uses {renderer})"
        ));
        return;
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("gprims.usda"),
        "#usda 1.0\n(\n    defaultPrim = \"World\"\n)\n\ndef Xform \"World\"\n{\n    def Sphere \"Ball\"\n    {\n    }\n    \
         def Capsule \"Pill\"\n    {\n        double3 xformOp:translate = (0, 3, 0)\n        uniform token[] xformOpOrder = \
         [\"xformOp:translate\"]\n    }\n}\n",
    )
    .unwrap();
    let host = Host::start(
        Path::new(BIN),
        &["--asset-root", root.path().to_str().unwrap(), "--stage", "gprims.usda", "--renderer", &renderer],
    );
    assert!(host.wait_stage_loaded(Duration::from_secs(20)), "the stage did not load: {:?}", host.logs());
    let mut ws = host.ws();
    ws.hello(&[]);
    let state = host.get_json("/api/state");
    let (width, height) = (state["stream"]["width"].as_u64().unwrap(), state["stream"]["height"].as_u64().unwrap());
    // Every pixel on a 32-pixel grid, picked in pipelined batches.
    let grid: Vec<(u64, u64)> =
        (16..height).step_by(32).flat_map(|y| (16..width).step_by(32).map(move |x| (x, y))).collect();
    let mut paths = std::collections::BTreeMap::<Option<String>, usize>::new();
    for batch in grid.chunks(100) {
        for (x, y) in batch {
            ws.send("pickRequest", json!({"request_id": format!("{x},{y}"), "x": x, "y": y}));
        }
        for _ in batch {
            let pick = ws.recv_type("pickResult", SECS).expect("pickResult")["payload"].clone();
            *paths.entry(pick["path"].as_str().map(str::to_owned)).or_default() += 1;
        }
    }
    let keys: Vec<Option<&str>> = paths.keys().map(|k| k.as_deref()).collect();
    assert_eq!(keys, vec![None, Some("/World/Ball"), Some("/World/Pill")], "background, sphere and capsule: {paths:?}");
    // The camera fit frames them: together they cover a good part of the view, not a speck.
    let drawn = grid.len() - paths[&None];
    assert!(drawn * 20 > grid.len(), "{drawn} of {} grid pixels show a shape", grid.len());
}

//! Several viewers with roles against the real `ovhost` binary over real `/ws` sockets:
//! `--control first` (owner, spectator, request → grant → revoke, succession), `presence` with
//! the names from `hello`, `not_permitted` for a spectator's input and mutating messages while
//! its read-only requests still work, per-client viewport input gates, `--control token`, and the
//! stream size a controlling client asks for (clamped by `--max-width/--max-height`).

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws, sample_renderer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(400);

fn sample_host(extra: &[&str]) -> Host {
    Host::sample(Path::new(BIN), &sample_renderer(ovhost::builtins::RENDERERS), extra)
}

fn hello(ws: &mut Ws, name: &str) -> Value {
    ws.send("hello", json!({"client": "ovhost-test", "name": name, "video": {"codecs": ["jpeg"]}}));
    ws.recv_type("helloResult", SECS).expect("no helloResult")["payload"].clone()
}

fn drain(ws: &mut Ws, window: Duration) -> Vec<Value> {
    let deadline = Instant::now() + window;
    let mut out = Vec::new();
    while let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) {
        out.push(message);
    }
    out
}

/// The next `presence` whose clients satisfy `check`.
fn presence_where(ws: &mut Ws, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + SECS;
    while let Some(message) = ws.recv_type("presence", deadline.saturating_duration_since(Instant::now())) {
        let clients = message["payload"]["clients"].as_array().unwrap().clone();
        if check(&clients) {
            return clients;
        }
    }
    panic!("no presence matching the expectation");
}

fn role_of(clients: &[Value], id: &Value) -> String {
    clients.iter().find(|c| c["client_id"] == *id).map(|c| c["role"].as_str().unwrap().to_string()).unwrap_or_default()
}

fn refused(ws: &mut Ws, event_type: &str, payload: Value, code: &str) -> Value {
    ws.send(event_type, payload.clone());
    let error = ws
        .recv_type("viewerError", SECS)
        .unwrap_or_else(|| panic!("no viewerError for {event_type} {payload}"))["payload"]
        .clone();
    assert_eq!(error["code"], code, "{event_type} {payload}: {error}");
    error
}

fn click(ws: &mut Ws, x: u64, y: u64) {
    ws.send(
        "input",
        json!({"events": [
            {"type": "pointerdown", "x": x, "y": y, "button": 0, "buttons": 1},
            {"type": "pointerup", "x": x, "y": y, "button": 0, "buttons": 0},
        ]}),
    );
}

/// A stream pixel that shows a prim, found with read-only `pickRequest`s.
fn pickable_pixel(ws: &mut Ws, width: u64, height: u64) -> (u64, u64, String) {
    for y in (height / 8..height).step_by((height / 8) as usize) {
        for x in (width / 8..width).step_by((width / 8) as usize) {
            ws.send("pickRequest", json!({"x": x, "y": y}));
            let picked = ws.recv_type("pickResult", SECS).expect("pickResult")["payload"].clone();
            if let Some(path) = picked["path"].as_str().or_else(|| picked["prim_path"].as_str()) {
                return (x, y, path.to_string());
            }
        }
    }
    panic!("no pickable pixel on the sample stage");
}

#[test]
fn first_viewer_owns_spectators_watch_and_control_is_granted_and_taken_back() {
    let host = sample_host(&[]);
    let mut owner = host.ws();
    let first = hello(&mut owner, "Ada");
    assert_eq!(first["role"], "owner", "{first}");
    let owner_id = first["client_id"].clone();
    let mut watcher = host.ws();
    let second = hello(&mut watcher, "Bea");
    assert_eq!(second["role"], "spectator", "{second}");
    let watcher_id = second["client_id"].clone();

    // Presence: both see both, with names and roles.
    for ws in [&mut owner, &mut watcher] {
        let clients = presence_where(ws, |c| c.len() == 2 && c.iter().any(|x| x["name"] == "Bea"));
        assert_eq!(role_of(&clients, &owner_id), "owner");
        assert_eq!(role_of(&clients, &watcher_id), "spectator");
        assert!(clients.iter().any(|c| c["name"] == "Ada"), "{clients:?}");
    }
    let state = host.get_json("/api/state");
    let roles: Vec<&str> = state["clients"].as_array().unwrap().iter().map(|c| c["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["owner", "spectator"], "{state}");
    assert_eq!(state["control"], "first");

    // A spectator: read-only requests work; changes and input are refused, saying why.
    watcher.send("getChildrenRequest", json!({"prim_path": "/"}));
    assert!(watcher.recv_type("getChildrenResult", SECS).is_some(), "a spectator can browse the tree");
    let error = refused(&mut watcher, "selectPrimsRequest", json!({"paths": ["/World"]}), "not_permitted");
    assert!(error["message"].as_str().unwrap().contains("spectator"), "{error}");
    assert_eq!(error["context"]["event_type"], "selectPrimsRequest");
    refused(&mut watcher, "openStageRequest", json!({"url": "sample_zup.usda"}), "not_permitted");
    let camera_before = host.get_json("/api/state")["camera"]["view"].clone();
    watcher.send(
        "input",
        json!({"events": [
            {"type": "pointerdown", "x": 100, "y": 100, "button": 0, "buttons": 1},
            {"type": "pointermove", "x": 300, "y": 120, "dx": 200, "dy": 20, "buttons": 1},
            {"type": "pointerup", "x": 300, "y": 120, "button": 0, "buttons": 0},
        ]}),
    );
    let error = watcher.recv_type("viewerError", SECS).expect("a spectator's drag is answered")["payload"].clone();
    assert_eq!(error["code"], "not_permitted", "{error}");
    std::thread::sleep(QUIET);
    assert_eq!(host.get_json("/api/state")["camera"]["view"], camera_before, "a spectator's drag moved the camera");

    // Request → the owner hears of it → grant → the former spectator drives.
    watcher.send("requestControl", json!({}));
    let asked = owner.recv_type("controlRequested", SECS).expect("the owner hears of the request")["payload"].clone();
    assert_eq!(asked["client_id"], watcher_id);
    assert_eq!(asked["name"], "Bea");
    refused(&mut watcher, "grantControl", json!({"client_id": watcher_id}), "not_permitted");
    owner.send("grantControl", json!({"client_id": watcher_id}));
    presence_where(&mut watcher, |c| role_of(c, &watcher_id) == "controller");
    watcher.send("selectPrimsRequest", json!({"paths": ["/World"]}));
    let selected = watcher.recv_type("stageSelectionChanged", SECS).expect("a controller selects")["payload"].clone();
    assert_eq!(selected["prims"], json!(["/World"]));

    // Viewport gates are per client: the other tab's pointer leaving its viewport does not mute
    // this one; a click whose release is followed by its own gate closing still selects.
    let (x, y, path) = pickable_pixel(&mut owner, 1280, 720);
    owner.send("selectPrimsRequest", json!({"paths": []}));
    owner.recv_type("stageSelectionChanged", SECS).unwrap();
    watcher.send("setViewportInputActive", json!({"active": false}));
    click(&mut owner, x, y);
    owner.send("setViewportInputActive", json!({"active": false}));
    let picked = owner.recv_type("stageSelectionChanged", SECS).expect("the owner's click selects")["payload"].clone();
    assert_eq!(picked["prims"], json!([path]));
    owner.send("setViewportInputActive", json!({"active": true}));

    // Taken back: a spectator again.
    owner.send("revokeControl", json!({"client_id": watcher_id}));
    presence_where(&mut watcher, |c| role_of(c, &watcher_id) == "spectator");
    refused(&mut watcher, "selectPrimsRequest", json!({"paths": []}), "not_permitted");

    // The owner leaves: the remaining viewer takes over.
    drop(owner);
    presence_where(&mut watcher, |c| c.len() == 1 && role_of(c, &watcher_id) == "owner");
    watcher.send("selectPrimsRequest", json!({"paths": []}));
    assert!(watcher.recv_type("stageSelectionChanged", SECS).is_some());
}

#[test]
fn token_policy_gives_control_only_with_the_token_and_hand_over_makes_an_owner() {
    let host = sample_host(&["--control", "token", "--control-token", "drive-me"]);
    let mut a = host.ws();
    assert_eq!(hello(&mut a, "A")["role"], "spectator");
    let mut b = host.ws();
    let b_id = hello(&mut b, "B")["client_id"].clone();
    refused(&mut a, "requestControl", json!({"token": "guess"}), "not_permitted");
    refused(&mut a, "selectPrimsRequest", json!({"paths": []}), "not_permitted");
    a.send("requestControl", json!({"token": "drive-me"}));
    let clients = presence_where(&mut a, |c| c.iter().any(|x| x["role"] == "owner"));
    assert_eq!(clients.iter().filter(|c| c["role"] == "owner").count(), 1);
    a.send("selectPrimsRequest", json!({"paths": []}));
    assert!(a.recv_type("stageSelectionChanged", SECS).is_some(), "the token holder drives");
    // Hand-over: B becomes the owner, A a controller.
    a.send("grantControl", json!({"client_id": b_id, "role": "owner"}));
    let clients = presence_where(&mut b, |c| role_of(c, &b_id) == "owner");
    assert!(clients.iter().any(|c| c["role"] == "controller"), "{clients:?}");
}

#[test]
fn the_stream_follows_the_controlling_viewer_within_the_clamp_and_spectators_cannot_resize() {
    let host = Host::start(
        Path::new(BIN),
        &[
            "--renderer",
            "testpattern",
            "--width",
            "320",
            "--height",
            "180",
            "--max-width",
            "800",
            "--max-height",
            "600",
        ],
    );
    assert!(host.wait_ready(SECS));
    let mut owner = host.ws();
    let hello_result = hello(&mut owner, "owner");
    assert_eq!(hello_result["stream"]["max_width"], 800, "{hello_result}");
    let mut watcher = host.ws();
    hello(&mut watcher, "watcher");

    owner.send("setStreamSize", json!({"width": 1001, "height": 500}));
    for ws in [&mut owner, &mut watcher] {
        let changed = ws.recv_type("streamSizeChanged", SECS).expect("streamSizeChanged")["payload"].clone();
        assert_eq!((changed["width"].as_u64(), changed["height"].as_u64()), (Some(800), Some(398)), "{changed}");
    }
    let stream_size = || {
        let stream = host.get_json("/api/state")["stream"].clone();
        (stream["width"].as_u64(), stream["height"].as_u64())
    };
    assert!(
        ovhost_test_support::wait_until(SECS, || stream_size() == (Some(800), Some(398))),
        "/api/state: {:?}",
        stream_size()
    );
    // The video follows: the header's width and height (bytes 24..32) of a later frame.
    let mut sizes = Vec::new();
    let deadline = Instant::now() + SECS;
    while Instant::now() < deadline {
        if let Some(frame) = owner.recv_binary(Duration::from_millis(200)) {
            let size = (
                u32::from_le_bytes(frame[24..28].try_into().unwrap()),
                u32::from_le_bytes(frame[28..32].try_into().unwrap()),
            );
            sizes.push(size);
            if size == (800, 398) {
                break;
            }
        }
    }
    assert_eq!(sizes.last(), Some(&(800, 398)), "frames after the resize: {sizes:?}");

    refused(&mut watcher, "setStreamSize", json!({"width": 640, "height": 360}), "not_permitted");
    refused(&mut owner, "setStreamSize", json!({"width": "wide"}), "invalid_input");
    assert!(drain(&mut watcher, QUIET).iter().all(|m| m["event_type"] != "streamSizeChanged"));
}

#[test]
fn a_variant_switch_keeps_the_selection() {
    let host = sample_host(&[]);
    let mut ws = host.ws();
    hello(&mut ws, "one");
    let selection = json!(["/World/Props/Showcase"]);
    ws.send("selectPrimsRequest", json!({"paths": selection}));
    ws.recv_type("stageSelectionChanged", SECS).expect("selected");
    ws.send(
        "setVariantRequest",
        json!({"prim_path": "/World/Props/Showcase", "variant_set": "shapeVariant", "variant_selection": "sphere"}),
    );
    ws.recv_type("getVariantsResponse", Duration::from_secs(10)).expect("variants after the switch");
    let after = drain(&mut ws, QUIET);
    let cleared =
        after.iter().any(|m| m["event_type"] == "stageSelectionChanged" && m["payload"]["prims"] == json!([]));
    assert!(!cleared, "the variant switch cleared the selection: {after:?}");
    assert_eq!(host.get_json("/api/state")["selection"], selection);
}

fn direction(view: &Value) -> [f64; 3] {
    let (eye, target) = (&view["eye"], &view["target"]);
    let d: Vec<f64> = (0..3).map(|i| eye[i].as_f64().unwrap() - target[i].as_f64().unwrap()).collect();
    let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    [d[0] / len, d[1] / len, d[2] / len]
}

#[test]
fn frame_all_keeps_the_viewing_direction_like_f() {
    let host = sample_host(&[]);
    let mut ws = host.ws();
    hello(&mut ws, "one");
    let before = host.get_json("/api/state")["camera"]["view"].clone();
    ws.send(
        "input",
        json!({"events": [
            {"type": "pointerdown", "x": 400, "y": 300, "button": 0, "buttons": 1},
            {"type": "pointermove", "x": 600, "y": 360, "dx": 200, "dy": 60, "buttons": 1},
            {"type": "pointerup", "x": 600, "y": 360, "button": 0, "buttons": 0},
        ]}),
    );
    let orbited = || host.get_json("/api/state")["camera"]["view"].clone();
    assert!(
        ovhost_test_support::wait_until(SECS, || direction(&orbited()) != direction(&before)),
        "the drag did not orbit"
    );
    let turned = direction(&orbited());
    drain(&mut ws, QUIET); // the initial state pushed after hello has a cameraStateChanged too
    // The viewer's "Frame all" (the whole stage, "/") and F without a selection keep the angle.
    ws.send("fitCameraRequest", json!({"prim_path": "/"}));
    let framed = ws.recv_type("cameraStateChanged", SECS).expect("cameraStateChanged")["payload"]["view"].clone();
    let same = |a: [f64; 3], b: [f64; 3]| (0..3).all(|i| (a[i] - b[i]).abs() < 1e-3);
    assert!(
        same(direction(&framed), turned),
        "Frame all changed the direction: {turned:?} -> {:?}",
        direction(&framed)
    );
    ws.send("input", json!({"events": [{"type": "keydown", "key": "f"}, {"type": "keyup", "key": "f"}]}));
    let keyed =
        ws.recv_type("cameraStateChanged", SECS).expect("cameraStateChanged after F")["payload"]["view"].clone();
    assert!(same(direction(&keyed), turned), "F changed the direction");
    // A reset (cameraCommandRequest reset) still returns to the default direction.
    ws.send("cameraCommandRequest", json!({"command": "reset"}));
    let reset =
        ws.recv_type("cameraStateChanged", SECS).expect("cameraStateChanged after reset")["payload"]["view"].clone();
    assert!(!same(direction(&reset), turned), "reset kept the orbited direction");
}

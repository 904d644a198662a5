//! HTTP and protocol edges (issue 15), against the real binary over real sockets: slow-header
//! (slowloris) sockets closed after `--header-read-timeout-s` while a good client keeps
//! streaming; `--max-connections` closing the excess at once; every request answered by exactly
//! one reply or one `viewerError` (the formerly silent selection cases, both dialects, unknown
//! dialects); client strings cut when quoted back; and the example replay failing when a reply
//! is wrong, missing or an error.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws, http_request, https_get, replay_examples, wait_until};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(20);

fn host(extra: &[&str]) -> Host {
    let mut args = vec!["--renderer", "testpattern", "--asset-root", "examples/stages", "--stage", "sample_yup.usda"];
    args.extend_from_slice(extra);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS), "host did not become ready: {:?}", host.logs());
    assert!(host.wait_stage_loaded(SECS), "the sample stage did not load: {:?}", host.logs());
    host
}

/// A client that watches video until `stop`: (frames, longest gap between two frames).
fn watch_video(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(u64, Duration)> {
    let mut ws = Ws::connect(port, "");
    ws.hello(&["jpeg"]);
    std::thread::spawn(move || {
        let (mut frames, mut gap, mut last) = (0u64, Duration::ZERO, Instant::now());
        while !stop.load(Ordering::Relaxed) {
            if ws.recv_binary(Duration::from_millis(500)).is_some() {
                frames += 1;
                if frames > 1 {
                    gap = gap.max(last.elapsed());
                }
                last = Instant::now();
            }
        }
        (frames, gap)
    })
}

/// Whether the host closed `socket` (a read gives end-of-file or a reset) within `timeout`.
fn closed_within(socket: &mut TcpStream, timeout: Duration) -> bool {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 512];
    while Instant::now() < deadline {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn slow_header_sockets_are_closed_after_the_timeout_while_a_good_client_keeps_streaming() {
    let host = host(&["--header-read-timeout-s", "1"]);
    let port = host.port;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_video(port, stop.clone());
    std::thread::sleep(Duration::from_millis(500));
    // 100 slowloris sockets: a request line, then one header byte every 200 ms, never the end.
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n").unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let mut alive = slow.len();
    while alive > 0 && started.elapsed() < Duration::from_secs(15) {
        alive = 0;
        for s in &mut slow {
            if s.write_all(b"X").is_ok() && !closed_within(s, Duration::from_millis(1)) {
                alive += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let took = started.elapsed();
    assert_eq!(alive, 0, "slow-header sockets still open after {took:?}");
    // An idle keep-alive connection is closed by the same bound.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes()).unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200", "the request itself is served");
    assert!(closed_within(&mut idle, Duration::from_secs(10)), "an idle keep-alive connection is closed too");
    // A request sent at a normal pace is unaffected, and the watcher streamed throughout.
    assert_eq!(http_request(port, "GET", "/healthz", &[], b"").0, 200);
    stop.store(true, Ordering::Relaxed);
    let (frames, gap) = watcher.join().unwrap();
    println!("slowloris: 100 slow sockets closed within {took:?}; good client {frames} frames, longest gap {gap:?}");
    assert!(frames > 20, "the good client kept receiving video: {frames} frames");
    assert!(gap < Duration::from_secs(2), "the good client's longest frame gap: {gap:?}");
    assert!(!host.logs().iter().any(|l| l.contains("ERROR")), "no error log per slow socket: {:?}", host.logs());
}

/// `n` idle sockets, each held open by the host. (On a loaded machine an earlier request's
/// connection may keep its slot a moment longer and an idle socket be the one closed: such a
/// socket is opened again.)
fn fill_slots(port: u16, n: usize) -> Vec<TcpStream> {
    let mut idle: Vec<TcpStream> = (0..n).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(300));
        let mut reopened = false;
        for socket in &mut idle {
            if closed_within(socket, Duration::from_millis(20)) {
                *socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
                reopened = true;
            }
        }
        if !reopened {
            return idle;
        }
    }
    panic!("the host kept closing idle sockets below --max-connections");
}

#[test]
fn over_max_connections_new_sockets_are_closed_at_once_and_open_ones_keep_working() {
    let host = host(&["--max-connections", "8", "--header-read-timeout-s", "60"]);
    let port = host.port;
    let mut ws = Ws::connect(port, "");
    ws.hello(&["jpeg"]);
    // Seven idle sockets fill the other slots (they send nothing; the header timeout is long).
    let idle = fill_slots(port, 7);
    let started = Instant::now();
    for _ in 0..20 {
        let (status, _, _) = http_request(port, "GET", "/healthz", &[], b"");
        assert_eq!(status, 0, "over the cap a connection gets no answer: it is closed");
    }
    let refused_in = started.elapsed();
    assert!(refused_in < Duration::from_secs(5), "20 refusals took {refused_in:?}: they are closed on accept");
    assert!(
        host.wait_for_log("--max-connections 8", Duration::from_secs(5)).is_some(),
        "the refusal is logged with the flag that sets it"
    );
    let warnings = host.logs().iter().filter(|l| l.contains("--max-connections 8")).count();
    assert!(warnings < 5, "refusals are logged at most every 10 s, not once each: {warnings}");
    // The connection already open keeps streaming and answering.
    assert!(ws.recv_binary(SECS).is_some(), "video still flows to the open client");
    ws.send("getPrimCountRequest", json!({}));
    assert_eq!(ws.recv_type("getPrimCountResult", SECS).unwrap()["payload"]["count"], 11);
    // Free slots admit new connections again.
    drop(idle);
    assert!(
        wait_until(Duration::from_secs(5), || http_request(port, "GET", "/healthz", &[], b"").0 == 200),
        "a slot freed by a closed socket is reused"
    );
}

/// Sends `event_type` then a fence (an unknown `event_type`, answered after everything the
/// request caused) and returns the messages in between.
fn exchange(ws: &mut Ws, event_type: &str, payload: Value) -> Vec<Value> {
    ws.send(event_type, payload);
    fenced(ws, event_type)
}

/// Sends the fence and returns what arrived before its answer.
fn fenced(ws: &mut Ws, event_type: &str) -> Vec<Value> {
    ws.send("edgesFence", json!({}));
    let mut got = Vec::new();
    let deadline = Instant::now() + SECS;
    while let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) {
        if message["event_type"] == "viewerError" && message["payload"]["context"]["event_type"] == "edgesFence" {
            return got;
        }
        // The roster broadcast when another client of this test joins or leaves is no reply.
        if message["event_type"] == "presence" {
            continue;
        }
        got.push(message);
    }
    panic!("the fence after {event_type} was not answered; got {got:?}");
}

/// Exactly one message answered the request: returns it.
fn one(ws: &mut Ws, event_type: &str, payload: Value) -> Value {
    let got = exchange(ws, event_type, payload.clone());
    assert_eq!(got.len(), 1, "{event_type} {payload}: exactly one reply or error, got {got:?}");
    got.into_iter().next().unwrap()
}

fn error_code(message: &Value) -> &str {
    assert_eq!(message["event_type"], "viewerError", "{message}");
    message["payload"]["code"].as_str().unwrap()
}

#[test]
fn every_formerly_silent_request_gets_exactly_one_reply_or_error() {
    // Several clients change the selection: roles are not under test here (tests/viewers.rs).
    let host = host(&["--control", "shared"]);
    let mut ws = host.ws();
    // A path that is not on the stage: the selection is applied without it and the reply says so.
    let reply = one(&mut ws, "selectPrimsRequest", json!({ "paths": ["/World/Missing", "/World/Ground"] }));
    assert_eq!(reply["event_type"], "stageSelectionChanged", "{reply}");
    assert_eq!(reply["payload"]["prims"], json!(["/World/Ground"]));
    assert_eq!(reply["payload"]["ignored"], json!(["/World/Missing"]));
    assert_eq!(reply["payload"]["ignored_count"], 1);
    let reply = one(&mut ws, "selectPrimsRequest", json!({ "paths": ["/World/Missing"] }));
    assert_eq!(reply["payload"]["prims"], json!([]), "{reply}");
    assert_eq!(reply["payload"]["ignored"], json!(["/World/Missing"]));
    // The pseudo-root, a property path, a missing list: refused, nothing changes.
    one(&mut ws, "selectPrimsRequest", json!({ "paths": ["/World/Ground"] }));
    for (paths, says) in [(json!(["/"]), "pseudo-root"), (json!(["/World.size"]), "property path")] {
        let error = one(&mut ws, "selectPrimsRequest", json!({ "paths": paths }));
        assert_eq!(error_code(&error), "invalid_input");
        assert!(error["payload"]["message"].as_str().unwrap().contains(says), "{error}");
    }
    assert_eq!(error_code(&one(&mut ws, "selectPrimsRequest", json!({}))), "invalid_input");
    assert_eq!(host.get_json("/api/state")["selection"], json!(["/World/Ground"]), "refusals changed nothing");
    // The pickable set: every request answered.
    for event_type in ["makePrimsPickable", "makePrimsSelectable"] {
        let reply = one(&mut ws, event_type, json!({ "paths": ["/World/Missing"] }));
        assert_eq!(reply["event_type"], "makePrimsPickableResponse", "{reply}");
        assert_eq!(reply["payload"]["result"], "success");
        assert!(reply["payload"]["count"].is_u64(), "{reply}");
        for bad in ["/", "/World.size"] {
            assert_eq!(error_code(&one(&mut ws, event_type, json!({ "paths": [bad] }))), "invalid_input", "{bad}");
        }
        assert_eq!(error_code(&one(&mut ws, event_type, json!({}))), "invalid_input");
    }

    // The Kit dialect: a good selectPrimsRequest gets no echo (Kit's contract); anything wrong
    // gets one error.
    let mut kit = Ws::connect(host.port, "?dialect=kit");
    assert_eq!(error_code(&one(&mut kit, "selectPrimsRequest", json!({}))), "invalid_input");
    let error = one(&mut kit, "selectPrimsRequest", json!({ "paths": ["/World/Nope"] }));
    assert_eq!(error_code(&error), "not_found");
    assert!(error["payload"]["message"].as_str().unwrap().contains("/World/Nope"), "{error}");
    assert_eq!(error_code(&one(&mut kit, "selectPrimsRequest", json!({ "paths": ["/World.size"] }))), "invalid_input");
    assert_eq!(exchange(&mut kit, "selectPrimsRequest", json!({ "paths": ["/World/Ground"] })), Vec::<Value>::new());
    let reply = one(&mut kit, "makePrimsPickable", json!({ "paths": ["/World.size"] }));
    assert_eq!(reply["event_type"], "makePrimsPickableResponse");
    assert_eq!(reply["payload"]["result"], "error", "{reply}");

    // Unknown dialects: refused where they are chosen (a client of one would never see the
    // broadcasts that answer its requests).
    assert_eq!(Ws::handshake_status(host.port, "?dialect=foo", &[]), 400);
    assert_eq!(Ws::handshake_status(host.port, "?dialect=default", &[]), 101);
    let mut chooser = host.ws();
    chooser.send("hello", json!({ "dialect": "foo" }));
    let error = chooser.recv_type("viewerError", SECS).unwrap();
    assert!(error["payload"]["message"].as_str().unwrap().contains("kit"), "the known dialects are named: {error}");
    assert!(chooser.recv_type("helloResult", SECS).is_some(), "hello is still answered");
    fenced(&mut chooser, "hello"); // the initial state pushed after hello
    let reply = one(&mut chooser, "selectPrimsRequest", json!({ "paths": [] }));
    assert_eq!(reply["event_type"], "stageSelectionChanged", "the client kept the default dialect: {reply}");
}

#[test]
fn client_strings_quoted_back_are_cut() {
    let host = host(&[]);
    let mut ws = host.ws();
    let long = "x".repeat(60_000);
    for (event_type, payload) in [
        ("selectPrimsRequest", json!({ "paths": [long.clone()] })),
        ("getChildrenRequest", json!({ "prim_path": format!("/World.{long}") })),
        ("setCameraSchemeRequest", json!({ "scheme": long.clone() })),
        ("changeAOVRequest", json!({ "aov": 7 })),
    ] {
        let reply = one(&mut ws, event_type, payload);
        let text = reply.to_string();
        assert!(text.len() < 2_000, "{event_type}: {} bytes quoted back: {}…", text.len(), &text[..200]);
    }
    // A dialect name over 32 characters is refused at the handshake, quoted cut.
    let (status, _, body) = http_request(
        host.port,
        "GET",
        &format!("/ws?dialect={}", "d".repeat(5_000)),
        &[
            ("Upgrade", "websocket"),
            ("Connection", "upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        b"",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.len() < 400, "{} bytes", body.len());
}

#[test]
fn the_example_replay_fails_on_a_wrong_missing_or_error_reply() {
    let host = host(&[]);
    let example = |request: Value, responses: Value| json!({ "request": request, "responses": responses });
    let count = json!({ "event_type": "getPrimCountRequest", "payload": {} });
    let mut ws = host.ws();
    let good = replay_examples(
        &mut ws,
        "edges",
        &[example(count.clone(), json!([{ "event_type": "getPrimCountResult", "payload": { "count": "<integer>" } }]))],
        SECS,
    );
    assert_eq!(good.unwrap().replies(), 1);
    let cases = [
        (
            example(count.clone(), json!([{ "event_type": "getPrimCountResult", "payload": { "count": 12 } }])),
            "not the expected one",
        ),
        (example(count.clone(), json!([{ "event_type": "getPrimCountResult", "payload": {} }])), "empty payload"),
        (
            example(
                json!({ "event_type": "selectPrimsRequest", "payload": { "paths": ["/"] } }),
                json!([{ "event_type": "stageSelectionChanged", "payload": { "prims": [] } }]),
            ),
            "answered with an error",
        ),
        (
            example(count, json!([{ "event_type": "getPrimCountResult", "payload": { "count": "<string>" } }])),
            "not the expected one",
        ),
    ];
    for (case, says) in cases {
        let mut ws = host.ws();
        let error = replay_examples(&mut ws, "edges", std::slice::from_ref(&case), Duration::from_secs(3)).unwrap_err();
        assert!(error.contains(says), "{case}: {error}");
    }
}

#[test]
fn static_files_answer_long_or_odd_paths_with_404_or_414_and_no_error_log() {
    // A real frontend folder, so the paths reach the static-file service.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>edges</title>").unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/app.js"), "console.log(1)").unwrap();
    let host = host(&["--frontend-dir", dir.path().to_str().unwrap()]);
    let port = host.port;
    assert_eq!(http_request(port, "GET", "/", &[], b"").0, 200);
    assert_eq!(http_request(port, "GET", "/assets/app.js", &[], b"").0, 200);
    let cases: Vec<(String, u16)> = vec![
        (format!("/{}", "a".repeat(255)), 404),
        (format!("/{}", "a".repeat(256)), 404),
        (format!("/assets/{}", "b".repeat(2_000)), 404),
        (format!("/{}", "a/".repeat(1_500)), 414),
        ("/x%00y".into(), 404),
        ("/%ff%fe".into(), 404),
        ("/..%2f..%2f..%2fetc%2fpasswd".into(), 404),
        ("/%2e%2e/%2e%2e/etc/passwd".into(), 404),
        ("/assets/app.js%00.html".into(), 404),
    ];
    for _round in 0..20 {
        for (path, want) in &cases {
            let (status, _, body) = http_request(port, "GET", path, &[], b"");
            assert_eq!(status, *want, "{}: {body}", &path[..path.len().min(80)]);
            assert!(!body.contains("root:"), "no file outside the frontend folder: {body}");
        }
    }
    let errors: Vec<String> = host.logs().into_iter().filter(|l| l.contains("ERROR") || l.contains("WARN")).collect();
    assert!(errors.is_empty(), "no error or warning per request (180 odd requests): {errors:?}");
}

#[test]
fn a_websocket_protocol_violation_gets_close_code_1002() {
    let host = host(&[]);
    let mut tcp = TcpStream::connect(("127.0.0.1", host.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let handshake = format!(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        host.port
    );
    tcp.write_all(handshake.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    // A masked frame with the reserved opcode 0x3: not WebSocket.
    tcp.write_all(&[0x83, 0x80, 1, 2, 3, 4]).unwrap();
    let mut frame = [0u8; 4];
    tcp.read_exact(&mut frame).unwrap();
    assert_eq!(frame[0], 0x88, "a close frame comes back: {frame:?}");
    assert_eq!(u16::from_be_bytes([frame[2], frame[3]]), 1002, "close code: {frame:?}");
    // The host keeps serving others.
    let mut ws = host.ws();
    ws.send("getPrimCountRequest", json!({}));
    assert!(ws.recv_type("getPrimCountResult", SECS).is_some());
}

#[test]
fn over_max_connections_tls_handshakes_are_closed_at_once_too() {
    let host = Host::start(
        Path::new(BIN),
        &["--renderer", "testpattern", "--tls-self-signed", "--max-connections", "4", "--header-read-timeout-s", "60"],
    );
    let fingerprint = host.tls_fingerprint().expect("the host prints the certificate fingerprint");
    assert!(wait_until(SECS, || https_get(host.port, "/healthz", &fingerprint).is_ok_and(|(s, _)| s == 200)));
    // Four sockets that never start their handshake hold every slot.
    let idle = fill_slots(host.port, 4);
    let started = Instant::now();
    let fifth = https_get(host.port, "/healthz", &fingerprint);
    assert!(!matches!(fifth, Ok((200, _))), "a fifth connection is closed: {fifth:?}\n{:?}", host.logs());
    assert!(started.elapsed() < Duration::from_secs(5), "closed at once: {:?}", started.elapsed());
    assert!(host.wait_for_log("TLS handshakes are in progress", SECS).is_some(), "{:?}", host.logs());
    drop(idle);
    assert!(
        wait_until(SECS, || https_get(host.port, "/healthz", &fingerprint).is_ok_and(|(s, _)| s == 200)),
        "freed slots admit HTTPS again"
    );
}

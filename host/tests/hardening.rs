//! Core hardening (issue 15), against the real binary over real sockets: who may connect (Host,
//! Origin, access token), slow and flooding clients, the client cap, oversized frames, and stage
//! loads that overrun their time limit or are replaced.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use ovhost_test_support::{Host, Ws, http_request};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(20);

fn host(extra: &[&str]) -> Host {
    let mut args = vec!["--renderer", "testpattern"];
    args.extend_from_slice(extra);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS), "host did not become ready");
    host
}

#[test]
fn a_foreign_origin_or_host_is_refused_by_default_and_the_hosts_own_origin_is_accepted() {
    let host = host(&[]);
    let port = host.port;
    let own = format!("http://127.0.0.1:{port}");
    let alias = format!("http://localhost:{port}");
    assert_eq!(Ws::handshake_status(port, "", &[("Origin", "https://evil.example")]), 403);
    assert_eq!(Ws::handshake_status(port, "", &[("Origin", "null")]), 403);
    let evil_host = format!("evil.example:{port}");
    assert_eq!(Ws::handshake_status(port, "", &[("Host", &evil_host)]), 403, "DNS rebinding");
    assert_eq!(Ws::handshake_status(port, "", &[("Origin", &own)]), 101);
    assert_eq!(Ws::handshake_status(port, "", &[("Origin", &alias)]), 101, "localhost is an alias");
    assert_eq!(Ws::handshake_status(port, "", &[]), 101, "no Origin: not a browser page");
    // The same rules on the read-only API: another page cannot read the stage or plugin paths.
    for path in ["/api/state", "/api/plugins"] {
        let (status, _, body) = http_request(port, "GET", path, &[("Origin", "https://evil.example")], b"");
        assert_eq!(status, 403, "{path}: {body}");
        let (status, _, body) = http_request(port, "GET", path, &[("Host", &evil_host)], b"");
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("--allowed-host"), "the refusal says how to allow it: {body}");
        assert_eq!(http_request(port, "GET", path, &[("Origin", &own)], b"").0, 200, "{path}");
    }
    // Probes stay open whatever the Host.
    assert_eq!(http_request(port, "GET", "/healthz", &[("Host", &evil_host)], b"").0, 200);
    // The host kept streaming to a good client throughout.
    let mut ws = Ws::connect(port, "");
    assert!(ws.hello(&["jpeg"])["payload"]["client_id"].is_u64());
    assert!(ws.recv_binary(SECS).is_some());
}

#[test]
fn allowed_origin_and_allowed_host_admit_what_they_name() {
    let host = host(&["--allowed-origin", "https://evil.example", "--allowed-host", "viewer.lan"]);
    let port = host.port;
    assert_eq!(Ws::handshake_status(port, "", &[("Origin", "https://evil.example")]), 101);
    assert_eq!(Ws::handshake_status(port, "", &[("Origin", "https://other.example")]), 403);
    let lan = format!("viewer.lan:{port}");
    assert_eq!(Ws::handshake_status(port, "", &[("Host", &lan)]), 101);
    assert_eq!(Ws::handshake_status(port, "", &[("Host", "evil.example")]), 101, "an allowed origin's host");
    assert_eq!(Ws::handshake_status(port, "", &[("Host", "other.example")]), 403);
}

#[test]
fn with_an_access_token_every_endpoint_but_the_probes_requires_it() {
    let host = host(&["--access-token", "s3cret"]);
    let port = host.port;
    for path in ["/api/state", "/api/plugins", "/metrics", "/api/webrtc"] {
        let (status, head, body) = http_request(port, "GET", path, &[], b"");
        assert_eq!(status, 401, "{path}: {body}");
        assert!(head.contains("www-authenticate: bearer"), "{path}: {head}");
        assert_eq!(http_request(port, "GET", &format!("{path}?token=wrong"), &[], b"").0, 401, "{path}");
        assert_eq!(http_request(port, "GET", path, &[("Authorization", "Bearer s3cre")], b"").0, 401, "{path}");
    }
    for path in ["/api/state", "/api/plugins", "/metrics"] {
        assert_eq!(http_request(port, "GET", &format!("{path}?token=s3cret"), &[], b"").0, 200, "{path}");
        assert_eq!(http_request(port, "GET", path, &[("Authorization", "Bearer s3cret")], b"").0, 200, "{path}");
    }
    assert_eq!(http_request(port, "GET", "/healthz", &[], b"").0, 200);
    assert_eq!(http_request(port, "GET", "/livez", &[], b"").0, 200);
    assert_eq!(Ws::handshake_status(port, "", &[]), 401);
    assert_eq!(Ws::handshake_status(port, "?token=s3cret", &[]), 101);
    assert_eq!(Ws::handshake_status(port, "", &[("Authorization", "Bearer s3cret")]), 101);
    // The token does not replace the Origin rule.
    assert_eq!(Ws::handshake_status(port, "?token=s3cret", &[("Origin", "https://evil.example")]), 403);
}

/// Resident memory of a process, from `/proc/<pid>/status` (bytes).
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// A client that reads video in a thread: (frames, longest gap) when stopped.
fn watch_video(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(u64, Duration)> {
    std::thread::spawn(move || {
        let mut ws = Ws::connect(port, "");
        ws.hello(&["jpeg"]);
        let (mut frames, mut gap, mut last) = (0u64, Duration::ZERO, std::time::Instant::now());
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            if ws.recv_binary(Duration::from_millis(500)).is_some() {
                frames += 1;
                if frames > 1 {
                    gap = gap.max(last.elapsed());
                }
                last = std::time::Instant::now();
            }
        }
        (frames, gap)
    })
}

#[test]
fn clients_that_never_read_are_closed_with_a_code_and_memory_stays_bounded() {
    const SLOW: usize = 30;
    let host = host(&["--width", "640", "--height", "360"]);
    let port = host.port;
    let pid = host.child.id();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let good = watch_video(port, stop.clone());
    std::thread::sleep(Duration::from_secs(2));
    let rss_before = rss_bytes(pid);
    let started = std::time::Instant::now();
    // Each slow client asks for video and sends requests, and never reads a byte.
    let mut slow: Vec<Ws> = (0..SLOW).map(|_| Ws::connect(port, "")).collect();
    for ws in &mut slow {
        ws.send("hello", serde_json::json!({ "video": { "codecs": ["jpeg"] } }));
        for i in 0..100 {
            ws.send("noSuchRequest", serde_json::json!({ "i": i, "pad": "x".repeat(512) }));
        }
    }
    let mut rss_peak = rss_before;
    let closed = |host: &Host| host.logs().iter().filter(|l| l.contains("client closed by the host")).count();
    while closed(&host) < SLOW && started.elapsed() < Duration::from_secs(90) {
        rss_peak = rss_peak.max(rss_bytes(pid));
        std::thread::sleep(Duration::from_millis(200));
    }
    let closed_after = started.elapsed();
    // The logs before the good client leaves (its own close is not a slow reader's).
    let logs = host.logs();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (frames, max_gap) = good.join().unwrap();
    let reasons: Vec<&String> = logs.iter().filter(|l| l.contains("client closed by the host")).collect();
    eprintln!(
        "BENCH slow readers: {SLOW} clients closed after {:.1} s; host RSS {} MB before, peak {} MB (+{} MB); good client {frames} frames in {:.1} s ({:.1} fps), longest gap {} ms",
        closed_after.as_secs_f64(),
        rss_before >> 20,
        rss_peak >> 20,
        rss_peak.saturating_sub(rss_before) >> 20,
        (closed_after + Duration::from_secs(2)).as_secs_f64(),
        frames as f64 / (closed_after + Duration::from_secs(2)).as_secs_f64(),
        max_gap.as_millis()
    );
    let clients: std::collections::BTreeSet<&str> =
        reasons.iter().filter_map(|l| l.split_whitespace().find(|w| w.starts_with("client="))).collect();
    assert!(clients.len() >= SLOW, "every slow client is closed: {reasons:?}");
    assert!(reasons.iter().all(|l| l.contains("code=1008") && l.contains("too slow")), "{reasons:?}");
    assert!(rss_peak.saturating_sub(rss_before) < 64 << 20, "RSS grew by more than 64 MB");
    assert!(frames > 0, "the good client kept receiving video");
    // Each slow socket ends: reading it now finds the end (after what was buffered).
    for ws in &mut slow {
        assert!(ws.recv_close(Duration::from_secs(10)).is_none_or(|(code, _)| code == 1008));
    }
    assert_eq!(host.get_json("/api/state")["clients"].as_array().map(Vec::len), Some(0));
}

#[test]
fn over_max_clients_the_handshake_gets_503_with_a_reason() {
    let host = host(&["--max-clients", "2"]);
    let port = host.port;
    let _a = Ws::connect(port, "");
    let _b = Ws::connect(port, "");
    // Both sessions are running (a handshake and its session start a moment apart).
    assert!(ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["clients"].as_array().map(Vec::len)
        == Some(2)));
    let (status, _, body) = http_request(
        port,
        "GET",
        "/ws",
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        b"",
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--max-clients 2"), "{body}");
    drop(_a);
    assert!(ovhost_test_support::wait_until(SECS, || Ws::handshake_status(port, "", &[]) == 101));
}

#[test]
fn a_flooding_client_is_rate_limited_then_closed_and_others_keep_streaming() {
    let host = host(&[]);
    let mut flood = Ws::connect(port_of(&host), "");
    let mut watcher = Ws::connect(port_of(&host), "");
    watcher.hello(&["jpeg"]);
    flood.hello(&[]);
    // Faster than the allowance, until the host closes the connection (or a minute passes).
    let started = std::time::Instant::now();
    let mut sent = 0u64;
    while sent < 20_000
        && started.elapsed() < Duration::from_secs(60)
        && flood.try_send_text(r#"{"event_type":"noSuchRequest","payload":{}}"#).is_ok()
    {
        sent += 1;
    }
    eprintln!("flood: {sent} messages sent in {:.1} s", started.elapsed().as_secs_f64());
    let (texts, close) = flood.recv_until_close(Duration::from_secs(30));
    let saw_rate_limited = texts.iter().any(|m| m["payload"]["code"] == "rate_limited");
    assert!(saw_rate_limited, "the flood was told it is rate limited");
    let (code, reason) = close.expect("the flooding client is closed with a close frame");
    assert_eq!(code, 1008);
    assert!(reason.contains("rate limited"), "{reason}");
    assert!(watcher.recv_binary(SECS).is_some(), "the other client keeps streaming");
}

#[test]
fn a_frame_over_one_mib_gets_close_code_1009() {
    let host = host(&[]);
    let mut ws = Ws::connect(port_of(&host), "");
    let _ = ws.try_send_text(&"x".repeat(2 << 20));
    let (code, _) = ws.recv_close(SECS).expect("a close frame");
    assert_eq!(code, 1009);
    let mut other = Ws::connect(port_of(&host), "");
    assert!(other.hello(&[])["payload"]["client_id"].is_u64(), "the host still serves");
}

fn port_of(host: &Host) -> u16 {
    host.port
}

/// A stage of `depth` nested prims: openusd's parse time grows about with the cube of nesting.
fn nested_stage(depth: usize) -> String {
    let mut text = String::from("#usda 1.0\n");
    for i in 0..depth {
        text.push_str(&format!("def Xform \"p{i}\" {{\n"));
    }
    text.push_str(&"}\n".repeat(depth));
    text
}

fn stage_host(extra: &[&str]) -> (Host, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let sample = ovhost_test_support::workspace_root().join("examples/stages/sample_yup.usda");
    std::fs::copy(&sample, root.path().join("good.usda")).unwrap();
    std::fs::write(root.path().join("slow.usda"), nested_stage(2000)).unwrap();
    let mut args = vec!["--renderer", "testpattern", "--asset-root", root.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS));
    (host, root)
}

fn open_result(ws: &mut Ws, url: &str, timeout: Duration) -> serde_json::Value {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Some(message) =
            ws.recv_type("openStageResult", deadline.saturating_duration_since(std::time::Instant::now()))
            && message["payload"]["url"] == url
        {
            return message;
        }
    }
    panic!("no openStageResult for {url} within {timeout:?}");
}

#[test]
fn an_open_over_the_timeout_is_stopped_with_parser_timeout_and_the_next_open_works() {
    let (host, _root) = stage_host(&["--stage-open-timeout-s", "2"]);
    let mut ws = host.ws();
    ws.hello(&[]);
    let started = std::time::Instant::now();
    ws.send("openStageRequest", serde_json::json!({ "url": "slow.usda" }));
    let result = open_result(&mut ws, "slow.usda", Duration::from_secs(30));
    let took = started.elapsed();
    assert_eq!(result["payload"]["result"], "error", "{result}");
    let error = result["payload"]["error"].as_str().unwrap().to_string();
    assert!(error.contains("did not answer within 2000 ms"), "{error}");
    let viewer_error = ws.recv_type("viewerError", SECS).unwrap();
    assert_eq!(viewer_error["payload"]["code"], "parser_timeout", "{viewer_error}");
    eprintln!("BENCH stage open timeout 2 s: the failed open answered after {} ms", took.as_millis());
    ws.send("openStageRequest", serde_json::json!({ "url": "good.usda" }));
    let result = open_result(&mut ws, "good.usda", Duration::from_secs(30));
    assert_eq!(result["payload"]["result"], "success", "{result}");
}

#[test]
fn a_newer_open_cancels_the_one_in_progress_and_the_first_requester_is_answered() {
    let (host, _root) = stage_host(&["--stage-open-timeout-s", "120"]);
    let mut ws = host.ws();
    ws.hello(&[]);
    ws.send("openStageRequest", serde_json::json!({ "url": "slow.usda" }));
    assert!(ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["loading"]["url"] == "slow.usda"));
    std::thread::sleep(Duration::from_millis(500));
    let started = std::time::Instant::now();
    ws.send("openStageRequest", serde_json::json!({ "url": "good.usda" }));
    let superseded = open_result(&mut ws, "slow.usda", SECS);
    assert_eq!(superseded["payload"]["result"], "error");
    assert!(superseded["payload"]["error"].as_str().unwrap().contains("newer request"), "{superseded}");
    let result = open_result(&mut ws, "good.usda", Duration::from_secs(60));
    assert_eq!(result["payload"]["result"], "success", "{result}");
    eprintln!("BENCH cancel: the newer open completed {} ms after it was sent", started.elapsed().as_millis());
    assert!(host.logs().iter().any(|l| l.contains("cancelling the stage load in progress")));
    assert!(ovhost_test_support::wait_until(SECS, || host.get_json("/api/state")["stage"]["url"] == "good.usda"));
}

#[test]
fn dependencies_outside_the_asset_root_are_refused_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let secret = |name: &str| {
        format!(
            "#usda 1.0\n(\n    defaultPrim = \"{name}\"\n)\ndef Xform \"{name}\" {{\n    custom string secret = \"leak\"\n}}\n"
        )
    };
    std::fs::write(outside.join("secret_sub.usda"), secret("SecretSub")).unwrap();
    std::fs::write(outside.join("secret_ref.usda"), secret("SecretRef")).unwrap();
    std::fs::write(outside.join("secret_pay.usda"), secret("SecretPay")).unwrap();
    std::fs::write(outside.join("secret_link.usda"), secret("SecretLink")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret_link.usda"), root.join("link.usda")).unwrap();
    let abs = |name: &str| outside.join(name).to_str().unwrap().to_string();
    let stage = format!(
        "#usda 1.0\n(\n    subLayers = [@{}@]\n)\ndef Xform \"World\" {{\n    def Xform \"Ref\" (\n        references = @../outside/secret_ref.usda@\n    ) {{}}\n    def Xform \"Link\" (\n        references = @link.usda@\n    ) {{}}\n    def Xform \"Pay\" (\n        payload = @{}@\n    ) {{}}\n    def Cube \"Own\" {{}}\n}}\n",
        abs("secret_sub.usda"),
        abs("secret_pay.usda")
    );
    std::fs::write(root.join("inside.usda"), stage).unwrap();
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--asset-root", root.to_str().unwrap()]);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    ws.hello(&[]);
    ws.send("openStageRequest", serde_json::json!({ "url": "inside.usda" }));
    let result = open_result(&mut ws, "inside.usda", Duration::from_secs(30));
    let text = result.to_string();
    for name in ["secret_sub.usda", "secret_ref.usda", "link.usda", "secret_pay.usda"] {
        assert!(text.contains(name), "the response names the refused {name}: {result}");
    }
    assert_eq!(result["payload"]["result"], "success", "the stage opens without them: {result}");
    let mut seen = Vec::new();
    for prim in ["/", "/World", "/World/Ref", "/World/Link", "/World/Pay"] {
        ws.send("getChildrenRequest", serde_json::json!({ "prim_path": prim }));
        let children = ws.recv_type("getChildrenResult", SECS).unwrap();
        seen.push(children.to_string());
    }
    let seen = seen.join("\n");
    assert!(seen.contains("Own"), "the stage's own prims are there: {seen}");
    assert!(!seen.contains("Secret"), "no outside prim appears: {seen}");
    ws.send("getPropertiesRequest", serde_json::json!({ "prim_path": "/World/Ref" }));
    if let Some(properties) = ws.recv_type("getPropertiesResult", SECS) {
        assert!(!properties.to_string().contains("leak"), "{properties}");
    }
}

#[test]
fn long_or_odd_paths_and_names_get_clear_answers_not_errors() {
    let host = host(&[]);
    let port = host.port;
    let long_segment = format!("/{}", "a".repeat(300));
    assert_eq!(http_request(port, "GET", &long_segment, &[], b"").0, 404);
    let long_path = format!("/{}", "a/".repeat(1500));
    assert_eq!(http_request(port, "GET", &long_path, &[], b"").0, 414);
    assert_eq!(http_request(port, "GET", "/x%00y", &[], b"").0, 404);
    assert!(!host.logs().iter().any(|l| l.contains("ERROR")), "no error log per request: {:?}", host.logs());
    // Dialect names are validated, echoed strings cut.
    assert_eq!(Ws::handshake_status(port, "?dialect=..%2F..%2Fx", &[]), 400);
    let mut ws = Ws::connect(port, "");
    ws.send("hello", serde_json::json!({ "dialect": "x".repeat(60_000) }));
    let error = ws.recv_type("viewerError", SECS).unwrap();
    assert!(error.to_string().len() < 1000, "{error}");
    assert!(ws.recv_type("helloResult", SECS).is_some(), "hello is still answered");
    ws.send(&"e".repeat(65_000 - 40), serde_json::json!({}));
    let error = ws.recv_type("viewerError", SECS).unwrap();
    assert_eq!(error["payload"]["code"], "unknown_event_type");
    assert!(error.to_string().len() < 1000, "the event_type is not echoed whole: {} bytes", error.to_string().len());
}

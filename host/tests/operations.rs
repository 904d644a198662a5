//! Operating the host under an orchestrator, against the real binary: HTTPS with a self-signed
//! certificate, `/livez`, `/metrics` (parsed by Prometheus' own Python parser), the SIGTERM drain
//! and `--exit-when-idle-s`.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use ovhost_test_support::{Host, Ws, https_get, plugin_library, wait_until, workspace_root};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);

#[test]
fn self_signed_https_serves_wss_to_a_client_pinning_the_fingerprint() {
    let host =
        Host::start(Path::new(BIN), &["--renderer", "testpattern", "--tls-self-signed", "--tls-name", "viewer.lan"]);
    let fingerprint = host.tls_fingerprint().expect("the host prints the certificate fingerprint");
    assert_eq!(fingerprint.split(':').count(), 32, "SHA-256 as 32 hex pairs: {fingerprint}");
    assert!(host.logs().iter().any(|l| l.contains("serving https://")), "{:?}", host.logs());

    assert!(wait_until(Duration::from_secs(10), || https_get(host.port, "/healthz", &fingerprint)
        .is_ok_and(|(status, _)| status == 200)));
    let mut ws = Ws::try_connect_tls(host.port, "", &fingerprint).expect("wss with the pinned certificate");
    let hello = ws.hello(&["jpeg"]);
    assert_eq!(hello["payload"]["host"], "ovhost");
    assert!(ws.recv_binary(SECS).is_some(), "video arrives over wss");

    // Another certificate's fingerprint is refused by the client: the pin is what is checked.
    let wrong = "00:".repeat(31) + "00";
    assert!(Ws::try_connect_tls(host.port, "", &wrong).is_err());
}

#[test]
fn plain_http_to_the_tls_port_fails_with_a_clear_answer() {
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--tls-self-signed"]);
    let mut tcp = TcpStream::connect(("127.0.0.1", host.port)).unwrap();
    tcp.set_read_timeout(Some(SECS)).unwrap();
    write!(tcp, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(response.contains("serves HTTPS only") && response.contains("https://"), "{response}");
    // And a plain ws:// client fails instead of hanging.
    assert!(Ws::try_connect(host.port, "").is_err());
}

#[test]
fn tls_files_that_do_not_exist_fail_start_up_with_exit_code_2() {
    let output = Command::new(BIN)
        .args(["--renderer", "testpattern", "--http-port", "0", "--tls-cert", "/nonexistent/c.pem"])
        .args(["--tls-key", "/nonexistent/k.pem"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tls-cert /nonexistent/c.pem"), "{stderr}");
}

#[test]
fn livez_goes_503_when_a_plugin_blocks_the_render_thread_while_healthz_stays_ready() {
    let stall = plugin_library("stall_renderer");
    // The fixture renders for 1.5 s, then blocks inside `render` (see its crate docs).
    let host = Host::start(
        Path::new(BIN),
        &["--renderer", "stall", "--plugin", stall.to_str().unwrap(), "--liveness-timeout-s", "1"],
    );
    assert!(host.wait_ready(Duration::from_secs(10)));
    let (status, body) = host.get("/livez");
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("alive"), "{body}");
    assert!(
        wait_until(Duration::from_secs(15), || host.get("/livez").0 == 503),
        "/livez never went 503 with the render thread blocked"
    );
    let (_, body) = host.get("/livez");
    assert!(body.contains("render thread stalled"), "{body}");
    // Readiness is about the first frame; HTTP still answers and /healthz keeps its meaning.
    assert_eq!(host.get("/healthz"), (200, "ok".to_string()));
}

#[test]
fn livez_is_200_on_a_healthy_host() {
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern"]);
    assert!(host.wait_ready(SECS));
    for _ in 0..5 {
        assert_eq!(host.get("/livez").0, 200);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The ops venv's Python (prometheus_client, kubernetes-validate), set up by
/// `scripts/ops/setup-venv.sh` (scripts/test runs it).
fn ops_python() -> Option<PathBuf> {
    let venv =
        std::env::var_os("OVHOST_OPS_VENV").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv/ops"));
    let python = venv.join("bin/python");
    python.is_file().then_some(python)
}

/// Parses a Prometheus text document with `prometheus_client`'s parser; samples as
/// `{name, labels, value}` objects.
fn parse_with_prometheus_client(python: &Path, text: &str) -> Vec<Value> {
    let mut child = Command::new(python)
        .arg(workspace_root().join("scripts/ops/parse_metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "prometheus_client refused /metrics: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
}

fn sample(samples: &[Value], name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    samples
        .iter()
        .filter(|s| s["name"] == name)
        .find(|s| label.is_none_or(|(k, v)| s["labels"][k] == v))
        .and_then(|s| s["value"].as_f64())
}

#[test]
fn metrics_parse_with_prometheus_client_and_counters_move_as_frames_flow() {
    let Some(python) = ops_python() else {
        ovhost_test_support::skip("no ops venv (run scripts/ops/setup-venv.sh; scripts/test does)");
        return;
    };
    let host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--width", "320", "--height", "180"]);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    assert!(ws.recv_binary(SECS).is_some());

    let (status, first) = host.get("/metrics");
    assert_eq!(status, 200);
    let before = parse_with_prometheus_client(&python, &first);
    assert_eq!(sample(&before, "ovhost_clients", Some(("role", "owner"))), Some(1.0), "{first}");
    assert_eq!(sample(&before, "ovhost_clients", Some(("role", "spectator"))), Some(0.0), "{first}");
    {
        // A second viewer joins as a spectator (--control first) and is counted under its role.
        let mut second = host.ws();
        second.hello(&["jpeg"]);
        let samples = parse_with_prometheus_client(&python, &host.get("/metrics").1);
        assert_eq!(sample(&samples, "ovhost_clients", Some(("role", "spectator"))), Some(1.0));
        assert_eq!(sample(&samples, "ovhost_clients", Some(("role", "owner"))), Some(1.0));
    }
    for name in [
        "ovhost_frames_rendered_total",
        "ovhost_frames_dropped_total",
        "ovhost_inbound_queue_depth",
        "ovhost_render_heartbeat_age_seconds",
        "process_resident_memory_bytes",
    ] {
        assert!(sample(&before, name, None).is_some(), "{name} missing:\n{first}");
    }
    assert!(sample(&before, "process_resident_memory_bytes", None).unwrap() > 1e6);
    assert_eq!(sample(&before, "ovhost_ready", None), Some(1.0));
    // Histograms come out as real Prometheus histograms (buckets), not summaries.
    assert!(sample(&before, "ovhost_render_seconds_bucket", Some(("le", "+Inf"))).is_some(), "{first}");
    assert!(sample(&before, "ovhost_convert_seconds_count", Some(("target", "jpeg"))).is_some(), "{first}");

    // Keep the client reading so frames keep flowing, then scrape again.
    let frames_at_start = ws.binary_frames;
    assert!(wait_until(Duration::from_secs(10), || {
        ws.recv_binary(Duration::from_millis(100));
        ws.binary_frames >= frames_at_start + 5
    }));
    let after = parse_with_prometheus_client(&python, &host.get("/metrics").1);
    for (name, label) in [
        ("ovhost_frames_rendered_total", None),
        ("ovhost_frames_encoded_total", Some(("format", "jpeg"))),
        ("ovhost_video_bytes_total", Some(("format", "jpeg"))),
        ("ovhost_render_seconds_count", None),
    ] {
        let (b, a) = (sample(&before, name, label).unwrap_or(0.0), sample(&after, name, label).unwrap());
        assert!(a > b, "{name} did not move: {b} -> {a}");
    }
}

#[test]
fn sigterm_tells_both_clients_and_exits_0_within_the_drain_timeout() {
    let mut host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--drain-timeout-s", "5"]);
    assert!(host.wait_ready(SECS));
    let mut a = host.ws();
    let mut b = host.ws();
    a.hello(&[]);
    b.hello(&[]);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(host.child.id() as i32), Signal::SIGTERM).unwrap();
    for ws in [&mut a, &mut b] {
        let notice = ws.recv_type("hostShuttingDown", SECS).expect("hostShuttingDown");
        assert_eq!(notice["payload"]["reason"], "sigterm");
        assert_eq!(notice["payload"]["retryAfterMs"], 2000);
        assert_eq!(ovhost_protocol::ServerMessages::check("hostShuttingDown", &notice["payload"]), Some(Ok(())));
        assert!(ws.wait_closed(SECS), "the host closes the connection after the notice");
    }
    let (_, status) = host.wait_exit(Duration::from_secs(5)).expect("exited within the 5 s drain timeout");
    assert_eq!(status.code(), Some(0), "{:?}", host.logs());
    assert!(host.logs().iter().any(|l| l.contains("drained")), "{:?}", host.logs());
}

#[test]
fn a_draining_host_refuses_new_clients_and_is_not_ready() {
    // A client that never answers the close keeps the drain in its close grace a moment: long
    // enough to see the host refuse a newcomer.
    let mut host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--drain-timeout-s", "5"]);
    assert!(host.wait_ready(SECS));
    let mut silent = host.ws();
    // Its hello answered: the host has registered the client before the drain starts.
    silent.hello(&[]);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(host.child.id() as i32), Signal::SIGTERM).unwrap();
    let port = host.port;
    let refused = wait_until(SECS, || {
        matches!(
            Ws::try_connect(port, ""),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) if response.status() == 503
        ) && ovhost_test_support::http_get(port, "/healthz") == (503, "shutting down".to_string())
    });
    assert!(refused, "no 503 for a newcomer while draining: {:?}", host.logs());
    let (_, status) = host.wait_exit(SECS).unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn exit_when_idle_exits_after_the_last_client_leaves() {
    let mut host = Host::start(Path::new(BIN), &["--renderer", "testpattern", "--exit-when-idle-s", "2"]);
    assert!(host.wait_ready(SECS));
    let mut ws = host.ws();
    ws.hello(&[]);
    // With a client connected the host stays up past the idle limit.
    std::thread::sleep(Duration::from_secs(3));
    assert!(host.child.try_wait().unwrap().is_none(), "exited with a client connected: {:?}", host.logs());
    drop(ws);
    let (took, status) = host.wait_exit(Duration::from_secs(10)).expect("exits once idle");
    assert_eq!(status.code(), Some(0));
    assert!(took >= Duration::from_millis(1500), "exited {took:?} after the client left, before the idle limit");
    assert!(host.logs().iter().any(|l| l.contains("--exit-when-idle-s")), "{:?}", host.logs());
}

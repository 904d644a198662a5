//! Core hardening (issue 15), against the real binary over real sockets: who may connect (Host,
//! Origin, access token), ...

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

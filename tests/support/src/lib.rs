//! Test support for ovhost: runs the real `ovhost` binary on a free port, speaks HTTP and `/ws`
//! to it over real sockets, and replays message-handler examples. Nothing here is mocked.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::{Message, WebSocket};

pub mod replay;
pub use replay::replay_examples;

/// The workspace root: `OVHOST_ROOT` when set, else two levels above this crate as built, else the
/// current directory (a binary built here and run on another machine from the repo root).
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("OVHOST_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| std::env::current_dir().unwrap())
}

/// Where cargo puts build outputs for this profile.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join(if cfg!(debug_assertions) { "debug" } else { "release" })
}

/// The path of a built plugin library `libovhost_plugin_<name>.so`, panicking with the command to
/// build it if it is missing.
pub fn plugin_library(name: &str) -> PathBuf {
    let file = format!("libovhost_plugin_{name}.so");
    let candidates = [target_dir().join(&file), workspace_root().join("target/fixtures/debug").join(&file)];
    candidates.iter().find(|p| p.is_file()).cloned().unwrap_or_else(|| {
        panic!("{file} is not built; run scripts/build-plugins (scripts/test does) — looked in {:?}", candidates)
    })
}

/// Reports that the calling test cannot run here: prints `skipped: <reason>` and, when
/// `OVHOST_SKIP_LOG` names a file (scripts/test sets it), appends a line there, so the tally counts
/// the test as skipped rather than passed. The caller returns right after.
pub fn skip(reason: &str) {
    eprintln!("skipped: {reason}");
    if let Some(path) = std::env::var_os("OVHOST_SKIP_LOG") {
        use std::io::Write as _;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}

/// A running `ovhost` process. Killed on drop.
pub struct Host {
    pub child: Child,
    pub port: u16,
    logs: Arc<Mutex<Vec<String>>>,
    /// The `--access-token` it was started with: [`Host::get`] sends it.
    token: Option<String>,
}

/// The renderer for host tests that pick and draw the sample stage: `$OVHOST_TEST_RENDERER`, else
/// `raster` when the host links it (`linked`: `ovhost::builtins::RENDERERS`), else `testpattern`
/// (both implement picking).
pub fn sample_renderer(linked: &[&str]) -> String {
    std::env::var("OVHOST_TEST_RENDERER")
        .unwrap_or_else(|_| if linked.contains(&"raster") { "raster" } else { "testpattern" }.to_string())
}

impl Host {
    /// Starts `binary` on the bundled sample stage (`examples/stages/sample_yup.usda`) with
    /// `renderer` and `extra` arguments, and waits until it is ready and the stage has loaded.
    pub fn sample(binary: &Path, renderer: &str, extra: &[&str]) -> Host {
        let mut args = vec!["--asset-root", "examples/stages", "--stage", "sample_yup.usda", "--renderer", renderer];
        args.extend_from_slice(extra);
        let host = Host::start(binary, &args);
        assert!(host.wait_ready(Duration::from_secs(20)), "host not ready: {:?}", host.logs());
        assert!(host.wait_stage_loaded(Duration::from_secs(20)), "the sample stage did not load: {:?}", host.logs());
        host
    }

    /// Starts `binary` with `args` plus `--http-port 0`, and waits until it serves HTTP.
    pub fn start(binary: &Path, args: &[&str]) -> Host {
        Self::try_start(binary, args)
            .unwrap_or_else(|(logs, why)| panic!("host did not start: {why}\n{}", logs.join("\n")))
    }

    /// Like `start`, with extra environment variables for the host process (fixture knobs).
    pub fn start_with_env(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Host {
        Self::try_start_with_env(binary, args, env)
            .unwrap_or_else(|(logs, why)| panic!("host did not start: {why}\n{}", logs.join("\n")))
    }

    /// Like `start`, but returns the logs instead of panicking when the host exits or never serves.
    pub fn try_start(binary: &Path, args: &[&str]) -> Result<Host, (Vec<String>, String)> {
        Self::try_start_with_env(binary, args, &[])
    }

    fn try_start_with_env(binary: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Host, (Vec<String>, String)> {
        let mut child = Command::new(binary)
            .args(args)
            .envs(env.iter().copied())
            .args(["--http-port", "0"])
            .current_dir(workspace_root())
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(strip_ansi(&line));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let port = logs.lock().unwrap().iter().find_map(|l| parse_port(l));
            if let Some(port) = port {
                let token = args.windows(2).find(|w| w[0] == "--access-token").map(|w| w[1].to_string());
                return Ok(Host { child, port, logs, token });
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return Err((logs.lock().unwrap().clone(), format!("exited with {status}")));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err((logs.lock().unwrap().clone(), "did not serve HTTP within 30 s".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(line) = self.logs().into_iter().find(|l| l.contains(needle)) {
                return Some(line);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The self-signed certificate fingerprint the host printed at start.
    pub fn tls_fingerprint(&self) -> Option<String> {
        let line = self.wait_for_log("certificate SHA-256 fingerprint: ", Duration::from_secs(5))?;
        Some(line.rsplit("fingerprint: ").next()?.trim().to_string())
    }

    /// Waits for the process to exit on its own; its status and how long the wait took.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<(Duration, std::process::ExitStatus)> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some((started.elapsed(), status));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// GET with the host's access token, when it has one.
    pub fn get(&self, path: &str) -> (u16, String) {
        match &self.token {
            Some(token) => {
                let bearer = format!("Bearer {token}");
                let (status, _, body) = http_request(self.port, "GET", path, &[("Authorization", &bearer)], b"");
                (status, body)
            }
            None => http_get(self.port, path),
        }
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Polls `/healthz` until it answers 200.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        wait_until(timeout, || self.get("/healthz").0 == 200)
    }

    /// Polls `/api/state` until a stage is loaded and no load is in progress.
    pub fn wait_stage_loaded(&self, timeout: Duration) -> bool {
        wait_until(timeout, || {
            let state = self.get_json("/api/state");
            !state["stage"].is_null() && state["state"] != "loading"
        })
    }

    pub fn ws(&self) -> Ws {
        Ws::connect(self.port, "")
    }

    /// Sends a signal and waits for exit; returns the time it took and the exit status.
    pub fn signal_and_wait(
        &mut self,
        signal: nix::sys::signal::Signal,
        timeout: Duration,
    ) -> Option<(Duration, std::process::ExitStatus)> {
        let started = Instant::now();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some((started.elapsed(), status));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_port(line: &str) -> Option<u16> {
    let rest = line.split("serving http://").nth(1).or_else(|| line.split("serving https://").nth(1))?;
    let addr = rest.split_whitespace().next()?;
    addr.rsplit(':').next()?.parse().ok()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A minimal HTTP/1.1 GET over a real socket: (status, body).
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return (0, String::new());
    }
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    let body = if response.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    (status, body)
}

/// One HTTP/1.1 request over a real socket with the given headers (`Host: 127.0.0.1:<port>` unless
/// one is given): (status, lower-cased head, body). A connection the host closes without an
/// answer gives status 0.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new(), String::new()) };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("connection")) {
        head.push_str("Connection: close\r\n");
    }
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return (0, String::new(), String::new());
    }
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    (status, head.to_ascii_lowercase(), body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// A TLS connection to `localhost:port` that trusts exactly one certificate, by SHA-256
/// fingerprint (certificate pinning, as a user does who checked the fingerprint the host printed).
/// Returns the stream and a handle on its socket for timeouts.
pub fn tls_stream(port: u16, fingerprint: &str) -> std::io::Result<(Box<dyn Stream>, TcpStream)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        Arc::new(PinnedCertificate { fingerprint: normalize_fingerprint(fingerprint), provider: provider.clone() });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    let connection = rustls::ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    let timeouts = tcp.try_clone()?;
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    // Complete the handshake now so a refused certificate is an error here.
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok((Box::new(stream), timeouts))
}

/// A minimal HTTPS GET with a pinned certificate: (status, body).
pub fn https_get(port: u16, path: &str, fingerprint: &str) -> std::io::Result<(u16, String)> {
    let (mut stream, _) = tls_stream(port, fingerprint)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = Vec::new();
    // A peer that closes without close_notify is an error to rustls; the bytes read still count.
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

fn normalize_fingerprint(fingerprint: &str) -> String {
    fingerprint.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_ascii_uppercase()
}

#[derive(Debug)]
struct PinnedCertificate {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        let seen: String = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        if seen == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "certificate fingerprint {seen} is not the pinned {}",
                self.fingerprint
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A byte stream a `/ws` client runs over: TCP, or TLS over TCP.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// A `/ws` client over a real socket.
pub struct Ws {
    socket: WebSocket<Box<dyn Stream>>,
    pub binary_frames: usize,
    /// A handle on the TCP socket for read timeouts (plain connections).
    tcp: Option<TcpStream>,
}

fn handshake_error<S: Read + Write>(
    e: tungstenite::HandshakeError<tungstenite::ClientHandshake<S>>,
) -> tungstenite::Error {
    match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => {
            tungstenite::Error::Io(std::io::Error::new(std::io::ErrorKind::WouldBlock, "handshake interrupted"))
        }
    }
}

/// A socket read that ended because its read timeout passed (no data yet), not because the
/// connection failed.
fn read_timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

impl Ws {
    pub fn connect(port: u16, query: &str) -> Ws {
        Self::try_connect(port, query).unwrap()
    }

    pub fn try_connect(port: u16, query: &str) -> Result<Ws, tungstenite::Error> {
        Self::try_connect_with(port, query, &[])
    }

    /// `ws://127.0.0.1:{port}/ws{query}` with extra handshake headers (`Origin`, `Host`, ...).
    pub fn try_connect_with(port: u16, query: &str, headers: &[(&str, &str)]) -> Result<Ws, tungstenite::Error> {
        use tungstenite::client::IntoClientRequest;
        let tcp = TcpStream::connect(("127.0.0.1", port))?;
        // As a browser's WebSocket does: small messages (input events) go out at once. With
        // Nagle's algorithm on, each waited for the host's delayed ACK (up to 40 ms), so input
        // sent every 16 ms reached the host in bursts.
        tcp.set_nodelay(true)?;
        let timeouts = tcp.try_clone()?;
        let stream: Box<dyn Stream> = Box::new(tcp);
        let mut request = format!("ws://127.0.0.1:{port}/ws{query}").into_client_request()?;
        for (k, v) in headers {
            let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("header name");
            request.headers_mut().insert(name, v.parse().expect("header value"));
        }
        let (socket, _) = tungstenite::client(request, stream).map_err(handshake_error)?;
        timeouts.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Ws { socket, binary_frames: 0, tcp: Some(timeouts) })
    }

    /// The status a `/ws` handshake with these headers gets: 101 when upgraded, the refusal's
    /// status otherwise (0: no HTTP answer).
    pub fn handshake_status(port: u16, query: &str, headers: &[(&str, &str)]) -> u16 {
        match Self::try_connect_with(port, query, headers) {
            Ok(_) => 101,
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// `wss://localhost:{port}/ws{query}`, trusting only the certificate whose SHA-256 fingerprint
    /// (`AB:CD:…`, case and separators ignored) is `fingerprint`.
    pub fn try_connect_tls(port: u16, query: &str, fingerprint: &str) -> Result<Ws, tungstenite::Error> {
        let (stream, timeouts) = tls_stream(port, fingerprint)?;
        let (socket, _) =
            tungstenite::client(format!("wss://localhost:{port}/ws{query}"), stream).map_err(handshake_error)?;
        timeouts.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(Ws { socket, binary_frames: 0, tcp: None })
    }

    /// How long one socket read may block (200 ms by default): a client that must also keep a
    /// send schedule (the soak) sets it short. Plain connections only.
    /// Shrinks the socket's receive buffer (`SO_RCVBUF`), so a client that stops reading
    /// pushes back on the host within a few frames instead of megabytes (plain connections).
    pub fn set_recv_buffer(&self, bytes: usize) {
        if let Some(tcp) = &self.tcp {
            nix::sys::socket::setsockopt(tcp, nix::sys::socket::sockopt::RcvBuf, &bytes).expect("SO_RCVBUF");
        }
    }

    pub fn set_read_timeout(&self, timeout: Duration) {
        if let Some(tcp) = &self.tcp {
            let _ = tcp.set_read_timeout(Some(timeout));
        }
    }

    pub fn send_text(&mut self, text: &str) {
        self.socket.send(Message::Text(text.into())).unwrap();
    }

    /// Sends without panicking (a closed connection gives `Err`).
    pub fn try_send_text(&mut self, text: &str) -> Result<(), tungstenite::Error> {
        self.socket.send(Message::Text(text.into()))
    }

    /// Reads (skipping everything else) until the host's close frame: its code and reason.
    /// `None` when the connection ended without one or `timeout` passed.
    pub fn recv_close(&mut self, timeout: Duration) -> Option<(u16, String)> {
        self.recv_until_close(timeout).1
    }

    /// The JSON text messages received until the host's close frame, and the frame's code and
    /// reason (`None`: the connection ended without one, or `timeout` passed).
    pub fn recv_until_close(&mut self, timeout: Duration) -> (Vec<Value>, Option<(u16, String)>) {
        let deadline = Instant::now() + timeout;
        let mut texts = Vec::new();
        while Instant::now() < deadline {
            match self.socket.read() {
                Ok(Message::Close(frame)) => {
                    let close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    return (texts, close.or(Some((1005, String::new()))));
                }
                Ok(Message::Text(text)) => {
                    if let Ok(value) = serde_json::from_str(text.as_str()) {
                        texts.push(value);
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if read_timed_out(&e) => {}
                Err(_) => return (texts, None),
            }
        }
        (texts, None)
    }

    pub fn send(&mut self, event_type: &str, payload: Value) {
        self.send_text(&serde_json::json!({ "event_type": event_type, "payload": payload }).to_string());
    }

    /// Next JSON text message within `timeout` (binary video frames are counted and skipped).
    pub fn recv(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.socket.read() {
                Ok(Message::Text(text)) => return Some(serde_json::from_str(text.as_str()).unwrap()),
                Ok(Message::Binary(_)) => self.binary_frames += 1,
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if read_timed_out(&e) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Next message whose `event_type` is `event_type`, skipping others.
    pub fn recv_type(&mut self, event_type: &str, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let message = self.recv(deadline.saturating_duration_since(Instant::now()))?;
            if message["event_type"] == event_type {
                return Some(message);
            }
        }
        None
    }

    /// Next binary message (a video frame) within `timeout`.
    pub fn recv_binary(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.socket.read() {
                Ok(Message::Binary(bytes)) => {
                    self.binary_frames += 1;
                    return Some(bytes.to_vec());
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if read_timed_out(&e) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Reads until the host closes the connection (or `timeout`); true when it closed.
    pub fn wait_closed(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.socket.read() {
                Ok(Message::Close(_)) => {}
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if read_timed_out(&e) => {}
                Err(_) => return true,
            }
        }
        false
    }

    /// Leaves as a browser tab does (a close frame) and waits until the host has ended the
    /// connection (the TCP stream's end, not just the close frame): by then the host has queued
    /// this client's departure ahead of anything a later connection sends, so under
    /// `--control first` the next client to connect is the owner. Plain connections only.
    pub fn leave(mut self) {
        let _ = self.socket.close(None);
        let deadline = Instant::now() + Duration::from_secs(5);
        let _ = self.wait_closed(Duration::from_secs(5));
        let Some(mut tcp) = self.tcp.take() else { return };
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match std::io::Read::read(&mut tcp, &mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if read_timed_out(&e) => {}
                Err(_) => return,
            }
        }
        panic!("the host did not end the connection within 5 s of the client's close frame");
    }

    /// Sends `hello` and returns `helloResult`.
    pub fn hello(&mut self, codecs: &[&str]) -> Value {
        self.send("hello", serde_json::json!({ "client": "ovhost-test-support", "video": { "codecs": codecs } }));
        self.recv_type("helloResult", Duration::from_secs(5)).expect("no helloResult")
    }
}

/// True when every key in `expected` is present in `actual` with an equal value (objects compare
/// recursively; arrays and scalars compare exactly). The rule handler examples use.
///
/// Where a value depends on the machine (a frame rate, a renderer's AOV list), the example names
/// its type instead: `"<number>"`, `"<integer>"`, `"<string>"`, `"<bool>"`, `"<object>"`,
/// `"<array>"`, `"<number[]>"` or `"<string[]>"` match any value of that JSON type (and only
/// that: a placeholder is a shape, not a wildcard).
pub fn json_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| json_subset(v, av))),
        (Value::String(placeholder), _) if placeholder.starts_with('<') && placeholder.ends_with('>') => {
            match placeholder.as_str() {
                "<number>" => actual.is_number(),
                "<integer>" => actual.is_u64() || actual.is_i64(),
                "<string>" => actual.is_string(),
                "<bool>" => actual.is_boolean(),
                "<object>" => actual.is_object(),
                "<array>" => actual.is_array(),
                "<number[]>" => actual.as_array().is_some_and(|a| a.iter().all(Value::is_number)),
                "<string[]>" => actual.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                _ => expected == actual,
            }
        }
        _ => expected == actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_matching() {
        assert!(json_subset(&json!({"a": {"b": 1}}), &json!({"a": {"b": 1, "c": 2}, "d": 3})));
        assert!(!json_subset(&json!({"a": [1]}), &json!({"a": [1, 2]})));
        assert!(!json_subset(&json!({"a": 1}), &json!({"b": 1})));
        assert!(json_subset(&json!({"fps": "<number>", "v": "<number[]>"}), &json!({"fps": 29.5, "v": [1, 2.5]})));
        assert!(!json_subset(&json!({"fps": "<number>"}), &json!({"fps": "fast"})), "a placeholder is a type");
        assert!(!json_subset(&json!({"n": "<integer>"}), &json!({"n": 1.5})));
        assert!(!json_subset(&json!({"s": "<string[]>"}), &json!({"s": ["a", 1]})));
        assert!(json_subset(&json!({"s": "<b>"}), &json!({"s": "<b>"})), "other <...> strings compare exactly");
    }

    #[test]
    fn parses_served_port() {
        assert_eq!(parse_port("2026 INFO ovhost::http: serving http://127.0.0.1:43125"), Some(43125));
        assert_eq!(parse_port("2026 INFO ovhost::http: serving https://127.0.0.1:443 (/ws is wss)"), Some(443));
        assert_eq!(normalize_fingerprint("ab:0C"), "AB0C");
        assert_eq!(strip_ansi("\u{1b}[2mhi\u{1b}[0m"), "hi");
    }
}

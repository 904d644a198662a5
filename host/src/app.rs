//! Start-up and shutdown of the whole host: plugins, runtime, transports, HTTP, signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Cli;
use crate::http::tls::{self, TlsSetup, TlsSource};
use crate::http::{self, HttpConfig};
use crate::lifecycle::{Lifecycle, StopReason};
use crate::plugins::Registry;
use crate::runtime::{Runtime, RuntimeConfig};

/// Exit code for bad configuration or plugins that failed under `--strict-plugins`.
pub const EXIT_CONFIG: u8 = 2;

/// Builds the registry: built-ins first, then plugin dirs, then single files.
pub fn load_plugins(cli: &Cli) -> Registry {
    let mut registry = Registry::default();
    registry.add_builtins();
    for dir in &cli.plugin_dirs {
        registry.add_dir(dir);
    }
    for file in &cli.plugins {
        registry.add_file(file);
    }
    registry.log_errors();
    registry
}

/// The requested transports: `web` (always served) and ovstream ones, validated up front.
fn parse_transports(cli: &Cli) -> Result<Vec<ovhost_ovstream::Transport>, String> {
    let mut ovstream = Vec::new();
    for name in &cli.transport {
        match name.trim() {
            "web" | "webrtc" => {}
            other => ovstream.push(other.parse::<ovhost_ovstream::Transport>()?),
        }
    }
    Ok(ovstream)
}

fn ovstream_config(cli: &Cli, transport: ovhost_ovstream::Transport) -> ovhost_ovstream::SinkConfig {
    let mut config = ovhost_ovstream::SinkConfig::new(transport);
    config.width = cli.width;
    config.height = cli.height;
    config.fps = u16::try_from(cli.fps).unwrap_or(u16::MAX);
    config.signaling_port = cli.signaling_port;
    config.public_ip = cli.public_ip.map(|ip| ip.to_string()).unwrap_or_default();
    config.ice_servers = cli
        .ice_servers
        .iter()
        .map(|spec| {
            let mut parts = spec.splitn(3, '|');
            ovhost_ovstream::IceServerConfig {
                urls: parts.next().unwrap_or_default().to_string(),
                username: parts.next().unwrap_or_default().to_string(),
                credential: parts.next().unwrap_or_default().to_string(),
            }
        })
        .collect();
    config.shm_name = cli.shm_name.clone();
    config.video_input = match cli.ovstream_video_input.as_str() {
        "raw-cuda" => ovhost_ovstream::VideoInput::RawCuda,
        "h264" => ovhost_ovstream::VideoInput::H264,
        _ => ovhost_ovstream::VideoInput::Auto,
    };
    config.client_policy = if cli.client_policy == "replace-old" {
        ovhost_ovstream::ClientPolicy::ReplaceOld
    } else {
        ovhost_ovstream::ClientPolicy::RejectNew
    };
    config.wrap_outbound = !cli.unwrapped_outbound;
    config
}

/// Starts the requested ovstream transports. A failure is logged and skipped (the web sink keeps
/// serving) unless `--strict-transports`.
fn start_ovstream(cli: &Cli, transports: &[ovhost_ovstream::Transport], runtime: &mut Runtime) -> Result<(), String> {
    let mut failures = 0;
    for transport in transports {
        match crate::runtime::ovstream_sink::start(ovstream_config(cli, *transport)) {
            Ok(adapter) => runtime.add_sink(Box::new(adapter)),
            Err(e) => {
                failures += 1;
                tracing::error!(%transport, "transport could not start: {e}; {}", if cli.strict_transports { "exiting (--strict-transports)" } else { "continuing with the other transports" });
                if cli.strict_transports {
                    return Err(format!("transport {transport} could not start: {e}"));
                }
            }
        }
    }
    let web_requested = cli.transport.iter().any(|t| t.trim() == "web");
    if failures > 0 && failures == transports.len() && !web_requested {
        return Err(format!(
            "no requested transport could start ({}); add `web` to --transport to serve browsers over /ws anyway",
            cli.transport.join(",")
        ));
    }
    if failures > 0 {
        tracing::warn!(failures, "some transports are not running; the built-in web transport still serves /ws");
    }
    Ok(())
}

fn tls_source(cli: &Cli) -> Option<TlsSource> {
    match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => Some(TlsSource::Files { cert: cert.clone(), key: key.clone() }),
        _ if cli.tls_self_signed => {
            Some(TlsSource::SelfSigned { names: tls::self_signed_names(cli.bind, cli.public_ip, &cli.tls_names) })
        }
        _ => None,
    }
}

/// The `webrtc` transport's sockets: with `--public-ip`, one socket on `--bind` announced as the
/// public IP; else one on `--bind`, or, when `--bind` is every interface, one on loopback and one
/// on the address of the default route.
fn webrtc_config(cli: &Cli) -> ovhost_webrtc::WebrtcConfig {
    use ovhost_webrtc::Endpoint;
    let addresses = match cli.public_ip {
        Some(public) => {
            if cli.bind.is_loopback() && !public.is_loopback() {
                tracing::warn!(
                    %public, bind = %cli.bind,
                    "--public-ip is announced to WebRTC clients but the UDP port binds {} (loopback): remote peers cannot reach it; add --bind 0.0.0.0",
                    cli.bind
                );
            }
            vec![Endpoint { bind: cli.bind, announce: public }]
        }
        None if cli.bind.is_unspecified() => {
            let mut list = vec![Endpoint::same(std::net::IpAddr::from([127, 0, 0, 1]))];
            if let Some(ip) = default_route_ip() {
                list.push(Endpoint::same(ip));
            }
            list
        }
        None => vec![Endpoint::same(cli.bind)],
    };
    let ice_servers = cli
        .ice_servers
        .iter()
        .map(|spec| {
            let mut parts = spec.splitn(3, '|');
            ovhost_webrtc::IceServer {
                urls: vec![parts.next().unwrap_or_default().to_string()],
                username: parts.next().unwrap_or_default().to_string(),
                credential: parts.next().unwrap_or_default().to_string(),
            }
        })
        .collect();
    ovhost_webrtc::WebrtcConfig { addresses, port: cli.webrtc_udp_port, ice_servers, ..Default::default() }
}

/// The local address of the default route (a UDP "connect" sends nothing).
fn default_route_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// Starts the `webrtc` transport when requested; a failure is fatal only under
/// `--strict-transports` (the other transports keep serving).
fn start_webrtc(cli: &Cli, runtime: &mut Runtime) -> Result<Option<ovhost_webrtc::WebrtcServer>, String> {
    if !cli.transport.iter().any(|t| t.trim() == "webrtc") {
        return Ok(None);
    }
    match crate::runtime::webrtc_sink::start(webrtc_config(cli)) {
        Ok(server) => {
            runtime.add_sink(Box::new(crate::runtime::webrtc_sink::WebrtcAdapter::new(server.clone())));
            Ok(Some(server))
        }
        Err(e) if cli.strict_transports => Err(format!("transport webrtc could not start: {e}")),
        Err(e) => {
            tracing::error!("transport webrtc could not start: {e}; continuing with the other transports");
            Ok(None)
        }
    }
}

/// `--asset-root`, or the bundled stages folder; `None` (no stage service, said in the log) when
/// there is neither.
fn asset_root(cli: &Cli) -> Option<PathBuf> {
    if let Some(root) = &cli.asset_root {
        return Some(root.clone());
    }
    let beside_exe = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|d| d.join("stages")));
    let found = [Some(PathBuf::from("examples/stages")), Some(PathBuf::from("/opt/ovhost/stages")), beside_exe]
        .into_iter()
        .flatten()
        .find(|d| d.is_dir());
    match &found {
        Some(dir) => {
            tracing::info!(asset_root = %dir.display(), "no --asset-root given; using the bundled stages folder")
        }
        None => tracing::warn!("no --asset-root given and no bundled stages folder found; stages cannot be opened"),
    }
    found
}

fn frontend_dir(cli: &Cli) -> Option<PathBuf> {
    cli.frontend_dir.clone().or_else(|| Some(PathBuf::from("frontend/dist")))
}

/// Runs the host until SIGINT/SIGTERM or the idle timer; exit codes in [`crate::lifecycle`].
pub fn run(cli: Cli) -> ExitCode {
    let registry = load_plugins(&cli);
    if cli.strict_plugins && !registry.errors.is_empty() {
        eprintln!("ovhost: {} plugin(s) failed to load (--strict-plugins):", registry.errors.len());
        for error in &registry.errors {
            eprintln!("  - [{:?}] {}", error.kind, error.message);
        }
        return ExitCode::from(EXIT_CONFIG);
    }
    let ovstream_transports = match parse_transports(&cli) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ovhost: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let tls = match tls_source(&cli).map(|source| TlsSetup::load(&source)).transpose() {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("ovhost: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Some(tls) = &tls {
        if tls.names.is_empty() {
            tracing::info!(fingerprint = %tls.fingerprint, "TLS certificate loaded; SHA-256 fingerprint {}", tls.fingerprint);
        } else {
            tracing::info!(names = ?tls.names, "self-signed TLS certificate generated; SHA-256 fingerprint {}", tls.fingerprint);
            eprintln!("ovhost: self-signed certificate SHA-256 fingerprint: {}", tls.fingerprint);
        }
    }
    let config = RuntimeConfig {
        width: cli.width,
        height: cli.height,
        fps: cli.fps,
        renderer: cli.renderer.clone(),
        camera: cli.camera.clone(),
        settings_path: cli.settings.clone(),
        strict: cli.strict_plugins,
        asset_root: asset_root(&cli),
        initial_stage: cli.stage.clone(),
        default_dialect: cli.dialect.clone(),
        viewers: crate::runtime::viewers::ViewerConfig {
            control: cli.control,
            control_token: cli.control_token.clone(),
            max_width: cli.max_width,
            max_height: cli.max_height,
            max_pixels: cli.max_pixels.unwrap_or(u64::from(cli.max_width) * u64::from(cli.max_height)),
        },
        capture: crate::runtime::capture::CaptureConfig {
            recordings_dir: cli.recordings_dir.clone(),
            max_seconds: cli.recording_max_s,
            max_bytes: cli.recording_max_mb.saturating_mul(1024 * 1024),
        },
        camera_policy: crate::runtime::CameraPolicy::parse(&cli.camera_policy),
        timeline_autoplay: cli.timeline_autoplay,
        stage_limits: crate::runtime::stage::StageLimits {
            open_timeout: Duration::from_secs_f64(cli.stage_open_timeout_s),
            memory_bytes: (cli.stage_memory_limit_mb > 0).then_some(cli.stage_memory_limit_mb << 20),
        },
        video: crate::runtime::video_options::VideoOptions {
            fps: cli.fps,
            bitrate_kbps: cli.video_bitrate_kbps,
            keyframe_interval_s: cli.keyframe_interval_s,
            quality: cli.video_quality,
        },
        continuous_frames: cli.continuous_frames,
    };
    let registry = Arc::new(registry);
    let mut runtime = match Runtime::build(&config, registry.clone()) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ovhost: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Err(e) = start_ovstream(&cli, &ovstream_transports, &mut runtime) {
        eprintln!("ovhost: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let webrtc = match start_webrtc(&cli, &mut runtime) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("ovhost: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let (handle, render_thread) = match runtime.start() {
        Ok(started) => started,
        Err(e) => {
            eprintln!("ovhost: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let lifecycle = Arc::new(Lifecycle::new(
        Duration::from_secs_f64(cli.liveness_timeout_s),
        Duration::from_secs_f64(cli.drain_timeout_s),
        cli.exit_when_idle_s.map(Duration::from_secs_f64),
        Duration::from_millis(cli.retry_after_ms),
    ));
    let metrics = match crate::metrics::install() {
        Ok(metrics) => Some(metrics),
        Err(e) => {
            tracing::warn!("/metrics is disabled: {e}");
            None
        }
    };
    let http_config = HttpConfig {
        bind: SocketAddr::new(cli.bind, cli.http_port),
        frontend_dir: frontend_dir(&cli),
        access_token: cli.access_token.clone(),
        allowed_origins: cli.allowed_origins.clone(),
        allowed_hosts: cli.allowed_hosts.clone(),
        max_clients: cli.max_clients as usize,
        max_connections: cli.max_connections as usize,
        header_read_timeout: Duration::from_secs_f64(cli.header_read_timeout_s),
        tls,
        lifecycle: lifecycle.clone(),
        metrics,
        webrtc: webrtc.clone(),
    };
    let tokio = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ovhost: cannot start the I/O runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let agones = cli.agones.then(|| {
        let _entered = tokio.enter();
        crate::agones::AgonesSession::start(handle.clone(), lifecycle.clone())
    });
    let stop = {
        let (lifecycle, handle) = (lifecycle.clone(), handle.clone());
        async move {
            let reason = lifecycle.wait_for_stop(&handle).await;
            let deadline = Instant::now() + lifecycle.drain_timeout;
            crate::lifecycle::exit_at(deadline);
            lifecycle.drain(&handle, reason, deadline).await;
            // The session is over: Agones deletes the GameServer. (On SIGTERM Agones is already
            // deleting it.)
            if let (Some(agones), StopReason::Idle) = (&agones, reason) {
                agones.shutdown().await;
            }
        }
    };
    let served = tokio.block_on(http::serve(handle.clone(), http_config, stop));
    handle.shutdown();
    if let Some(server) = &webrtc {
        server.shutdown();
    }
    let code = match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ovhost: {e}");
            ExitCode::FAILURE
        }
    };
    if join_with_timeout(render_thread, Duration::from_millis(1500)) {
        // Every plugin object lived on the render thread and is dropped now.
        registry.shut_down();
    }
    tokio.shutdown_timeout(Duration::from_millis(300));
    tracing::info!("ovhost stopped");
    code
}

/// Joins the render thread if it ends within `timeout`; true when it did.
fn join_with_timeout(thread: std::thread::JoinHandle<()>, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while !thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if thread.is_finished() {
        let _ = thread.join();
        true
    } else {
        tracing::warn!("render thread did not stop within {timeout:?}; exiting anyway");
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn webrtc_endpoints_follow_public_ip_and_bind() {
        let cli = Cli::parse_from(["ovhost", "--transport", "web,webrtc", "--webrtc-udp-port", "0"]);
        let config = webrtc_config(&cli);
        assert_eq!(config.addresses, vec![ovhost_webrtc::Endpoint::same("127.0.0.1".parse().unwrap())]);
        assert_eq!(config.port, 0);
        let cli = Cli::parse_from([
            "ovhost",
            "--bind",
            "0.0.0.0",
            "--public-ip",
            "203.0.113.7",
            "--ice-server",
            "turn:turn.example:3478|user|pass",
        ]);
        let config = webrtc_config(&cli);
        assert_eq!(
            config.addresses,
            vec![ovhost_webrtc::Endpoint {
                bind: "0.0.0.0".parse().unwrap(),
                announce: "203.0.113.7".parse().unwrap()
            }]
        );
        assert_eq!(config.ice_servers[0].urls, vec!["turn:turn.example:3478"]);
        assert_eq!(
            (config.ice_servers[0].username.as_str(), config.ice_servers[0].credential.as_str()),
            ("user", "pass")
        );
        // Every interface without --public-ip: loopback first (and the default route's address
        // when this machine has one).
        let cli = Cli::parse_from(["ovhost", "--bind", "0.0.0.0"]);
        assert_eq!(webrtc_config(&cli).addresses[0], ovhost_webrtc::Endpoint::same("127.0.0.1".parse().unwrap()));
    }
}

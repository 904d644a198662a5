//! Command-line options (`ovhost --help`).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "ovhost",
    version,
    about = "A host for streamed, interactive USD viewers: renderer, camera, converter and message-handler plugins; \
             video and app messages to browsers over WebSocket or NVIDIA ovstream.",
    after_help = "Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=ovhost=debug) to change the level.\n\
                  Health: GET /healthz (readiness) answers 503 until the first frame is rendered and converted, then 200, \
                  and 503 again while draining; GET /livez (liveness) answers 503 when the render thread stopped \
                  going round its loop for longer than --liveness-timeout-s; GET /metrics is Prometheus text.\n\
                  Exit codes: 0 stopped as asked (SIGTERM/SIGINT after draining, --exit-when-idle-s); 1 runtime \
                  failure; 2 bad configuration or --strict-* failure; 3 the drain overran --drain-timeout-s."
)]
pub struct Cli {
    /// Stream width in pixels.
    #[arg(long, default_value_t = 1280, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub width: u32,

    /// Stream height in pixels.
    #[arg(long, default_value_t = 720, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub height: u32,

    /// Who drives the camera and selection when several viewers are connected: `first` (the first
    /// viewer owns the session and grants control to others), `shared` (everyone drives) or
    /// `token` (only viewers presenting --control-token in `requestControl`). Others watch as
    /// spectators.
    #[arg(long, value_enum, default_value = "first")]
    pub control: crate::runtime::viewers::ControlPolicy,

    /// The token that grants control under `--control token`.
    #[arg(long, env = "OVHOST_CONTROL_TOKEN")]
    pub control_token: Option<String>,

    /// Widest stream a viewer may ask for (`setStreamSize`: its viewport × device pixel ratio).
    #[arg(long, default_value_t = 1920, value_parser = clap::value_parser!(u32).range(16..=3840))]
    pub max_width: u32,

    /// Tallest stream a viewer may ask for.
    #[arg(long, default_value_t = 1080, value_parser = clap::value_parser!(u32).range(16..=3840))]
    pub max_height: u32,

    /// Pixel budget for a requested stream size (default: --max-width × --max-height).
    #[arg(long)]
    pub max_pixels: Option<u64>,

    /// Keep recordings (`startRecording`) in this directory on the host; without it a recording is
    /// written to a temporary directory, offered for download when stopped and removed at exit.
    #[arg(long)]
    pub recordings_dir: Option<PathBuf>,

    /// A recording stops by itself after this many seconds.
    #[arg(long, default_value_t = 600.0, value_parser = positive_seconds)]
    pub recording_max_s: f64,

    /// A recording stops by itself at this size in MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub recording_max_mb: u64,

    /// Target frames per second; the render loop drops frames rather than fall behind.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub fps: u32,

    /// Address the HTTP server binds to. Defaults to loopback only; use 0.0.0.0 to expose the host
    /// on the network (then consider --access-token and --allowed-origin).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// HTTP port for the frontend, /healthz, /api/* and /ws (0 picks a free port).
    #[arg(long, default_value_t = 8080)]
    pub http_port: u16,

    /// WebRTC signaling port for the ovstream-webrtc transport.
    #[arg(long, default_value_t = 49100)]
    pub signaling_port: u16,

    /// Public IP announced to WebRTC clients (webrtc, ovstream-webrtc); use 127.0.0.1 for local
    /// development. For `webrtc` it is the one host candidate (the UDP port binds --bind).
    #[arg(long)]
    pub public_ip: Option<IpAddr>,

    /// UDP port the `webrtc` transport shares between all peers (0 picks a free port).
    #[arg(long, default_value_t = 49200)]
    pub webrtc_udp_port: u16,

    /// Stage to open at start, relative to --asset-root (usda, usdc or usdz).
    #[arg(long)]
    pub stage: Option<String>,

    /// Directory that stage paths are resolved against; nothing outside it is read, neither root
    /// layers nor their sublayers, references, payloads or clips. Default: the bundled stages
    /// folder (`examples/stages` under the working directory, else `/opt/ovhost/stages` in the
    /// image, else `stages` next to the executable).
    #[arg(long)]
    pub asset_root: Option<PathBuf>,

    /// Longest a stage open (or variant recomposition) may take in the stage worker; it is then
    /// stopped and the open fails with `parser_timeout`, keeping the previous stage.
    #[arg(long, default_value_t = 30.0, value_parser = positive_seconds)]
    pub stage_open_timeout_s: f64,

    /// Memory (address space) the stage worker process may use, in MiB; an open that needs more
    /// fails with an error naming this limit, and the next open starts a fresh worker. 0: no limit.
    #[arg(long, default_value_t = 4096)]
    pub stage_memory_limit_mb: u64,

    /// JSON settings file (camera scheme, render settings); kept in memory when not given.
    #[arg(long)]
    pub settings: Option<PathBuf>,

    /// Directory to load plugin libraries (libovhost_plugin_<name>.so) from. Repeatable.
    #[arg(long = "plugin-dir")]
    pub plugin_dirs: Vec<PathBuf>,

    /// A plugin library file to load. Repeatable.
    #[arg(long = "plugin")]
    pub plugins: Vec<PathBuf>,

    /// Renderer id (see /api/plugins): `raster` (wgpu USD renderer) or `testpattern`.
    #[arg(long, default_value = "raster")]
    pub renderer: String,

    /// Camera scheme id at start (`orbit`, `fly`, `kit`, or one from a plugin).
    #[arg(long, default_value = "orbit")]
    pub camera: String,

    /// How a newly opened stage is viewed: `fit` frames what is drawn; `stage-camera` looks
    /// through the stage's authored camera (the first in traversal order), fitting when it has none.
    #[arg(long, default_value = "fit", value_parser = ["fit", "stage-camera"])]
    pub camera_policy: String,

    /// Whether an animated stage starts playing (looping) when it opens.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub timeline_autoplay: bool,

    /// Comma-separated stream transports: web (built-in WebSocket), webrtc (standards WebRTC:
    /// POST /api/webrtc, UDP --webrtc-udp-port), ovstream-webrtc,
    /// ovstream-native, ovstream-rtsp, ovstream-shm, ovstream-cudashm.
    #[arg(long, default_value = "web", value_delimiter = ',')]
    pub transport: Vec<String>,

    /// App-protocol dialect for clients that do not choose one (`hello {dialect}` or `/ws?dialect=`):
    /// `default` (the NVIDIA realtime-viewer messages) or `kit` (Kit USD Viewer messages).
    #[arg(long, default_value = "default")]
    pub dialect: String,

    /// Video encoder bitrate in kbit/s (50 to 200000), given to every converter as
    /// `bitrate_kbps`; the encoder's own default (6000 for H.264) when not given. The settings
    /// value `video` ({"bitrate_kbps", "keyframe_interval_s", "quality"}) overrides it and may be
    /// changed at run time (`settings.set`).
    #[arg(long, value_parser = bitrate_kbps)]
    pub video_bitrate_kbps: Option<u32>,

    /// Seconds between periodic keyframes while frames flow (0: only the first frame and
    /// requested keyframes). Converters get it as `gop_frames` at --fps.
    #[arg(long, default_value_t = 2.0, value_parser = keyframe_interval_s)]
    pub keyframe_interval_s: f64,

    /// Quality 1 to 100 for quality-driven encoders (JPEG's default is 80).
    #[arg(long, value_parser = video_quality)]
    pub video_quality: Option<u8>,

    /// Render and send every frame interval even when nothing changes (the default renders on
    /// demand: one frame per change, one quality refresh, then nothing). For consumers that
    /// expect a constant frame rate, and for transport tests and benchmarks.
    #[arg(long)]
    pub continuous_frames: bool,

    /// Exit with an error if any plugin fails to load (for CI), instead of running without it.
    #[arg(long)]
    pub strict_plugins: bool,

    /// STUN/TURN server for WebRTC clients (webrtc, ovstream-webrtc), as `URL[|USERNAME|CREDENTIAL]`.
    /// Repeatable.
    #[arg(long = "ice-server")]
    pub ice_servers: Vec<String>,

    /// Stream name for ovstream-shm / ovstream-cudashm.
    #[arg(long, default_value = "ovhost")]
    pub shm_name: String,

    /// What ovstream transports are fed: `auto` (raw BGRA where NVENC exists, software H.264 where
    /// it does not), `raw-cuda`, or `h264`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "raw-cuda", "h264"])]
    pub ovstream_video_input: String,

    /// A second client on a WebRTC/native server: `reject-new` keeps the first, `replace-old`
    /// hands the session to the newcomer.
    #[arg(long, default_value = "reject-new", value_parser = ["reject-new", "replace-old"])]
    pub client_policy: String,

    /// Send app messages to ovstream clients as bare envelopes instead of the browser library's
    /// `{messageRecipient, messageType, data}` frame.
    #[arg(long)]
    pub unwrapped_outbound: bool,

    /// Exit with an error if any requested transport fails to start, instead of running without it.
    #[arg(long)]
    pub strict_transports: bool,

    /// Directory of the built frontend to serve at / (default: frontend/dist next to the working directory).
    #[arg(long)]
    pub frontend_dir: Option<PathBuf>,

    /// Require this token on every endpoint but /healthz and /livez (/ws, /api/*, /metrics), as
    /// `?token=` or `Authorization: Bearer`; the viewer page passes its own `?token=` on. The
    /// frontend's static files stay public. Recommended with --bind 0.0.0.0.
    #[arg(long, env = "OVHOST_ACCESS_TOKEN")]
    pub access_token: Option<String>,

    /// A browser origin (`https://viewer.example`) allowed on /ws and /api/* besides the host's own
    /// (same host and port as the request, `localhost` aliases included). Repeatable. Pages from
    /// any other origin are refused (403).
    #[arg(long = "allowed-origin")]
    pub allowed_origins: Vec<String>,

    /// A name the `Host` header may carry besides IP addresses, `localhost`, the machine's host
    /// name, --tls-name values and the hosts of --allowed-origin (e.g. a reverse proxy's or a
    /// Kubernetes Service's DNS name). Repeatable. Other names are refused (403): DNS rebinding.
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,

    /// Most clients connected at once (/ws sockets, WebRTC and ovstream clients); the next /ws
    /// handshake is refused with 503 and a sentence saying the host is full.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_clients: u32,

    /// Most TCP connections open at once (HTTP requests, /ws sockets, idle keep-alives). Beyond it
    /// a new connection is closed as soon as it is accepted, so the connections already open (the
    /// video clients) keep their share; a warning says so (at most every 10 s).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_connections: u32,

    /// Longest a connection may take to send a request's headers (and longest an idle keep-alive
    /// connection waits for the next request); then it is closed. Defeats slowloris clients.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub header_read_timeout_s: f64,

    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key. `/ws` becomes `wss`.
    #[arg(long, requires = "tls_key", conflicts_with = "tls_self_signed")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a certificate generated at start for localhost, this machine's names and
    /// addresses, --public-ip and each --tls-name; its SHA-256 fingerprint is logged so a browser's
    /// warning can be checked against it.
    #[arg(long)]
    pub tls_self_signed: bool,

    /// Extra DNS name or IP address for the --tls-self-signed certificate. Repeatable.
    #[arg(long = "tls-name", requires = "tls_self_signed")]
    pub tls_names: Vec<String>,

    /// /livez answers 503 when the render thread has not gone round its loop for this long.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub liveness_timeout_s: f64,

    /// On SIGTERM, the longest the host takes to tell clients (`hostShuttingDown`), close them and
    /// exit. Set the orchestrator's grace period (terminationGracePeriodSeconds) above it.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub drain_timeout_s: f64,

    /// `retryAfterMs` sent in `hostShuttingDown`: how long clients should wait before reconnecting.
    #[arg(long, default_value_t = 2000)]
    pub retry_after_ms: u64,

    /// Exit (code 0) after this many seconds without clients, counted from start and from the last
    /// client leaving: one-session pods end themselves. Off by default.
    #[arg(long, value_parser = positive_seconds)]
    pub exit_when_idle_s: Option<f64>,

    /// Run as an Agones GameServer: talk to the Agones SDK sidecar (localhost:$AGONES_SDK_GRPC_PORT):
    /// Ready after the first frame, Health from the render-thread heartbeat, open the stage named by
    /// the allocation's `ovhost.dev/stage` annotation, Allocated on the first client, Shutdown on
    /// idle exit (the idle timer starts at allocation).
    #[arg(long)]
    pub agones: bool,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

fn bitrate_kbps(value: &str) -> Result<u32, String> {
    let v: f64 = value.parse().map_err(|e| format!("'{value}' is not a number: {e}"))?;
    crate::runtime::video_options::check_bitrate(v)
}

fn keyframe_interval_s(value: &str) -> Result<f64, String> {
    let v: f64 = value.parse().map_err(|e| format!("'{value}' is not a number of seconds: {e}"))?;
    crate::runtime::video_options::check_keyframe_interval(v)
}

fn video_quality(value: &str) -> Result<u8, String> {
    let v: f64 = value.parse().map_err(|e| format!("'{value}' is not a number: {e}"))?;
    crate::runtime::video_options::check_quality(v)
}

fn positive_seconds(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(s),
        Ok(_) => Err(format!("'{value}' is not a number of seconds between 0 (exclusive) and 86400")),
        Err(e) => Err(format!("'{value}' is not a number of seconds: {e}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_must_be_positive_and_finite() {
        assert_eq!(positive_seconds("2"), Ok(2.0));
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("-1").is_err());
        assert!(positive_seconds("soon").unwrap_err().contains("not a number"));
        assert!(Cli::try_parse_from(["ovhost", "--tls-cert", "c.pem"]).is_err(), "--tls-cert needs --tls-key");
        assert!(Cli::try_parse_from(["ovhost", "--tls-self-signed", "--tls-cert", "c", "--tls-key", "k"]).is_err());
    }

    #[test]
    fn transports_split_on_commas() {
        let cli =
            Cli::parse_from(["ovhost", "--transport", "web,ovstream-shm", "--plugin-dir", "a", "--plugin-dir", "b"]);
        assert_eq!(cli.transport, vec!["web", "ovstream-shm"]);
        assert_eq!(cli.plugin_dirs.len(), 2);
        let cli = Cli::parse_from(["ovhost", "--transport", "web,webrtc", "--webrtc-udp-port", "0"]);
        assert_eq!(cli.transport, vec!["web", "webrtc"]);
        assert_eq!(cli.webrtc_udp_port, 0);
    }
}

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
                  Health: GET /healthz answers 503 until the first frame is rendered and converted, then 200."
)]
pub struct Cli {
    /// Stream width in pixels.
    #[arg(long, default_value_t = 1280, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub width: u32,

    /// Stream height in pixels.
    #[arg(long, default_value_t = 720, value_parser = clap::value_parser!(u32).range(16..=8192))]
    pub height: u32,

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

    /// Directory that stage paths are resolved against; nothing outside it can be opened.
    #[arg(long, default_value = ".")]
    pub asset_root: PathBuf,

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

    /// Comma-separated stream transports: web (built-in WebSocket), webrtc (standards WebRTC:
    /// POST /api/webrtc, UDP --webrtc-udp-port), ovstream-webrtc,
    /// ovstream-native, ovstream-rtsp, ovstream-shm, ovstream-cudashm.
    #[arg(long, default_value = "web", value_delimiter = ',')]
    pub transport: Vec<String>,

    /// App-protocol dialect for clients that do not choose one (`hello {dialect}` or `/ws?dialect=`):
    /// `default` (the NVIDIA realtime-viewer messages) or `kit` (Kit USD Viewer messages).
    #[arg(long, default_value = "default")]
    pub dialect: String,

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

    /// Require this token on /ws (`?token=` or `Authorization: Bearer`). Recommended with --bind 0.0.0.0.
    #[arg(long, env = "OVHOST_ACCESS_TOKEN")]
    pub access_token: Option<String>,

    /// Allowed Origin for /ws connections. Repeatable; when absent any origin is accepted.
    #[arg(long = "allowed-origin")]
    pub allowed_origins: Vec<String>,

    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
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

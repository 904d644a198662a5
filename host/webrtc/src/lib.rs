//! Standards WebRTC for ovhost, on str0m (sans-IO).
//!
//! One [`WebrtcServer`] owns the UDP port that all peers share and one thread (`ovhost-webrtc`)
//! that drives every peer's `Rtc`: it reads datagrams (one receive thread per bound address),
//! demultiplexes them with `Rtc::accepts`, writes H.264 access units to each peer's video track,
//! and reports what peers do ([`PeerEvent`]) to whoever polls [`WebrtcServer::poll_events`]
//! (the host's render thread). Signaling is WHEP-shaped and done by the caller's HTTP server:
//! [`WebrtcServer::offer`] takes an SDP offer and returns the answer and a session id;
//! [`WebrtcServer::close`] ends a session.
//!
//! The host is ICE-lite with host candidates only (the configured addresses on one port); the
//! client is the controlling ICE agent and may use STUN/TURN servers the host tells it about.

mod budget;
mod offer;
mod peer;
mod server;

pub use offer::{SignalError, check_offer};
pub use server::{
    Answer, Endpoint, IceServer, PeerEvent, SessionInfo, VideoFrame, WebrtcConfig, WebrtcError, WebrtcServer,
};

/// The data channel label clients should use (any label is accepted; the first channel opened
/// carries the app protocol).
pub const DATA_CHANNEL_LABEL: &str = "ovhost";

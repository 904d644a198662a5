//! The WebRTC server: UDP sockets, the peer thread, commands in and events out.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use serde::Serialize;
use str0m::bwe::Bitrate;
use str0m::change::SdpOffer;
use str0m::config::DtlsCert;
use str0m::net::{Protocol, Receive};
use str0m::rtp::Extension;
use str0m::{Candidate, Input, Rtc};
use thiserror::Error;

use crate::offer::{SignalError, check_offer};
use crate::peer::{CONNECT_TIMEOUT, DATA_CHANNEL_BUFFER, Peer};

/// A STUN/TURN server handed to clients (never used by the host itself: it is ICE-lite).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub credential: String,
}

/// One UDP socket: the address it binds and the address announced for it as a host candidate
/// (different behind a 1:1 NAT, or when binding every interface with `--public-ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub bind: IpAddr,
    pub announce: IpAddr,
}

impl Endpoint {
    pub fn same(ip: IpAddr) -> Self {
        Self { bind: ip, announce: ip }
    }
}

#[derive(Debug, Clone)]
pub struct WebrtcConfig {
    /// Sockets to bind (all on `port`) and the host candidates announced for them.
    pub addresses: Vec<Endpoint>,
    /// UDP port shared by every peer (0 picks a free one; every address then uses the first
    /// address's port).
    pub port: u16,
    pub ice_servers: Vec<IceServer>,
    pub max_peers: usize,
    /// Starting point of the bandwidth estimate.
    pub initial_bitrate_kbps: u64,
    /// Most the estimator probes for (and the encoder is asked for).
    pub max_bitrate_kbps: u64,
}

impl Default for WebrtcConfig {
    fn default() -> Self {
        Self {
            addresses: vec![Endpoint::same(IpAddr::from([127, 0, 0, 1]))],
            port: 49200,
            ice_servers: Vec::new(),
            max_peers: 16,
            initial_bitrate_kbps: 2500,
            max_bitrate_kbps: 8000,
        }
    }
}

#[derive(Debug, Error)]
pub enum WebrtcError {
    #[error("cannot bind WebRTC UDP port {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("no address to bind the WebRTC UDP port to")]
    NoAddress,
    #[error("cannot start the WebRTC thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot create the DTLS certificate")]
    Certificate,
}

/// One H.264 access unit (Annex B) for every peer.
#[derive(Debug, Clone)]
pub struct VideoFrame {
    pub data: Arc<[u8]>,
    pub keyframe: bool,
    /// Capture time in host microseconds (becomes the RTP timestamp).
    pub timestamp_us: u64,
}

/// What peers did, for the host to act on.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// ICE and DTLS are up; video can flow.
    Connected {
        session: String,
    },
    /// The app data channel is open: the peer can be a hub client now.
    ChannelOpen {
        session: String,
    },
    /// A text message on the data channel.
    Message {
        session: String,
        text: String,
    },
    /// A binary (or non-UTF-8) message on the data channel, which the protocol does not use.
    Binary {
        session: String,
    },
    ChannelClosed {
        session: String,
    },
    /// The peer needs a keyframe (join, PLI, FIR).
    KeyframeRequest {
        session: String,
    },
    /// A bandwidth estimate for this peer: the host's own send-side estimate from TWCC feedback
    /// (`twcc`), or the receiver's REMB report.
    BitrateEstimate {
        session: String,
        bps: u64,
        twcc: bool,
    },
    /// The session ended (DELETE, ICE disconnect, timeout, error).
    Closed {
        session: String,
    },
}

/// Counters for one session (`GET /api/webrtc`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionInfo {
    pub session: String,
    pub connected: bool,
    pub frames_sent: u64,
    pub keyframes_sent: u64,
    pub frames_skipped: u64,
    /// Of `frames_skipped`: frames dropped because they exceeded the send-side estimate.
    pub frames_over_budget: u64,
    /// Keyframe requests: the peer's (PLI, FIR, join) and the budget's own after dropping.
    pub keyframe_requests: u64,
    /// Send-side estimate (TWCC feedback, Google congestion control).
    pub estimate_bps: Option<u64>,
    /// The receiver's own estimate (REMB), for clients without TWCC.
    pub remb_bps: Option<u64>,
    pub nacks: u64,
    pub plis: u64,
    pub firs: u64,
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub loss: Option<f32>,
    pub rtt_ms: Option<f64>,
}

/// An accepted offer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub session: String,
    pub sdp: String,
}

enum Command {
    Add(Box<Peer>),
    Close(String),
    Video(VideoFrame),
    Text { session: String, text: String },
    Shutdown,
}

struct Datagram {
    data: Vec<u8>,
    source: SocketAddr,
    destination: SocketAddr,
}

struct Shared {
    config: WebrtcConfig,
    /// Announced host candidates, one per socket, in socket order.
    local: Vec<SocketAddr>,
    commands: Sender<Command>,
    events: Receiver<PeerEvent>,
    sessions: Mutex<BTreeMap<String, SessionInfo>>,
    cert: DtlsCert,
}

/// Handle to the WebRTC transport; cheap to clone.
#[derive(Clone)]
pub struct WebrtcServer {
    shared: Arc<Shared>,
}

/// Events queued for the host before the oldest are dropped.
const EVENT_QUEUE_LEN: usize = 8192;

impl WebrtcServer {
    /// Binds the UDP port on every configured address and starts the peer thread.
    pub fn start(mut config: WebrtcConfig) -> Result<Self, WebrtcError> {
        if config.addresses.is_empty() {
            return Err(WebrtcError::NoAddress);
        }
        config.addresses.dedup();
        let mut sockets = Vec::new();
        let mut local = Vec::new();
        let mut port = config.port;
        for endpoint in &config.addresses {
            let addr = SocketAddr::new(endpoint.bind, port);
            let socket = UdpSocket::bind(addr).map_err(|source| WebrtcError::Bind { addr, source })?;
            port = socket.local_addr().map_err(|source| WebrtcError::Bind { addr, source })?.port();
            local.push(SocketAddr::new(endpoint.announce, port));
            sockets.push(Arc::new(socket));
        }
        let provider = str0m::crypto::from_feature_flags();
        let cert = provider.dtls_provider.generate_certificate().ok_or(WebrtcError::Certificate)?;
        provider.install_process_default();
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::bounded(EVENT_QUEUE_LEN);
        let (net_tx, net_rx) = crossbeam_channel::bounded::<Datagram>(4096);
        for (socket, announced) in sockets.iter().zip(&local) {
            let socket = Arc::clone(socket);
            let net_tx = net_tx.clone();
            let announced = *announced;
            std::thread::Builder::new()
                .name("ovhost-webrtc-rx".into())
                .spawn(move || receive_loop(&socket, announced, &net_tx))
                .map_err(WebrtcError::Thread)?;
        }
        let shared = Arc::new(Shared {
            config,
            local: local.clone(),
            commands: cmd_tx,
            events: event_rx,
            sessions: Mutex::new(BTreeMap::new()),
            cert,
        });
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ovhost-webrtc".into())
            .spawn(move || {
                let mut worker = Worker { peers: Vec::new(), sockets, events: event_tx, shared: thread_shared };
                worker.run(&cmd_rx, &net_rx);
            })
            .map_err(WebrtcError::Thread)?;
        tracing::info!(addresses = ?local, "WebRTC transport listening (UDP, ICE-lite)");
        Ok(Self { shared })
    }

    /// The announced host candidates (one per bound socket).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.shared.local
    }

    pub fn ice_servers(&self) -> &[IceServer] {
        &self.shared.config.ice_servers
    }

    pub fn max_bitrate_kbps(&self) -> u64 {
        self.shared.config.max_bitrate_kbps
    }

    /// Answers an SDP offer: checks it, creates the peer (ICE-lite, H.264 only, BWE on, one
    /// data channel) and hands it to the peer thread.
    pub fn offer(&self, sdp: &str) -> Result<Answer, SignalError> {
        let video_mids = check_offer(sdp)?;
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| SignalError::Malformed(e.to_string()))?;
        if self.shared.sessions.lock().len() >= self.shared.config.max_peers {
            return Err(SignalError::TooManyPeers(self.shared.config.max_peers));
        }
        let config = &self.shared.config;
        let mut builder = Rtc::builder()
            .set_ice_lite(true)
            .set_dtls_cert(self.shared.cert.clone())
            .clear_codecs()
            .enable_bwe(Some(Bitrate::kbps(config.initial_bitrate_kbps)))
            .set_stats_interval(Some(Duration::from_secs(1)))
            .set_sctp_max_buffered_amount(DATA_CHANNEL_BUFFER)
            .set_extension(6, Extension::PlayoutDelay);
        // Constrained Baseline first, then Baseline (OpenH264's output is decodable as both),
        // packetization-mode 1, each with an RTX payload type for NACK retransmission.
        builder.codec_config().add_h264(108.into(), Some(109.into()), true, 0x42e01f);
        builder.codec_config().add_h264(127.into(), Some(121.into()), true, 0x42001f);
        let mut rtc = builder.build(Instant::now());
        for addr in &self.shared.local {
            match Candidate::host(*addr, "udp") {
                Ok(candidate) => {
                    rtc.add_local_candidate(candidate);
                }
                Err(e) => tracing::warn!(%addr, "not a usable host candidate: {e}"),
            }
        }
        let answer = rtc.sdp_api().accept_offer(offer).map_err(|e| SignalError::Malformed(e.to_string()))?;
        let session = new_session_id();
        let mut peer = Peer::new(session.clone(), rtc, Bitrate::kbps(config.max_bitrate_kbps));
        // The offer's media are local media now; find the video track and its payload type.
        for mid in &video_mids {
            if peer.resolve_video(mid.as_str().into()) {
                break;
            }
        }
        if peer.video.is_none() {
            return Err(SignalError::UnsupportedCodec(
                "no H.264 packetization-mode=1 Baseline payload type could be negotiated for the video m-line".into(),
            ));
        }
        self.shared.sessions.lock().insert(session.clone(), peer.info.clone());
        self.shared.commands.send(Command::Add(Box::new(peer))).map_err(|_| SignalError::Stopped)?;
        tracing::info!(%session, "WebRTC offer answered");
        Ok(Answer { session, sdp: answer.to_sdp_string() })
    }

    /// Ends a session. False if there is no such session.
    pub fn close(&self, session: &str) -> bool {
        if !self.shared.sessions.lock().contains_key(session) {
            return false;
        }
        self.shared.commands.send(Command::Close(session.to_string())).is_ok()
    }

    pub fn has_session(&self, session: &str) -> bool {
        self.shared.sessions.lock().contains_key(session)
    }

    /// Sends one access unit to every connected peer (never blocks).
    pub fn send_video(&self, frame: VideoFrame) {
        let _ = self.shared.commands.send(Command::Video(frame));
    }

    /// Sends a text message on a session's data channel.
    pub fn send_text(&self, session: &str, text: String) {
        let _ = self.shared.commands.send(Command::Text { session: session.to_string(), text });
    }

    /// Everything peers did since the last call.
    pub fn poll_events(&self) -> Vec<PeerEvent> {
        self.shared.events.try_iter().collect()
    }

    /// Counters for every session.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.shared.sessions.lock().values().cloned().collect()
    }

    pub fn peer_count(&self) -> usize {
        self.shared.sessions.lock().len()
    }

    /// Stops the peer thread (sessions end).
    pub fn shutdown(&self) {
        let _ = self.shared.commands.send(Command::Shutdown);
    }
}

fn new_session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Two independently seeded SipHash states: unguessable enough for a session handle that
    // is only usable by whoever passed the signaling access checks.
    let a = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(a);
    h.write_u128(Instant::now().elapsed().as_nanos());
    format!("{a:016x}{:016x}", h.finish())
}

/// Reads one socket. Datagrams are tagged with the socket's announced address, which is the
/// local candidate str0m pairs them with.
fn receive_loop(socket: &UdpSocket, destination: SocketAddr, tx: &Sender<Datagram>) {
    let mut buf = vec![0u8; 2048];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, source)) => {
                let datagram = Datagram { data: buf[..n].to_vec(), source, destination };
                match tx.try_send(datagram) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => tracing::debug!("WebRTC receive queue full; datagram dropped"),
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // ICMP port unreachable from a peer that went away surfaces here; keep serving.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => {
                tracing::error!("WebRTC UDP receive failed: {e}; the transport stops receiving");
                return;
            }
        }
    }
}

struct Worker {
    peers: Vec<Peer>,
    sockets: Vec<Arc<UdpSocket>>,
    events: Sender<PeerEvent>,
    shared: Arc<Shared>,
}

impl Worker {
    fn run(&mut self, commands: &Receiver<Command>, net: &Receiver<Datagram>) {
        let mut next = Instant::now();
        loop {
            let wait = next.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
            crossbeam_channel::select! {
                recv(commands) -> cmd => match cmd {
                    Ok(cmd) => if !self.command(cmd) { return },
                    Err(_) => return,
                },
                recv(net) -> datagram => if let Ok(d) = datagram { self.datagram(d) },
                default(wait) => {},
            }
            next = self.drive();
            // Whatever else arrived, one datagram at a time with output polled after each: DTLS
            // holds only a few unprocessed records (a burst of data-channel messages would
            // overflow it), and sends and events should not wait for the whole batch.
            for _ in 0..256 {
                let Ok(d) = net.try_recv() else { break };
                self.datagram(d);
                next = self.drive();
            }
            for cmd in commands.try_iter().take(256).collect::<Vec<_>>() {
                if !self.command(cmd) {
                    return;
                }
            }
            next = next.min(self.drive());
        }
    }

    fn command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Add(peer) => self.peers.push(*peer),
            Command::Close(session) => {
                if let Some(peer) = self.peers.iter_mut().find(|p| p.session == session) {
                    tracing::info!(%session, "WebRTC session closed by the client");
                    peer.closing = true;
                }
            }
            Command::Video(frame) => {
                let now = Instant::now();
                for peer in &mut self.peers {
                    peer.write_video(&frame, now);
                }
            }
            Command::Text { session, text } => {
                if let Some(peer) = self.peers.iter_mut().find(|p| p.session == session) {
                    peer.send_text(text);
                }
            }
            Command::Shutdown => {
                for peer in &mut self.peers {
                    peer.rtc.disconnect();
                }
                return false;
            }
        }
        true
    }

    fn datagram(&mut self, d: Datagram) {
        let Ok(contents) = d.data.as_slice().try_into() else { return };
        let input = Input::Receive(
            Instant::now(),
            Receive { proto: Protocol::Udp, source: d.source, destination: d.destination, contents },
        );
        match self.peers.iter_mut().find(|p| p.rtc.accepts(&input)) {
            Some(peer) => {
                if let Err(e) = peer.rtc.handle_input(input) {
                    tracing::warn!(session = %peer.session, "WebRTC peer input failed: {e}");
                    peer.rtc.disconnect();
                }
            }
            None => tracing::trace!(source = %d.source, "datagram for no known peer"),
        }
    }

    /// Advances time for every peer, transmits, forwards events and drops dead peers.
    fn drive(&mut self) -> Instant {
        let now = Instant::now();
        let mut next = now + Duration::from_millis(100);
        let mut events = Vec::new();
        let sockets = &self.sockets;
        let local = &self.shared.local;
        for peer in &mut self.peers {
            if peer.rtc.is_alive()
                && let Err(e) = peer.rtc.handle_input(Input::Timeout(now))
            {
                tracing::warn!(session = %peer.session, "WebRTC peer failed: {e}");
                peer.rtc.disconnect();
            }
            let mut send = |t: str0m::net::Transmit| {
                let index = local.iter().position(|a| *a == t.source).unwrap_or(0);
                let socket = sockets.get(index);
                if let Some(socket) = socket
                    && let Err(e) = socket.send_to(&t.contents, t.destination)
                {
                    tracing::debug!(destination = %t.destination, "WebRTC UDP send failed: {e}");
                }
            };
            peer.flush_text();
            let t = peer.poll(&mut send, &mut events);
            next = next.min(t);
            if !peer.connected && now.duration_since(peer.created) > CONNECT_TIMEOUT {
                tracing::info!(session = %peer.session, "WebRTC peer never connected; dropped");
                peer.closing = true;
            }
        }
        {
            let mut sessions = self.shared.sessions.lock();
            for peer in &self.peers {
                if let Some(info) = sessions.get_mut(&peer.session) {
                    *info = peer.info.clone();
                }
            }
            for peer in self.peers.iter_mut().filter(|p| !p.alive()) {
                sessions.remove(&peer.session);
                if peer.rtc.is_alive() {
                    peer.rtc.disconnect();
                }
                events.push(PeerEvent::Closed { session: peer.session.clone() });
            }
        }
        self.peers.retain(Peer::alive);
        for event in events {
            if let Err(TrySendError::Full(event)) = self.events.try_send(event) {
                tracing::warn!(?event, "WebRTC event queue full; event dropped");
            }
        }
        next
    }
}

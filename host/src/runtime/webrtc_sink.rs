//! The standards-WebRTC transport as the render loop sees it (the peers themselves live on the
//! `ovhost-webrtc` thread, see `ovhost_webrtc`). H.264 access units go to every connected peer;
//! each peer's data channel becomes an ordinary hub client (same handlers, same replies, same
//! dialects); keyframe requests (join, PLI, FIR) reach the encoder; the lowest bandwidth estimate
//! among the peers sets the encoder's bitrate through the converter's `configure`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec};
use ovhost_webrtc::{PeerEvent, VideoFrame, WebrtcServer};
use serde_json::Value;

use super::hub::{ClientChannels, ClientHub};
use super::inbound::Inbound;
use super::sinks::Sink;
use crate::protocol::{self, HELLO_EVENT_TYPE, INPUT_EVENT_TYPE, codes};

/// Share of the bandwidth estimate given to the encoder (the rest covers RTP/RTX/FEC overhead
/// and the estimate's own error).
const ESTIMATE_SHARE: f64 = 0.8;
/// The encoder is never asked for less than this.
const MIN_BITRATE_KBPS: u64 = 150;
/// A new encoder bitrate re-creates the encoder (the next frame is an IDR), so changes are
/// applied only when they matter: a drop of this fraction at once, a rise after this long.
const CHANGE_FRACTION: f64 = 0.15;
const DROP_INTERVAL_US: u64 = 500_000;
const RISE_INTERVAL_US: u64 = 2_000_000;

pub struct WebrtcAdapter {
    server: WebrtcServer,
    /// Data-channel sessions and their hub clients.
    clients: BTreeMap<String, ClientChannels>,
    /// Sessions with ICE + DTLS up (they receive video).
    connected: BTreeSet<String>,
    estimates: BTreeMap<String, u64>,
    want_keyframe: AtomicBool,
    applied_kbps: Option<u64>,
    applied_at_us: u64,
    pending_options: Option<String>,
}

impl WebrtcAdapter {
    pub fn new(server: WebrtcServer) -> Self {
        Self {
            server,
            clients: BTreeMap::new(),
            connected: BTreeSet::new(),
            estimates: BTreeMap::new(),
            want_keyframe: AtomicBool::new(false),
            applied_kbps: None,
            applied_at_us: 0,
            pending_options: None,
        }
    }

    fn forward_outbound(&mut self) {
        for (session, client) in &mut self.clients {
            while let Ok(text) = client.text.try_recv() {
                client.text_bytes.taken(text.len());
                self.server.send_text(session, text);
            }
        }
    }

    fn end_client(&mut self, session: &str, hub: &ClientHub, items: &mut Vec<Inbound>) {
        if let Some(client) = self.clients.remove(session) {
            hub.disconnect(client.id);
            items.push(Inbound::Disconnected(client.id));
            tracing::info!(%session, client = client.id, "WebRTC client left");
        }
    }

    fn on_message(&mut self, session: &str, text: &str, hub: &ClientHub, now_us: u64, items: &mut Vec<Inbound>) {
        let Some(client) = self.clients.get(session).map(|c| c.id) else { return };
        match protocol::parse_inbound(text) {
            Ok(envelope) if envelope.event_type == INPUT_EVENT_TYPE => {
                match protocol::parse_input(&envelope.payload, now_us) {
                    Ok(events) => {
                        let seq = envelope.payload.get("seq").and_then(Value::as_u64).map(|s| s as u32);
                        items.push(Inbound::Input { client, events, seq });
                    }
                    Err(e) => hub.send(client, protocol::viewer_error(e.code, &e.message, None)),
                }
            }
            Ok(mut envelope) => {
                if envelope.event_type == HELLO_EVENT_TYPE
                    && let Some(payload) = envelope.payload.as_object_mut()
                {
                    // Video goes over the RTP track, not the hub's binary video queue: a codec
                    // chosen here would make the web sink queue frames nobody reads.
                    payload.remove("video");
                }
                items.push(Inbound::Message { client, envelope });
            }
            Err(e) => hub.send(client, protocol::viewer_error(e.code, &e.message, None)),
        }
    }

    /// Turns the lowest estimate into an encoder bitrate, rate-limited (see the constants).
    fn adapt_bitrate(&mut self, now_us: u64) {
        let Some(lowest) = self.estimates.values().min().copied() else { return };
        let max = self.server.max_bitrate_kbps().max(MIN_BITRATE_KBPS);
        let target = ((lowest as f64 * ESTIMATE_SHARE / 1000.0) as u64).clamp(MIN_BITRATE_KBPS, max);
        let since = now_us.saturating_sub(self.applied_at_us);
        let apply = match self.applied_kbps {
            None => true,
            Some(current) => {
                let change = (target as f64 - current as f64) / current as f64;
                (change <= -CHANGE_FRACTION && since >= DROP_INTERVAL_US)
                    || (change >= CHANGE_FRACTION && since >= RISE_INTERVAL_US)
            }
        };
        if apply {
            tracing::debug!(
                estimate_bps = lowest,
                bitrate_kbps = target,
                "WebRTC bandwidth estimate sets the encoder bitrate"
            );
            self.applied_kbps = Some(target);
            self.applied_at_us = now_us;
            self.pending_options = Some(serde_json::json!({ "bitrate_kbps": target }).to_string());
        }
    }
}

impl Sink for WebrtcAdapter {
    fn name(&self) -> String {
        "webrtc".into()
    }

    fn accepted(&self) -> Vec<FrameSpec> {
        vec![FrameSpec::host(FrameFormat::H264)]
    }

    fn wanted(&self) -> Vec<FrameSpec> {
        if self.connected.is_empty() { Vec::new() } else { self.accepted() }
    }

    fn submit(&mut self, frame: &Frame<'_>, _input_seq: u32) -> Result<(), String> {
        self.forward_outbound();
        if frame.format != FrameFormat::H264 {
            return Err(format!("the webrtc sink takes H.264, not {}", frame.format.name()));
        }
        let payload = frame.host_bytes().map_err(|e| format!("the webrtc sink: {e}"))?;
        if frame.is_keyframe() {
            self.want_keyframe.store(false, Ordering::Release);
        }
        self.server.send_video(VideoFrame {
            data: Arc::from(payload),
            keyframe: frame.is_keyframe(),
            timestamp_us: frame.timestamp_us,
        });
        Ok(())
    }

    fn take_keyframe_request(&self) -> bool {
        // Stays set until a keyframe is actually submitted.
        self.want_keyframe.load(Ordering::Acquire)
    }

    fn converter_options(&mut self) -> Option<String> {
        self.pending_options.take()
    }

    fn poll(&mut self, hub: &ClientHub, now_us: u64) -> Vec<Inbound> {
        let mut items = Vec::new();
        for event in self.server.poll_events() {
            match event {
                PeerEvent::Connected { session } => {
                    self.connected.insert(session);
                    self.want_keyframe.store(true, Ordering::Release);
                }
                PeerEvent::ChannelOpen { session } => {
                    let channels = hub.connect();
                    let id = channels.id;
                    tracing::info!(%session, client = id, "WebRTC client joined (data channel)");
                    self.clients.insert(session, channels);
                    items.push(Inbound::Connected(id));
                }
                PeerEvent::Message { session, text } => self.on_message(&session, &text, hub, now_us, &mut items),
                PeerEvent::Binary { session } => {
                    if let Some(client) = self.clients.get(&session) {
                        hub.send(
                            client.id,
                            protocol::viewer_error(
                                codes::INVALID_ENVELOPE,
                                "binary messages are not accepted; send JSON text",
                                None,
                            ),
                        );
                    }
                }
                PeerEvent::ChannelClosed { session } => self.end_client(&session, hub, &mut items),
                PeerEvent::KeyframeRequest { .. } => self.want_keyframe.store(true, Ordering::Release),
                PeerEvent::BitrateEstimate { session, bps, twcc } => {
                    // Only the host's own send-side estimate (TWCC feedback) drives the encoder.
                    // REMB is the receiver's guess; aiortc's ran far below the rate it actually
                    // received, so it is reported (`GET /api/webrtc`) but not acted on.
                    if twcc && self.connected.contains(&session) {
                        self.estimates.insert(session, bps);
                    }
                }
                PeerEvent::Closed { session } => {
                    self.end_client(&session, hub, &mut items);
                    self.connected.remove(&session);
                    self.estimates.remove(&session);
                    if self.connected.is_empty() && self.applied_kbps.take().is_some() {
                        // Back to the converter's configured options for the other sinks.
                        self.pending_options = Some(String::new());
                    }
                }
            }
        }
        self.adapt_bitrate(now_us);
        self.forward_outbound();
        items
    }
}

/// Starts the WebRTC transport.
pub fn start(config: ovhost_webrtc::WebrtcConfig) -> Result<WebrtcServer, ovhost_webrtc::WebrtcError> {
    WebrtcServer::start(config)
}

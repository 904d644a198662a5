//! One WebRTC peer: its `Rtc`, its video track and data channel, and the translation of str0m
//! events into [`PeerEvent`]s.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid, Pt};
use str0m::net::Transmit;
use str0m::{Event, IceConnectionState, Output, Rtc};

use crate::budget::MediaBudget;
use crate::server::{PeerEvent, SessionInfo, VideoFrame};

pub(crate) struct Peer {
    pub session: String,
    pub rtc: Rtc,
    pub video: Option<(Mid, Pt)>,
    pub channel: Option<ChannelId>,
    pub connected: bool,
    /// No P-frame is sent before the first keyframe (the decoder could not use it).
    pub awaiting_keyframe: bool,
    pub info: SessionInfo,
    pub created: Instant,
    /// Set once the peer should be dropped (DELETE, ICE disconnect, errors).
    pub closing: bool,
    max_bitrate: Bitrate,
    /// Video bytes against the send-side estimate (see [`MediaBudget`]).
    budget: MediaBudget,
    /// Text waiting for room in the data channel's send buffer (bursts such as the initial state
    /// of a large stage), sent in order.
    outbox: VecDeque<String>,
}

/// Bytes the data channel may hold unacknowledged (str0m's default is 128 KiB).
pub(crate) const DATA_CHANNEL_BUFFER: usize = 1024 * 1024;
/// Messages queued for a peer that does not read before it is dropped as too slow (as `/ws`).
const OUTBOX_LEN: usize = 1024;

/// A connection that never completes ICE + DTLS within this time is dropped.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

impl Peer {
    pub fn new(session: String, rtc: Rtc, max_bitrate: Bitrate) -> Self {
        let info = SessionInfo { session: session.clone(), ..Default::default() };
        Self {
            session,
            rtc,
            video: None,
            channel: None,
            connected: false,
            awaiting_keyframe: true,
            info,
            created: Instant::now(),
            closing: false,
            max_bitrate,
            budget: MediaBudget::default(),
            outbox: VecDeque::new(),
        }
    }

    pub fn alive(&self) -> bool {
        self.rtc.is_alive() && !self.closing
    }

    /// Resolves the video track and the payload type to send on (H.264, packetization-mode 1,
    /// Baseline/Constrained Baseline, preferring Constrained Baseline).
    pub fn resolve_video(&mut self, mid: Mid) -> bool {
        let Some(writer) = self.rtc.writer(mid) else { return false };
        let mut candidates: Vec<(Pt, u32)> = writer
            .payload_params()
            .filter(|p| p.spec().codec == Codec::H264)
            .filter(|p| p.spec().format.packetization_mode == Some(1))
            .filter_map(|p| p.spec().format.profile_level_id.map(|id| (p.pt(), id)))
            .filter(|(_, id)| id >> 16 == 0x42)
            .collect();
        // 0x42e0xx (constrained baseline) before 0x4200xx (baseline).
        candidates.sort_by_key(|(_, id)| std::cmp::Reverse((id >> 8) & 0xff));
        match candidates.first() {
            Some((pt, _)) => {
                self.video = Some((mid, *pt));
                true
            }
            None => false,
        }
    }

    /// Writes one access unit if the peer can take it.
    pub fn write_video(&mut self, frame: &VideoFrame, now: Instant) {
        if !self.connected || self.closing {
            return;
        }
        let Some((mid, pt)) = self.video else { return };
        if self.awaiting_keyframe && !frame.keyframe {
            self.info.frames_skipped += 1;
            return;
        }
        if !self.budget.admit(frame.data.len(), frame.keyframe, now) {
            self.info.frames_skipped += 1;
            self.info.frames_over_budget += 1;
            return;
        }
        let Some(writer) = self.rtc.writer(mid) else { return };
        let rtp_time = MediaTime::from_90khz(frame.timestamp_us.saturating_mul(9) / 100);
        // Playout-delay hint 0: render each frame as soon as it is decoded (sent only when
        // the client negotiated the extension).
        let writer = writer.playout_delay(MediaTime::from_90khz(0), MediaTime::from_90khz(0));
        match writer.write(pt, now, rtp_time, Arc::clone(&frame.data)) {
            Ok(()) => {
                self.awaiting_keyframe = false;
                self.info.frames_sent += 1;
                if frame.keyframe {
                    self.info.keyframes_sent += 1;
                }
            }
            Err(e) => {
                self.info.frames_skipped += 1;
                tracing::debug!(session = %self.session, "video write failed: {e}");
            }
        }
    }

    /// Queues one text message for the data channel and sends what fits.
    pub fn send_text(&mut self, text: String) {
        if self.outbox.len() >= OUTBOX_LEN {
            tracing::warn!(session = %self.session, "WebRTC client is not reading its messages ({OUTBOX_LEN} queued); dropping it");
            self.closing = true;
            return;
        }
        self.outbox.push_back(text);
        self.flush_text();
    }

    /// Writes queued text in order while the channel's send buffer has room.
    pub fn flush_text(&mut self) {
        let Some(id) = self.channel else { return };
        while let Some(text) = self.outbox.front() {
            let Some(mut channel) = self.rtc.channel(id) else { return };
            match channel.write(false, text.as_bytes()) {
                Ok(true) => {}
                Ok(false) if text.len() > DATA_CHANNEL_BUFFER => {
                    tracing::warn!(session = %self.session, bytes = text.len(), "message larger than the data channel buffer; dropped");
                }
                Ok(false) => return, // wait for acknowledgements to free the buffer
                Err(e) => tracing::warn!(session = %self.session, "data channel write failed: {e}"),
            }
            self.outbox.pop_front();
        }
    }

    /// Polls output until the next timeout: transmits go to `send`, events become
    /// [`PeerEvent`]s. Returns the next timeout.
    pub fn poll(&mut self, send: &mut dyn FnMut(Transmit), events: &mut Vec<PeerEvent>) -> Instant {
        if self.budget.keyframe_due(Instant::now()) {
            self.info.keyframe_requests += 1;
            events.push(PeerEvent::KeyframeRequest { session: self.session.clone() });
        }
        loop {
            if !self.rtc.is_alive() {
                return Instant::now();
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return t,
                Ok(Output::Transmit(t)) => send(t),
                Ok(Output::Event(e)) => self.on_event(e, events),
                Err(e) => {
                    tracing::warn!(session = %self.session, "WebRTC peer failed: {e}");
                    self.rtc.disconnect();
                    return Instant::now();
                }
            }
        }
    }

    fn on_event(&mut self, event: Event, events: &mut Vec<PeerEvent>) {
        match event {
            Event::Connected => {
                self.connected = true;
                self.awaiting_keyframe = true;
                self.info.connected = true;
                // Ask the estimator to probe up to the most the encoder may use.
                self.rtc.bwe().set_bitrate(Bitrate::kbps(100), self.max_bitrate);
                tracing::info!(session = %self.session, "WebRTC peer connected");
                events.push(PeerEvent::Connected { session: self.session.clone() });
                events.push(PeerEvent::KeyframeRequest { session: self.session.clone() });
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                tracing::info!(session = %self.session, "WebRTC peer's ICE disconnected");
                self.closing = true;
            }
            Event::MediaAdded(added)
                if added.kind == MediaKind::Video
                    && matches!(added.direction, Direction::SendOnly | Direction::SendRecv)
                    && self.video.is_none() =>
            {
                self.resolve_video(added.mid);
            }
            Event::ChannelOpen(id, label) => {
                if self.channel.is_none() {
                    self.channel = Some(id);
                    tracing::info!(session = %self.session, %label, "WebRTC data channel open");
                    events.push(PeerEvent::ChannelOpen { session: self.session.clone() });
                } else {
                    tracing::debug!(session = %self.session, %label, "extra data channel ignored");
                }
            }
            Event::ChannelData(data) => {
                if Some(data.id) != self.channel {
                    return;
                }
                let session = self.session.clone();
                if data.binary {
                    events.push(PeerEvent::Binary { session });
                } else {
                    match String::from_utf8(data.data) {
                        Ok(text) => events.push(PeerEvent::Message { session, text }),
                        Err(_) => events.push(PeerEvent::Binary { session }),
                    }
                }
            }
            Event::ChannelClose(id) if Some(id) == self.channel => {
                self.channel = None;
                events.push(PeerEvent::ChannelClosed { session: self.session.clone() });
            }
            Event::KeyframeRequest(req) => {
                self.info.keyframe_requests += 1;
                tracing::debug!(session = %self.session, kind = ?req.kind, "keyframe requested by the peer");
                events.push(PeerEvent::KeyframeRequest { session: self.session.clone() });
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                let bps = estimate.as_u64();
                self.info.estimate_bps = Some(bps);
                self.budget.set_rate(bps, Instant::now());
                events.push(PeerEvent::BitrateEstimate { session: self.session.clone(), bps, twcc: true });
            }
            Event::EgressBitrateEstimate(BweKind::Remb { estimate, .. }) => {
                let bps = estimate.as_u64();
                self.info.remb_bps = Some(bps);
                events.push(PeerEvent::BitrateEstimate { session: self.session.clone(), bps, twcc: false });
            }
            Event::MediaEgressStats(stats) => {
                self.info.nacks = stats.nacks;
                self.info.plis = stats.plis;
                self.info.firs = stats.firs;
                self.info.packets_sent = stats.packets;
                self.info.bytes_sent = stats.bytes;
                self.info.loss = stats.loss;
                self.info.rtt_ms = stats.rtt.map(|d| d.as_secs_f64() * 1000.0);
            }
            _ => {}
        }
    }
}

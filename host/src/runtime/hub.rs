//! Connected clients and everything sent to them. The render thread sends through here without
//! ever blocking: each client has a bounded text queue and a small video queue, both bounded in
//! messages and in bytes. Text overflow (per client, or the host-wide budget) closes the client
//! as too slow: its [`ClientGate`] is closed with a WebSocket close code and reason, its queues
//! are freed, and what it sends later is ignored. Video overflow drops frames (for H.264 the
//! client then waits for the next keyframe, which the hub requests).
//!
//! Per-client adaptation ([`ClientHub::adapt`]): each video client's link is measured (the
//! socket writer's send-queue delay, [`LinkMeter`]; frames dropped at its queue; the frames its
//! viewer acknowledged with `videoAck`), and the client moves between the quality tiers of
//! `sinks.rs` ([`super::sinks::TIERS`]) with hysteresis: down one tier when congested (at most
//! every [`DOWN_HOLD`]), up one after [`UP_AFTER_CLEAR`] of a clear link (twice that after a step
//! up that congested the link again within [`FAILED_PROBE_WINDOW`], and so on up to
//! [`UP_AFTER_CLEAR_MAX`]; back to the start at tier 0). A client changes tier
//! only at a keyframe of the tier it joins, and keeps receiving its old tier until then; a
//! keyframe is asked of that tier alone, once the client's backlog has drained, and moving up
//! into a tier other clients watch waits for that tier's next periodic keyframe (at most
//! [`NATURAL_KEYFRAME_WAIT`]) so they get no extra keyframe. A client whose queue overflows
//! gets frames dropped to its tier's next keyframe; other clients' streams are left alone.
//!
//! The hub also keeps each client's share of the render thread's inbound queue in bytes
//! ([`ClientHub::reserve_inbound`]), so a client cannot fill it with large messages.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ovhost_plugin_api::FrameFormat;
use ovhost_protocol::{PresenceClient, Role};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};

/// Messages queued per client before it is considered too slow and closed.
pub const TEXT_QUEUE_LEN: usize = 1024;
/// Bytes of text queued per client before it is considered too slow and closed.
pub const TEXT_BYTES_PER_CLIENT: usize = 4 << 20;
/// Bytes of text queued to all clients together; the client whose message would exceed it is
/// closed as too slow.
pub const TEXT_BYTES_TOTAL: usize = 64 << 20;
/// Video packets queued per client; older frames are never buffered beyond this.
pub const VIDEO_QUEUE_LEN: usize = 3;
/// Bytes of video queued per client; a frame that would exceed it is dropped.
pub const VIDEO_BYTES_PER_CLIENT: usize = 8 << 20;
/// Bytes of parsed messages one client may have waiting in the render thread's inbound queue.
pub const INBOUND_BYTES_PER_CLIENT: usize = 1 << 20;
/// Bytes of parsed messages all clients together may have waiting there.
pub const INBOUND_BYTES_TOTAL: usize = 16 << 20;

/// Send-queue delay above which a client's link is congested (a tier down).
pub const CONGESTED_DELAY: Duration = Duration::from_millis(250);
/// Send-queue delay below which a client's link is clear (a tier up after [`UP_AFTER_CLEAR`]).
pub const CLEAR_DELAY: Duration = Duration::from_millis(80);
/// The oldest frame a client's viewer has not acknowledged, above which its link is congested
/// (only for viewers that acknowledge frames).
pub const UNACKED_CONGESTED: Duration = Duration::from_millis(1000);
/// ... and below which it is clear.
pub const UNACKED_CLEAR: Duration = Duration::from_millis(400);
/// At most one step down per this long (the previous step needs time to show).
pub const DOWN_HOLD: Duration = Duration::from_millis(500);
/// A link clear for this long (and this long after the last change) steps a tier up.
pub const UP_AFTER_CLEAR: Duration = Duration::from_millis(500);
/// A step up followed by congestion within this long failed: the next one waits twice as long
/// (up to [`UP_AFTER_CLEAR_MAX`]), so a link at the edge of a tier does not swing between two.
pub const FAILED_PROBE_WINDOW: Duration = Duration::from_secs(2);
pub const UP_AFTER_CLEAR_MAX: Duration = Duration::from_secs(8);
/// Moving up into a tier others watch waits this long for its periodic keyframe, then asks.
pub const NATURAL_KEYFRAME_WAIT: Duration = Duration::from_millis(2500);
/// A client asks its tier for a keyframe at most this often.
pub const KEYFRAME_REQUEST_GAP: Duration = Duration::from_millis(500);
/// Sent frames remembered per client for acknowledgements.
const UNACKED_KEPT: usize = 256;

/// A client's link as its socket writer sees it (`http/ws.rs` reports each video write).
pub struct LinkMeter {
    epoch: Instant,
    /// Smoothed time from queueing a video packet until the socket took it, in µs.
    delay_us: AtomicU64,
    /// When the write in progress started (µs since `epoch`, plus one); 0 when idle.
    writing_since: AtomicU64,
}

impl Default for LinkMeter {
    fn default() -> Self {
        Self { epoch: Instant::now(), delay_us: AtomicU64::new(0), writing_since: AtomicU64::new(0) }
    }
}

impl LinkMeter {
    /// A video write starts.
    pub fn write_started(&self) {
        self.writing_since.store(self.epoch.elapsed().as_micros() as u64 + 1, Ordering::Release);
    }

    /// A video write queued at `queued_at` finished.
    pub fn write_finished(&self, queued_at: Instant) {
        let delay = queued_at.elapsed().as_micros() as u64;
        let old = self.delay_us.load(Ordering::Acquire);
        self.delay_us.store((old + delay) / 2, Ordering::Release);
        self.writing_since.store(0, Ordering::Release);
    }

    /// The send-queue delay now: the smoothed one, or how long the write in progress has been
    /// stuck, whichever is longer.
    pub fn queue_delay(&self) -> Duration {
        let smoothed = self.delay_us.load(Ordering::Acquire);
        let since = self.writing_since.load(Ordering::Acquire);
        let stuck = if since == 0 { 0 } else { (self.epoch.elapsed().as_micros() as u64).saturating_sub(since - 1) };
        Duration::from_micros(smoothed.max(stuck))
    }

    fn writing(&self) -> bool {
        self.writing_since.load(Ordering::Acquire) != 0
    }
}

/// WebSocket close codes the host uses (RFC 6455 section 7.4.1).
pub mod close_codes {
    /// The host is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame the WebSocket protocol does not allow.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Too slow, too many messages: a rule of this host was broken.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame over the size limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
}

/// How a client's connection is told to end: a close code and reason set once, and a wake-up
/// for the tasks serving its socket. Shared by the hub and the connection.
#[derive(Default)]
pub struct ClientGate {
    reason: Mutex<Option<(u16, String)>>,
    notify: Notify,
}

impl ClientGate {
    /// Closes the connection with `code` and `reason` (the first close wins).
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let mut slot = self.reason.lock();
        if slot.is_none() {
            *slot = Some((code, reason.into()));
        }
        drop(slot);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// The close code and reason, once closed.
    pub fn closed(&self) -> Option<(u16, String)> {
        self.reason.lock().clone()
    }

    pub fn is_closed(&self) -> bool {
        self.reason.lock().is_some()
    }

    /// Resolves when the connection is to be closed.
    pub async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

/// Bytes queued and not yet taken by the writer, for one client and for all.
#[derive(Clone, Default)]
pub struct ByteCount {
    client: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
}

impl ByteCount {
    fn add(&self, n: usize) {
        self.client.fetch_add(n, Ordering::AcqRel);
        self.total.fetch_add(n, Ordering::AcqRel);
    }

    /// The writer took `n` bytes off the queue.
    pub fn taken(&self, n: usize) {
        let before = self.client.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some(v.saturating_sub(n)));
        let removed = before.map_or(0, |v| v.min(n));
        let _ = self.total.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some(v.saturating_sub(removed)));
    }

    /// The queue is dropped: its bytes leave the total.
    fn clear(&self) {
        let left = self.client.swap(0, Ordering::AcqRel);
        let _ = self.total.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some(v.saturating_sub(left)));
    }

    pub fn client(&self) -> usize {
        self.client.load(Ordering::Acquire)
    }

    fn total(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

pub type ClientId = u64;

/// One encoded video packet for the web sink.
#[derive(Clone)]
pub struct VideoPacket {
    pub format: FrameFormat,
    pub keyframe: bool,
    pub bytes: Bytes,
    /// The quality tier it was encoded for (`sinks::TIERS`).
    pub tier: u8,
    pub frame_number: u64,
    /// When the sink queued it (the writer measures the send-queue delay from here).
    pub queued_at: Instant,
}

/// What a connected client receives.
pub struct ClientChannels {
    pub id: ClientId,
    pub text: mpsc::Receiver<String>,
    pub video: mpsc::Receiver<VideoPacket>,
    /// Closed by the hub (too slow) or the connection (protocol, rate); see [`ClientGate`].
    pub gate: Arc<ClientGate>,
    /// Bytes in `text` and `video`: the writer reports what it takes.
    pub text_bytes: ByteCount,
    pub video_bytes: ByteCount,
    /// The writer reports each video write here (adaptation).
    pub link: Arc<LinkMeter>,
}

struct Client {
    text: mpsc::Sender<String>,
    video: mpsc::Sender<VideoPacket>,
    gate: Arc<ClientGate>,
    text_bytes: ByteCount,
    video_bytes: ByteCount,
    /// Bytes of this client's messages waiting in the render thread's inbound queue.
    inbound_bytes: usize,
    /// The codec this client decodes, once its `hello` said so.
    codec: Option<FrameFormat>,
    awaiting_keyframe: bool,
    frames_sent: u64,
    frames_dropped: u64,
    /// Keyframes this client's viewer asked for (`requestKeyframe`).
    keyframes_requested: u64,
    /// Protocol dialect (`""` = the default handlers, `"kit"` = handlers that declare the `kit` dialect).
    dialect: String,
    /// The host answered this client's `hello` (it has the host's state pushed since).
    greeted: bool,
    /// What this viewer may do (`runtime/viewers.rs` decides; the render thread sets it).
    role: Role,
    /// The name from its `hello` (`client <id>` until then).
    name: String,
    /// A `requestControl` the owner has not answered.
    requested: bool,
    adapt: Adaptation,
}

/// One client's link measurements and quality tier.
struct Adaptation {
    link: Arc<LinkMeter>,
    /// The tier whose stream the client receives.
    tier: u8,
    /// The tier it should receive; it switches at that tier's next keyframe.
    target: u8,
    target_since: Instant,
    /// The last tier change (`None`: never).
    last_change: Option<Instant>,
    clear_since: Option<Instant>,
    /// How long a clear link waits to step up: [`UP_AFTER_CLEAR`], doubled after each failed
    /// step up, back to the start at tier 0.
    up_hold: Duration,
    /// The last step up (to tell a failed one).
    last_up: Option<Instant>,
    /// Frames dropped at its queue since the last evaluation.
    drops: u64,
    last_keyframe_request: Option<Instant>,
    /// Sent frames not yet acknowledged (frame number, when sent), oldest first.
    unacked: VecDeque<(u64, Instant)>,
    acks: u64,
    acked_frame: u64,
    /// Smoothed time from sending a frame to its acknowledgement, ms.
    ack_ms: f64,
    /// Bytes sent in the last second.
    sent: VecDeque<(Instant, usize)>,
    tier_changes: u64,
}

impl Adaptation {
    fn new(link: Arc<LinkMeter>, now: Instant) -> Self {
        Self {
            link,
            tier: 0,
            target: 0,
            target_since: now,
            last_change: None,
            clear_since: None,
            up_hold: UP_AFTER_CLEAR,
            last_up: None,
            drops: 0,
            last_keyframe_request: None,
            unacked: VecDeque::new(),
            acks: 0,
            acked_frame: 0,
            ack_ms: 0.0,
            sent: VecDeque::new(),
            tier_changes: 0,
        }
    }

    /// Whether the last tier change is at least `hold` old.
    fn held(&self, now: Instant, hold: Duration) -> bool {
        self.last_change.is_none_or(|at| now.saturating_duration_since(at) >= hold)
    }

    /// How long the oldest unacknowledged frame has waited (zero for viewers that never ack).
    fn unacked_age(&self, now: Instant) -> Duration {
        if self.acks == 0 {
            return Duration::ZERO;
        }
        self.unacked.front().map_or(Duration::ZERO, |(_, at)| now.saturating_duration_since(*at))
    }

    fn sent_kbps(&self, now: Instant) -> u64 {
        let bytes: usize = self
            .sent
            .iter()
            .filter(|(at, _)| now.saturating_duration_since(*at) <= Duration::from_secs(1))
            .map(|s| s.1)
            .sum();
        bytes as u64 * 8 / 1000
    }
}

#[derive(Default)]
pub struct ClientHub {
    clients: Mutex<BTreeMap<ClientId, Client>>,
    next_id: AtomicU64,
    keyframe_requested: AtomicBool,
    /// Keyframes asked of some tiers only (a bit per tier).
    tier_keyframes: AtomicU8,
    /// The tier-0 bitrate (kbit/s), JPEG quality and the stream frame rate, for the stats.
    base_kbps: AtomicU32,
    base_quality: AtomicU8,
    stream_fps: AtomicU32,
    /// Dialect given to clients that do not choose one (`--dialect`).
    default_dialect: Mutex<String>,
    text_total: Arc<AtomicUsize>,
    video_total: Arc<AtomicUsize>,
    inbound_total: AtomicUsize,
    /// Clients closed for being too slow (for `/api/state` and tests).
    closed_slow: AtomicU64,
    /// Clients the host closed, newest last: their queued messages are ignored.
    forgotten: Mutex<std::collections::VecDeque<ClientId>>,
}

/// Closed clients remembered so their queued messages are ignored (more than the inbound queue
/// can hold messages from).
const FORGOTTEN_CLIENTS_KEPT: usize = 4096;

impl ClientHub {
    pub fn set_default_dialect(&self, dialect: &str) {
        *self.default_dialect.lock() = normalize_dialect(dialect);
    }

    pub fn set_dialect(&self, id: ClientId, dialect: &str) {
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.dialect = normalize_dialect(dialect);
        }
    }

    /// Marks a client's `hello` as answered (see [`ClientHub::broadcast_greeted`]).
    pub fn mark_greeted(&self, id: ClientId) {
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.greeted = true;
        }
    }

    /// Sends to the clients whose `hello` was answered; the others get the same facts in their
    /// `hello` answer, so each client hears of it exactly once.
    pub fn broadcast_greeted(&self, text: &str) {
        self.send_where(|c| c.greeted, text);
    }

    /// Sends to the greeted clients of one dialect.
    pub fn broadcast_greeted_in(&self, dialect: &str, text: &str) {
        self.send_where(|c| c.greeted && c.dialect == dialect, text);
    }

    pub fn dialect(&self, id: ClientId) -> String {
        self.clients.lock().get(&id).map(|c| c.dialect.clone()).unwrap_or_default()
    }

    /// Sends to every client of one dialect.
    pub fn broadcast_dialect(&self, dialect: &str, text: &str) {
        self.send_where(|c| c.dialect == dialect, text);
    }

    /// Sends to every client matching `keep` (each through [`ClientHub::send`], so a client whose
    /// queue is full is dropped the same way).
    fn send_where(&self, keep: impl Fn(&Client) -> bool, text: &str) {
        let ids: Vec<ClientId> = self.clients.lock().iter().filter(|(_, c)| keep(c)).map(|(id, _)| *id).collect();
        for id in ids {
            self.send(id, text.to_string());
        }
    }

    pub fn connect(&self) -> ClientChannels {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (text_tx, text) = mpsc::channel(TEXT_QUEUE_LEN);
        let (video_tx, video) = mpsc::channel(VIDEO_QUEUE_LEN);
        let gate = Arc::new(ClientGate::default());
        let text_bytes = ByteCount { client: Default::default(), total: self.text_total.clone() };
        let video_bytes = ByteCount { client: Default::default(), total: self.video_total.clone() };
        let link = Arc::new(LinkMeter::default());
        self.clients.lock().insert(
            id,
            Client {
                text: text_tx,
                video: video_tx,
                gate: gate.clone(),
                text_bytes: text_bytes.clone(),
                video_bytes: video_bytes.clone(),
                inbound_bytes: 0,
                codec: None,
                awaiting_keyframe: true,
                frames_sent: 0,
                frames_dropped: 0,
                keyframes_requested: 0,
                dialect: self.default_dialect.lock().clone(),
                greeted: false,
                role: Role::Spectator,
                name: format!("client {id}"),
                requested: false,
                adapt: Adaptation::new(link.clone(), Instant::now()),
            },
        );
        ClientChannels { id, text, video, gate, text_bytes, video_bytes, link }
    }

    /// Forgets a client whose connection ended; its queued bytes leave the totals.
    pub fn disconnect(&self, id: ClientId) {
        if let Some(client) = self.clients.lock().remove(&id) {
            client.text_bytes.clear();
            client.video_bytes.clear();
        }
    }

    /// Drops a client and closes its connection with `code` and `reason`.
    pub fn close(&self, id: ClientId, code: u16, reason: &str) {
        let removed = self.clients.lock().remove(&id);
        self.forget_messages_of(id);
        if let Some(client) = removed {
            Self::closed(client, code, reason);
        }
    }

    fn closed(client: Client, code: u16, reason: &str) {
        client.gate.close(code, reason);
        client.text_bytes.clear();
        client.video_bytes.clear();
    }

    /// Whether `id` is a connected client (messages from a closed one are ignored).
    pub fn contains(&self, id: ClientId) -> bool {
        self.clients.lock().contains_key(&id)
    }

    /// Reserves room for `bytes` of one client's message in the render thread's inbound queue.
    /// `Err` (the sentence for a `busy` reply) when the client's share or the host-wide budget
    /// is used up; [`ClientHub::release_inbound`] gives it back once handled.
    pub fn reserve_inbound(&self, id: ClientId, bytes: usize) -> Result<(), String> {
        let mut clients = self.clients.lock();
        let Some(client) = clients.get_mut(&id) else { return Err("the connection is closed".into()) };
        if client.inbound_bytes + bytes > INBOUND_BYTES_PER_CLIENT {
            return Err(format!(
                "{} bytes of this client's messages are still waiting for the render thread (limit {INBOUND_BYTES_PER_CLIENT})",
                client.inbound_bytes
            ));
        }
        let total = self.inbound_total.load(Ordering::Acquire);
        if total + bytes > INBOUND_BYTES_TOTAL {
            return Err(format!(
                "{total} bytes of messages are waiting for the render thread (limit {INBOUND_BYTES_TOTAL})"
            ));
        }
        client.inbound_bytes += bytes;
        self.inbound_total.fetch_add(bytes, Ordering::AcqRel);
        Ok(())
    }

    /// The render thread handled (or dropped) a message reserved with [`ClientHub::reserve_inbound`].
    pub fn release_inbound(&self, id: ClientId, bytes: usize) {
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.inbound_bytes = client.inbound_bytes.saturating_sub(bytes);
        }
        let _ = self.inbound_total.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| Some(v.saturating_sub(bytes)));
    }

    /// Bytes queued to clients (text, video) and waiting for the render thread (inbound).
    pub fn bytes_queued(&self) -> (usize, usize, usize) {
        (
            self.text_total.load(Ordering::Acquire),
            self.video_total.load(Ordering::Acquire),
            self.inbound_total.load(Ordering::Acquire),
        )
    }

    /// Marks a client the host closed: what it sent and is still queued is ignored.
    pub fn forget_messages_of(&self, id: ClientId) {
        let mut forgotten = self.forgotten.lock();
        if forgotten.len() >= FORGOTTEN_CLIENTS_KEPT {
            forgotten.pop_front();
        }
        forgotten.push_back(id);
    }

    /// Whether `id` was closed by the host (its queued messages are ignored).
    pub fn is_forgotten(&self, id: ClientId) -> bool {
        id != 0 && self.forgotten.lock().contains(&id)
    }

    /// Clients closed so far for not reading what they were sent.
    pub fn closed_slow(&self) -> u64 {
        self.closed_slow.load(Ordering::Relaxed)
    }

    pub fn role(&self, id: ClientId) -> Option<Role> {
        self.clients.lock().get(&id).map(|c| c.role)
    }

    /// Sets a client's role (clearing its pending request); false when it is gone.
    pub fn set_role(&self, id: ClientId, role: Role) -> bool {
        match self.clients.lock().get_mut(&id) {
            Some(client) => {
                client.role = role;
                client.requested = false;
                true
            }
            None => false,
        }
    }

    pub fn set_requested(&self, id: ClientId, requested: bool) {
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.requested = requested;
        }
    }

    pub fn set_name(&self, id: ClientId, name: &str) {
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.name = name.to_string();
        }
    }

    /// Every client as `presence` lists it, oldest first.
    pub fn presence(&self) -> Vec<PresenceClient> {
        self.clients
            .lock()
            .iter()
            .map(|(id, c)| PresenceClient {
                client_id: *id,
                name: c.name.clone(),
                role: c.role,
                requested: c.requested,
            })
            .collect()
    }

    /// Connected clients per role (`/metrics`).
    pub fn role_counts(&self) -> [(Role, usize); 3] {
        let clients = self.clients.lock();
        [Role::Owner, Role::Controller, Role::Spectator].map(|r| (r, clients.values().filter(|c| c.role == r).count()))
    }

    pub fn client_ids(&self) -> Vec<ClientId> {
        self.clients.lock().keys().copied().collect()
    }

    /// App messages queued to clients and not yet handed to their sockets, summed.
    pub fn text_queued(&self) -> usize {
        self.clients.lock().values().map(|c| c.text.max_capacity() - c.text.capacity()).sum()
    }

    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a text message for one client. A client whose queue is full (in messages or
    /// bytes), or whose message would exceed the host-wide budget, is closed as too slow.
    pub fn send(&self, id: ClientId, text: String) {
        let mut clients = self.clients.lock();
        let Some(client) = clients.get(&id) else { return };
        let len = text.len();
        let queued = client.text_bytes.client();
        let why = if queued + len > TEXT_BYTES_PER_CLIENT {
            Some(format!("too slow: {queued} bytes of messages unread (limit {TEXT_BYTES_PER_CLIENT})"))
        } else if client.text_bytes.total() + len > TEXT_BYTES_TOTAL {
            Some(format!(
                "too slow: the host's send budget ({TEXT_BYTES_TOTAL} bytes) is used up; {queued} bytes unread here"
            ))
        } else {
            client.text_bytes.add(len);
            match client.text.try_send(text) {
                Ok(()) => None,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    client.text_bytes.taken(len);
                    Some(format!("too slow: {TEXT_QUEUE_LEN} messages unread"))
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    client.text_bytes.taken(len);
                    None
                }
            }
        };
        if let Some(why) = why {
            tracing::warn!(client = id, "client is not reading its messages ({why}); closing it");
            if let Some(client) = clients.remove(&id) {
                self.closed_slow.fetch_add(1, Ordering::Relaxed);
                drop(clients);
                self.forget_messages_of(id);
                Self::closed(client, close_codes::POLICY_VIOLATION, &why);
            }
        }
    }

    pub fn broadcast(&self, text: &str) {
        self.send_where(|_| true, text);
    }

    /// Chooses the codec a client receives; a new video consumer needs a keyframe at once.
    pub fn set_codec(&self, id: ClientId, codec: Option<FrameFormat>) {
        let mut tier = 0;
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.codec = codec;
            client.awaiting_keyframe = true;
            tier = client.adapt.tier;
            // Asked below: `adapt` does not ask again while this one is on its way.
            client.adapt.last_keyframe_request = Some(Instant::now());
        }
        if codec.is_some() {
            // Only the stream this client joins needs the keyframe.
            self.request_tier_keyframe(tier);
        }
    }

    /// Sets the tier-0 bitrate, JPEG quality and the stream frame rate the per-client stats
    /// report.
    pub fn set_video_base(&self, base_kbps: u32, base_quality: u8, fps: u32) {
        self.base_kbps.store(base_kbps, Ordering::Relaxed);
        self.base_quality.store(base_quality, Ordering::Relaxed);
        self.stream_fps.store(fps, Ordering::Relaxed);
    }

    /// The tiers some client of `format` receives or is moving to.
    pub fn tiers_for(&self, format: FrameFormat) -> Vec<u8> {
        let clients = self.clients.lock();
        let tiers: BTreeSet<u8> =
            clients.values().filter(|c| c.codec == Some(format)).flat_map(|c| [c.adapt.tier, c.adapt.target]).collect();
        tiers.into_iter().collect()
    }

    /// A viewer acknowledged decoding `frame_number` (`videoAck`).
    pub fn ack(&self, id: ClientId, frame_number: u64) {
        let now = Instant::now();
        if let Some(client) = self.clients.lock().get_mut(&id) {
            let a = &mut client.adapt;
            a.acks += 1;
            a.acked_frame = a.acked_frame.max(frame_number);
            while let Some(&(n, at)) = a.unacked.front() {
                if n > frame_number {
                    break;
                }
                a.unacked.pop_front();
                if n == frame_number {
                    let ms = now.saturating_duration_since(at).as_secs_f64() * 1e3;
                    a.ack_ms = if a.acks == 1 { ms } else { a.ack_ms * 0.75 + ms * 0.25 };
                }
            }
        }
    }

    /// Moves video clients (H.264 and JPEG) between quality tiers from their link measurements (hysteresis: see
    /// the module text) and asks tiers for the keyframes their joining clients need. Called by
    /// the encoder thread before each frame.
    pub fn adapt(&self, now: Instant) {
        let mut clients = self.clients.lock();
        let tiers: Vec<(ClientId, FrameFormat, u8)> =
            clients.iter().filter_map(|(id, c)| Some((*id, c.codec?, c.adapt.tier))).collect();
        let mut keyframes = 0u8;
        for (id, client) in clients.iter_mut() {
            let Some(codec) = client.codec else { continue };
            let backlog_empty = client.video_bytes.client() == 0 && !client.adapt.link.writing();
            let a = &mut client.adapt;
            let delay = a.link.queue_delay();
            let unacked = a.unacked_age(now);
            let congested = delay > CONGESTED_DELAY || a.drops > 0 || unacked > UNACKED_CONGESTED;
            let clear = delay < CLEAR_DELAY && a.drops == 0 && unacked < UNACKED_CLEAR;
            a.drops = 0;
            let lowest = (super::sinks::MAX_TIERS - 1) as u8;
            if congested {
                a.clear_since = None;
                if a.target < lowest && a.held(now, DOWN_HOLD) {
                    if a.last_up.is_some_and(|at| now.saturating_duration_since(at) < FAILED_PROBE_WINDOW) {
                        a.up_hold = (a.up_hold * 2).min(UP_AFTER_CLEAR_MAX);
                    }
                    a.last_up = None;
                    a.target += 1;
                    a.target_since = now;
                    a.last_change = Some(now);
                    a.tier_changes += 1;
                    tracing::info!(
                        client = id,
                        tier = a.target,
                        delay_ms = delay.as_millis() as u64,
                        "client link congested; a tier down"
                    );
                }
            } else if clear {
                let since = *a.clear_since.get_or_insert(now);
                if a.target > 0
                    && a.target == a.tier
                    && now.saturating_duration_since(since) >= a.up_hold
                    && a.held(now, a.up_hold)
                {
                    a.target -= 1;
                    a.last_up = Some(now);
                    if a.target == 0 {
                        a.up_hold = UP_AFTER_CLEAR;
                    }
                    a.target_since = now;
                    a.last_change = Some(now);
                    a.clear_since = Some(now);
                    a.tier_changes += 1;
                    tracing::info!(client = id, tier = a.target, "client link clear; a tier up");
                }
            } else {
                a.clear_since = None;
            }
            // The keyframe this client waits for: of the tier it joins, or of its own after a
            // drop; asked once its backlog drained, and never more often than the gap.
            let waiting_for = if a.target != a.tier {
                Some(a.target)
            } else if client.awaiting_keyframe {
                Some(a.tier)
            } else {
                None
            };
            let Some(tier) = waiting_for else { continue };
            let others_watch = tiers.iter().any(|(other, c, t)| other != id && *c == codec && *t == tier);
            let moving_up = a.target < a.tier;
            let may_wait =
                moving_up && others_watch && now.saturating_duration_since(a.target_since) < NATURAL_KEYFRAME_WAIT;
            let recently =
                a.last_keyframe_request.is_some_and(|at| now.saturating_duration_since(at) < KEYFRAME_REQUEST_GAP);
            if backlog_empty && !may_wait && !recently {
                a.last_keyframe_request = Some(now);
                keyframes |= 1 << tier;
            }
        }
        drop(clients);
        if keyframes != 0 {
            self.tier_keyframes.fetch_or(keyframes, Ordering::AcqRel);
        }
    }

    /// Asks one tier's encoder for a keyframe.
    pub fn request_tier_keyframe(&self, tier: u8) {
        self.tier_keyframes.fetch_or(1 << tier.min(7), Ordering::AcqRel);
    }

    /// Returns and clears the keyframes asked of single tiers (a bit per tier).
    pub fn take_tier_keyframes(&self) -> u8 {
        self.tier_keyframes.swap(0, Ordering::AcqRel)
    }

    /// The codecs some connected client currently wants.
    pub fn wanted_codecs(&self) -> Vec<FrameFormat> {
        let mut codecs: Vec<FrameFormat> = self.clients.lock().values().filter_map(|c| c.codec).collect();
        codecs.sort();
        codecs.dedup();
        codecs
    }

    /// Offers a packet to every client that decodes its format and receives its tier (or waits
    /// to join that tier at this keyframe). Never blocks. A client whose queue is full loses the
    /// frame and, for H.264, every frame up to its tier's next keyframe, which [`ClientHub::adapt`]
    /// asks of that tier alone once the backlog drained: other clients' streams are untouched.
    pub fn send_video(&self, packet: &VideoPacket) {
        let now = Instant::now();
        for (id, client) in self.clients.lock().iter_mut() {
            if client.codec != Some(packet.format) {
                continue;
            }
            let a = &client.adapt;
            let joins = a.target != a.tier && packet.tier == a.target && packet.keyframe;
            if !joins && (packet.tier != a.tier || (client.awaiting_keyframe && !packet.keyframe)) {
                continue;
            }
            let len = packet.bytes.len();
            let over_budget = client.video_bytes.client() + len > VIDEO_BYTES_PER_CLIENT;
            if !over_budget {
                client.video_bytes.add(len);
            }
            let sent = if over_budget {
                Err(mpsc::error::TrySendError::Full(()))
            } else {
                client.video.try_send(packet.clone()).map_err(|e| {
                    client.video_bytes.taken(len);
                    match e {
                        mpsc::error::TrySendError::Full(_) => mpsc::error::TrySendError::Full(()),
                        mpsc::error::TrySendError::Closed(_) => mpsc::error::TrySendError::Closed(()),
                    }
                })
            };
            match sent {
                Ok(()) => {
                    client.awaiting_keyframe = false;
                    client.frames_sent += 1;
                    let a = &mut client.adapt;
                    if joins {
                        tracing::debug!(client = id, from = a.tier, to = a.target, "client changed tier at a keyframe");
                        a.tier = a.target;
                    }
                    if a.unacked.len() >= UNACKED_KEPT {
                        a.unacked.pop_front();
                    }
                    a.unacked.push_back((packet.frame_number, now));
                    a.sent.push_back((now, len));
                    while a
                        .sent
                        .front()
                        .is_some_and(|(at, _)| now.saturating_duration_since(*at) > Duration::from_secs(1))
                    {
                        a.sent.pop_front();
                    }
                }
                Err(mpsc::error::TrySendError::Full(())) => {
                    client.frames_dropped += 1;
                    client.adapt.drops += 1;
                    if packet.format == FrameFormat::H264 && !joins {
                        // The decoder cannot skip a frame: resume at the next keyframe.
                        client.awaiting_keyframe = true;
                    }
                    tracing::debug!(client = id, "client video queue full; frame dropped");
                }
                Err(mpsc::error::TrySendError::Closed(())) => {}
            }
        }
    }

    /// A client's decoder lost sync: it gets no delta frame until the next keyframe, which is
    /// requested of its tier.
    pub fn resync(&self, id: ClientId) {
        let mut tier = None;
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.awaiting_keyframe = true;
            client.keyframes_requested += 1;
            tier = Some(client.adapt.tier);
            client.adapt.last_keyframe_request = Some(Instant::now());
        }
        if let Some(tier) = tier {
            self.request_tier_keyframe(tier);
        }
    }

    pub fn request_keyframe(&self) {
        self.keyframe_requested.store(true, Ordering::Release);
    }

    /// Returns and clears the pending keyframe request.
    pub fn take_keyframe_request(&self) -> bool {
        self.keyframe_requested.swap(false, Ordering::AcqRel)
    }

    /// Per-client video counters for `/api/state`.
    pub fn stats(&self) -> serde_json::Value {
        let clients = self.clients.lock();
        let now = Instant::now();
        let base_kbps = self.base_kbps.load(Ordering::Relaxed);
        let base_quality = self.base_quality.load(Ordering::Relaxed);
        let fps = self.stream_fps.load(Ordering::Relaxed);
        serde_json::Value::Array(
            clients
                .iter()
                .map(|(id, c)| {
                    let a = &c.adapt;
                    let tier = super::sinks::Tier::get(a.target);
                    let h264 = c.codec == Some(FrameFormat::H264);
                    let jpeg = c.codec == Some(FrameFormat::JPEG);
                    serde_json::json!({
                        "id": id,
                        "codec": c.codec.map(|f| f.name()),
                        "dialect": c.dialect,
                        "role": c.role,
                        "name": c.name,
                        "frames_sent": c.frames_sent,
                        "frames_dropped": c.frames_dropped,
                        "keyframes_requested": c.keyframes_requested,
                        "tier": a.target,
                        "receiving_tier": a.tier,
                        "bitrate_kbps": h264.then(|| tier.bitrate_kbps(base_kbps)),
                        "quality": jpeg.then(|| tier.quality(base_quality)),
                        "fps": if c.codec.is_some() { tier.fps(fps) } else { fps },
                        "scale": 1u32 << tier.scale_log2,
                        "sent_kbps": a.sent_kbps(now),
                        "queue_delay_ms": a.link.queue_delay().as_millis() as u64,
                        "acked_frame": a.acked_frame,
                        "unacked_frames": if a.acks > 0 { a.unacked.len() } else { 0 },
                        "ack_ms": (a.ack_ms * 10.0).round() / 10.0,
                        "tier_changes": a.tier_changes,
                        "up_hold_ms": a.up_hold.as_millis() as u64,
                    })
                })
                .collect(),
        )
    }
}

/// Whether `name` can be a dialect name: 1 to 32 ASCII letters, digits, `-` or `_`.
pub fn valid_dialect(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty() && name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `"default"` and `""` both mean the default dialect.
pub fn normalize_dialect(dialect: &str) -> String {
    let d = dialect.trim().to_ascii_lowercase();
    if d == "default" || d == "r" { String::new() } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(keyframe: bool) -> VideoPacket {
        VideoPacket {
            format: FrameFormat::H264,
            keyframe,
            bytes: Bytes::from_static(b"x"),
            tier: 0,
            frame_number: 0,
            queued_at: Instant::now(),
        }
    }

    fn tiered(keyframe: bool, tier: u8) -> VideoPacket {
        VideoPacket { tier, ..packet(keyframe) }
    }

    fn drain(channels: &mut ClientChannels) -> usize {
        let mut n = 0;
        while let Ok(p) = channels.video.try_recv() {
            channels.video_bytes.taken(p.bytes.len());
            n += 1;
        }
        n
    }

    #[test]
    fn slow_video_client_drops_to_its_tiers_next_keyframe_without_keyframes_for_others() {
        let hub = ClientHub::default();
        let mut slow = hub.connect();
        let mut good = hub.connect();
        hub.set_codec(slow.id, Some(FrameFormat::H264));
        hub.set_codec(good.id, Some(FrameFormat::H264));
        assert_eq!(hub.take_tier_keyframes(), 1, "a new video client asks its tier (0) for a keyframe");
        assert!(!hub.take_keyframe_request(), "not every stream");
        hub.send_video(&packet(false));
        assert!(slow.video.try_recv().is_err(), "no P-frame before the first keyframe");
        hub.send_video(&packet(true));
        assert_eq!(drain(&mut good), 1);
        for _ in 0..VIDEO_QUEUE_LEN {
            hub.send_video(&packet(false));
            drain(&mut good);
        }
        hub.send_video(&packet(false)); // the slow client's queue is full: dropped
        assert_eq!(drain(&mut good), 1, "the good client still gets every frame");
        assert!(!hub.take_keyframe_request() && hub.take_tier_keyframes() == 0, "a drop forces no keyframe");
        hub.adapt(Instant::now());
        assert_eq!(hub.tiers_for(FrameFormat::H264), vec![0, 1], "the slow client moves a tier down");
        assert_eq!(hub.take_tier_keyframes(), 0, "no keyframe while its backlog is full");
        assert_eq!(drain(&mut slow), VIDEO_QUEUE_LEN);
        hub.adapt(Instant::now() + KEYFRAME_REQUEST_GAP); // after the join's request was answered
        assert_eq!(hub.take_tier_keyframes(), 1 << 1, "once drained: a keyframe of the tier it joins, only");
        hub.send_video(&packet(false));
        assert!(slow.video.try_recv().is_err(), "waits for a keyframe after a drop");
        assert_eq!(drain(&mut good), 1);
        hub.send_video(&tiered(false, 1));
        assert!(slow.video.try_recv().is_err());
        hub.send_video(&tiered(true, 1));
        assert!(slow.video.try_recv().unwrap().keyframe, "joins tier 1 at its keyframe");
        assert_eq!(drain(&mut good), 0, "the good client receives tier 0 only");
        hub.send_video(&tiered(false, 1));
        assert!(slow.video.try_recv().is_ok());
        let stats = hub.stats();
        assert_eq!(stats[0]["tier"], 1);
        assert_eq!(stats[1]["tier"], 0);
    }

    #[test]
    fn a_congested_jpeg_client_steps_down_the_whole_ladder_to_half_size_and_back() {
        let hub = ClientHub::default();
        hub.set_video_base(6000, 80, 30);
        let mut slow = hub.connect();
        let mut good = hub.connect();
        hub.set_codec(slow.id, Some(FrameFormat::JPEG));
        hub.set_codec(good.id, Some(FrameFormat::JPEG));
        let jpeg = |tier: u8| VideoPacket { format: FrameFormat::JPEG, ..tiered(true, tier) };
        let t0 = Instant::now();
        let lowest = (super::super::sinks::MAX_TIERS - 1) as u8;
        for step in 1..=lowest {
            hub.clients.lock().get_mut(&slow.id).unwrap().adapt.drops = 1;
            hub.adapt(t0 + DOWN_HOLD * u32::from(step));
            // Every JPEG frame is a keyframe: the client joins its new tier at the next one.
            hub.send_video(&jpeg(step - 1));
            hub.send_video(&jpeg(step));
            drain(&mut slow);
            drain(&mut good);
            assert_eq!(hub.stats()[0]["receiving_tier"], step, "{}", hub.stats());
        }
        hub.clients.lock().get_mut(&slow.id).unwrap().adapt.drops = 1;
        hub.adapt(t0 + DOWN_HOLD * 10);
        let stats = hub.stats();
        assert_eq!(stats[0]["tier"], lowest, "the ladder ends at the lowest tier: {stats}");
        assert_eq!(stats[0]["scale"], 2, "the lowest tier is half size: {stats}");
        assert!(stats[0]["quality"].as_u64().unwrap() < 80 && stats[0]["fps"] == 15, "{stats}");
        assert_eq!((stats[1]["tier"].as_u64(), stats[1]["quality"].as_u64()), (Some(0), Some(80)), "{stats}");
        assert_eq!(hub.tiers_for(FrameFormat::JPEG), vec![0, lowest]);
        assert_eq!(hub.tiers_for(FrameFormat::H264), Vec::<u8>::new(), "tiers are per codec");
        // A clear link climbs back one tier per hold.
        let mut t = t0 + DOWN_HOLD * 10;
        for _ in 0..=lowest {
            t += UP_AFTER_CLEAR;
            hub.adapt(t);
            let target = hub.stats()[0]["tier"].as_u64().unwrap() as u8;
            hub.send_video(&jpeg(target));
            drain(&mut slow);
        }
        assert_eq!(hub.stats()[0]["receiving_tier"], 0, "{}", hub.stats());
    }

    #[test]
    fn a_step_up_that_congests_the_link_again_doubles_the_wait_for_the_next() {
        let hub = ClientHub::default();
        let mut c = hub.connect();
        hub.set_codec(c.id, Some(FrameFormat::JPEG));
        let jpeg = |tier: u8| VideoPacket { format: FrameFormat::JPEG, ..tiered(true, tier) };
        let id = c.id;
        let congest = |at: Instant| {
            hub.clients.lock().get_mut(&id).unwrap().adapt.drops = 1;
            hub.adapt(at);
        };
        let tier = || hub.stats()[0]["tier"].as_u64().unwrap();
        let t0 = Instant::now();
        congest(t0);
        congest(t0 + DOWN_HOLD);
        hub.send_video(&jpeg(2));
        drain(&mut c);
        assert_eq!(tier(), 2);
        // Clear: up one after the hold.
        let clear_from = t0 + DOWN_HOLD * 2;
        hub.adapt(clear_from);
        hub.adapt(clear_from + UP_AFTER_CLEAR);
        assert_eq!(tier(), 1);
        hub.send_video(&jpeg(1));
        drain(&mut c);
        // ... which congests it again at once: down, and the next step up waits twice as long.
        let failed_at = clear_from + UP_AFTER_CLEAR + DOWN_HOLD;
        congest(failed_at);
        assert_eq!(tier(), 2);
        assert_eq!(hub.stats()[0]["up_hold_ms"], (UP_AFTER_CLEAR * 2).as_millis() as u64);
        hub.send_video(&jpeg(2));
        drain(&mut c);
        hub.adapt(failed_at + Duration::from_millis(1));
        hub.adapt(failed_at + UP_AFTER_CLEAR + Duration::from_millis(1));
        assert_eq!(tier(), 2, "one hold is no longer enough");
        hub.adapt(failed_at + UP_AFTER_CLEAR * 2 + Duration::from_millis(1));
        assert_eq!(tier(), 1);
        hub.send_video(&jpeg(1));
        drain(&mut c);
        // Reaching tier 0 resets the wait.
        let later = failed_at + UP_AFTER_CLEAR * 2 + FAILED_PROBE_WINDOW;
        hub.adapt(later);
        hub.adapt(later + UP_AFTER_CLEAR * 2);
        assert_eq!(tier(), 0);
        assert_eq!(hub.stats()[0]["up_hold_ms"], UP_AFTER_CLEAR.as_millis() as u64);
    }

    #[test]
    fn a_clear_link_climbs_back_after_the_hold_waiting_for_a_shared_tiers_keyframe() {
        let hub = ClientHub::default();
        let mut a = hub.connect();
        let mut b = hub.connect();
        hub.set_codec(a.id, Some(FrameFormat::H264));
        hub.set_codec(b.id, Some(FrameFormat::H264));
        hub.send_video(&packet(true));
        drain(&mut a);
        drain(&mut b);
        hub.clients.lock().get_mut(&a.id).unwrap().adapt.drops = 1;
        let t0 = Instant::now();
        hub.adapt(t0);
        hub.send_video(&tiered(true, 1));
        assert_eq!(drain(&mut a), 1);
        hub.take_tier_keyframes();
        hub.adapt(t0 + Duration::from_millis(100));
        hub.adapt(t0 + Duration::from_millis(500));
        assert_eq!(hub.stats()[0]["tier"], 1, "not before the link was clear long enough");
        hub.adapt(t0 + Duration::from_millis(900));
        assert_eq!(hub.stats()[0]["tier"], 0, "clear for 800 ms, changed 900 ms ago: up");
        assert_eq!(hub.take_tier_keyframes(), 0, "tier 0 has a viewer: wait for its periodic keyframe");
        hub.send_video(&tiered(false, 1));
        assert_eq!(drain(&mut a), 1, "keeps its old tier meanwhile");
        hub.send_video(&packet(true));
        assert_eq!(drain(&mut a), 1);
        assert_eq!(hub.stats()[0]["receiving_tier"], 0);
        hub.adapt(t0 + Duration::from_millis(4000));
        assert_eq!(hub.take_tier_keyframes(), 0);
    }

    #[test]
    fn a_viewer_that_stops_acknowledging_frames_moves_down_a_tier() {
        let hub = ClientHub::default();
        let mut a = hub.connect();
        hub.set_codec(a.id, Some(FrameFormat::H264));
        hub.send_video(&VideoPacket { frame_number: 1, ..packet(true) });
        drain(&mut a);
        hub.ack(a.id, 1);
        assert_eq!(hub.stats()[0]["unacked_frames"], 0);
        hub.send_video(&VideoPacket { frame_number: 2, ..packet(false) });
        drain(&mut a);
        let now = Instant::now();
        hub.adapt(now + Duration::from_millis(300));
        assert_eq!(hub.stats()[0]["tier"], 0, "frame 2 unacknowledged for 300 ms: still clear enough");
        hub.adapt(now + UNACKED_CONGESTED + Duration::from_millis(100));
        let stats = &hub.stats()[0];
        assert_eq!(stats["tier"], 1, "frame 2 unacknowledged for over a second: a tier down ({stats})");
        assert_eq!(stats["unacked_frames"], 1);
        assert_eq!(stats["acked_frame"], 1);
    }

    #[test]
    fn client_that_never_reads_text_is_closed_not_buffered() {
        let hub = ClientHub::default();
        let channels = hub.connect();
        for i in 0..=TEXT_QUEUE_LEN {
            hub.send(channels.id, i.to_string());
        }
        assert!(hub.is_empty());
        let (code, reason) = channels.gate.closed().expect("the connection is told to close");
        assert_eq!(code, close_codes::POLICY_VIOLATION);
        assert!(reason.contains("too slow"), "{reason}");
        assert_eq!(hub.bytes_queued().0, 0, "its queued bytes left the total");
    }

    #[test]
    fn large_unread_messages_close_the_client_by_bytes_before_the_count() {
        let hub = ClientHub::default();
        let slow = hub.connect();
        let mut good = hub.connect();
        let big = "x".repeat(64 * 1024);
        for _ in 0..(TEXT_BYTES_PER_CLIENT / big.len()) {
            hub.send(slow.id, big.clone());
        }
        assert!(slow.gate.closed().is_none(), "exactly at the budget: still open");
        hub.send(slow.id, big.clone());
        assert!(slow.gate.closed().is_some_and(|(_, r)| r.contains("bytes")));
        hub.send(good.id, "hi".into());
        let text = good.text.try_recv().unwrap();
        good.text_bytes.taken(text.len());
        assert_eq!(hub.bytes_queued().0, 0);
    }

    #[test]
    fn inbound_reservations_are_bounded_per_client_and_released() {
        let hub = ClientHub::default();
        let a = hub.connect();
        assert!(hub.reserve_inbound(a.id, INBOUND_BYTES_PER_CLIENT).is_ok());
        assert!(hub.reserve_inbound(a.id, 1).is_err());
        hub.release_inbound(a.id, INBOUND_BYTES_PER_CLIENT);
        assert!(hub.reserve_inbound(a.id, 1).is_ok());
        assert!(hub.reserve_inbound(999, 1).is_err(), "an unknown client reserves nothing");
    }
}

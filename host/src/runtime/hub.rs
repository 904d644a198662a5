//! Connected clients and everything sent to them. The render thread sends through here without
//! ever blocking: each client has a bounded text queue and a small video queue, both bounded in
//! messages and in bytes. Text overflow (per client, or the host-wide budget) closes the client
//! as too slow: its [`ClientGate`] is closed with a WebSocket close code and reason, its queues
//! are freed, and what it sends later is ignored. Video overflow drops frames (for H.264 the
//! client then waits for the next keyframe, which the hub requests).
//!
//! The hub also keeps each client's share of the render thread's inbound queue in bytes
//! ([`ClientHub::reserve_inbound`]), so a client cannot fill it with large messages.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

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
}

#[derive(Default)]
pub struct ClientHub {
    clients: Mutex<BTreeMap<ClientId, Client>>,
    next_id: AtomicU64,
    keyframe_requested: AtomicBool,
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
            },
        );
        ClientChannels { id, text, video, gate, text_bytes, video_bytes }
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
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.codec = codec;
            client.awaiting_keyframe = true;
        }
        if codec.is_some() {
            self.request_keyframe();
        }
    }

    /// The codecs some connected client currently wants.
    pub fn wanted_codecs(&self) -> Vec<FrameFormat> {
        let mut codecs: Vec<FrameFormat> = self.clients.lock().values().filter_map(|c| c.codec).collect();
        codecs.sort();
        codecs.dedup();
        codecs
    }

    /// Offers a packet to every client that decodes its format. Never blocks.
    pub fn send_video(&self, packet: &VideoPacket) {
        let mut need_keyframe = false;
        for (id, client) in self.clients.lock().iter_mut() {
            if client.codec != Some(packet.format) {
                continue;
            }
            if client.awaiting_keyframe && !packet.keyframe {
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
                }
                Err(mpsc::error::TrySendError::Full(())) => {
                    client.frames_dropped += 1;
                    if packet.format == FrameFormat::H264 {
                        // The decoder cannot skip a frame: resume at the next keyframe.
                        client.awaiting_keyframe = true;
                        need_keyframe = true;
                    }
                    tracing::debug!(client = id, "client video queue full; frame dropped");
                }
                Err(mpsc::error::TrySendError::Closed(())) => {}
            }
        }
        if need_keyframe {
            self.request_keyframe();
        }
    }

    /// A client's decoder lost sync: it gets no delta frame until the next keyframe, which is
    /// requested.
    pub fn resync(&self, id: ClientId) {
        if let Some(client) = self.clients.lock().get_mut(&id) {
            client.awaiting_keyframe = true;
            client.keyframes_requested += 1;
        }
        self.request_keyframe();
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
        serde_json::Value::Array(
            clients
                .iter()
                .map(|(id, c)| {
                    serde_json::json!({
                        "id": id,
                        "codec": c.codec.map(|f| f.name()),
                        "dialect": c.dialect,
                        "role": c.role,
                        "name": c.name,
                        "frames_sent": c.frames_sent,
                        "frames_dropped": c.frames_dropped,
                        "keyframes_requested": c.keyframes_requested,
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
        VideoPacket { format: FrameFormat::H264, keyframe, bytes: Bytes::from_static(b"x") }
    }

    #[test]
    fn slow_video_client_drops_then_resumes_at_keyframe() {
        let hub = ClientHub::default();
        let mut channels = hub.connect();
        hub.set_codec(channels.id, Some(FrameFormat::H264));
        assert!(hub.take_keyframe_request(), "a new video client asks for a keyframe");
        hub.send_video(&packet(false));
        assert!(channels.video.try_recv().is_err(), "no P-frame before the first keyframe");
        for _ in 0..VIDEO_QUEUE_LEN {
            hub.send_video(&packet(true));
        }
        hub.send_video(&packet(false)); // queue full: dropped
        assert!(hub.take_keyframe_request());
        for _ in 0..VIDEO_QUEUE_LEN {
            assert!(channels.video.try_recv().is_ok());
        }
        hub.send_video(&packet(false));
        assert!(channels.video.try_recv().is_err(), "waits for a keyframe after a drop");
        hub.send_video(&packet(true));
        assert!(channels.video.try_recv().unwrap().keyframe);
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

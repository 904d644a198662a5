//! Connected clients and everything sent to them. The render thread sends through here without
//! ever blocking: each client has a bounded text queue (overflow disconnects the client as too
//! slow) and a small video queue (overflow drops frames, and for H.264 the client then waits for
//! the next keyframe, which the hub requests).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use ovhost_plugin_api::FrameFormat;
use parking_lot::Mutex;
use tokio::sync::mpsc;

/// Messages queued per client before it is considered too slow and disconnected.
pub const TEXT_QUEUE_LEN: usize = 1024;
/// Video packets queued per client; older frames are never buffered beyond this.
pub const VIDEO_QUEUE_LEN: usize = 3;

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
}

struct Client {
    text: mpsc::Sender<String>,
    video: mpsc::Sender<VideoPacket>,
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
}

#[derive(Default)]
pub struct ClientHub {
    clients: Mutex<BTreeMap<ClientId, Client>>,
    next_id: AtomicU64,
    keyframe_requested: AtomicBool,
    /// Dialect given to clients that do not choose one (`--dialect`).
    default_dialect: Mutex<String>,
}

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
        self.clients.lock().insert(
            id,
            Client {
                text: text_tx,
                video: video_tx,
                codec: None,
                awaiting_keyframe: true,
                frames_sent: 0,
                frames_dropped: 0,
                keyframes_requested: 0,
                dialect: self.default_dialect.lock().clone(),
                greeted: false,
            },
        );
        ClientChannels { id, text, video }
    }

    pub fn disconnect(&self, id: ClientId) {
        self.clients.lock().remove(&id);
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

    /// Queues a text message for one client. A client whose queue is full is disconnected.
    pub fn send(&self, id: ClientId, text: String) {
        let mut clients = self.clients.lock();
        let Some(client) = clients.get(&id) else { return };
        if let Err(mpsc::error::TrySendError::Full(_)) = client.text.try_send(text) {
            tracing::warn!(
                client = id,
                "client is not reading its messages ({TEXT_QUEUE_LEN} queued); disconnecting it"
            );
            clients.remove(&id);
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
            match client.video.try_send(packet.clone()) {
                Ok(()) => {
                    client.awaiting_keyframe = false;
                    client.frames_sent += 1;
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    client.frames_dropped += 1;
                    if packet.format == FrameFormat::H264 {
                        // The decoder cannot skip a frame: resume at the next keyframe.
                        client.awaiting_keyframe = true;
                        need_keyframe = true;
                    }
                    tracing::debug!(client = id, "client video queue full; frame dropped");
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
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
                        "frames_sent": c.frames_sent,
                        "frames_dropped": c.frames_dropped,
                        "keyframes_requested": c.keyframes_requested,
                    })
                })
                .collect(),
        )
    }
}

/// `"default"` and `""` both mean the default dialect.
fn normalize_dialect(dialect: &str) -> String {
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
    fn client_that_never_reads_text_is_disconnected_not_buffered() {
        let hub = ClientHub::default();
        let channels = hub.connect();
        for i in 0..=TEXT_QUEUE_LEN {
            hub.send(channels.id, i.to_string());
        }
        assert!(hub.is_empty());
    }
}

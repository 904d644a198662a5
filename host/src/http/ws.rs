//! The `/ws` socket: JSON app envelopes both ways, input events in, binary video out. The
//! reader parses and enqueues; errors in the client's input are answered here with `viewerError`
//! and the connection stays open.
//!
//! Limits, each ending in a clear answer rather than a dropped TCP connection:
//! - `--max-clients` open sockets; the next handshake gets `503` and a sentence;
//! - per connection, token buckets for app messages and input events: excess gets
//!   `viewerError {code: "rate_limited"}` (at most one a second) and is dropped; a client that
//!   keeps it up is closed with 1008 "rate limited";
//! - each client's share of the render thread's queue in bytes (`busy` beyond it);
//! - writes time out after [`WRITE_TIMEOUT`]; a client closed by the hub (too slow) or here gets
//!   a WebSocket close code and reason, then its socket ends and its later messages are ignored;
//! - frames over 1 MiB close with 1009, WebSocket protocol violations with 1002.
//!
//! The link measurements the hub adapts each client's video to come from here: every video
//! write is timed from the moment the sink queued the frame ([`crate::runtime::hub::LinkMeter`]),
//! and the viewer's `videoAck {frame_number}` (a decoded frame) goes straight to the hub from
//! this I/O task, not through the render thread's queue.

use std::time::{Duration, Instant};

use axum::{
    extract::{
        Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;

use super::AppState;
use crate::protocol::{self, INPUT_EVENT_TYPE, codes};
use crate::runtime::hub::close_codes;
use crate::runtime::inbound::{Inbound, inbound_cost};

/// Frames larger than this are refused by the socket layer itself; between
/// `MAX_MESSAGE_BYTES` and this the host answers with a `message_too_large` error.
const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// The viewer acknowledges a decoded frame (`ovhost_protocol::VideoAck`).
pub const VIDEO_ACK_EVENT_TYPE: &str = "videoAck";

/// A socket write (one message) that takes longer than this closes the client.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// App messages per second a client may send, and the burst above that rate.
pub const MESSAGES_PER_S: f64 = 400.0;
pub const MESSAGE_BURST: f64 = 2000.0;
/// Input events per second (pointer moves arrive at display rate, 60–240 Hz), and the burst.
pub const INPUT_EVENTS_PER_S: f64 = 1000.0;
pub const INPUT_BURST: f64 = 2000.0;
/// Dropped messages within one [`RATE_WINDOW`] after which the client is closed.
pub const RATE_DROPS_BEFORE_CLOSE: u32 = 2000;
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Self {
        Self { rate, burst, tokens: burst, last: Instant::now() }
    }

    fn take(&mut self, n: f64, now: Instant) -> bool {
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// One connection's rate state.
struct Rates {
    messages: Bucket,
    input: Bucket,
    window_start: Instant,
    dropped_in_window: u32,
    last_notice: Option<Instant>,
}

impl Rates {
    fn new() -> Self {
        Self {
            messages: Bucket::new(MESSAGES_PER_S, MESSAGE_BURST),
            input: Bucket::new(INPUT_EVENTS_PER_S, INPUT_BURST),
            window_start: Instant::now(),
            dropped_in_window: 0,
            last_notice: None,
        }
    }

    /// Counts a dropped message. Returns (tell the client now, close it).
    fn dropped(&mut self, now: Instant) -> (bool, bool) {
        if now.duration_since(self.window_start) > RATE_WINDOW {
            self.window_start = now;
            self.dropped_in_window = 0;
        }
        self.dropped_in_window += 1;
        let notify = self.last_notice.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1));
        if notify {
            self.last_notice = Some(now);
        }
        (notify, self.dropped_in_window > RATE_DROPS_BEFORE_CLOSE)
    }
}

/// `/ws` query parameters (`?token=` is checked by the access guard, `access.rs`).
#[derive(Deserialize)]
pub(crate) struct WsQuery {
    /// App-protocol dialect for this connection (`kit` or `default`).
    dialect: Option<String>,
}

pub(crate) async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<WsQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    if state.config.lifecycle.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "the host is shutting down; connect to another host").into_response();
    }
    let open = state.config.lifecycle.sessions().max(state.runtime.hub.len());
    if open >= state.config.max_clients {
        tracing::warn!(open, max = state.config.max_clients, "client refused: the host is full");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the host is full: {open} clients connected (--max-clients {})", state.config.max_clients),
        )
            .into_response();
    }
    if let Some(dialect) = query.dialect.as_deref().filter(|d| !crate::runtime::hub::valid_dialect(d)) {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "?dialect= must be a dialect name (letters, digits, '-' or '_', at most 32), not '{}'",
                protocol::truncate_chars(dialect, 64)
            ),
        )
            .into_response();
    }
    if let Some(Err(why)) =
        query.dialect.as_deref().map(|d| crate::runtime::router::known_dialect_in(&state.runtime.status.plugins(), d))
    {
        return (StatusCode::BAD_REQUEST, format!("?dialect=: {why}")).into_response();
    }
    // The client joins (its id, and its role in the render thread's order) before the 101 goes
    // out, so viewers get roles in the order their handshakes completed: under `--control first`
    // the first socket to open is the owner, whichever upgrade task the runtime polls first.
    let reserved = Reserved::new(&state.runtime, query.dialect.as_deref());
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session(socket, state, reserved))
}

/// A client that joined at the handshake. Dropped without a session (the upgrade failed after
/// the 101), it leaves again.
struct Reserved {
    runtime: crate::runtime::RuntimeHandle,
    channels: Option<crate::runtime::hub::ClientChannels>,
}

impl Reserved {
    fn new(runtime: &crate::runtime::RuntimeHandle, dialect: Option<&str>) -> Self {
        let channels = runtime.hub.connect();
        let client = channels.id;
        if let Some(dialect) = dialect {
            runtime.hub.set_dialect(client, dialect);
        }
        if !runtime.try_send(Inbound::Connected(client)) {
            tracing::warn!(client, "render thread queue full; connect notification dropped");
        }
        Self { runtime: runtime.clone(), channels: Some(channels) }
    }

    fn take(mut self) -> crate::runtime::hub::ClientChannels {
        self.channels.take().expect("a reserved client's channels are taken once")
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if let Some(channels) = self.channels.take() {
            tracing::info!(client = channels.id, "client left before its WebSocket opened");
            self.runtime.hub.disconnect(channels.id);
            let _ = self.runtime.try_send(Inbound::Disconnected(channels.id));
        }
    }
}

async fn session(socket: WebSocket, state: AppState, reserved: Reserved) {
    let lifecycle = state.config.lifecycle.clone();
    let _session = lifecycle.session();
    let runtime = state.runtime.clone();
    let channels = reserved.take();
    let client = channels.id;
    let gate = channels.gate.clone();
    tracing::info!(client, "client connected");
    let (writer, mut reader) = socket.split();
    let mut write_task = tokio::spawn(write_loop(writer, channels));

    let mut rates = Rates::new();
    loop {
        let next = tokio::select! {
            biased;
            () = gate.wait() => break,
            next = reader.next() => next,
        };
        match next {
            None | Some(Ok(Message::Close(_))) => break,
            Some(Err(e)) => {
                let (code, reason) = socket_error_close(&e.to_string());
                tracing::info!(client, code, "closing the client: {reason} ({e})");
                gate.close(code, reason);
                break;
            }
            Some(Ok(Message::Text(text))) => on_text(&runtime, client, text.as_str(), &mut rates),
            Some(Ok(Message::Binary(_))) => runtime.hub.send(
                client,
                protocol::viewer_error(
                    codes::INVALID_ENVELOPE,
                    "binary messages are not accepted; send JSON text",
                    None,
                ),
            ),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
        }
    }
    let closed_by_host = gate.closed();
    if closed_by_host.is_some() {
        runtime.hub.forget_messages_of(client);
        // Read (and drop) what the client still sends until it answers the close, for at most
        // two seconds: closing a socket with unread input resets it, and the client would lose
        // the close frame with the reason.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(message)) = reader.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    runtime.hub.disconnect(client);
    let _ = runtime.try_send(Inbound::Disconnected(client));
    // The writer sends the close frame (code and reason) when the host closed the client, or
    // ends when its queues close; it gets a moment to do so, then the socket is dropped.
    if tokio::time::timeout(Duration::from_secs(2), &mut write_task).await.is_err() {
        write_task.abort();
    }
    match closed_by_host {
        Some((code, reason)) => tracing::info!(client, code, "client closed by the host: {reason}"),
        None => tracing::info!(client, "client disconnected"),
    }
}

/// Sends what the hub queues for the client; each write is bounded by [`WRITE_TIMEOUT`]. When
/// the client's gate closes: a close frame with its code and reason, and the end.
async fn write_loop(
    mut writer: futures_util::stream::SplitSink<WebSocket, Message>,
    mut channels: crate::runtime::hub::ClientChannels,
) {
    let gate = channels.gate.clone();
    let link = channels.link.clone();
    loop {
        let mut queued_at = None;
        let message = tokio::select! {
            biased;
            () = gate.wait() => break,
            text = channels.text.recv() => match text {
                Some(text) => {
                    channels.text_bytes.taken(text.len());
                    Message::Text(Utf8Bytes::from(text))
                }
                None => break,
            },
            video = channels.video.recv() => match video {
                Some(packet) => {
                    channels.video_bytes.taken(packet.bytes.len());
                    queued_at = Some(packet.queued_at);
                    link.write_started();
                    Message::Binary(packet.bytes)
                }
                None => break,
            },
        };
        let written = tokio::time::timeout(WRITE_TIMEOUT, writer.send(message)).await;
        if let Some(queued_at) = queued_at {
            link.write_finished(queued_at);
        }
        match written {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                gate.close(
                    close_codes::POLICY_VIOLATION,
                    format!("too slow: one message took over {} s to write", WRITE_TIMEOUT.as_secs()),
                );
                break;
            }
        }
    }
    // What was queued before the close (a `rate_limited` notice, replies) goes out first, for at
    // most a second (a client too slow to read gets none of it); then the queues are freed.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(text) = channels.text.try_recv() {
            channels.text_bytes.taken(text.len());
            if writer.send(Message::Text(Utf8Bytes::from(text))).await.is_err() {
                break;
            }
        }
    })
    .await;
    drop(channels);
    let frame = gate.closed().map(|(code, reason)| CloseFrame {
        code,
        // A close frame's reason is at most 123 bytes.
        reason: Utf8Bytes::from(truncate_bytes(&reason, 123)),
    });
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = writer.send(Message::Close(frame)).await;
        let _ = writer.close().await;
    })
    .await;
}

/// The close code and reason for an error reading the socket.
fn socket_error_close(error: &str) -> (u16, String) {
    let lower = error.to_ascii_lowercase();
    if lower.contains("too long")
        || lower.contains("too big")
        || lower.contains("space limit")
        || lower.contains("capacity")
    {
        (close_codes::MESSAGE_TOO_BIG, format!("a frame over the {MAX_FRAME_BYTES}-byte limit"))
    } else {
        (close_codes::PROTOCOL_ERROR, "WebSocket protocol violation".to_string())
    }
}

fn truncate_bytes(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn on_text(runtime: &crate::runtime::RuntimeHandle, client: u64, text: &str, rates: &mut Rates) {
    tracing::debug!(client, bytes = text.len(), "message received");
    let now = Instant::now();
    let envelope = match protocol::parse_inbound(text) {
        Ok(envelope) => envelope,
        Err(e) => {
            // Malformed messages count against the message rate too.
            if !rates.messages.take(1.0, now) {
                rate_limited(runtime, client, rates, now);
                return;
            }
            runtime.hub.send(client, protocol::viewer_error(e.code, &e.message, None));
            return;
        }
    };
    if envelope.event_type == VIDEO_ACK_EVENT_TYPE {
        if !rates.messages.take(1.0, now) {
            rate_limited(runtime, client, rates, now);
            return;
        }
        match serde_json::from_value::<ovhost_protocol::VideoAck>(envelope.payload.clone()) {
            Ok(ack) => runtime.hub.ack(client, ack.frame_number),
            Err(e) => {
                runtime.hub.send(client, protocol::viewer_error(codes::INVALID_INPUT, &format!("videoAck: {e}"), None))
            }
        }
        return;
    }
    let item = if envelope.event_type == INPUT_EVENT_TYPE {
        match protocol::parse_input(&envelope.payload, runtime.now_us()) {
            Ok(events) => {
                if !rates.input.take(events.len().max(1) as f64, now) {
                    rate_limited(runtime, client, rates, now);
                    return;
                }
                let seq = envelope.payload.get("seq").and_then(|s| s.as_u64()).map(|s| s as u32);
                Inbound::Input { client, events, seq }
            }
            Err(e) => {
                runtime.hub.send(client, protocol::viewer_error(e.code, &e.message, None));
                return;
            }
        }
    } else {
        if !rates.messages.take(1.0, now) {
            rate_limited(runtime, client, rates, now);
            return;
        }
        Inbound::Message { client, envelope }
    };
    let cost = inbound_cost(&item);
    if let Err(why) = runtime.hub.reserve_inbound(client, cost) {
        runtime.hub.send(
            client,
            protocol::viewer_error(
                codes::BUSY,
                &format!("the host is busy: {why}; message dropped, retry later"),
                None,
            ),
        );
        return;
    }
    if !runtime.try_send(item) {
        runtime.hub.release_inbound(client, cost);
        runtime
            .hub
            .send(client, protocol::viewer_error(codes::BUSY, "the host is busy; message dropped, retry later", None));
    }
}

/// A message over the client's rate: dropped, the client told (at most once a second), and
/// closed when it keeps it up.
fn rate_limited(runtime: &crate::runtime::RuntimeHandle, client: u64, rates: &mut Rates, now: Instant) {
    let (notify, close) = rates.dropped(now);
    if close {
        runtime.hub.close(
            client,
            close_codes::POLICY_VIOLATION,
            &format!(
                "rate limited: over {RATE_DROPS_BEFORE_CLOSE} messages dropped within {} s",
                RATE_WINDOW.as_secs()
            ),
        );
    } else if notify {
        runtime.hub.send(
            client,
            protocol::viewer_error(
                codes::RATE_LIMITED,
                &format!(
                    "too many messages: at most {MESSAGES_PER_S} app messages and {INPUT_EVENTS_PER_S} input events a second (bursts of {MESSAGE_BURST} and {INPUT_BURST}); messages over it are dropped"
                ),
                None,
            ),
        );
    }
}

//! The `/ws` socket: JSON app envelopes both ways, input events in, binary video out. The
//! reader parses and enqueues; errors in the client's input are answered here with `viewerError`
//! and the connection stays open.

use axum::{
    extract::{
        Query, State, WebSocketUpgrade,
        ws::{Message, Utf8Bytes, WebSocket},
    },
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;

use super::AppState;
use crate::protocol::{self, INPUT_EVENT_TYPE, codes};
use crate::runtime::inbound::Inbound;

/// Frames larger than this are refused by the socket layer itself; between
/// `MAX_MESSAGE_BYTES` and this the host answers with a `message_too_large` error.
const MAX_FRAME_BYTES: usize = 1024 * 1024;

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
        return axum::response::IntoResponse::into_response((
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "the host is shutting down; connect to another host",
        ));
    }
    let dialect = query.dialect;
    ws.max_message_size(MAX_FRAME_BYTES).on_upgrade(move |socket| session(socket, state, dialect))
}

async fn session(socket: WebSocket, state: AppState, dialect: Option<String>) {
    let lifecycle = state.config.lifecycle.clone();
    let _session = lifecycle.session();
    let runtime = state.runtime.clone();
    let mut channels = runtime.hub.connect();
    let client = channels.id;
    if let Some(dialect) = &dialect {
        runtime.hub.set_dialect(client, dialect);
    }
    tracing::info!(client, "client connected");
    if !runtime.try_send(Inbound::Connected(client)) {
        tracing::warn!(client, "render thread queue full; connect notification dropped");
    }
    let (mut writer, mut reader) = socket.split();

    let write_task = tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                biased;
                text = channels.text.recv() => match text {
                    Some(text) => Message::Text(Utf8Bytes::from(text)),
                    None => break,
                },
                video = channels.video.recv() => match video {
                    Some(packet) => Message::Binary(packet.bytes),
                    None => break,
                },
            };
            if writer.send(message).await.is_err() {
                break;
            }
        }
        let _ = writer.close().await;
    });

    while let Some(Ok(message)) = reader.next().await {
        match message {
            Message::Text(text) => on_text(&runtime, client, text.as_str()),
            Message::Binary(_) => runtime.hub.send(
                client,
                protocol::viewer_error(
                    codes::INVALID_ENVELOPE,
                    "binary messages are not accepted; send JSON text",
                    None,
                ),
            ),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    runtime.hub.disconnect(client);
    let _ = runtime.try_send(Inbound::Disconnected(client));
    write_task.abort();
    tracing::info!(client, "client disconnected");
}

fn on_text(runtime: &crate::runtime::RuntimeHandle, client: u64, text: &str) {
    tracing::debug!(client, bytes = text.len(), "message received");
    let envelope = match protocol::parse_inbound(text) {
        Ok(envelope) => envelope,
        Err(e) => {
            runtime.hub.send(client, protocol::viewer_error(e.code, &e.message, None));
            return;
        }
    };
    let item = if envelope.event_type == INPUT_EVENT_TYPE {
        match protocol::parse_input(&envelope.payload, runtime.now_us()) {
            Ok(events) => {
                let seq = envelope.payload.get("seq").and_then(|s| s.as_u64()).map(|s| s as u32);
                Inbound::Input { client, events, seq }
            }
            Err(e) => {
                runtime.hub.send(client, protocol::viewer_error(e.code, &e.message, None));
                return;
            }
        }
    } else {
        Inbound::Message { client, envelope }
    };
    if !runtime.try_send(item) {
        runtime
            .hub
            .send(client, protocol::viewer_error(codes::BUSY, "the host is busy; message dropped, retry later", None));
    }
}

//! WHEP-shaped signaling for the `webrtc` transport, on the host's own HTTP server:
//!
//! - `POST /api/webrtc` with an SDP offer (`Content-Type: application/sdp`) → `201 Created`, the
//!   SDP answer, `Location: /api/webrtc/<session>`, and one `Link: <url>; rel="ice-server"` per
//!   configured STUN/TURN server;
//! - `DELETE /api/webrtc/<session>` ends the session;
//! - `PATCH /api/webrtc/<session>` (trickle ICE) is accepted and ignored: the host is ICE-lite
//!   and learns the client's address from its connectivity checks;
//! - `GET /api/webrtc` describes the transport (UDP candidates, ICE servers, sessions).
//!
//! The same Host, Origin and access-token rules as `/ws` apply to every method (`access.rs`).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::AppState;

/// Offers larger than this are refused with 413 (a browser's offer is a few KB).
pub(crate) const MAX_OFFER_BYTES: usize = 64 * 1024;

fn not_enabled() -> Response {
    (StatusCode::NOT_FOUND, "the webrtc transport is not enabled; start ovhost with --transport web,webrtc")
        .into_response()
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

pub(crate) async fn describe(State(state): State<AppState>) -> Response {
    let Some(server) = &state.config.webrtc else { return not_enabled() };
    super::no_store(Json(json!({
        "candidates": server.local_addrs().iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "ice_servers": server.ice_servers(),
        "sessions": server.sessions(),
    })))
}

pub(crate) async fn offer(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(server) = state.config.webrtc.clone() else { return not_enabled() };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.trim().to_ascii_lowercase().starts_with("application/sdp") {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the offer must be sent as Content-Type: application/sdp (got '{content_type}')"),
        );
    }
    if body.len() > MAX_OFFER_BYTES {
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the offer is {} bytes; the limit is {MAX_OFFER_BYTES}", body.len()),
        );
    }
    let Ok(sdp) = std::str::from_utf8(&body) else {
        return plain(StatusCode::BAD_REQUEST, "malformed SDP offer: the body is not UTF-8 text");
    };
    let sdp = sdp.to_string();
    // Building a peer is quick but not free (SDP parsing, DTLS set-up): keep it off the I/O workers.
    let answered = tokio::task::spawn_blocking(move || server.offer(&sdp)).await;
    let answer = match answered {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            tracing::info!(status = e.http_status(), "WebRTC offer refused: {e}");
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            return plain(status, e.to_string());
        }
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, format!("the offer could not be handled: {e}")),
    };
    let mut response = (StatusCode::CREATED, answer.sdp).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/sdp"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(location) = HeaderValue::from_str(&format!("/api/webrtc/{}", answer.session)) {
        headers.insert(header::LOCATION, location);
    }
    if let Some(ice) = state.config.webrtc.as_ref().map(|s| s.ice_servers().to_vec()) {
        for server in ice {
            for url in &server.urls {
                let mut link = format!("<{url}>; rel=\"ice-server\"");
                if !server.username.is_empty() {
                    link.push_str(&format!(
                        "; username=\"{}\"; credential=\"{}\"; credential-type=\"password\"",
                        server.username, server.credential
                    ));
                }
                if let Ok(value) = HeaderValue::from_str(&link) {
                    headers.append(header::LINK, value);
                }
            }
        }
    }
    response
}

pub(crate) async fn delete(State(state): State<AppState>, Path(session): Path<String>) -> Response {
    let Some(server) = &state.config.webrtc else { return not_enabled() };
    if server.close(&session) {
        StatusCode::OK.into_response()
    } else {
        plain(StatusCode::NOT_FOUND, format!("no WebRTC session '{session}'"))
    }
}

pub(crate) async fn patch(State(state): State<AppState>, Path(session): Path<String>) -> Response {
    let Some(server) = &state.config.webrtc else { return not_enabled() };
    if server.has_session(&session) {
        // ICE-lite: the client's candidates are learned from its checks; nothing to do.
        StatusCode::NO_CONTENT.into_response()
    } else {
        plain(StatusCode::NOT_FOUND, format!("no WebRTC session '{session}'"))
    }
}

//! Stills and recordings over HTTP: `GET /api/snapshot.png` (the next rendered frame as PNG, at
//! stream size), `GET /api/recordings` (finished recordings) and `GET /api/recordings/<name>`
//! (an MP4 download). The access token applies as on `/ws` (`?token=` or `Authorization: Bearer`);
//! the Origin allow-list does not, since a download is a plain navigation without an Origin.

use std::time::Duration;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{AppState, HttpConfig, no_store};
use crate::runtime::capture::plausible_name;

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

/// How long a still may wait for the render thread's next frame.
const STILL_TIMEOUT: Duration = Duration::from_secs(5);

fn check_token(config: &HttpConfig, query: &TokenQuery, headers: &HeaderMap) -> Option<Response> {
    let expected = config.access_token.as_ref()?;
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    (query.token.as_deref() != Some(expected.as_str()) && bearer != Some(expected.as_str()))
        .then(|| (StatusCode::UNAUTHORIZED, "missing or wrong access token").into_response())
}

pub(crate) async fn snapshot(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = check_token(&state.config, &query, &headers) {
        return refused;
    }
    let still = state.runtime.capture.request_still();
    match tokio::time::timeout(STILL_TIMEOUT, still).await {
        Ok(Ok(Ok(png))) => {
            let mut response = no_store(png);
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            response
        }
        Ok(Ok(Err(e))) => (StatusCode::UNPROCESSABLE_ENTITY, format!("no still of this frame: {e}")).into_response(),
        Ok(Err(_)) | Err(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "the render thread did not produce a frame in time").into_response()
        }
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = check_token(&state.config, &query, &headers) {
        return refused;
    }
    no_store(Json(serde_json::json!({
        "recording": state.runtime.capture.is_recording(),
        "files": state.runtime.capture.files(),
    })))
}

pub(crate) async fn download(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = check_token(&state.config, &query, &headers) {
        return refused;
    }
    let Some(path) = plausible_name(&name).then(|| state.runtime.capture.file_path(&name)).flatten() else {
        return (StatusCode::NOT_FOUND, format!("no finished recording named '{name}'")).into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut response = no_store(bytes);
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => (StatusCode::NOT_FOUND, format!("recording '{name}' is gone: {e}")).into_response(),
    }
}

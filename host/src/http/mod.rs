//! HTTP: health, API, the frontend's static files, and the `/ws` socket. Runs on tokio; handlers
//! only read shared status or parse and enqueue work for the render thread.

mod capture;
pub mod tls;
mod webrtc;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
};
use tower_http::services::ServeDir;

use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::runtime::RuntimeHandle;

#[derive(Clone)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    /// Built frontend (`frontend/dist`); a placeholder page is served when absent.
    pub frontend_dir: Option<PathBuf>,
    /// When set, `/ws` requires `?token=<value>` or an `Authorization: Bearer <value>` header.
    pub access_token: Option<String>,
    /// When non-empty, `/ws` requires the `Origin` header to be one of these.
    pub allowed_origins: Vec<String>,
    /// Serve HTTPS (and so `wss`) with this certificate.
    pub tls: Option<tls::TlsSetup>,
    /// Drain state for `/healthz` and `/ws`, the heartbeat bound for `/livez`.
    pub lifecycle: Arc<Lifecycle>,
    /// `/metrics` answers 404 when absent.
    pub metrics: Option<Arc<Metrics>>,
    /// The `webrtc` transport, when enabled: `/api/webrtc` signaling.
    pub webrtc: Option<ovhost_webrtc::WebrtcServer>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    runtime: RuntimeHandle,
    config: HttpConfig,
}

pub fn router(runtime: RuntimeHandle, config: HttpConfig) -> Router {
    let frontend = config.frontend_dir.clone().filter(|d| d.join("index.html").is_file());
    let state = AppState { runtime, config };
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/livez", get(livez))
        .route("/metrics", get(metrics))
        .route("/api/state", get(api_state))
        .route("/api/plugins", get(api_plugins))
        .route("/api/snapshot.png", get(capture::snapshot))
        .route("/api/recordings", get(capture::list))
        .route("/api/recordings/{name}", get(capture::download))
        .route("/ws", get(ws::upgrade))
        .route(
            "/api/webrtc",
            get(webrtc::describe).post(webrtc::offer).layer(DefaultBodyLimit::max(webrtc::MAX_OFFER_BYTES)),
        )
        .route("/api/webrtc/{session}", axum::routing::delete(webrtc::delete).patch(webrtc::patch))
        .with_state(state);
    match frontend {
        Some(dir) => api.fallback_service(ServeDir::new(dir)),
        None => api.route("/", get(placeholder)),
    }
}

/// Binds the listener (so a port in use fails start-up with a clear error) and serves until
/// `shutdown` resolves.
pub async fn serve(
    runtime: RuntimeHandle,
    config: HttpConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind).await.map_err(|e| {
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        std::io::Error::new(e.kind(), format!("cannot listen on {scheme}://{}: {e}", config.bind))
    })?;
    if let Some(setup) = config.tls.clone() {
        let listener = tls::TlsListener::new(listener, &setup)?;
        tracing::info!("serving https://{} (/ws is wss)", axum::serve::Listener::local_addr(&listener)?);
        return axum::serve(listener, router(runtime, config)).with_graceful_shutdown(shutdown).await;
    }
    tracing::info!("serving http://{}", listener.local_addr()?);
    // Video frames are many small writes (H.264 P-frames of a few KB): without TCP_NODELAY,
    // Nagle's algorithm holds each one until the previous is acknowledged, which with delayed
    // ACKs adds tens of milliseconds of latency.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("could not set TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, router(runtime, config)).with_graceful_shutdown(shutdown).await
}

/// Readiness: 200 once the first frame was rendered and converted; 503 before, and while draining.
async fn healthz(State(state): State<AppState>) -> Response {
    if state.config.lifecycle.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else if state.runtime.status.is_ready() {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

/// Liveness: 200 while the render thread goes round its loop; 503 when its heartbeat is older
/// than the bound (a plugin call that does not return), whatever HTTP still manages.
async fn livez(State(state): State<AppState>) -> Response {
    let age = state.runtime.status.heartbeat_age();
    let bound = state.config.lifecycle.liveness_bound;
    if age > bound {
        let body = format!(
            "render thread stalled: no heartbeat for {:.1} s (bound {:.1} s)",
            age.as_secs_f64(),
            bound.as_secs_f64()
        );
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        no_store((StatusCode::OK, format!("alive: heartbeat {} ms ago", age.as_millis())))
    }
}

/// Prometheus text exposition (version 0.0.4).
async fn metrics(State(state): State<AppState>) -> Response {
    let Some(metrics) = &state.config.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not enabled").into_response();
    };
    let body = metrics.render(&state.runtime, state.config.lifecycle.is_draining());
    let mut response = no_store(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

async fn api_state(State(state): State<AppState>) -> impl IntoResponse {
    no_store(Json(state.runtime.status.to_json()))
}

async fn api_plugins(State(state): State<AppState>) -> impl IntoResponse {
    no_store(Json(state.runtime.status.plugins()))
}

/// The access rules shared by `/ws` and `/api/webrtc`: the token (`?token=` or
/// `Authorization: Bearer`) when one is configured, and the Origin allow-list when non-empty.
/// Returns the refusal, or `None` when the request may proceed.
pub(crate) fn check_access(config: &HttpConfig, query_token: Option<&str>, headers: &HeaderMap) -> Option<Response> {
    if let Some(expected) = &config.access_token {
        let bearer =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if query_token != Some(expected.as_str()) && bearer != Some(expected.as_str()) {
            return Some((StatusCode::UNAUTHORIZED, "missing or wrong access token").into_response());
        }
    }
    if !config.allowed_origins.is_empty() {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !config.allowed_origins.iter().any(|o| o == origin) {
            return Some((StatusCode::FORBIDDEN, format!("origin '{origin}' is not allowed")).into_response());
        }
    }
    None
}

fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn placeholder() -> Html<&'static str> {
    Html(include_str!("placeholder.html"))
}

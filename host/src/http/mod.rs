//! HTTP: health, API, the frontend's static files, and the `/ws` socket. Runs on tokio; handlers
//! only read shared status or parse and enqueue work for the render thread.

pub mod access;
mod capture;
mod conn;
pub mod tls;
mod webrtc;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, StatusCode, header},
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
    /// When set, every endpoint but `/healthz` and `/livez` requires `?token=<value>` or an
    /// `Authorization: Bearer <value>` header (see `access.rs`).
    pub access_token: Option<String>,
    /// Browser origins allowed on `/ws` and `/api/*` besides the host's own.
    pub allowed_origins: Vec<String>,
    /// Names `Host` may carry besides IP addresses, `localhost` and the machine's host name.
    pub allowed_hosts: Vec<String>,
    /// Connected clients beyond which `/ws` handshakes get 503 (`--max-clients`).
    pub max_clients: usize,
    /// Open TCP connections beyond which a new one is closed on accept (`--max-connections`).
    pub max_connections: usize,
    /// Longest a connection may take to send request headers, or idle between requests
    /// (`--header-read-timeout-s`).
    pub header_read_timeout: std::time::Duration,
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
    access: Arc<access::Access>,
}

pub fn router(runtime: RuntimeHandle, config: HttpConfig) -> Router {
    let frontend = config.frontend_dir.clone().filter(|d| d.join("index.html").is_file());
    let mut names = config.allowed_hosts.clone();
    names.extend(config.tls.iter().flat_map(|t| t.names.iter().cloned()));
    let access = Arc::new(access::Access::new(config.access_token.as_deref(), &config.allowed_origins, &names));
    let state = AppState { runtime, config, access };
    let guard = axum::middleware::from_fn_with_state(state.clone(), access::guard);
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
    let app = match frontend {
        Some(dir) => api.fallback_service(ServeDir::new(dir)),
        None => api.route("/", get(placeholder)),
    };
    app.layer(guard)
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
    let limits =
        conn::Limits { max_connections: config.max_connections, header_read_timeout: config.header_read_timeout };
    if let Some(setup) = config.tls.clone() {
        let listener = tls::TlsListener::new(listener, &setup, config.max_connections)?;
        tracing::info!("serving https://{} (/ws is wss)", axum::serve::Listener::local_addr(&listener)?);
        return conn::serve(listener, router(runtime, config), limits, shutdown).await;
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
    conn::serve(listener, router(runtime, config), limits, shutdown).await
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

fn no_store(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn placeholder() -> Html<&'static str> {
    Html(include_str!("placeholder.html"))
}

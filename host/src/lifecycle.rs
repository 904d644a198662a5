//! When the host stops and how: signals, the idle timer, and the drain that tells clients
//! (`hostShuttingDown`) before the process exits. Orchestrators rely on this: Kubernetes sends
//! SIGTERM and waits `terminationGracePeriodSeconds`; per-session pods end themselves with
//! `--exit-when-idle-s`.
//!
//! Exit codes of the `ovhost` process:
//! - `0`: stopped as asked: SIGTERM/SIGINT (after draining) or `--exit-when-idle-s`.
//! - `1`: a runtime failure (the HTTP server or render thread could not run).
//! - `2`: bad configuration, a plugin that failed under `--strict-plugins`, or a transport under
//!   `--strict-transports` ([`crate::app::EXIT_CONFIG`]).
//! - `3`: the drain did not finish within `--drain-timeout-s`; the process exited anyway.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::runtime::RuntimeHandle;

/// Exit code when the drain deadline passed and the process exited anyway.
pub const EXIT_DRAIN_TIMEOUT: u8 = 3;

/// How long a drain waits for clients to answer the WebSocket close before dropping them.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Why the host stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Sigterm,
    Sigint,
    Idle,
}

impl StopReason {
    /// The `reason` of `hostShuttingDown`.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Sigterm => "sigterm",
            StopReason::Sigint => "sigint",
            StopReason::Idle => "idle",
        }
    }
}

/// Settings and shared flags; one per process, shared with the HTTP handlers.
pub struct Lifecycle {
    /// `/livez` answers 503 when the render thread's heartbeat is older than this.
    pub liveness_bound: Duration,
    /// Upper bound on the drain, from the stop signal to the exit.
    pub drain_timeout: Duration,
    /// Stop after this long without clients.
    pub exit_when_idle: Option<Duration>,
    /// `retryAfterMs` in `hostShuttingDown`.
    pub retry_after: Duration,
    draining: AtomicBool,
    /// Whether the idle timer runs (the Agones mode arms it only once the session is allocated).
    idle_armed: AtomicBool,
    /// Open `/ws` sessions (socket tasks), which outlive their hub entry during a close.
    sessions: AtomicUsize,
}

impl Lifecycle {
    pub fn new(
        liveness_bound: Duration,
        drain_timeout: Duration,
        exit_when_idle: Option<Duration>,
        retry_after: Duration,
    ) -> Self {
        Self {
            liveness_bound,
            drain_timeout,
            exit_when_idle,
            retry_after,
            draining: AtomicBool::new(false),
            idle_armed: AtomicBool::new(true),
            sessions: AtomicUsize::new(0),
        }
    }

    /// True from the stop signal on: `/ws` refuses new clients and `/healthz` answers 503.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    pub fn set_idle_armed(&self, armed: bool) {
        self.idle_armed.store(armed, Ordering::Release);
    }

    /// Counts an open `/ws` session until the guard drops.
    pub fn session(&self) -> SessionGuard<'_> {
        self.sessions.fetch_add(1, Ordering::AcqRel);
        SessionGuard(self)
    }

    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Acquire)
    }

    /// Resolves on SIGTERM, SIGINT, or when the idle timer runs out.
    pub async fn wait_for_stop(&self, runtime: &RuntimeHandle) -> StopReason {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                None
            }
        };
        let sigterm = async {
            match &mut term {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("SIGINT received; shutting down");
                StopReason::Sigint
            }
            _ = sigterm => {
                tracing::info!("SIGTERM received; draining");
                StopReason::Sigterm
            }
            reason = self.idle_timer(runtime) => reason,
        }
    }

    async fn idle_timer(&self, runtime: &RuntimeHandle) -> StopReason {
        let Some(limit) = self.exit_when_idle else { return std::future::pending().await };
        let mut idle_since: Option<Instant> = None;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let idle = runtime.hub.is_empty() && self.sessions() == 0 && self.idle_armed.load(Ordering::Acquire);
            if !idle {
                idle_since = None;
                continue;
            }
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= limit {
                tracing::info!(idle_s = limit.as_secs_f64(), "no clients for --exit-when-idle-s; shutting down");
                return StopReason::Idle;
            }
        }
    }

    /// Stops taking clients, sends every client `hostShuttingDown`, closes their connections and
    /// waits (at most [`CLOSE_GRACE`], within the drain deadline) for the closes to complete.
    /// Recordings would be finished here; the host has none yet.
    pub async fn drain(&self, runtime: &RuntimeHandle, reason: StopReason, deadline: Instant) {
        self.draining.store(true, Ordering::Release);
        let clients = runtime.hub.client_ids();
        tracing::info!(reason = reason.as_str(), clients = clients.len(), "draining: telling clients");
        let payload = ovhost_protocol::HostShuttingDownPayload {
            reason: reason.as_str().into(),
            retry_after_ms: self.retry_after.as_millis() as u64,
        };
        let payload = serde_json::to_value(&payload).unwrap_or(serde_json::Value::Null);
        let message = crate::protocol::encode("hostShuttingDown", &payload);
        for id in &clients {
            runtime.hub.send(*id, message.clone());
            // Dropping the hub entry closes the client's queues: its writer sends what is queued
            // (the notice included), then a WebSocket close.
            runtime.hub.disconnect(*id);
        }
        let grace = (Instant::now() + CLOSE_GRACE).min(deadline);
        while self.sessions() > 0 && Instant::now() < grace {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if self.sessions() > 0 {
            tracing::info!(open = self.sessions(), "clients did not complete the close in time; dropping them");
        } else {
            tracing::info!("drained: every client told and closed");
        }
    }
}

/// Decrements the session count on drop.
pub struct SessionGuard<'a>(&'a Lifecycle);

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Exits the process with [`EXIT_DRAIN_TIMEOUT`] if it is still running at `deadline`: the last
/// resort when something (a hung plugin, a stuck connection) holds the shutdown up.
pub fn exit_at(deadline: Instant) {
    let spawned = std::thread::Builder::new().name("ovhost-drain-deadline".into()).spawn(move || {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        tracing::error!("the drain did not finish within --drain-timeout-s; exiting anyway");
        std::process::exit(i32::from(EXIT_DRAIN_TIMEOUT));
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the drain deadline thread: {e}");
    }
}

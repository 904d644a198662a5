//! Runtime state and the status the HTTP threads read (`/healthz`, `/api/state`, `/api/plugins`).
//! Written by the render thread, read anywhere; nothing here blocks the render thread for long.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use serde_json::{Value, json};

/// The runtime's states, as the protocol names them (`starting`, `idle`, `loading`, `streaming`,
/// `error`, `shutting_down`).
pub use ovhost_protocol::RuntimeState;

/// What the rest of the process can see of the runtime.
pub struct SharedStatus {
    state: RwLock<RuntimeState>,
    first_frame_ready: AtomicBool,
    pub frames_rendered: AtomicU64,
    pub frames_dropped: AtomicU64,
    pub render_errors: AtomicU64,
    detail: RwLock<Value>,
    plugins: RwLock<Value>,
    /// Render-thread heartbeat for `/livez`: milliseconds after `created` of the last beat.
    created: Instant,
    heartbeat_ms: AtomicU64,
}

impl Default for SharedStatus {
    fn default() -> Self {
        Self {
            state: RwLock::new(RuntimeState::Starting),
            first_frame_ready: AtomicBool::new(false),
            frames_rendered: AtomicU64::new(0),
            frames_dropped: AtomicU64::new(0),
            render_errors: AtomicU64::new(0),
            detail: RwLock::new(json!({})),
            plugins: RwLock::new(json!({})),
            created: Instant::now(),
            heartbeat_ms: AtomicU64::new(0),
        }
    }
}

impl SharedStatus {
    pub fn state(&self) -> RuntimeState {
        *self.state.read()
    }

    pub fn set_state(&self, state: RuntimeState) {
        let mut current = self.state.write();
        if *current != state {
            tracing::info!(from = ?*current, to = ?state, "runtime state");
            *current = state;
        }
    }

    /// True once the first frame has been rendered and converted.
    pub fn is_ready(&self) -> bool {
        self.first_frame_ready.load(Ordering::Acquire)
    }

    pub fn mark_ready(&self) {
        self.first_frame_ready.store(true, Ordering::Release);
    }

    /// Called by the render thread every time round its loop (each frame and each inbound item).
    pub fn beat(&self) {
        self.heartbeat_ms.store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Time since the render thread last went round its loop (since creation before the first).
    pub fn heartbeat_age(&self) -> Duration {
        let last = Duration::from_millis(self.heartbeat_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    /// Render-thread-owned facts (stage, renderer, camera, sinks) for `/api/state`.
    pub fn set_detail(&self, detail: Value) {
        *self.detail.write() = detail;
    }

    pub fn set_plugins(&self, plugins: Value) {
        *self.plugins.write() = plugins;
    }

    pub fn plugins(&self) -> Value {
        self.plugins.read().clone()
    }

    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "state": self.state(),
            "ready": self.is_ready(),
            "frames_rendered": self.frames_rendered.load(Ordering::Relaxed),
            "frames_dropped": self.frames_dropped.load(Ordering::Relaxed),
            "render_errors": self.render_errors.load(Ordering::Relaxed),
            "host_version": env!("CARGO_PKG_VERSION"),
            "plugin_api_version": ovhost_plugin_api::API_VERSION,
        });
        if let (Value::Object(target), Value::Object(detail)) = (&mut value, self.detail.read().clone()) {
            target.extend(detail);
        }
        value
    }
}

//! `--agones`: the host as an Agones GameServer, through the Agones SDK (the `agones` crate, gRPC
//! to the SDK sidecar on `localhost:$AGONES_SDK_GRPC_PORT`, default 9357).
//!
//! - `Ready` once the first frame has been rendered and converted (`/healthz` turns 200).
//! - `Health` every second while the render thread's heartbeat is within `--liveness-timeout-s`;
//!   a stalled render thread stops the pings and Agones marks the GameServer Unhealthy.
//! - Watches the GameServer: when it becomes `Allocated` with an `ovhost.dev/stage` annotation
//!   (set by the GameServerAllocation's `metadata.annotations`), opens that stage (relative to
//!   `--asset-root`, as `openStageRequest` would).
//! - `Allocate` when the first client connects while the GameServer is not allocated yet (a client
//!   that got the address some other way).
//! - The idle timer (`--exit-when-idle-s`) runs only once the GameServer is allocated, so warm
//!   Ready servers wait for their user; on idle exit the host calls `Shutdown`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use crate::lifecycle::Lifecycle;
use crate::runtime::RuntimeHandle;
use crate::runtime::inbound::Inbound;

/// The annotation naming the stage a session opens.
pub const STAGE_ANNOTATION: &str = "ovhost.dev/stage";
/// Health ping interval (Agones' default health period is 5 s).
const HEALTH_EVERY: Duration = Duration::from_secs(1);

/// The SDK connection and what the host knows of its GameServer.
pub struct AgonesSession {
    sdk: Mutex<Option<agones::Sdk>>,
    allocated: AtomicBool,
    /// Set at `Shutdown`: no more Health pings.
    stopping: AtomicBool,
}

impl AgonesSession {
    /// Connects to the sidecar and starts the lifecycle tasks on the current tokio runtime.
    pub fn start(runtime: RuntimeHandle, lifecycle: Arc<Lifecycle>) -> Arc<Self> {
        let session = Arc::new(Self {
            sdk: Mutex::new(None),
            allocated: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
        });
        // Warm, unallocated servers must not end themselves.
        lifecycle.set_idle_armed(false);
        let task = session.clone();
        tokio::spawn(async move { task.run(runtime, lifecycle).await });
        session
    }

    async fn run(self: Arc<Self>, runtime: RuntimeHandle, lifecycle: Arc<Lifecycle>) {
        let sdk = match agones::Sdk::new(None, None).await {
            Ok(sdk) => sdk,
            Err(e) => {
                let port = std::env::var("AGONES_SDK_GRPC_PORT").unwrap_or_else(|_| "9357".into());
                tracing::error!(
                    "agones: cannot reach the SDK sidecar on localhost:{port}: {e}; the GameServer will not become Ready"
                );
                return;
            }
        };
        tracing::info!("agones: connected to the SDK sidecar");
        *self.sdk.lock().await = Some(sdk.clone());

        // Watch the GameServer for allocation and its stage annotation.
        let watcher = self.clone();
        let (watch_runtime, watch_lifecycle, mut watch_sdk) = (runtime.clone(), lifecycle.clone(), sdk.clone());
        tokio::spawn(async move {
            match watch_sdk.watch_gameserver().await {
                Ok(mut stream) => {
                    let mut opened: Option<String> = None;
                    loop {
                        match stream.message().await {
                            Ok(Some(gs)) => watcher.on_update(&gs, &watch_runtime, &watch_lifecycle, &mut opened),
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!("agones: GameServer watch failed: {e}");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!("agones: cannot watch the GameServer: {e}"),
            }
        });

        // Ready after the first frame.
        while !runtime.status.is_ready() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        match self.call(|mut sdk| async move { sdk.ready().await }).await {
            Ok(()) => tracing::info!("agones: GameServer marked Ready"),
            Err(e) => tracing::error!("agones: Ready failed: {e}"),
        }

        // Health pings from the render thread's heartbeat, from Ready on.
        let health = sdk.health_check();
        let (status, bound, pinger) = (runtime.status.clone(), lifecycle.liveness_bound, self.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEALTH_EVERY).await;
                if pinger.stopping.load(Ordering::Acquire) {
                    return;
                }
                if status.heartbeat_age() > bound {
                    tracing::warn!("agones: render thread stalled; withholding Health pings");
                    continue;
                }
                if health.send(()).await.is_err() {
                    tracing::warn!("agones: the health stream closed");
                    return;
                }
            }
        });

        // Allocated on the first client when no allocation came first.
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if self.allocated.load(Ordering::Acquire) {
                return;
            }
            if !runtime.hub.is_empty() || lifecycle.sessions() > 0 {
                self.mark_allocated(&lifecycle, "a client connected");
                match self.call(|mut sdk| async move { sdk.allocate().await }).await {
                    Ok(()) => tracing::info!("agones: GameServer marked Allocated (first client)"),
                    Err(e) => tracing::error!("agones: Allocate failed: {e}"),
                }
                return;
            }
        }
    }

    fn mark_allocated(&self, lifecycle: &Lifecycle, why: &str) -> bool {
        let first = !self.allocated.swap(true, Ordering::AcqRel);
        if first {
            tracing::info!("agones: allocated ({why}); idle timer armed");
            lifecycle.set_idle_armed(true);
        }
        first
    }

    fn on_update(
        &self,
        gs: &agones::GameServer,
        runtime: &RuntimeHandle,
        lifecycle: &Lifecycle,
        opened: &mut Option<String>,
    ) {
        let state = gs.status.as_ref().map(|s| s.state.as_str()).unwrap_or("");
        tracing::debug!(state, "agones: GameServer update");
        if state != "Allocated" {
            return;
        }
        self.mark_allocated(lifecycle, "GameServer state is Allocated");
        let stage = gs.object_meta.as_ref().and_then(|m| m.annotations.get(STAGE_ANNOTATION)).cloned();
        let Some(stage) = stage.filter(|s| !s.trim().is_empty()) else { return };
        if opened.as_deref() == Some(stage.as_str()) {
            return;
        }
        tracing::info!(stage = %stage, "agones: opening the stage from the {STAGE_ANNOTATION} annotation");
        let envelope = crate::protocol::Envelope {
            event_type: "openStageRequest".into(),
            payload: serde_json::json!({ "url": stage }),
            wire_bytes: 0,
        };
        // Client 0 is no connection: the request goes through the stock handler like a client's,
        // its reply goes nowhere, and `stageOpened` reaches every client.
        if runtime.try_send(Inbound::Message { client: 0, envelope }) {
            *opened = Some(stage);
        } else {
            tracing::warn!("agones: render thread queue full; stage open dropped");
        }
    }

    /// Runs one SDK call if connected.
    async fn call<F, Fut>(&self, f: F) -> Result<(), String>
    where
        F: FnOnce(agones::Sdk) -> Fut,
        Fut: std::future::Future<Output = agones::errors::Result<()>>,
    {
        let sdk = self.sdk.lock().await.clone().ok_or("not connected to the SDK sidecar")?;
        f(sdk).await.map_err(|e| e.to_string())
    }

    /// `Shutdown`: the session is over (idle exit); Agones deletes the pod.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
        match self.call(|mut sdk| async move { sdk.shutdown().await }).await {
            Ok(()) => tracing::info!("agones: GameServer marked Shutdown"),
            Err(e) => tracing::error!("agones: Shutdown failed: {e}"),
        }
    }
}

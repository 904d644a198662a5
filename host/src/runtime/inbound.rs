//! What the render thread receives: [`Inbound`] items posted by the I/O threads (`/ws`, Agones),
//! the sinks' own clients (WebRTC, ovstream) and the stage loader thread, in one bounded queue.
//!
//! Owns no state. Every runtime file that produces or consumes work for the render thread imports
//! this module, and this module imports none of them but the hub's client id, so the runtime's
//! files do not import each other in a circle.

use ovhost_stage::{OpenedStage, StageError};

use super::hub::ClientId;
use crate::protocol::Envelope;

/// Work for the render thread.
pub enum Inbound {
    Connected(ClientId),
    Disconnected(ClientId),
    Message {
        client: ClientId,
        envelope: Envelope,
    },
    Input {
        client: ClientId,
        events: Vec<ovhost_plugin_api::InputEvent>,
        seq: Option<u32>,
    },
    /// A stage load finished on the loader thread.
    StageLoaded(Box<LoadResult>),
    Shutdown,
}

/// Why a load was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadReason {
    Open,
    Reload,
    Variant,
}

/// A finished load, posted by the loader thread to the render thread.
pub struct LoadResult {
    pub request_id: u64,
    pub url: String,
    pub reason: LoadReason,
    pub result: Result<OpenedStage, StageError>,
}

//! What the render thread receives: [`Inbound`] items posted by the I/O threads (`/ws`, Agones),
//! the sinks' own clients (WebRTC, ovstream) and the stage loader thread, in one bounded queue.
//!
//! Owns no state. Every runtime file that produces or consumes work for the render thread imports
//! this module, and this module imports none of them but the hub's client id, so the runtime's
//! files do not import each other in a circle.

use std::collections::BTreeMap;

use ovhost_plugin_api::{Bounds, PluginError};
use ovhost_stage::{ChildRow, OpenedStage, Properties, StageError, VariantSet};

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
    /// The stage query thread answered a question a parked message asked.
    StageAnswer(StageAnswer),
    /// Textures of the loaded stage decoded after it (the loader streams them in batches).
    StageTextures(Box<ovhost_stage::TextureBatch>),
    Shutdown,
}

/// What kind of item this is, for timings: a message's event type, or the variant.
pub fn inbound_kind(item: &Inbound) -> std::borrow::Cow<'static, str> {
    match item {
        Inbound::Connected(_) => "connected".into(),
        Inbound::Disconnected(_) => "disconnected".into(),
        Inbound::Message { envelope, .. } => envelope.event_type.clone().into(),
        Inbound::Input { .. } => "input".into(),
        Inbound::StageLoaded(_) => "stage loaded".into(),
        Inbound::StageAnswer(_) => "stage answer".into(),
        Inbound::StageTextures(_) => "stage textures".into(),
        Inbound::Shutdown => "shutdown".into(),
    }
}

/// What an item costs in the inbound queue's byte budget (`ClientHub::reserve_inbound`): the
/// text a message was parsed from, and a fixed size per input event. Items the host makes cost 0.
pub fn inbound_cost(item: &Inbound) -> usize {
    match item {
        Inbound::Message { envelope, .. } => envelope.wire_bytes,
        Inbound::Input { events, .. } => events.len().max(1) * std::mem::size_of::<ovhost_plugin_api::InputEvent>(),
        _ => 0,
    }
}

/// The client an item came from (0 for items the host makes).
pub fn inbound_client(item: &Inbound) -> ClientId {
    match item {
        Inbound::Message { client, .. } | Inbound::Input { client, .. } => *client,
        _ => 0,
    }
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
    /// A variant change: the selected prims that exist in the new composition.
    pub kept: Vec<String>,
    /// Answers fetched in the same trip as the load (the root prim's children; for a variant
    /// change, the prim's variant sets): what host events ask about a new stage.
    pub prefetched: Vec<(Query, Answer)>,
}

/// A question about the loaded stage for the stage query thread (also the key its answer is
/// kept under until the message that asked has used it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Query {
    Children(String),
    /// Prim path and the answer's byte cap.
    Properties(String, usize),
    Variants(String),
    /// World bounds of the union of these prims.
    Bounds(Vec<String>),
    /// Which of these paths name prims (one worker round trip).
    Existing(Vec<String>),
    /// USD files under the asset root.
    Scenes,
}

/// What the query thread answers, one variant per [`Query`] variant.
#[derive(Clone, Debug)]
pub enum Answer {
    Children(Vec<ChildRow>),
    Properties(Properties),
    Variants(BTreeMap<String, VariantSet>),
    Bounds(Bounds),
    Existing(Vec<String>),
    Scenes(Vec<String>),
}

/// An answer posted by the stage query thread for the question with this ticket.
pub struct StageAnswer {
    pub ticket: u64,
    pub result: Result<Answer, PluginError>,
}

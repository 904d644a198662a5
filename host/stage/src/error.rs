//! The stage service's error type: one variant per thing a caller can act on differently.

use std::path::PathBuf;

/// What went wrong while resolving, opening or querying a stage. Every message is a sentence a
/// user can act on; [`StageError::code`] gives a stable short name for the viewer protocol.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The URL was refused before touching the file system (scheme, escape, encoding).
    #[error("refused to open '{url}': {reason}")]
    Refused { url: String, reason: String },
    /// The resolved file does not exist.
    #[error("no USD file at '{url}' under the asset root")]
    NotFound { url: String },
    /// The parser reported an error (not USD, truncated, bad composition).
    #[error("could not open '{url}': {message}")]
    OpenFailed { url: String, message: String },
    /// A query named a prim or variant that is not on the current stage.
    #[error("{0}")]
    NoSuchPrim(String),
    /// A query arrived before any stage was opened.
    #[error("no stage is open; open a stage first")]
    NoStage,
    /// The worker process died (e.g. stack overflow in the parser) while doing `action`.
    #[error("the USD parser crashed while {action}: {detail}")]
    WorkerCrashed { action: String, detail: String },
    /// The worker took longer than allowed and was stopped.
    #[error("the USD parser did not answer within {timeout_ms} ms while {action}; it was stopped")]
    WorkerTimedOut { action: String, timeout_ms: u64 },
    /// A newer request cancelled the call in flight (the worker was stopped).
    #[error("cancelled while {action}: a newer request replaced it")]
    Cancelled { action: String },
    /// The worker could not be started at all.
    #[error("could not start the USD worker process '{program}': {source}")]
    Spawn { program: String, source: std::io::Error },
    /// The asset root itself is unusable.
    #[error("the asset root '{}' is not a readable directory: {reason}", path.display())]
    BadAssetRoot { path: PathBuf, reason: String },
    /// The worker answered something this client does not understand (a bug or version skew).
    #[error("the USD worker broke the protocol: {0}")]
    Protocol(String),
}

impl StageError {
    /// A short stable name, for `viewerError.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "refused",
            Self::NotFound { .. } => "not_found",
            Self::OpenFailed { .. } => "open_failed",
            Self::NoSuchPrim(_) => "no_such_prim",
            Self::NoStage => "no_stage",
            Self::WorkerCrashed { .. } => "parser_crashed",
            Self::WorkerTimedOut { .. } => "parser_timeout",
            Self::Cancelled { .. } => "cancelled",
            Self::Spawn { .. } => "worker_spawn_failed",
            Self::BadAssetRoot { .. } => "bad_asset_root",
            Self::Protocol(_) => "internal",
        }
    }

    pub(crate) fn refused(url: &str, reason: impl Into<String>) -> Self {
        Self::Refused { url: url.to_owned(), reason: reason.into() }
    }
}

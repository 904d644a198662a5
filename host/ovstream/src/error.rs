//! The crate's error type: every failure says what is missing or what went wrong and how to fix it.

use std::path::PathBuf;

use crate::ffi::types::ApiStatus;

/// Where to get the libraries, repeated in every "not found" message.
pub const FETCH_HINT: &str =
    "run scripts/ovstream/fetch.sh or set OVSTREAM_LIB_PATH to the directory holding libovstream.so";

#[derive(Debug, thiserror::Error)]
pub enum OvstreamError {
    /// No candidate path held the library.
    #[error("{library} was not found (looked in: {searched}); {FETCH_HINT}")]
    LibraryNotFound { library: &'static str, searched: String },

    /// `OVSTREAM_LIB_PATH` is set but none of its entries resolves (a hard error, no fallback).
    #[error(
        "OVSTREAM_LIB_PATH={value} does not name {library} or a directory containing it; fix the variable or unset it"
    )]
    BadLibPath { library: &'static str, value: String },

    /// The NVIDIA driver's `libcuda.so.1` is absent, so the library cannot be loaded at all.
    #[error(
        "{library} needs the NVIDIA driver (libcuda.so.1), which is not installed on this machine; \
         run on a machine with an NVIDIA GPU and driver, or use the built-in web sink ({path}: {detail})"
    )]
    DriverMissing { library: &'static str, path: PathBuf, detail: String },

    /// A system library other than the driver is missing (e.g. libatomic.so.1).
    #[error("{library} could not be loaded from {path}: {detail}{hint}")]
    LoadFailed { library: &'static str, path: PathBuf, detail: String, hint: &'static str },

    /// The library lacks a symbol these bindings need: it is older than 0.5.7.
    #[error("{path} has no symbol {symbol}: the library is older than these bindings (ovstream 0.5.7); {FETCH_HINT}")]
    MissingSymbol { path: PathBuf, symbol: &'static str },

    /// `ovstream_get_version` reported another version.
    #[error("{path} is ovstream {found}, but these bindings are for 0.5.7; {FETCH_HINT}")]
    VersionMismatch { path: PathBuf, found: String },

    /// An ovstream call returned a non-SUCCESS status.
    #[error("{function} failed with {}: {}", status.name(), if detail.is_empty() { "no detail from the library (see the ovstream log)" } else { detail.as_str() })]
    Call { function: &'static str, status: ApiStatus, detail: String },

    /// The sink configuration or a frame does not fit the transport.
    #[error("{0}")]
    Invalid(String),

    /// The operation is not available on this transport.
    #[error("{0}")]
    Unsupported(String),

    /// No client is connected, so an outbound message was not sent (transient: log at debug and
    /// push state again on the next `Connected`).
    #[error("no ovstream client is connected; the message was not sent")]
    NotConnected,

    /// A CUDA runtime call (used to stage host frames on the GPU) failed.
    #[error("CUDA: {0}")]
    Cuda(String),
}

impl OvstreamError {
    /// True for the failures that are normal while no client is connected or during a disconnect
    /// race (callers log these at debug level and carry on).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::NotConnected)
            || matches!(self, Self::Call { status, .. } if *status == ApiStatus::INVALID_STATE || *status == ApiStatus::TIMEOUT)
            || matches!(self, Self::Call { status, detail, .. } if *status == ApiStatus::ERROR
                && (detail.contains("no client") || detail.contains("not playing")))
    }

    /// The ovstream status code, for call failures.
    pub fn status(&self) -> Option<ApiStatus> {
        match self {
            Self::Call { status, .. } => Some(*status),
            _ => None,
        }
    }
}

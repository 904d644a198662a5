//! The one error type that crosses the plugin boundary.

use abi_stable::{StableAbi, std_types::RString};
use std::fmt;

/// What went wrong, as a stable code. New codes may be appended; unknown codes must be treated
/// as [`ErrorKind::INTERNAL`].
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorKind(pub u32);

impl ErrorKind {
    /// The input (message payload, setting value, frame) was malformed or out of range.
    pub const INVALID_INPUT: Self = Self(1);
    /// A named thing (prim, setting, AOV, service) does not exist.
    pub const NOT_FOUND: Self = Self(2);
    /// The operation is not supported by this implementation.
    pub const UNSUPPORTED: Self = Self(3);
    /// A resource this plugin needs (GPU, driver, library) is not available on this machine.
    pub const UNAVAILABLE: Self = Self(4);
    /// The plugin failed for its own reasons.
    pub const INTERNAL: Self = Self(5);
    /// The plugin panicked; the panic was caught on the plugin side of the boundary.
    pub const PANIC: Self = Self(6);
    /// The operation is not allowed in the current state (e.g. no stage loaded).
    pub const BAD_STATE: Self = Self(7);

    /// A short stable name, used in logs and in `viewerError.code`.
    pub fn name(self) -> &'static str {
        match self {
            Self::INVALID_INPUT => "invalid_input",
            Self::NOT_FOUND => "not_found",
            Self::UNSUPPORTED => "unsupported",
            Self::UNAVAILABLE => "unavailable",
            Self::PANIC => "plugin_panic",
            Self::BAD_STATE => "bad_state",
            _ => "internal",
        }
    }
}

impl fmt::Debug for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error returned by a plugin (or by the host to a plugin).
#[repr(C)]
#[derive(StableAbi, Clone, PartialEq, Eq)]
pub struct PluginError {
    pub kind: ErrorKind,
    pub message: RString,
}

impl PluginError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: RString::from(message.into()) }
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::INVALID_INPUT, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NOT_FOUND, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UNSUPPORTED, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UNAVAILABLE, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::INTERNAL, message)
    }
    pub fn bad_state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BAD_STATE, message)
    }
    pub fn is_panic(&self) -> bool {
        self.kind == ErrorKind::PANIC
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for PluginError {}

impl From<serde_json::Error> for PluginError {
    fn from(e: serde_json::Error) -> Self {
        Self::invalid_input(format!("invalid JSON: {e}"))
    }
}

/// Result alias used by the ergonomic (plugin-author-facing) traits.
pub type PluginResult<T> = Result<T, PluginError>;

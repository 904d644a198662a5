//! Typed plugin load failures. Each message names the file, the plugin (when known), the
//! versions involved and what to do about it.

use std::path::PathBuf;

use serde::Serialize;

/// Why a plugin (or one of its objects) could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadErrorKind {
    /// The file does not exist or could not be read.
    FileNotFound,
    /// The file is not a loadable shared library, or one of its dependencies is missing.
    OpenFailed,
    /// The library loads, but a symbol it needs is undefined.
    MissingSymbol,
    /// The library is not an ovhost plugin (no ovhost root module).
    NotAPlugin,
    /// Built against an incompatible plugin API version.
    IncompatibleApiVersion,
    /// The plugin's `register` returned an error.
    ConstructorError,
    /// The plugin's `register` panicked.
    ConstructorPanic,
    /// An id (or a handled `event_type`) was registered twice.
    DuplicateId,
}

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct PluginLoadError {
    pub kind: LoadErrorKind,
    /// The library file, or `builtin:<crate>` for built-ins.
    #[serde(rename = "source")]
    pub origin: String,
    /// The plugin's name when it could be read.
    pub plugin: Option<String>,
    pub message: String,
}

impl PluginLoadError {
    pub fn new(kind: LoadErrorKind, source: impl Into<String>, plugin: Option<String>, message: String) -> Self {
        Self { kind, origin: source.into(), plugin, message }
    }

    pub fn file(kind: LoadErrorKind, path: &std::path::Path, message: String) -> Self {
        Self::new(kind, path.display().to_string(), None, message)
    }
}

/// A plugin file the loader was asked to load.
#[derive(Debug, Clone)]
pub struct PluginFile {
    pub path: PathBuf,
}

//! Plugins: the registry of every object the host can create, and the loader for external
//! plugin libraries.

pub mod error;
pub mod loader;
pub mod registry;

pub use error::{LoadErrorKind, PluginLoadError};
pub use registry::{Registered, Registry};

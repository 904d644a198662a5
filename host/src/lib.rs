//! # ovhost
//!
//! The host: plugin registry, runtime and render loop, stream sinks, HTTP/WebSocket server and
//! CLI. `docs/ARCHITECTURE.md` maps each component to its file.

pub mod agones;
pub mod app;
pub mod builtins;
pub mod cli;
mod fuzz;
pub mod http;
pub mod lifecycle;
pub mod logging;
pub mod metrics;
pub mod plugins;
pub mod protocol;
pub mod runtime;

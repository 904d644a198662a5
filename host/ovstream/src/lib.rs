//! # ovhost-ovstream
//!
//! The host's binding to NVIDIA ovstream 0.5.7 and the ovstream sink.
//!
//! **The one rule:** libovstream is loaded at run time (`libloading`) from `OVSTREAM_LIB_PATH` or
//! `third_party/ovstream/ovstream` (run `scripts/ovstream/fetch.sh`), and it needs the NVIDIA
//! driver (`libcuda.so.1`): on a machine without one, [`OvstreamSink::start`] fails fast with
//! [`OvstreamError::DriverMissing`], and the host should fall back to its built-in web sink.
//!
//! - [`ffi`]: `#[repr(C)]` mirrors of the 0.5.7 ABI and the resolved function tables.
//! - [`OvstreamSink`]: start / accepts / submit / send_app_message / poll_events / stop.
//! - [`messaging`]: browser frame unwrap/wrap and the `ovstream_utils.messaging` chunking codec.
//! - [`input`]: ovstream input events → `ovhost_plugin_api::InputEvent`.

mod callbacks;
pub mod config;
pub mod error;
pub mod ffi;
pub mod input;
pub mod locate;
pub mod messaging;
pub mod nvenc;
pub mod sink;
pub mod testpattern;

pub use config::{ClientPolicy, IceServerConfig, SinkConfig, Transport, VideoInput};
pub use error::OvstreamError;
pub use nvenc::nvenc_available;
pub use sink::{OvstreamSink, ResolvedInput, SinkEvent, SinkStats, monotonic_us, resolve_video_input};

/// Checks that ovstream can be loaded here (library found, driver present, version 0.5.7)
/// without starting anything.
pub fn probe_library() -> Result<std::path::PathBuf, OvstreamError> {
    ffi::server::ServerApi::get().map(|api| api.path.clone())
}

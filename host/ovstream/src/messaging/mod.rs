//! App messages on ovstream sinks: the browser library's wire frame (unwrap/wrap) and the
//! `ovstream_utils.messaging` chunking convention (reference/ovstream.md §11.3) for messages over
//! the transport limit, with a reassembler for the inbound direction.

pub mod chunking;
pub mod frame;
pub mod reassembly;

pub use chunking::{DEFAULT_PART_SIZE_BYTES, TRANSPORT_LIMIT_BYTES, embedded_size, encode_envelope, encode_parts};
pub use frame::{unwrap_browser_frame, wrap_app_frame};
pub use reassembly::{Inbound, Reassembler, ReassemblyLimits};

/// Why an outbound message could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessagingError {
    #[error("app message is not a JSON object with a string event_type: {0}")]
    BadEnvelope(String),
    #[error(
        "app message does not fit one transport message ({size_bytes} > {limit_bytes} bytes) and splitting is disabled"
    )]
    TooLarge { size_bytes: usize, limit_bytes: usize },
    #[error("event_type {0:?} leaves no room for payload in one transport message")]
    NoRoom(String),
}

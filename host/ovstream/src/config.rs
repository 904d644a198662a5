//! What a host asks of an ovstream sink: transport, size, rate, network, naming, input mode,
//! client policy and message options.

use std::str::FromStr;

use crate::ffi::types::server_type;

/// The five ovstream transports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    WebRtc,
    Native,
    Rtsp,
    Shm,
    CudaShm,
}

impl Transport {
    pub const ALL: [Transport; 5] = [Self::WebRtc, Self::Native, Self::Rtsp, Self::Shm, Self::CudaShm];

    /// The CLI name (`ovstream-webrtc`, …).
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::WebRtc => "ovstream-webrtc",
            Self::Native => "ovstream-native",
            Self::Rtsp => "ovstream-rtsp",
            Self::Shm => "ovstream-shm",
            Self::CudaShm => "ovstream-cudashm",
        }
    }

    pub(crate) fn server_type(self) -> i32 {
        match self {
            Self::WebRtc => server_type::WEBRTC,
            Self::Native => server_type::NATIVE,
            Self::Rtsp => server_type::RTSP,
            Self::Shm => server_type::SHM,
            Self::CudaShm => server_type::CUDASHM,
        }
    }

    /// WebRTC and native: one StreamSDK session, one client, app messages, ICE.
    pub fn is_streamsdk(self) -> bool {
        matches!(self, Self::WebRtc | Self::Native)
    }

    /// SHM and CUDASHM: same-machine readers, raw frames only.
    pub fn is_shared_memory(self) -> bool {
        matches!(self, Self::Shm | Self::CudaShm)
    }
}

impl FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bare = s.strip_prefix("ovstream-").unwrap_or(s);
        Self::ALL.into_iter().find(|t| t.cli_name().trim_start_matches("ovstream-") == bare).ok_or_else(|| {
            format!(
                "unknown ovstream transport {s:?}; expected one of {}",
                Self::ALL.map(Transport::cli_name).join(", ")
            )
        })
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cli_name())
    }
}

/// What kind of frames the sink feeds ovstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VideoInput {
    /// Raw BGRA8 CUDA frames where NVENC exists (and always on SHM/CUDASHM), pre-encoded H.264
    /// on WebRTC/native/RTSP where it does not.
    #[default]
    Auto,
    /// Raw BGRA8 frames in CUDA memory (needs NVENC on WebRTC/native/RTSP).
    RawCuda,
    /// Pre-encoded Annex-B H.264 access units in host memory (WebRTC/native/RTSP only).
    H264,
}

/// What happens when a second client connects to a WebRTC/native server (one client each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientPolicy {
    /// Keep the connected client; refuse the newcomer at signaling.
    #[default]
    RejectNew,
    /// Let the newcomer take over the session.
    ReplaceOld,
}

/// One ICE server entry (WebRTC/native).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceServerConfig {
    /// One URL or a comma-separated list (`stun:`, `stuns:`, `turn:`, `turns:`).
    pub urls: String,
    pub username: String,
    pub credential: String,
}

#[derive(Clone, Debug)]
pub struct SinkConfig {
    pub transport: Transport,
    pub width: u32,
    pub height: u32,
    pub fps: u16,
    /// Media port; 0 = transport default (RTSP 8554, WebRTC 47998, native 47999).
    pub stream_port: u16,
    /// WebRTC/native signaling TCP port.
    pub signaling_port: u16,
    /// Fixed public IP advertised to WebRTC clients (disables ICE); empty = ICE discovery.
    pub public_ip: String,
    pub ice_servers: Vec<IceServerConfig>,
    /// RTSP URL path.
    pub rtsp_mount: String,
    /// SHM/CUDASHM stream name (≤ 63 bytes); empty = `ovstream-<pid>`.
    pub shm_name: String,
    /// Ring depth for SHM/CUDASHM; 0 = ovstream default.
    pub shm_slot_count: u32,
    /// GPU holding the frames; negative = backend default.
    pub cuda_device: i32,
    pub video_input: VideoInput,
    pub client_policy: ClientPolicy,
    /// Send app messages inside the browser library's `{messageRecipient, messageType, data}`
    /// frame (via `send_app_message` on WebRTC/native; wrapped by us on SHM/CUDASHM).
    pub wrap_outbound: bool,
    /// Wire-byte budget per outbound message before splitting (`None` = never split). Default
    /// 65535: only messages over the 64 KiB transport limit are split.
    pub message_part_size_bytes: Option<usize>,
    /// Capacity of the callback → host event queue; events beyond it are dropped and counted.
    pub event_queue_capacity: usize,
    /// Minimum severity ovstream logs (`ffi::types::log_level`); only the first initialize
    /// in a process sets it.
    pub log_level: i32,
}

impl SinkConfig {
    /// Defaults for a transport: 1920×1080 @ 60, signaling 49100, mount `/stream`, name `ovhost`.
    pub fn new(transport: Transport) -> Self {
        Self {
            transport,
            width: 1920,
            height: 1080,
            fps: 60,
            stream_port: 0,
            signaling_port: 49100,
            public_ip: String::new(),
            ice_servers: Vec::new(),
            rtsp_mount: "/stream".into(),
            shm_name: "ovhost".into(),
            shm_slot_count: 0,
            cuda_device: -1,
            video_input: VideoInput::Auto,
            client_policy: ClientPolicy::RejectNew,
            wrap_outbound: true,
            message_part_size_bytes: Some(crate::messaging::TRANSPORT_LIMIT_BYTES),
            event_queue_capacity: 4096,
            log_level: crate::ffi::types::log_level::INFO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_names_round_trip() {
        for t in Transport::ALL {
            assert_eq!(t.cli_name().parse::<Transport>(), Ok(t));
        }
        assert_eq!("shm".parse::<Transport>(), Ok(Transport::Shm));
        let err = "ovstream-udp".parse::<Transport>().expect_err("unknown");
        assert!(err.contains("ovstream-cudashm"), "{err}");
    }
}

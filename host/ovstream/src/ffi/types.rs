//! `#[repr(C)]` mirrors of the ovstream 0.5.7 C ABI (reference/ovstream.md §3–§4), with layout
//! tests against the offsets read from the 0.5.7 binaries. Enums that cross into Rust are `i32`
//! newtypes: an unknown value must never be undefined behaviour.

use std::ffi::{c_char, c_void};

/// `ovstream_string_t`: a borrowed UTF-8 view (`ptr`, `length`), passed by value.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OvString {
    pub ptr: *const c_char,
    pub length: usize,
}

impl OvString {
    /// The empty view ("unset / use default" in config fields).
    pub const EMPTY: Self = Self { ptr: std::ptr::null(), length: 0 };

    /// A view over `s`; the caller keeps `s` alive for as long as the SDK reads the view.
    pub fn borrow(s: &str) -> Self {
        if s.is_empty() { Self::EMPTY } else { Self { ptr: s.as_ptr().cast(), length: s.len() } }
    }

    /// Copies an SDK-owned view into an owned `String` (lossy for invalid UTF-8).
    ///
    /// # Safety
    /// `ptr` must point at `length` readable bytes (or be NULL with `length == 0`).
    pub unsafe fn to_string_lossy(self) -> String {
        if self.ptr.is_null() || self.length == 0 {
            return String::new();
        }
        // SAFETY: guaranteed by the caller.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.length) };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `ovstream_result_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OvResult {
    pub status: ApiStatus,
}

#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiStatus(pub i32);

impl ApiStatus {
    pub const SUCCESS: Self = Self(0);
    pub const ERROR: Self = Self(1);
    pub const TIMEOUT: Self = Self(2);
    pub const INVALID_ARGUMENT: Self = Self(3);
    pub const INVALID_STATE: Self = Self(4);
    pub const NOT_SUPPORTED: Self = Self(5);

    pub fn name(self) -> &'static str {
        match self {
            Self::SUCCESS => "SUCCESS",
            Self::ERROR => "ERROR",
            Self::TIMEOUT => "TIMEOUT",
            Self::INVALID_ARGUMENT => "INVALID_ARGUMENT",
            Self::INVALID_STATE => "INVALID_STATE",
            Self::NOT_SUPPORTED => "NOT_SUPPORTED",
            _ => "UNKNOWN_STATUS",
        }
    }
}

/// `ovstream_log_level_t`.
pub mod log_level {
    pub const DEFAULT: i32 = 0;
    pub const VERBOSE: i32 = 1;
    pub const INFO: i32 = 2;
    pub const WARNING: i32 = 3;
    pub const ERROR: i32 = 4;
    pub const NONE: i32 = 5;
}

/// `ovstream_server_type_t`.
pub mod server_type {
    pub const WEBRTC: i32 = 0;
    pub const NATIVE: i32 = 1;
    pub const RTSP: i32 = 2;
    pub const SHM: i32 = 3;
    pub const CUDASHM: i32 = 4;
}

/// `ovstream_video_input_t`.
pub mod video_input {
    pub const CUDA: i32 = 0;
    pub const TENSOR: i32 = 1;
    pub const CUSTOM: i32 = 2;
    pub const H264: i32 = 3;
    pub const H265: i32 = 4;
    pub const AV1: i32 = 5;
}

/// `ovstream_client_type_t`.
pub mod client_type {
    pub const SHM: i32 = 0;
    pub const CUDASHM: i32 = 1;
    pub const NATIVE: i32 = 2;
}

/// `ovstream_input_event_type_t`.
pub mod input_type {
    pub const KEYBOARD: i32 = 0;
    pub const MOUSE: i32 = 1;
    pub const GAMEPAD: i32 = 2;
    pub const TOUCH: i32 = 3;
}

/// `ovstream_key_state_t` (keys and mouse buttons).
pub mod key_state {
    pub const UP: i32 = 0;
    pub const DOWN: i32 = 1;
}

/// `ovstream_mouse_event_type_t`.
pub mod mouse_type {
    pub const MOVE: i32 = 0;
    pub const WHEEL: i32 = 1;
    pub const BUTTON: i32 = 2;
}

/// `ovstream_mouse_button_t`.
pub mod mouse_button {
    pub const NONE: i32 = 0;
    pub const LEFT: i32 = 1;
    pub const MIDDLE: i32 = 2;
    pub const RIGHT: i32 = 3;
    pub const EXTRA1: i32 = 4;
    pub const EXTRA2: i32 = 5;
}

/// `ovstream_touch_phase_t`.
pub mod touch_phase {
    pub const UNKNOWN: i32 = 0;
    pub const DOWN: i32 = 1;
    pub const UP: i32 = 2;
    pub const MOVE: i32 = 3;
    pub const CANCEL: i32 = 4;
}

/// Modifier bits on keyboard, mouse and high-level touch events.
pub mod modifier {
    pub const SHIFT: u16 = 0x01;
    pub const CONTROL: u16 = 0x02;
    pub const ALT: u16 = 0x04;
    pub const SUPER: u16 = 0x08;
    pub const CAPS_LOCK: u16 = 0x10;
    pub const NUM_LOCK: u16 = 0x20;
}

/// The only pixel format ovstream knows (`ovstream_frame_t.format`).
pub const PIXEL_FORMAT_BGRA8: u32 = 1;
/// Maximum touch points per event.
pub const MAX_TOUCH_POINTS: usize = 11;

/// `ovstream_log_callback_t` (note: message before channel).
pub type LogCallback = Option<unsafe extern "C" fn(i32, OvString, OvString, f64, *mut c_void)>;

/// `ovstream_init_config_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct InitConfig {
    pub log_callback: LogCallback,
    pub log_user_data: *mut c_void,
    pub log_min_severity: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WebRtcConfig {
    pub signal_port: u16,
    pub resizable: bool,
    pub fit_client: bool,
    pub audio_capture: bool,
    pub event_tracing: bool,
    pub public_ip: OvString,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RtspConfig {
    pub pipeline: OvString,
    pub mount_point: OvString,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ShmConfig {
    pub stream_name: OvString,
    pub slot_count: u32,
}

/// `ovstream_server_config_t` (0.5.7 layout, 136 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    pub width: u32,
    pub height: u32,
    pub target_fps: u16,
    pub stream_port: u16,
    pub video_input: i32,
    pub cuda_device: i32,
    pub cuda_context: usize,
    pub webrtc: WebRtcConfig,
    pub rtsp: RtspConfig,
    pub shm: ShmConfig,
    pub cudashm: ShmConfig,
}

/// `ovstream_cuda_sync_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CudaSync {
    pub stream: usize,
    pub wait_event: usize,
}

/// `ovstream_video_frame_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VideoFrame {
    pub buffer: *const c_void,
    pub width: u32,
    pub height: u32,
    pub pitch_bytes: u32,
    pub size_bytes: u32,
    pub start_timestamp_ns: u64,
    pub ended_timestamp_ns: u64,
    pub metadata: *const c_void,
    pub metadata_size: u32,
    pub metadata_uuid: *const u8,
    pub sync: CudaSync,
}

/// `ovstream_audio_frame_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AudioFrame {
    pub buffer: *const c_void,
    pub size_bytes: u32,
    pub channels: u32,
    pub sample_rate: u32,
    pub bits_per_sample: u32,
}

/// `ovstream_keyboard_event_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyboardEvent {
    pub key_code: u16,
    pub scan_code: u16,
    pub modifiers: u16,
    pub key_state: i32,
    pub timestamp_us: u64,
}

/// `ovstream_mouse_event_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MouseEvent {
    pub kind: i32,
    pub modifiers: u16,
    pub x: i32,
    pub y: i32,
    pub data: i32,
    pub data2: i32,
    pub button_state: i32,
    pub timestamp_us: u64,
    pub scroll_x: f32,
    pub scroll_y: f32,
}

/// `ovstream_gamepad_event_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GamepadEvent {
    pub control: i32,
    pub position: i16,
    pub gamepad_id: u8,
    pub timestamp_us: u64,
}

/// `ovstream_touch_point_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TouchPoint {
    pub id: u16,
    pub x: f32,
    pub y: f32,
    pub x_radius: f32,
    pub y_radius: f32,
    pub phase: i32,
    pub timestamp_us: u64,
}

/// `ovstream_touch_event_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TouchEvent {
    pub point_count: u8,
    pub low_level: u8,
    pub modifiers: u16,
    pub source_width: u16,
    pub source_height: u16,
    pub timestamp_us: u64,
    pub points: [TouchPoint; MAX_TOUCH_POINTS],
}

/// The anonymous union inside `ovstream_input_event_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union InputUnion {
    pub keyboard: KeyboardEvent,
    pub mouse: MouseEvent,
    pub gamepad: GamepadEvent,
    pub touch: TouchEvent,
}

/// `ovstream_input_event_t` (376 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct InputEvent {
    pub kind: i32,
    pub u: InputUnion,
}

impl std::fmt::Debug for InputEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputEvent").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// `ovstream_webrtc_ice_server_t` (0.5.7).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IceServer {
    pub urls: OvString,
    pub username: OvString,
    pub credential: OvString,
    pub turn_type: i32,
}

/// `ovstream_webrtc_ice_config_t` (0.5.7).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IceConfig {
    pub servers: *const IceServer,
    pub server_count: u32,
    pub transport_policy: i32,
    pub remote_address: OvString,
    pub remote_port: u16,
}

/// `ovstream_signaling_header_t` (0.5.7).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SignalingHeader {
    pub name: OvString,
    pub value: OvString,
}

/// `ovstream_qos_status_t` (0.5.7).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct QosStatus {
    pub recommended_width: u32,
    pub recommended_height: u32,
    pub recommended_fps: u32,
    pub average_rtd_ms: u32,
    pub average_bitrate: u32,
    pub maximum_bitrate: u32,
    pub fec_percent: u32,
}

/// `ovstream_client_config_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ClientConfig {
    pub shm_stream_name: OvString,
    pub cudashm_stream_name: OvString,
    pub native_server_ip: OvString,
    pub native_stream_port: u16,
    pub native_signal_port: u16,
    pub native_cuda_device: i32,
}

/// `ovstream_frame_t` (what a client receives).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ClientFrame {
    pub source: i32,
    pub data: *const c_void,
    pub device_ptr: usize,
    pub sequence: u64,
    pub capture_timestamp_ns: u64,
    pub width: u32,
    pub height: u32,
    pub pitch_bytes: u32,
    pub format: u32,
    pub slot_index: u32,
}

impl ClientFrame {
    pub fn zeroed() -> Self {
        Self {
            source: 0,
            data: std::ptr::null(),
            device_ptr: 0,
            sequence: 0,
            capture_timestamp_ns: 0,
            width: 0,
            height: 0,
            pitch_bytes: 0,
            format: 0,
            slot_index: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn scalar_structs_match_the_0_5_7_abi() {
        assert_eq!(size_of::<OvString>(), 16);
        assert_eq!(offset_of!(OvString, length), 8);
        assert_eq!(size_of::<OvResult>(), 4);
        assert_eq!(size_of::<InitConfig>(), 24);
        assert_eq!(offset_of!(InitConfig, log_user_data), 8);
        assert_eq!(offset_of!(InitConfig, log_min_severity), 16);
    }

    #[test]
    fn server_config_matches_the_0_5_7_abi() {
        assert_eq!(size_of::<ServerConfig>(), 136);
        assert_eq!(offset_of!(ServerConfig, width), 0);
        assert_eq!(offset_of!(ServerConfig, height), 4);
        assert_eq!(offset_of!(ServerConfig, target_fps), 8);
        assert_eq!(offset_of!(ServerConfig, stream_port), 10);
        assert_eq!(offset_of!(ServerConfig, video_input), 12);
        assert_eq!(offset_of!(ServerConfig, cuda_device), 16);
        assert_eq!(offset_of!(ServerConfig, cuda_context), 24);
        assert_eq!(offset_of!(ServerConfig, webrtc), 32);
        assert_eq!(offset_of!(ServerConfig, webrtc) + offset_of!(WebRtcConfig, signal_port), 32);
        assert_eq!(offset_of!(ServerConfig, webrtc) + offset_of!(WebRtcConfig, resizable), 34);
        assert_eq!(offset_of!(ServerConfig, webrtc) + offset_of!(WebRtcConfig, fit_client), 35);
        assert_eq!(offset_of!(ServerConfig, webrtc) + offset_of!(WebRtcConfig, audio_capture), 36);
        assert_eq!(offset_of!(ServerConfig, webrtc) + offset_of!(WebRtcConfig, event_tracing), 37);
        assert_eq!(offset_of!(ServerConfig, webrtc) + offset_of!(WebRtcConfig, public_ip), 40);
        assert_eq!(size_of::<WebRtcConfig>(), 24);
        assert_eq!(offset_of!(ServerConfig, rtsp), 56);
        assert_eq!(offset_of!(ServerConfig, rtsp) + offset_of!(RtspConfig, mount_point), 72);
        assert_eq!(offset_of!(ServerConfig, shm), 88);
        assert_eq!(offset_of!(ServerConfig, shm) + offset_of!(ShmConfig, slot_count), 104);
        assert_eq!(offset_of!(ServerConfig, cudashm), 112);
        assert_eq!(offset_of!(ServerConfig, cudashm) + offset_of!(ShmConfig, slot_count), 128);
    }

    #[test]
    fn frames_match_the_0_5_7_abi() {
        assert_eq!(size_of::<CudaSync>(), 16);
        assert_eq!(offset_of!(CudaSync, wait_event), 8);
        assert_eq!(size_of::<VideoFrame>(), 80);
        assert_eq!(offset_of!(VideoFrame, width), 8);
        assert_eq!(offset_of!(VideoFrame, height), 12);
        assert_eq!(offset_of!(VideoFrame, pitch_bytes), 16);
        assert_eq!(offset_of!(VideoFrame, size_bytes), 20);
        assert_eq!(offset_of!(VideoFrame, start_timestamp_ns), 24);
        assert_eq!(offset_of!(VideoFrame, ended_timestamp_ns), 32);
        assert_eq!(offset_of!(VideoFrame, metadata), 40);
        assert_eq!(offset_of!(VideoFrame, metadata_size), 48);
        assert_eq!(offset_of!(VideoFrame, metadata_uuid), 56);
        assert_eq!(offset_of!(VideoFrame, sync), 64);
        assert_eq!(size_of::<AudioFrame>(), 24);
        assert_eq!(offset_of!(AudioFrame, size_bytes), 8);
        assert_eq!(offset_of!(AudioFrame, channels), 12);
        assert_eq!(offset_of!(AudioFrame, sample_rate), 16);
        assert_eq!(offset_of!(AudioFrame, bits_per_sample), 20);
    }

    #[test]
    fn input_events_match_the_0_5_7_abi() {
        assert_eq!(size_of::<KeyboardEvent>(), 24);
        assert_eq!(offset_of!(KeyboardEvent, scan_code), 2);
        assert_eq!(offset_of!(KeyboardEvent, modifiers), 4);
        assert_eq!(offset_of!(KeyboardEvent, key_state), 8);
        assert_eq!(offset_of!(KeyboardEvent, timestamp_us), 16);
        assert_eq!(size_of::<MouseEvent>(), 48);
        assert_eq!(offset_of!(MouseEvent, modifiers), 4);
        assert_eq!(offset_of!(MouseEvent, x), 8);
        assert_eq!(offset_of!(MouseEvent, y), 12);
        assert_eq!(offset_of!(MouseEvent, data), 16);
        assert_eq!(offset_of!(MouseEvent, data2), 20);
        assert_eq!(offset_of!(MouseEvent, button_state), 24);
        assert_eq!(offset_of!(MouseEvent, timestamp_us), 32);
        assert_eq!(offset_of!(MouseEvent, scroll_x), 40);
        assert_eq!(offset_of!(MouseEvent, scroll_y), 44);
        assert_eq!(size_of::<GamepadEvent>(), 16);
        assert_eq!(offset_of!(GamepadEvent, position), 4);
        assert_eq!(offset_of!(GamepadEvent, gamepad_id), 6);
        assert_eq!(offset_of!(GamepadEvent, timestamp_us), 8);
        assert_eq!(size_of::<TouchPoint>(), 32);
        assert_eq!(offset_of!(TouchPoint, x), 4);
        assert_eq!(offset_of!(TouchPoint, y), 8);
        assert_eq!(offset_of!(TouchPoint, x_radius), 12);
        assert_eq!(offset_of!(TouchPoint, y_radius), 16);
        assert_eq!(offset_of!(TouchPoint, phase), 20);
        assert_eq!(offset_of!(TouchPoint, timestamp_us), 24);
        assert_eq!(size_of::<TouchEvent>(), 368);
        assert_eq!(offset_of!(TouchEvent, low_level), 1);
        assert_eq!(offset_of!(TouchEvent, modifiers), 2);
        assert_eq!(offset_of!(TouchEvent, source_width), 4);
        assert_eq!(offset_of!(TouchEvent, source_height), 6);
        assert_eq!(offset_of!(TouchEvent, timestamp_us), 8);
        assert_eq!(offset_of!(TouchEvent, points), 16);
        assert_eq!(size_of::<InputUnion>(), 368);
        assert_eq!(size_of::<InputEvent>(), 376);
        assert_eq!(offset_of!(InputEvent, u), 8);
    }

    #[test]
    fn webrtc_and_client_structs_match_the_0_5_7_abi() {
        assert_eq!(size_of::<IceServer>(), 56);
        assert_eq!(offset_of!(IceServer, username), 16);
        assert_eq!(offset_of!(IceServer, credential), 32);
        assert_eq!(offset_of!(IceServer, turn_type), 48);
        assert_eq!(size_of::<IceConfig>(), 40);
        assert_eq!(offset_of!(IceConfig, server_count), 8);
        assert_eq!(offset_of!(IceConfig, transport_policy), 12);
        assert_eq!(offset_of!(IceConfig, remote_address), 16);
        assert_eq!(offset_of!(IceConfig, remote_port), 32);
        assert_eq!(size_of::<SignalingHeader>(), 32);
        assert_eq!(offset_of!(SignalingHeader, value), 16);
        assert_eq!(size_of::<QosStatus>(), 28);
        assert_eq!(offset_of!(QosStatus, fec_percent), 24);
        assert_eq!(size_of::<ClientConfig>(), 56);
        assert_eq!(offset_of!(ClientConfig, cudashm_stream_name), 16);
        assert_eq!(offset_of!(ClientConfig, native_server_ip), 32);
        assert_eq!(offset_of!(ClientConfig, native_stream_port), 48);
        assert_eq!(offset_of!(ClientConfig, native_signal_port), 50);
        assert_eq!(offset_of!(ClientConfig, native_cuda_device), 52);
        assert_eq!(size_of::<ClientFrame>(), 64);
        assert_eq!(offset_of!(ClientFrame, data), 8);
        assert_eq!(offset_of!(ClientFrame, device_ptr), 16);
        assert_eq!(offset_of!(ClientFrame, sequence), 24);
        assert_eq!(offset_of!(ClientFrame, capture_timestamp_ns), 32);
        assert_eq!(offset_of!(ClientFrame, width), 40);
        assert_eq!(offset_of!(ClientFrame, height), 44);
        assert_eq!(offset_of!(ClientFrame, pitch_bytes), 48);
        assert_eq!(offset_of!(ClientFrame, format), 52);
        assert_eq!(offset_of!(ClientFrame, slot_index), 56);
    }
}

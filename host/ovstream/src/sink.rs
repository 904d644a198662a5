//! `OvstreamSink`: one ovstream server the host owns. Lifecycle (reference/ovstream.md §9):
//! initialize (ref-counted, log → `tracing`) → create server → register every callback → ICE →
//! config defaults + overrides → start; `submit` per frame; `poll_events` on the host thread;
//! `stop` (or drop) stops, destroys and shuts down exactly once.

use std::ffi::c_void;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec, InputEvent, MemoryLocation};

use crate::OvstreamError;
use crate::callbacks::{self, RawEvent, Shared};
use crate::config::{SinkConfig, Transport, VideoInput};
use crate::ffi::cudart::{CudaRt, DeviceImage};
use crate::ffi::server::{Handle, ServerApi};
use crate::ffi::types::{ApiStatus, CudaSync, IceConfig, IceServer, InitConfig, OvString, VideoFrame, video_input};
use crate::input::InputNormalizer;
use crate::messaging::{self, Inbound, Reassembler, ReassemblyLimits};

/// What the sink reports to the host, drained by [`OvstreamSink::poll_events`].
#[derive(Clone, Debug, PartialEq)]
pub enum SinkEvent {
    /// A client connected; `client` counts connections since the sink started (1, 2, …).
    Connected {
        client: u64,
    },
    Disconnected,
    /// A complete app message `{event_type, ...}` (browser frame unwrapped, parts reassembled).
    Message(String),
    Input(InputEvent),
    /// Composed text (IME, paste).
    Text(String),
}

/// Counters for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    pub frames_submitted: u64,
    pub frames_failed: u64,
    pub events_dropped: u64,
    pub clients_rejected: u64,
    /// Host frames copied into the sink's CUDA staging image (raw mode fed from host memory).
    pub host_frames_staged: u64,
    pub host_bytes_staged: u64,
}

/// The frame mode the server was started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolvedInput {
    RawCuda,
    H264,
}

static INIT_COUNT: Mutex<usize> = Mutex::new(0);

fn initialize(api: &ServerApi, log_level: i32) -> Result<(), OvstreamError> {
    let mut count = INIT_COUNT.lock().unwrap_or_else(|p| p.into_inner());
    let config = InitConfig {
        log_callback: Some(callbacks::on_log),
        log_user_data: std::ptr::null_mut(),
        log_min_severity: log_level,
    };
    // SAFETY: `config` is valid for the call; the log callback needs no user data and is a
    // static function, so it stays valid until the final shutdown.
    api.check("ovstream_initialize", unsafe { (api.ovstream_initialize)(&config) })?;
    *count += 1;
    Ok(())
}

fn shutdown(api: &ServerApi) {
    let mut count = INIT_COUNT.lock().unwrap_or_else(|p| p.into_inner());
    if *count == 0 {
        return;
    }
    // SAFETY: paired with a successful initialize (counted above).
    if let Err(e) = api.check("ovstream_shutdown", unsafe { (api.ovstream_shutdown)() }) {
        tracing::warn!(error = %e, "ovstream shutdown failed");
    }
    *count -= 1;
}

/// Picks the frame mode for a transport (logs one line explaining an automatic choice).
pub fn resolve_video_input(
    transport: Transport,
    requested: VideoInput,
    nvenc: bool,
) -> Result<ResolvedInput, OvstreamError> {
    match (transport.is_shared_memory(), requested) {
        (true, VideoInput::H264) => Err(OvstreamError::Invalid(format!(
            "{transport} carries raw BGRA8 frames only; use video_input auto or raw-cuda"
        ))),
        (true, _) | (false, VideoInput::RawCuda) => Ok(ResolvedInput::RawCuda),
        (false, VideoInput::H264) => Ok(ResolvedInput::H264),
        (false, VideoInput::Auto) if nvenc => {
            tracing::info!(
                "{transport}: NVENC is available; streaming raw BGRA8 CUDA frames (override with video_input)"
            );
            Ok(ResolvedInput::RawCuda)
        }
        (false, VideoInput::Auto) => {
            tracing::info!(
                "{transport}: NVENC is not available on this GPU/driver (no encoder engine per NVML, or libnvidia-encode.so.1 missing); streaming pre-encoded H.264 from the software encoder (override with video_input)"
            );
            Ok(ResolvedInput::H264)
        }
    }
}

/// Microseconds on CLOCK_MONOTONIC (the host's monotonic clock).
pub fn monotonic_us() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

/// One started ovstream server owned by the host.
pub struct OvstreamSink {
    api: &'static ServerApi,
    handle: Handle,
    shared: Box<Shared>,
    config: SinkConfig,
    input: ResolvedInput,
    normalizer: Mutex<InputNormalizer>,
    reassembler: Mutex<Reassembler>,
    send_lock: Mutex<()>,
    staging: Option<DeviceImage>,
    connections: AtomicU64,
    frames_submitted: u64,
    frames_failed: u64,
    host_frames_staged: u64,
    host_bytes_staged: u64,
}

impl std::fmt::Debug for OvstreamSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OvstreamSink")
            .field("transport", &self.config.transport)
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

// SAFETY: the server handle is only used through ovstream calls documented as thread-safe for
// streaming/sending, and lifecycle calls happen through `&mut self`/`self` (one thread).
unsafe impl Send for OvstreamSink {}
// SAFETY: `&self` methods only call ovstream functions documented thread-safe with respect to
// each other (`send_*`, `is_client_connected`) and lock their own Rust state.
unsafe impl Sync for OvstreamSink {}

impl OvstreamSink {
    /// Loads the library, initializes ovstream, creates the server, registers callbacks and starts.
    pub fn start(config: SinkConfig) -> Result<Self, OvstreamError> {
        if config.width == 0 || config.height == 0 || config.fps == 0 {
            return Err(OvstreamError::Invalid(format!(
                "stream size {}x{} @ {} fps is empty",
                config.width, config.height, config.fps
            )));
        }
        let api = ServerApi::get()?;
        let nvenc = config.transport.is_streamsdk() || config.transport == Transport::Rtsp;
        let nvenc = nvenc
            && config.video_input == VideoInput::Auto
            && crate::nvenc::nvenc_available(config.cuda_device.max(0) as u32);
        let input = resolve_video_input(config.transport, config.video_input, nvenc)?;
        initialize(api, config.log_level)?;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: valid out-pointer; initialize succeeded.
        if let Err(e) = api.check("ovstream_create_server", unsafe {
            (api.ovstream_create_server)(config.transport.server_type(), &mut handle)
        }) {
            shutdown(api);
            return Err(e);
        }
        let shared = Box::new(Shared::new(config.event_queue_capacity, config.client_policy));
        let mut sink = Self {
            api,
            handle,
            normalizer: Mutex::new(InputNormalizer::new(config.width, config.height)),
            reassembler: Mutex::new(Reassembler::new(ReassemblyLimits::default())),
            shared,
            input,
            send_lock: Mutex::new(()),
            staging: None,
            connections: AtomicU64::new(0),
            frames_submitted: 0,
            frames_failed: 0,
            host_frames_staged: 0,
            host_bytes_staged: 0,
            config,
        };
        // On error, `sink` drops here: destroy + shutdown run exactly once.
        sink.register_callbacks()?;
        sink.set_ice_servers()?;
        if let Err(e) = sink.start_server() {
            // RTSP reports an unusable encoder at start: fall back to pre-encoded input when the
            // mode was chosen automatically.
            let encoder_missing = matches!(&e, OvstreamError::Call { detail, .. } if detail.contains("nvh264enc"));
            if !(encoder_missing && sink.config.video_input == VideoInput::Auto && sink.input == ResolvedInput::RawCuda)
            {
                return Err(e);
            }
            tracing::info!(
                "{}: NVENC is unusable on this GPU ({e}); streaming pre-encoded H.264 instead",
                sink.config.transport
            );
            sink.input = ResolvedInput::H264;
            sink.start_server()?;
        }
        tracing::info!(
            transport = %sink.config.transport, width = sink.config.width, height = sink.config.height,
            fps = sink.config.fps, input = ?sink.input, "ovstream sink started"
        );
        Ok(sink)
    }

    fn register_callbacks(&self) -> Result<(), OvstreamError> {
        let api = self.api;
        let user = (&*self.shared as *const Shared).cast_mut().cast::<c_void>();
        let h = self.handle;
        // SAFETY: (all setters) valid handle; static trampolines; `user` points at the boxed
        // `Shared`, which this sink keeps alive until after destroy_server returns.
        unsafe {
            api.check(
                "ovstream_set_connection_callback",
                (api.ovstream_set_connection_callback)(h, Some(callbacks::on_connection), user),
            )?;
            api.check(
                "ovstream_set_message_callback",
                (api.ovstream_set_message_callback)(h, Some(callbacks::on_message), user),
            )?;
            api.check(
                "ovstream_set_input_callback",
                (api.ovstream_set_input_callback)(h, Some(callbacks::on_input), user),
            )?;
            api.check(
                "ovstream_set_unicode_callback",
                (api.ovstream_set_unicode_callback)(h, Some(callbacks::on_unicode), user),
            )?;
            if self.config.transport.is_streamsdk() {
                api.check(
                    "ovstream_set_app_message_callback",
                    (api.ovstream_set_app_message_callback)(h, Some(callbacks::on_app_message), user),
                )?;
                api.check(
                    "ovstream_set_signaling_headers_callback",
                    (api.ovstream_set_signaling_headers_callback)(h, Some(callbacks::on_signaling_headers), user),
                )?;
            }
        }
        Ok(())
    }

    fn set_ice_servers(&self) -> Result<(), OvstreamError> {
        if !self.config.transport.is_streamsdk() || self.config.ice_servers.is_empty() {
            return Ok(());
        }
        let servers: Vec<IceServer> = self
            .config
            .ice_servers
            .iter()
            .map(|s| IceServer {
                urls: OvString::borrow(&s.urls),
                username: OvString::borrow(&s.username),
                credential: OvString::borrow(&s.credential),
                turn_type: 0,
            })
            .collect();
        let ice = IceConfig {
            servers: servers.as_ptr(),
            server_count: servers.len() as u32,
            transport_policy: 0,
            remote_address: OvString::EMPTY,
            remote_port: 0,
        };
        // SAFETY: `servers` and the strings it borrows outlive the call; the SDK copies them.
        self.api.check("ovstream_webrtc_set_ice_servers", unsafe {
            (self.api.ovstream_webrtc_set_ice_servers)(self.handle, &ice)
        })
    }

    fn start_server(&self) -> Result<(), OvstreamError> {
        let c = &self.config;
        // SAFETY: ServerConfig is plain data; config_defaults overwrites all of it.
        let mut sc: crate::ffi::types::ServerConfig = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointer.
        self.api.check("ovstream_config_defaults", unsafe { (self.api.ovstream_config_defaults)(&mut sc) })?;
        sc.width = c.width;
        sc.height = c.height;
        sc.target_fps = c.fps;
        sc.stream_port = c.stream_port;
        sc.cuda_device = c.cuda_device;
        sc.video_input = match self.input {
            ResolvedInput::RawCuda => video_input::CUDA,
            ResolvedInput::H264 => video_input::H264,
        };
        sc.webrtc.signal_port = c.signaling_port;
        sc.webrtc.public_ip = OvString::borrow(&c.public_ip);
        sc.rtsp.mount_point = OvString::borrow(&c.rtsp_mount);
        sc.shm.stream_name = OvString::borrow(&c.shm_name);
        sc.shm.slot_count = c.shm_slot_count;
        sc.cudashm.stream_name = OvString::borrow(&c.shm_name);
        sc.cudashm.slot_count = c.shm_slot_count;
        // SAFETY: valid handle and config; borrowed strings live in `self.config` past the call.
        self.api.check("ovstream_start", unsafe { (self.api.ovstream_start)(self.handle, &sc) })
    }

    /// The frames this sink wants: BGRA8@CUDA for raw input (SHM/CUDASHM always; WebRTC/native/
    /// RTSP where NVENC exists), H264@HOST (Annex B, one access unit per frame) otherwise.
    /// Raw-mode sinks also take BGRA8@HOST and stage it on the GPU themselves.
    pub fn accepts(&self) -> FrameSpec {
        match self.input {
            ResolvedInput::RawCuda => FrameSpec::new(FrameFormat::BGRA8, MemoryLocation::CUDA),
            ResolvedInput::H264 => FrameSpec::host(FrameFormat::H264),
        }
    }

    pub fn transport(&self) -> Transport {
        self.config.transport
    }

    pub fn config(&self) -> &SinkConfig {
        &self.config
    }

    /// Submits one frame. Failures before a client connects or during a disconnect are normal:
    /// the caller logs them (see [`OvstreamError::is_transient`]) and carries on.
    pub fn submit(&mut self, frame: &Frame) -> Result<(), OvstreamError> {
        let result = self.submit_inner(frame);
        match &result {
            Ok(()) => self.frames_submitted += 1,
            Err(_) => self.frames_failed += 1,
        }
        result
    }

    fn submit_inner(&mut self, frame: &Frame) -> Result<(), OvstreamError> {
        let (w, h) = (self.config.width, self.config.height);
        if frame.width != w || frame.height != h {
            return Err(OvstreamError::Invalid(format!(
                "frame is {}x{} but the {} stream was started at {w}x{h}",
                frame.width, frame.height, self.config.transport
            )));
        }
        if frame.data_ptr().is_null() {
            return Err(OvstreamError::Invalid("frame has a null data pointer".into()));
        }
        let mut vf = VideoFrame {
            buffer: frame.data_ptr().cast(),
            width: w,
            height: h,
            pitch_bytes: 0,
            size_bytes: 0,
            start_timestamp_ns: 0,
            ended_timestamp_ns: 0,
            metadata: std::ptr::null(),
            metadata_size: 0,
            metadata_uuid: std::ptr::null(),
            sync: CudaSync::default(),
        };
        match (self.input, frame.spec()) {
            (ResolvedInput::H264, spec) if spec == FrameSpec::host(FrameFormat::H264) => {
                vf.size_bytes = u32::try_from(frame.len_bytes()).map_err(|_| {
                    OvstreamError::Invalid(format!("H.264 access unit of {} bytes is too large", frame.len_bytes()))
                })?;
                if vf.size_bytes == 0 {
                    return Err(OvstreamError::Invalid("H.264 access unit is empty".into()));
                }
            }
            (ResolvedInput::RawCuda, spec) if spec == FrameSpec::new(FrameFormat::BGRA8, MemoryLocation::CUDA) => {
                vf.pitch_bytes = frame.pitch_bytes;
                vf.sync.stream = frame.cuda_stream as usize;
            }
            (ResolvedInput::RawCuda, spec) if spec == FrameSpec::host(FrameFormat::BGRA8) => {
                frame.validate().map_err(|e| OvstreamError::Invalid(e.message.to_string()))?;
                let staging = self.staging_image()?;
                // SAFETY: `validate` checked that `data` covers pitch*(h-1)+w*4 bytes, and the
                // producer keeps the frame alive for this call.
                unsafe { staging.upload(frame.data_ptr(), frame.pitch_bytes as usize)? };
                vf.buffer = staging.ptr as *const c_void;
                vf.pitch_bytes = staging.pitch_bytes as u32;
                self.host_frames_staged += 1;
                self.host_bytes_staged += u64::from(w) * 4 * u64::from(h);
            }
            (_, spec) => {
                return Err(OvstreamError::Invalid(format!("this sink takes {} frames, not {spec}", self.accepts())));
            }
        }
        // SAFETY: valid handle; `vf` describes memory that stays valid for the call (the SDK
        // copies/stages before returning).
        self.api.check("ovstream_stream_video", unsafe { (self.api.ovstream_stream_video)(self.handle, &vf) })
    }

    fn staging_image(&mut self) -> Result<&DeviceImage, OvstreamError> {
        if self.staging.is_none() {
            let rt = CudaRt::get()?;
            rt.set_device(self.config.cuda_device.max(0))?;
            self.staging = Some(DeviceImage::new(rt, self.config.width, self.config.height)?);
        }
        self.staging.as_ref().ok_or_else(|| OvstreamError::Cuda("staging buffer missing".into()))
    }

    /// Whether a client is connected (tracked from the connection callback).
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    /// Sends one app envelope `{event_type, payload}` (JSON text) to the client, split into parts
    /// when over the part budget. [`OvstreamError::NotConnected`] when no client is connected.
    pub fn send_app_message(&self, envelope_json: &str) -> Result<(), OvstreamError> {
        let transport = self.config.transport;
        if transport == Transport::Rtsp {
            return Err(OvstreamError::Unsupported(
                "RTSP has no message channel; use WebRTC, native, SHM or CUDASHM".into(),
            ));
        }
        if !self.is_connected() {
            return Err(OvstreamError::NotConnected);
        }
        let messages = messaging::encode_envelope(envelope_json, self.config.message_part_size_bytes)
            .map_err(|e| OvstreamError::Invalid(e.to_string()))?;
        let _order = self.send_lock.lock().unwrap_or_else(|p| p.into_inner());
        for message in &messages {
            let result = if self.config.wrap_outbound && transport.is_streamsdk() {
                // SAFETY: valid handle; `message` outlives the call.
                self.api.check("ovstream_send_app_message", unsafe {
                    (self.api.ovstream_send_app_message)(self.handle, OvString::borrow(message))
                })
            } else {
                let wrapped;
                let text = if self.config.wrap_outbound {
                    wrapped = messaging::wrap_app_frame(message);
                    wrapped.as_str()
                } else {
                    message.as_str()
                };
                // SAFETY: valid handle; `text` outlives the call.
                self.api.check("ovstream_send_message", unsafe {
                    (self.api.ovstream_send_message)(self.handle, OvString::borrow(text))
                })
            };
            if let Err(e) = result {
                if !self.is_connected() || e.status() == Some(ApiStatus::INVALID_STATE) {
                    tracing::debug!(error = %e, "app message lost to a disconnect race");
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Drains everything the callbacks queued since the last call, normalized.
    pub fn poll_events(&self) -> Vec<SinkEvent> {
        let raw = self.shared.drain();
        if raw.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        let now_us = monotonic_us();
        let mut out = Vec::with_capacity(raw.len());
        for event in raw {
            match event {
                RawEvent::Connection(true) => {
                    let client = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::info!(transport = %self.config.transport, client, "ovstream client connected");
                    out.push(SinkEvent::Connected { client });
                }
                RawEvent::Connection(false) => {
                    tracing::info!(transport = %self.config.transport, "ovstream client disconnected");
                    out.push(SinkEvent::Disconnected);
                }
                RawEvent::Message(text) => match messaging::unwrap_browser_frame(&text) {
                    Some(inner) => self.reassemble(&inner, now, &mut out),
                    None => tracing::debug!(bytes = text.len(), "ignored a non-app message from the client"),
                },
                RawEvent::AppMessage(text) => {
                    // The SDK unwrapped the app frame; a browser may still have nested one.
                    let inner = messaging::unwrap_browser_frame(&text).unwrap_or(text);
                    self.reassemble(&inner, now, &mut out);
                }
                RawEvent::Input(e) => {
                    let mut normalizer = self.normalizer.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(e) = normalizer.normalize(&e, now_us) {
                        out.push(SinkEvent::Input(e));
                    }
                }
                RawEvent::Unicode(text) => out.push(SinkEvent::Text(text)),
            }
        }
        out
    }

    fn reassemble(&self, text: &str, now: Instant, out: &mut Vec<SinkEvent>) {
        let mut reassembler = self.reassembler.lock().unwrap_or_else(|p| p.into_inner());
        match reassembler.accept(text, now) {
            Inbound::Complete(message) => out.push(SinkEvent::Message(message)),
            Inbound::Pending => {}
            Inbound::Dropped(reason) => tracing::warn!("dropped an inbound app message: {reason}"),
        }
    }

    pub fn stats(&self) -> SinkStats {
        SinkStats {
            frames_submitted: self.frames_submitted,
            frames_failed: self.frames_failed,
            events_dropped: self.shared.dropped.load(Ordering::Relaxed),
            clients_rejected: self.shared.rejected_clients.load(Ordering::Relaxed),
            host_frames_staged: self.host_frames_staged,
            host_bytes_staged: self.host_bytes_staged,
        }
    }

    /// Stops the server, destroys it and balances this sink's initialize. (Dropping does the same.)
    pub fn stop(self) {}

    fn teardown(&mut self) {
        if self.handle.is_null() {
            return;
        }
        let api = self.api;
        // SAFETY: valid handle, not used concurrently (we hold `&mut self`). Stop may report
        // INVALID_STATE when the server never started; destroy handles either state.
        unsafe {
            let _ = (api.ovstream_stop)(self.handle);
            if let Err(e) = api.check("ovstream_destroy_server", (api.ovstream_destroy_server)(self.handle)) {
                tracing::warn!(error = %e, "ovstream server destroy failed");
            }
        }
        self.handle = std::ptr::null_mut();
        shutdown(api);
        tracing::info!(transport = %self.config.transport, "ovstream sink stopped");
    }
}

impl Drop for OvstreamSink {
    fn drop(&mut self) {
        self.teardown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_input_follows_transport_and_nvenc() {
        use ResolvedInput::*;
        assert_eq!(resolve_video_input(Transport::Shm, VideoInput::Auto, false).ok(), Some(RawCuda));
        assert_eq!(resolve_video_input(Transport::CudaShm, VideoInput::Auto, true).ok(), Some(RawCuda));
        assert!(resolve_video_input(Transport::Shm, VideoInput::H264, false).is_err());
        assert_eq!(resolve_video_input(Transport::WebRtc, VideoInput::Auto, false).ok(), Some(H264));
        assert_eq!(resolve_video_input(Transport::WebRtc, VideoInput::Auto, true).ok(), Some(RawCuda));
        assert_eq!(resolve_video_input(Transport::Rtsp, VideoInput::RawCuda, false).ok(), Some(RawCuda));
        assert_eq!(resolve_video_input(Transport::Native, VideoInput::H264, true).ok(), Some(H264));
    }

    #[test]
    fn monotonic_clock_advances() {
        let a = monotonic_us();
        let b = monotonic_us();
        assert!(a > 0 && b >= a);
    }
}

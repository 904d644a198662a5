//! The render loop: the one thread that owns the renderer, camera, handlers and converter chains.
//!
//! Per frame interval ([`RenderLoop::tick`]): poll the sinks, coalesced input into the camera
//! controller, advance the camera; then, only when something changed or a sink needs a frame
//! (render on demand, `pacing.rs`; other features call [`Core::mark_dirty`]), render, run each
//! wanted converter chain once, submit to the sinks. Between frames
//! ([`RenderLoop::run`]) it waits on the inbound queue until the next deadline, so messages are
//! handled as they arrive, in order, and never concurrently with a render. Time is an input to
//! `tick`, so tests can drive it frame by frame.

use std::time::{Duration, Instant};

use abi_stable::std_types::RResult;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use ovhost_plugin_api::services::{self as svc, Event};
use ovhost_plugin_api::{CameraView, FRAME_FLAG_CHANGING, InputKind, PluginError, RenderRequest};
use serde_json::{Value, json};

use super::core::Core;
use super::delivery::Delivery;
use super::hub::ClientId;
use super::inbound::{Inbound, LoadReason, LoadResult};
use super::input::InputQueue;
use super::pacing::FrameKind;
use super::router::Router;
use super::sinks::Sink;
use super::state::RuntimeState;
use crate::protocol::{self, Envelope, HELLO_EVENT_TYPE, KEYFRAME_REQUEST_EVENT_TYPE};

pub use super::viewers::CLICK_THRESHOLD_PX;

/// Inbound items handled per frame when the loop is behind schedule.
const MAX_ITEMS_PER_FRAME: usize = 256;

/// Consecutive failed frames after which a renderer that keeps failing is disabled (about one
/// second at the default 30 fps).
pub const RENDER_FAILURES_BEFORE_DISABLE: u32 = 30;

/// The renderer that takes over from a disabled one: it needs no GPU and no stage.
pub const FALLBACK_RENDERER: &str = "testpattern";

pub struct RenderLoop {
    pub core: Core,
    pub router: Router,
    /// The sinks and the converter chains feeding them.
    pub out: Delivery,
    pub input: InputQueue,
    frame_number: u64,
    last_tick_us: Option<u64>,
    /// Timings of the last frame, for the overhead benchmark: the whole tick and the renderer's
    /// `render` call (the converter chains' time is `out.last_convert_ns`).
    pub last_tick_ns: u64,
    pub last_render_ns: u64,
    /// Consecutive render failures of the active renderer.
    render_failures: u32,
    /// Stills and recordings (`None` when driven by hand without one).
    pub capture: Option<std::sync::Arc<super::capture::Capture>>,
    /// The frame rate a viewer may ask for at most (`--fps`).
    max_fps: u32,
    /// The view of the last rendered frame (a different one is a change to render).
    last_view: Option<CameraView>,
    /// A sink asked for a keyframe; kept until a frame is delivered.
    keyframe_pending: bool,
    /// Messages waiting for the stage query thread's answers, per client in order.
    deferred: super::deferred::Deferred,
    /// Tiers that alone asked for a keyframe (a bit per tier); kept until a frame is delivered.
    tier_keyframes_pending: u8,
    /// What held this thread up (`/api/state` `render_thread`).
    stalls: super::pacing::Stalls,
}

impl RenderLoop {
    pub fn new(core: Core, router: Router, sinks: Vec<Box<dyn Sink>>) -> Self {
        let max_fps = core.stream().fps;
        let out = Delivery::new(sinks, core.registry().clone());
        Self {
            core,
            router,
            out,
            input: InputQueue::default(),
            frame_number: 0,
            last_tick_us: None,
            last_tick_ns: 0,
            last_render_ns: 0,
            render_failures: 0,
            capture: None,
            max_fps,
            last_view: None,
            keyframe_pending: false,
            deferred: super::deferred::Deferred::default(),
            tier_keyframes_pending: 0,
            stalls: Default::default(),
        }
    }

    /// Handles one inbound item. Returns false on shutdown.
    pub fn handle_inbound(&mut self, item: Inbound) -> bool {
        // Messages and connections may change what `/api/state` shows (handlers call services
        // that do not all raise events); pointer input does not, unless a click selects, which
        // raises `selectionChanged` and so marks the state changed.
        if !matches!(item, Inbound::Input { .. }) {
            self.core.mark_changed();
        }
        // Render on demand: a message may change anything the picture shows (handlers reach
        // the stage, camera, selection and settings through services); a finished load does.
        match &item {
            Inbound::Message { .. } => self.core.mark_dirty("message"),
            Inbound::StageLoaded(_) => self.core.mark_dirty("stage"),
            Inbound::StageTextures(_) => self.core.mark_dirty("textures"),
            _ => {}
        }
        let keep_running = self.handle_item(item);
        self.flush_events();
        self.publish_if_changed();
        keep_running
    }

    /// Handles an item from the inbound queue, giving its byte reservation back.
    fn handle_queued(&mut self, item: Inbound) -> bool {
        let (client, cost) = (super::inbound::inbound_client(&item), super::inbound::inbound_cost(&item));
        if cost > 0 {
            self.core.hub().release_inbound(client, cost);
        }
        let kind = super::inbound::inbound_kind(&item);
        let started = Instant::now();
        let go_on = self.handle_inbound(item);
        self.stalls.item(started.elapsed(), || kind.to_string());
        go_on
    }

    /// Rebuilds `/api/state` when something it shows changed since the last publication.
    fn publish_if_changed(&mut self) {
        if self.core.take_changed() {
            self.publish_state();
        }
    }

    /// Delivers host events raised by services to every handler.
    fn flush_events(&mut self) {
        for _ in 0..16 {
            let events = self.core.take_events();
            if events.is_empty() {
                return;
            }
            let hub = self.core.hub().clone();
            for (client, event, payload) in events {
                self.router.notify(&hub, &mut self.core, client, &event, &payload);
            }
        }
        tracing::warn!("host events kept raising more events; the rest were dropped");
        self.core.take_events();
    }

    fn handle_item(&mut self, item: Inbound) -> bool {
        let client = super::inbound::inbound_client(&item);
        if self.core.hub().is_forgotten(client) {
            tracing::debug!(client, "message from a client the host closed; ignored");
            return true;
        }
        match item {
            Inbound::StageLoaded(result) => self.stage_loaded(*result),
            Inbound::StageAnswer(answer) => self.stage_answer(answer),
            Inbound::StageTextures(batch) => self.stage_textures(*batch),
            Inbound::Shutdown => return false,
            Inbound::Connected(client) => {
                let hub = self.core.hub().clone();
                let (_, viewers) = self.core.hub_and_viewers();
                viewers.connected(&hub, client);
                viewers.broadcast_presence(&hub);
                self.router.notify(&hub, &mut self.core, client, "clientConnected", &json!({ "client_id": client }));
            }
            Inbound::Disconnected(client) => {
                let hub = self.core.hub().clone();
                self.core.viewers_mut().disconnected(&hub, client);
                self.deferred.forget(client);
                self.router.notify(&hub, &mut self.core, client, "clientDisconnected", &json!({ "client_id": client }));
            }
            Inbound::Message { client, envelope } => self.handle_message(client, &envelope),
            Inbound::Input { client, events, seq } => {
                let loading = self.core.is_loading();
                let hub = self.core.hub().clone();
                for event in events {
                    // Input is dropped while a stage loads, from spectators, and pointer input
                    // while the client's viewport is inactive (its panels own it).
                    if loading || !self.core.viewers_mut().admit_input(&hub, client, &event) {
                        continue;
                    }
                    self.input.push(client, event);
                }
                if let Some(seq) = seq {
                    self.input.last_seq = self.input.last_seq.max(seq);
                }
            }
        }
        true
    }

    fn handle_message(&mut self, client: ClientId, envelope: &Envelope) {
        tracing::debug!(client, event_type = %envelope.event_type, "dispatching");
        if envelope.event_type == HELLO_EVENT_TYPE {
            self.hello(client, &envelope.payload);
            return;
        }
        if envelope.event_type == KEYFRAME_REQUEST_EVENT_TYPE {
            let reason = envelope.payload.get("reason").and_then(Value::as_str).unwrap_or("");
            tracing::debug!(client, reason, "the viewer asked for a keyframe");
            self.core.hub().resync(client);
            return;
        }
        if self.host_message(client, &envelope.event_type, &envelope.payload) {
            return;
        }
        if self.deferred.holds(client) {
            // Behind a message that waits for the stage worker: in order, after it.
            if let Err(reason) = self.deferred.queue(client, envelope.clone()) {
                self.core
                    .hub()
                    .send(client, crate::protocol::viewer_error(crate::protocol::codes::BUSY, &reason, None));
            }
            return;
        }
        self.dispatch_to_handler(client, envelope);
    }

    /// Dispatches a message to its handler; false when it was parked to wait for the stage
    /// worker (`super::deferred`).
    fn dispatch_to_handler(&mut self, client: ClientId, envelope: &Envelope) -> bool {
        let hub = self.core.hub().clone();
        self.core.begin_dispatch();
        self.router.dispatch(&hub, &mut self.core, client, &envelope.event_type, &envelope.payload);
        match self.core.end_dispatch() {
            Some(ticket) => {
                self.deferred.park(client, envelope.clone(), ticket);
                false
            }
            None => true,
        }
    }

    /// The stage query thread answered: the messages that waited for it are dispatched again,
    /// each client's waiting messages after them in order.
    fn stage_answer(&mut self, answer: super::inbound::StageAnswer) {
        let ticket = answer.ticket;
        if let Ok(slot) = self.core.stage_slot() {
            slot.answered(answer);
        }
        for client in self.deferred.ready_for(ticket) {
            while let Some(envelope) = self.deferred.next(client) {
                if self.core.hub().is_forgotten(client) {
                    self.deferred.forget(client);
                    break;
                }
                if !self.dispatch_to_handler(client, &envelope) {
                    break;
                }
                self.flush_events();
            }
        }
    }

    /// The `hello` handshake: records what the client decodes and answers with the host's facts.
    fn hello(&mut self, client: ClientId, payload: &Value) {
        let offered: Vec<String> = payload
            .get("video")
            .and_then(|v| v.get("codecs"))
            .and_then(Value::as_array)
            .map(|codecs| codecs.iter().filter_map(|c| c.as_str().map(str::to_lowercase)).collect())
            .unwrap_or_default();
        let available = self.available_codecs();
        let chosen =
            offered.iter().filter_map(|c| ovhost_plugin_api::FrameFormat::from_name(c)).find(|f| available.contains(f));
        self.core.hub().set_codec(client, chosen);
        if let Some(dialect) = payload.get("dialect") {
            match dialect.as_str().filter(|d| super::hub::valid_dialect(d)) {
                Some(dialect) if self.router.knows_dialect(dialect) => self.core.hub().set_dialect(client, dialect),
                Some(dialect) => self.core.hub().send(
                    client,
                    protocol::viewer_error(
                        protocol::codes::INVALID_INPUT,
                        &format!(
                            "hello.dialect '{dialect}' is not a dialect this host serves (default{}); the connection keeps its dialect",
                            self.router.dialects().iter().map(|d| format!(", {d}")).collect::<String>()
                        ),
                        None,
                    ),
                ),
                None => self.core.hub().send(
                    client,
                    protocol::viewer_error(
                        protocol::codes::INVALID_INPUT,
                        &format!(
                            "hello.dialect must be a dialect name (letters, digits, '-' or '_', at most 32), not {}; the connection keeps its dialect",
                            protocol::truncate_chars(&dialect.to_string(), 64)
                        ),
                        None,
                    ),
                ),
            }
        }
        let name = payload.get("name").or_else(|| payload.get("client")).and_then(Value::as_str);
        let hub = self.core.hub().clone();
        self.core.viewers_mut().hello(&hub, client, name);
        let codec_name = |f: ovhost_plugin_api::FrameFormat| match f {
            ovhost_plugin_api::FrameFormat::H264 => ovhost_protocol::VideoCodec::H264,
            _ => ovhost_protocol::VideoCodec::Jpeg,
        };
        let reply = ovhost_protocol::HelloResultPayload {
            host: "ovhost".into(),
            host_version: env!("CARGO_PKG_VERSION").into(),
            plugin_api_version: ovhost_plugin_api::API_VERSION.into(),
            protocol_version: 1,
            client_id: client,
            features: ["app-messages", "input", "video", "plugins", "camera-schemes", "dialects"]
                .map(String::from)
                .to_vec(),
            stream: ovhost_protocol::StreamInfo {
                width: self.core.stream().width,
                height: self.core.stream().height,
                fps: self.core.stream().fps,
                max_width: Some(self.core.viewers().config.max_width),
                max_height: Some(self.core.viewers().config.max_height),
                max_pixels: Some(self.core.viewers().config.max_pixels),
                max_fps: Some(self.max_fps),
                bitrate_kbps: self.core.video_options().bitrate_kbps,
            },
            video: Some(ovhost_protocol::VideoChoice {
                codec: chosen.map(codec_name),
                available: available.iter().map(|f| codec_name(*f)).collect(),
                header_bytes: super::sinks::VIDEO_HEADER_BYTES as u32,
            }),
            state: serde_json::from_value(json!(self.core.status().state()))
                .unwrap_or(ovhost_protocol::RuntimeState::Error),
            role: self.core.hub().role(client),
        };
        let reply = serde_json::to_value(&reply).unwrap_or(Value::Null);
        let hub = self.core.hub().clone();
        hub.send(client, protocol::encode("helloResult", &reply));
        // Instances disabled before this client arrived: told once, here (later ones reach it
        // through `broadcast_greeted`).
        for disabled in self.core.disabled() {
            hub.send(client, protocol::encode(svc::PluginDisabled::NAME, &json!(disabled)));
        }
        hub.mark_greeted(client);
        if let Some(capture) = self.capture.as_ref().filter(|c| c.is_recording()) {
            hub.send(client, capture.state_text());
        }
        self.core.viewers().broadcast_presence(&hub);
        let dialect = hub.dialect(client);
        self.router.notify(
            &hub,
            &mut self.core,
            client,
            "clientHello",
            &json!({ "client_id": client, "client": payload.get("client"), "dialect": dialect }),
        );
    }

    /// Messages the host answers itself (control and stream size); false for everything else.
    fn host_message(&mut self, client: ClientId, event_type: &str, payload: &Value) -> bool {
        let hub = self.core.hub().clone();
        match event_type {
            "requestControl" | "grantControl" | "revokeControl" | "releaseControl" => {
                match self.core.viewers_mut().control_message(&hub, client, event_type, payload) {
                    Ok(true) => self.core.viewers().broadcast_presence(&hub),
                    Ok(false) => hub.send(client, self.core.viewers().presence_text(&hub)),
                    Err((code, message)) => hub.send(
                        client,
                        protocol::viewer_error(code, &message, Some(json!({ "event_type": event_type }))),
                    ),
                }
                true
            }
            "startRecording" | "stopRecording" => {
                if let Err((code, message)) = self.recording_message(client, event_type) {
                    hub.send(client, protocol::viewer_error(code, &message, Some(json!({ "event_type": event_type }))));
                }
                true
            }
            "setStreamQuality" => {
                match self.set_stream_quality(client, payload) {
                    Ok(changed) => hub.broadcast_greeted_in("", &protocol::encode("streamQualityChanged", &changed)),
                    Err((code, message)) => hub.send(
                        client,
                        protocol::viewer_error(code, &message, Some(json!({ "event_type": event_type }))),
                    ),
                }
                true
            }
            "setStreamSize" => {
                if let Err((code, message)) = self.set_stream_size(client, payload) {
                    hub.send(client, protocol::viewer_error(code, &message, Some(json!({ "event_type": event_type }))));
                }
                true
            }
            _ => false,
        }
    }

    /// `setStreamQuality {bitrate_kbps?, fps?}` from a client that drives: the frame rate (up to
    /// `--fps`) paces the render loop and the encoder; the bitrate goes to the H.264 encoder.
    fn set_stream_quality(&mut self, client: ClientId, payload: &Value) -> Result<Value, (&'static str, String)> {
        let request: ovhost_protocol::StreamQualityRequest = serde_json::from_value(payload.clone())
            .map_err(|e| (protocol::codes::INVALID_INPUT, format!("setStreamQuality: {e}")))?;
        if !super::viewers::Viewers::may_drive(self.core.hub(), client) {
            return Err((
                super::viewers::NOT_PERMITTED,
                "spectators watch at the quality the driving viewer chose".into(),
            ));
        }
        if let Some(fps) = request.fps {
            self.core.set_fps(fps.clamp(1, self.max_fps));
        }
        let mut video = self.core.video_options();
        video.fps = self.core.stream().fps;
        if let Some(kbps) = request.bitrate_kbps {
            video.bitrate_kbps = Some(kbps.clamp(100, 50_000));
        }
        // The converters are reconfigured in place next frame (video_options.rs).
        self.core.set_video_options(video);
        tracing::info!(fps = video.fps, bitrate_kbps = ?video.bitrate_kbps, client, "stream quality changed");
        Ok(
            json!({ "fps": video.fps, "max_fps": self.max_fps, "bitrate_kbps": video.bitrate_kbps, "requested_by": client }),
        )
    }

    /// `startRecording` / `stopRecording` from a client that drives (the outcome reaches everyone
    /// as `recordingState`).
    fn recording_message(&mut self, client: ClientId, event_type: &str) -> Result<(), (&'static str, String)> {
        if !super::viewers::Viewers::may_drive(self.core.hub(), client) {
            return Err((super::viewers::NOT_PERMITTED, "spectators cannot start or stop recordings".into()));
        }
        let Some(capture) = &self.capture else {
            return Err(("unavailable", "this host has no recorder".into()));
        };
        if event_type == "startRecording" {
            if !self.available_codecs().contains(&ovhost_plugin_api::FrameFormat::H264) {
                return Err((
                    "unavailable",
                    "recording needs an H.264 encoder plugin (h264), which is not loaded".into(),
                ));
            }
            capture.start(client, self.core.stream().width, self.core.stream().height).map_err(|e| ("bad_state", e))?;
            self.core.hub().request_keyframe();
        } else {
            capture.stop("stopped").map_err(|e| ("bad_state", e))?;
        }
        Ok(())
    }

    /// `setStreamSize {width, height}` from a client that drives: clamped, applied, announced.
    fn set_stream_size(&mut self, client: ClientId, payload: &Value) -> Result<(), (&'static str, String)> {
        let request: ovhost_protocol::StreamSizeRequest = serde_json::from_value(payload.clone())
            .map_err(|e| (protocol::codes::INVALID_INPUT, format!("setStreamSize: {e}")))?;
        if !super::viewers::Viewers::may_drive(self.core.hub(), client) {
            return Err((
                super::viewers::NOT_PERMITTED,
                "spectators watch the stream at the size the controlling viewer chose".into(),
            ));
        }
        if let Some(sink) = self.out.sinks().iter().find(|s| s.fixed_size()) {
            return Err(("unsupported", format!("the {} transport streams a fixed size", sink.name())));
        }
        let (width, height) = self.core.viewers().config.clamp_size(request.width, request.height);
        let (old_width, old_height) = self.core.stream().size();
        if let Err(e) = self.core.resize_stream(width, height) {
            tracing::warn!(width, height, "stream resize failed: {e}");
            // Back to the previous size, which worked.
            let _ = self.core.resize_stream(old_width, old_height);
            return Err((e.kind.name(), format!("the stream could not be resized to {width}x{height}: {}", e.message)));
        }
        let changed = ovhost_protocol::StreamSizePayload { width, height, requested_by: Some(client) };
        self.core.hub().broadcast_greeted(&protocol::encode("streamSizeChanged", &json!(changed)));
        Ok(())
    }

    /// Codecs the web sink could deliver given the registered converters.
    fn available_codecs(&self) -> Vec<ovhost_plugin_api::FrameFormat> {
        self.out.available_codecs(self.core.registry())
    }

    /// One frame interval at `now_us` (host monotonic microseconds): polls the sinks, advances
    /// the camera, and renders and delivers a frame if something changed or a sink needs one
    /// (see `pacing.rs`). Returns whether a frame was rendered.
    pub fn tick(&mut self, now_us: u64) -> bool {
        let started = Instant::now();
        let hub = self.core.hub().clone();
        let polled: Vec<Inbound> = self.out.sinks().iter_mut().flat_map(|s| s.poll(&hub, now_us)).collect();
        for item in polled {
            self.handle_inbound(item);
        }
        if let Some(video) = self.core.take_video_change() {
            let per_converter = self.core.settings().get(super::video_options::CONVERTER_SETTINGS_KEY).cloned();
            tracing::info!(?video, "video options changed; converters reconfigured");
            self.out.set_video_options(video, per_converter);
        }
        let video = self.out.video_options();
        hub.set_video_base(
            video.bitrate_kbps.unwrap_or(super::sinks::DEFAULT_BITRATE_KBPS),
            video.quality.unwrap_or(super::sinks::DEFAULT_JPEG_QUALITY),
            self.core.stream().fps,
        );
        let dt_us = self.last_tick_us.map_or(0, |last| now_us.saturating_sub(last));
        self.last_tick_us = Some(now_us);
        let (mut view, had_input) = self.update_camera(dt_us);
        if had_input {
            self.core.mark_dirty("input");
        }
        if self.last_view != Some(view) {
            self.core.mark_dirty("camera");
        }
        let (keyframe, tiers) = self.out.take_keyframe_requests();
        self.keyframe_pending |= keyframe;
        self.tier_keyframes_pending |= tiers;
        if self.keyframe_pending || self.tier_keyframes_pending != 0 {
            self.core.mark_dirty("keyframe");
        }
        if self.core.timeline_mut().advance(dt_us, now_us) {
            let state = self.core.timeline().state();
            self.core.raise_event::<svc::TimelineChanged>(0, &state);
        }
        // Looking through an animated authored camera: the view follows the timeline.
        let t = self.core.timeline().time_code();
        if let Some(path) = self.core.camera_mut().authored_to_pose(t)
            && let Ok(posed) = super::services::authored_camera_view(&self.core, &path, t)
            && posed != view
            && self.core.camera_mut().set_view(posed).is_ok()
        {
            view = posed;
            self.core.mark_dirty("camera");
        }
        // A playing timeline moves the picture every interval; a still waits for the next frame.
        let playing = self.core.timeline().is_playing();
        self.core.set_continuous("timeline", playing);
        if self.capture.as_ref().is_some_and(|c| c.still_pending()) {
            self.core.mark_dirty("still");
        }
        let continuous = self.out.sink_needs_continuous();
        self.core.set_continuous("sink", continuous);
        let kind = match self.core.pacer_mut().next_frame(now_us) {
            Some(FrameKind::Refresh) if !self.out.anyone_wants() => None,
            kind => kind,
        };
        let Some(kind) = kind else {
            // Nothing changed: no render, no encode.
            self.flush_events();
            self.publish_if_changed();
            return false;
        };
        self.frame_number += 1;
        let time_code = self.core.timeline().time_code();
        let request = RenderRequest { camera: view, frame_number: self.frame_number, time_us: now_us, time_code };
        let render_started = Instant::now();
        let frame_number = self.frame_number;
        let mut became_ready = false;
        let mut changing = false;
        let keyframe = std::mem::take(&mut self.keyframe_pending);
        let keyframe_tiers = std::mem::take(&mut self.tier_keyframes_pending);
        let fps = self.core.stream().fps;
        let refresh = kind == FrameKind::Refresh;
        let status = self.core.status().clone();
        let registry = self.core.registry().clone();
        // GPU colour conversion (issue 13): the renderer output the watching sinks' chains want
        // cheapest (I420 from a GPU renderer for H.264); its default for warm-up and stills.
        let wanted: Vec<_> = if status.is_ready() && !self.capture.as_ref().is_some_and(|c| c.still_pending()) {
            self.out.sinks().iter().flat_map(|s| s.wanted()).collect()
        } else {
            Vec::new()
        };
        let current = self.out.renderer_output;
        self.out.renderer_default =
            super::chain::choose_renderer_output(&registry, &mut self.core.renderer_mut().instance, current, &wanted);
        let failure = request.with_ref(|request| {
            // The frame borrows the renderer: it is delivered before the renderer is called again.
            let (renderer, stats) = self.core.renderer_and_stats();
            let mut frame = renderer.instance.render(request).into_result()?;
            frame
                .validate()
                .map_err(|e| PluginError::new(e.kind, format!("invalid frame descriptor: {}", e.message)))?;
            frame.frame_number = frame_number;
            frame.timestamp_us = now_us;
            // A still is a PNG of RGBA: one asked for after this frame chose I420 (issue 13) waits
            // for the next frame, which the pending still renders as RGBA.
            if let Some(capture) = &self.capture
                && frame.format != ovhost_plugin_api::FrameFormat::I420
            {
                capture.fulfil_stills(&frame);
            }
            changing = frame.flags & FRAME_FLAG_CHANGING != 0;
            self.last_render_ns = render_started.elapsed().as_nanos() as u64;
            crate::metrics::record_render(self.last_render_ns);
            status.frames_rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.out.set_renderer_output(frame.spec());
            self.out.deliver(&frame, stats, self.input.last_seq, now_us, keyframe, keyframe_tiers, refresh, fps);
            if !status.is_ready() && self.out.warm_up(&frame) {
                became_ready = true;
            }
            Ok::<(), PluginError>(())
        });
        self.last_view = Some(view);
        match failure {
            Ok(()) => self.render_failures = 0,
            Err(e) => {
                // Try again next interval (the fallback renderer, or the same one recovering).
                self.core.mark_dirty("render failed");
                self.render_failed(&e);
            }
        }
        if changing {
            self.core.mark_dirty("renderer changing");
        }
        if !status.is_ready() && !became_ready && self.out.not_ready_reason().is_none() {
            // A conversion failed during warm-up (not a sink nothing can feed): retry.
            self.core.mark_dirty("readiness");
        }
        if became_ready {
            tracing::info!("first frame rendered and converted; ready");
            self.core.status().mark_ready();
            self.core.mark_changed();
        }
        // Clicks and keys handled in this frame may have raised events (selectionChanged,
        // cameraChanged): deliver them now rather than with the next inbound message.
        self.flush_events();
        self.publish_if_changed();
        self.last_tick_ns = started.elapsed().as_nanos() as u64;
        let stats = self.core.stats_mut();
        self.out.collect(stats);
        stats.set_pipeline(self.out.last_copy_ns, self.out.superseded);
        self.core.stats_mut().record(now_us, self.last_tick_ns, self.last_render_ns, self.out.last_convert_ns);
        true
    }

    /// A failed frame: a panic disables the renderer at once, repeated failures after
    /// [`RENDER_FAILURES_BEFORE_DISABLE`] frames; either way the diagnostic renderer takes over
    /// so the stream continues, and clients are told once.
    fn render_failed(&mut self, error: &PluginError) {
        self.core.status().render_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::metrics::plugin_failure("renderer", error.is_panic());
        self.render_failures = self.render_failures.saturating_add(1);
        let id = self.core.renderer().id.clone();
        let fatal = error.is_panic() || self.render_failures >= RENDER_FAILURES_BEFORE_DISABLE;
        if self.render_failures == 1 || fatal {
            tracing::warn!(renderer = %id, failures = self.render_failures, "render failed: {error}");
        }
        if !fatal || self.core.is_disabled("renderer", &id) {
            return;
        }
        let reason = if error.is_panic() {
            error.message.to_string()
        } else {
            format!("{} consecutive frames failed; last error: {}", self.render_failures, error.message)
        };
        let fallback = (id != FALLBACK_RENDERER).then(|| self.core.fallback_renderer(FALLBACK_RENDERER)).flatten();
        let plugin = self.core.registry().renderers.get(&id).map(|r| r.plugin.clone()).unwrap_or_default();
        self.core.disable("renderer", &id, &plugin, reason, fallback.as_ref().map(|r| r.id.clone()));
        if let Some(renderer) = fallback {
            self.core.replace_renderer(renderer);
            self.render_failures = 0;
            self.out.renderer_output = None;
            self.core.hub().request_keyframe();
        }
    }

    /// Feeds queued input to the camera and advances it; returns the view and whether there
    /// was input.
    fn update_camera(&mut self, dt_us: u64) -> (CameraView, bool) {
        let tagged = self.input.drain();
        for (client, event) in &tagged {
            self.route_host_input(*client, event);
        }
        let events: Vec<_> = tagged.into_iter().map(|(_, event)| event).collect();
        if let Err(panic) = self.core.camera_mut().advance(&events, dt_us) {
            self.core.camera_failed(&panic.id, &panic.error);
        }
        (self.core.camera().view(), !events.is_empty())
    }

    /// The host's own share of input: click-to-pick (a left press and release from one client
    /// within [`CLICK_THRESHOLD_PX`], no Alt) and `F` to frame the selection.
    fn route_host_input(&mut self, client: ClientId, event: &ovhost_plugin_api::InputEvent) {
        if let Some((x, y)) = self.core.viewers_mut().judge_click(client, event) {
            self.core.click(x, y);
        }
        match event.kind {
            InputKind::KEY_DOWN if event.key.as_str() == "f" && event.modifiers == 0 => {
                // The selection, or the whole stage ("/"), keeping the viewing direction.
                let mut selection = self.core.selection().prims().to_vec();
                if selection.is_empty() {
                    selection.push("/".into());
                }
                if self.core.has_stage()
                    && let Err(e) = self.core.fit_to(&selection)
                {
                    tracing::debug!("frame selection failed: {e}");
                }
            }
            _ => {}
        }
    }

    /// Commits a finished load: renderer, camera fit, selection reset, state, events.
    fn stage_loaded(&mut self, loaded: LoadResult) {
        let status = self.core.status().clone();
        let Some(slot) = self.core.stage_slot().ok() else { return };
        if !slot.accept(loaded.request_id) {
            tracing::debug!(request = loaded.request_id, latest = ?slot.loading().map(|l| l.0), "stale stage load result dropped");
            return;
        }
        let had_stage = slot.current().is_some();
        let failed = |core: &mut Core, code: &str, message: String| {
            if let Ok(slot) = core.stage_slot() {
                slot.failed(message.clone());
            }
            status.set_state(if had_stage { RuntimeState::Streaming } else { RuntimeState::Idle });
            core.raise(
                0,
                "stageOpenFailed",
                json!({ "request_id": loaded.request_id, "url": loaded.url, "code": code, "error": message }),
            );
        };
        let opened = match loaded.result {
            Ok(opened) => opened,
            Err(e) => {
                let message = e.to_string();
                tracing::warn!(url = %loaded.url, code = e.code(), "stage load failed: {message}");
                failed(&mut self.core, e.code(), message);
                return;
            }
        };
        if let RResult::RErr(e) = self.core.renderer_mut().instance.open_stage(opened.scene.as_scene()) {
            let message = format!("the renderer could not take the stage: {}", e.message);
            tracing::error!(url = %loaded.url, "{message}");
            failed(&mut self.core, "renderer_failed", message);
            return;
        }
        let info = opened.info.clone();
        let fit_bounds = {
            let drawn = super::stage::drawn_bounds(&opened.scene);
            if drawn.is_empty() { info.bounds } else { drawn }
        };
        tracing::info!(
            url = %info.url, generation = info.generation, prims = info.prim_count, triangles = info.triangle_count,
            up_axis = info.up_axis.as_str(), reason = ?loaded.reason, "stage opened"
        );
        let Some((slot, selection)) = self.core.stage_and_selection() else { return };
        slot.commit(loaded.request_id, opened, loaded.prefetched);
        let had_selection = selection.reset();
        // A variant switch recomposes the same stage: the selected prims that still exist stay
        // selected (a new stage starts with none); the loader checked them against the new
        // composition in the same trip as the load.
        let kept = if loaded.reason == LoadReason::Variant && had_selection { loaded.kept } else { Vec::new() };
        self.input.clear();
        self.core.viewers_mut().clear_presses();
        let keep_view = loaded.reason == LoadReason::Variant && had_stage;
        self.core.camera_mut().stage_changed(&fit_bounds, info.up_axis, keep_view);
        status.set_state(RuntimeState::Streaming);
        let stage = serde_json::to_value(&info).unwrap_or(Value::Null);
        self.core.raise(
            0,
            "stageOpened",
            json!({ "request_id": loaded.request_id, "reason": loaded.reason, "stage": stage }),
        );
        if !kept.is_empty() {
            // Outline the kept prims again (their ids belong to the new composition); raises
            // selectionChanged.
            self.core.apply_selection(kept, "stage");
        } else if had_selection {
            self.core.raise(0, "selectionChanged", json!({ "prims": [], "source": "stage" }));
        }
        self.stage_time_and_camera(loaded.reason, had_stage);
        let camera = self.core.camera_state();
        self.core.raise_event::<svc::CameraChanged>(0, &camera);
        self.core.mark_dirty("stage");
        self.core.hub().request_keyframe();
    }

    /// Streamed textures arrived: the loaded stage takes them and the renderer uploads them
    /// (a renderer older than API 0.2.2 gets the whole stage again once all have arrived).
    fn stage_textures(&mut self, batch: ovhost_stage::TextureBatch) {
        self.apply_textures(batch);
        if let (_, Some(slot)) = self.core.renderer_and_stage() {
            slot.texture_handled();
        }
    }

    fn apply_textures(&mut self, batch: ovhost_stage::TextureBatch) {
        let (renderer, slot) = self.core.renderer_and_stage();
        let Some(slot) = slot else { return };
        let remaining = batch.remaining;
        let Some(indices) = slot.take_textures(batch) else { return };
        let Some(current) = slot.current() else { return };
        if indices.is_empty() {
            return; // a stage without textures answers one empty batch
        }
        let scene = current.scene.as_scene();
        match renderer.instance.update_textures(scene, indices.as_slice().into()) {
            RResult::ROk(true) => {}
            RResult::ROk(false) if remaining == 0 => {
                if let RResult::RErr(e) = renderer.instance.open_stage(current.scene.as_scene()) {
                    tracing::warn!(renderer = %renderer.id, "the renderer could not take the textured stage: {}", e.message);
                }
            }
            RResult::ROk(false) => {}
            RResult::RErr(e) => {
                tracing::warn!(renderer = %renderer.id, "the renderer could not take streamed textures: {}", e.message);
            }
        }
    }

    /// After a load: the timeline takes the stage's time, and with `--camera-policy
    /// stage-camera` the view goes through the stage's first authored camera.
    fn stage_time_and_camera(&mut self, reason: LoadReason, had_stage: bool) {
        let Some(current) = self.core.stage().and_then(|s| s.current()) else { return };
        let scene = &current.scene;
        let first_camera = scene.cameras.first().map(|c| c.path.to_string());
        let (range, animated) = (scene.time_range, !scene.tracks.is_empty());
        self.core.timeline_mut().stage_opened(range, animated);
        let state = self.core.timeline().state();
        self.core.raise_event::<svc::TimelineChanged>(0, &state);
        let fresh = reason != LoadReason::Variant || !had_stage;
        if fresh
            && self.core.camera_policy() == super::CameraPolicy::StageCamera
            && let Some(path) = first_camera
            && let Err(e) = super::services::use_authored_camera(&mut self.core, &path)
        {
            tracing::warn!(camera = %path, "the stage camera could not be adopted: {e}");
        }
    }

    /// Publishes render-thread facts for `/api/state`.
    pub fn publish_state(&self) {
        let core = &self.core;
        let stage = core.stage();
        let stream = core.stream();
        core.status().set_detail(json!({
            "renderer": core.renderer().id,
            "renderer_sections": core.renderer().sections,
            "camera": core.camera_state(),
            "stream": { "width": stream.width, "height": stream.height, "fps": stream.fps },
            "sinks": self.out.sinks().iter().map(|s| s.name()).collect::<Vec<_>>(),
            "clients": core.hub().stats(),
            "handlers": self.router.to_json(),
            "disabled": core.disabled(),
            "input_events_dropped": self.input.dropped,
            "input_active": core.viewers().input_active_json(),
            "control": core.viewers().config.control.name(),
            "stream_limits": { "max_width": core.viewers().config.max_width, "max_height": core.viewers().config.max_height, "max_pixels": core.viewers().config.max_pixels },
            "stage": stage.and_then(|s| s.current()).map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null)),
            "loading": stage.and_then(|s| s.loading()).map(|l| json!({"url": l.1, "request_id": l.0})),
            "selection": core.selection().prims(),
            "last_stage_error": stage.and_then(|s| s.last_error()),
            "stats": core.stats().to_json(core.status(), core.hub().len()),
            "pacing": core.pacer().to_json(),
            "render_thread": self.stalls.to_json(),
            "video": {
                "fps": self.out.video_options().fps,
                "bitrate_kbps": self.out.video_options().bitrate_kbps,
                "keyframe_interval_s": self.out.video_options().keyframe_interval_s,
                "quality": self.out.video_options().quality,
            },
            "not_ready_reason": self.out.not_ready_reason(),
            "delivery": self.out.to_json(),
        }));
    }

    /// Runs until shutdown: waits for inbound work until each frame's deadline, then renders.
    /// A tick that overran is caught up by the next ones ([`super::pacing::next_deadline`]);
    /// after a longer stall the intervals lost are dropped, never rendered concurrently.
    pub fn run(mut self, inbound: Receiver<Inbound>, clock: Instant) {
        if let Err(e) = self.out.start_encoder_thread() {
            tracing::error!("the encoder thread could not start ({e}); frames are encoded on the render thread");
        }
        let mut deadline = Instant::now();
        let mut last_publish = Instant::now();
        let mut last_frame_started: Option<Instant> = None;
        loop {
            self.core.status().beat();
            let now = Instant::now();
            if now < deadline {
                match inbound.recv_timeout(deadline - now) {
                    Ok(item) => {
                        if !self.handle_queued(item) {
                            return self.shutdown();
                        }
                        // Render on arrival (`pacing::start_frame_now`): the frame grid restarts here.
                        let arrived = Instant::now();
                        if (!self.input.is_empty() || self.core.pacer().needs_frame())
                            && super::pacing::start_frame_now(last_frame_started, arrived, self.interval())
                        {
                            deadline = arrived;
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return self.shutdown(),
                }
            }
            // Behind schedule or at the deadline: still handle what is queued, then render. The
            // drain is bounded in items (a flood of messages) and in time (an item can take tens
            // of milliseconds, e.g. a texture upload in a debug build): once half a frame
            // interval is spent, the rest waits for the next one, so frames keep coming.
            let drain_started = Instant::now();
            let drain_budget = self.interval() / 2;
            for item in inbound.try_iter().take(MAX_ITEMS_PER_FRAME) {
                if !self.handle_queued(item) {
                    return self.shutdown();
                }
                if drain_started.elapsed() >= drain_budget {
                    break;
                }
            }
            let tick_started = Instant::now();
            if self.tick(clock.elapsed().as_micros() as u64) {
                last_frame_started = Some(tick_started);
            }
            let interval = self.interval();
            self.stalls.tick(tick_started.elapsed(), interval);
            let dropped;
            (deadline, dropped) = super::pacing::next_deadline(deadline, Instant::now(), interval);
            if dropped > 0 {
                self.core.status().frames_dropped.fetch_add(dropped, std::sync::atomic::Ordering::Relaxed);
            }
            // The camera view and the frame statistics change every frame: published at most
            // four times a second rather than per frame.
            if last_publish.elapsed() >= Duration::from_millis(250) {
                let clients = self.core.hub().stats();
                self.core.stats_mut().set_clients(clients);
                self.publish_state();
                last_publish = Instant::now();
            }
        }
    }

    /// The frame interval: it follows the frame rate a viewer chose (`setStreamQuality`).
    fn interval(&self) -> Duration {
        Duration::from_micros(1_000_000 / u64::from(self.core.stream().fps.max(1)))
    }

    fn shutdown(self) {
        self.core.status().set_state(RuntimeState::ShuttingDown);
        // A running recording is finished (its file stays playable), the temporary one removed.
        if let Some(capture) = &self.capture {
            capture.cleanup();
        }
        tracing::info!(frames = self.frame_number, "render loop stopped");
    }
}

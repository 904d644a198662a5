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

/// Pointer travel (stream pixels) below which a press and release is a click, not a drag.
pub const CLICK_THRESHOLD_PX: f32 = 4.0;

/// Tracks a left-button press to tell clicks from drags.
#[derive(Default)]
struct ClickTracker {
    press: Option<(f32, f32, f32)>, // x, y, travel
}

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
    click: ClickTracker,
    /// The view of the last rendered frame (a different one is a change to render).
    last_view: Option<CameraView>,
    /// A sink asked for a keyframe; kept until a frame is delivered.
    keyframe_pending: bool,
}

impl RenderLoop {
    pub fn new(core: Core, router: Router, sinks: Vec<Box<dyn Sink>>) -> Self {
        Self {
            core,
            router,
            out: Delivery::new(sinks),
            input: InputQueue::default(),
            frame_number: 0,
            last_tick_us: None,
            last_tick_ns: 0,
            last_render_ns: 0,
            render_failures: 0,
            click: ClickTracker::default(),
            last_view: None,
            keyframe_pending: false,
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
            _ => {}
        }
        let keep_running = self.handle_item(item);
        self.flush_events();
        self.publish_if_changed();
        keep_running
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
        match item {
            Inbound::StageLoaded(result) => self.stage_loaded(*result),
            Inbound::Shutdown => return false,
            Inbound::Connected(client) => {
                let hub = self.core.hub().clone();
                self.router.notify(&hub, &mut self.core, client, "clientConnected", &json!({ "client_id": client }));
            }
            Inbound::Disconnected(client) => {
                let hub = self.core.hub().clone();
                self.router.notify(&hub, &mut self.core, client, "clientDisconnected", &json!({ "client_id": client }));
            }
            Inbound::Message { client, envelope } => self.handle_message(client, &envelope),
            Inbound::Input { events, seq, .. } => {
                let loading = self.core.is_loading();
                for event in events {
                    // Input is dropped while a stage loads and pointer input while the viewport is
                    // inactive (panels own it); keys and cancels still go through.
                    let pointer = matches!(
                        event.kind,
                        InputKind::POINTER_MOVE | InputKind::POINTER_DOWN | InputKind::POINTER_UP | InputKind::WHEEL
                    );
                    if loading || (pointer && !self.core.input_active()) {
                        continue;
                    }
                    self.input.push(event);
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
        let hub = self.core.hub().clone();
        self.router.dispatch(&hub, &mut self.core, client, &envelope.event_type, &envelope.payload);
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
        if let Some(dialect) = payload.get("dialect").and_then(Value::as_str) {
            self.core.hub().set_dialect(client, dialect);
        }
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
            },
            video: Some(ovhost_protocol::VideoChoice {
                codec: chosen.map(codec_name),
                available: available.iter().map(|f| codec_name(*f)).collect(),
                header_bytes: super::sinks::VIDEO_HEADER_BYTES as u32,
            }),
            state: serde_json::from_value(json!(self.core.status().state()))
                .unwrap_or(ovhost_protocol::RuntimeState::Error),
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
        let dialect = hub.dialect(client);
        self.router.notify(
            &hub,
            &mut self.core,
            client,
            "clientHello",
            &json!({ "client_id": client, "client": payload.get("client"), "dialect": dialect }),
        );
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
        let polled: Vec<Inbound> = self.out.sinks.iter_mut().flat_map(|s| s.poll(&hub, now_us)).collect();
        for item in polled {
            self.handle_inbound(item);
        }
        if let Some(video) = self.core.take_video_change() {
            let per_converter = self.core.settings().get(super::video_options::CONVERTER_SETTINGS_KEY).cloned();
            tracing::info!(?video, "video options changed; converters reconfigured");
            self.out.set_video_options(video, per_converter);
        }
        let dt_us = self.last_tick_us.map_or(0, |last| now_us.saturating_sub(last));
        self.last_tick_us = Some(now_us);
        let (view, had_input) = self.update_camera(dt_us);
        if had_input {
            self.core.mark_dirty("input");
        }
        if self.last_view != Some(view) {
            self.core.mark_dirty("camera");
        }
        if self.out.take_keyframe_requests() {
            self.keyframe_pending = true;
        }
        if self.keyframe_pending {
            self.core.mark_dirty("keyframe");
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
        let request =
            RenderRequest { camera: view, frame_number: self.frame_number, time_us: now_us, time_code: f64::NAN };
        let render_started = Instant::now();
        let frame_number = self.frame_number;
        let mut became_ready = false;
        let mut changing = false;
        let keyframe = std::mem::take(&mut self.keyframe_pending);
        let refresh = kind == FrameKind::Refresh;
        let status = self.core.status().clone();
        let registry = self.core.registry().clone();
        let failure = request.with_ref(|request| {
            // The frame borrows the renderer: it is delivered before the renderer is called again.
            let (renderer, stats) = self.core.renderer_and_stats();
            let mut frame = renderer.instance.render(request).into_result()?;
            frame
                .validate()
                .map_err(|e| PluginError::new(e.kind, format!("invalid frame descriptor: {}", e.message)))?;
            frame.frame_number = frame_number;
            frame.timestamp_us = now_us;
            changing = frame.flags & FRAME_FLAG_CHANGING != 0;
            self.last_render_ns = render_started.elapsed().as_nanos() as u64;
            crate::metrics::record_render(self.last_render_ns);
            status.frames_rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.out.set_renderer_output(&registry, frame.spec());
            self.out.deliver(&registry, &frame, stats, self.input.last_seq, now_us, keyframe, refresh);
            if !status.is_ready() && self.out.warm_up(&registry, &frame) {
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
        let events = self.input.drain();
        for event in &events {
            self.route_host_input(event);
        }
        if let Err(panic) = self.core.camera_mut().advance(&events, dt_us) {
            self.core.camera_failed(&panic.id, &panic.error);
        }
        (self.core.camera().view(), !events.is_empty())
    }

    /// The host's own share of input: click-to-pick (left press and release within
    /// [`CLICK_THRESHOLD_PX`], no Alt) and `F` to frame the selection.
    fn route_host_input(&mut self, event: &ovhost_plugin_api::InputEvent) {
        match event.kind {
            InputKind::POINTER_DOWN if event.button == 0 && event.modifiers & ovhost_plugin_api::MOD_ALT == 0 => {
                self.click.press = Some((event.x, event.y, 0.0));
            }
            InputKind::POINTER_MOVE => {
                if let Some(press) = &mut self.click.press {
                    press.2 += event.dx.abs() + event.dy.abs();
                }
            }
            InputKind::POINTER_UP if event.button == 0 => {
                if let Some((x0, y0, travel)) = self.click.press.take() {
                    let moved = (event.x - x0).abs().max((event.y - y0).abs()).max(travel);
                    if moved <= CLICK_THRESHOLD_PX {
                        self.core.click(event.x, event.y);
                    }
                }
            }
            InputKind::KEY_DOWN if event.key.as_str() == "f" && event.modifiers == 0 => {
                let selection = self.core.selection().prims().to_vec();
                if self.core.has_stage()
                    && let Err(e) = self.core.fit_to(&selection)
                {
                    tracing::debug!("frame selection failed: {e}");
                }
            }
            InputKind::CANCEL => self.click.press = None,
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
        tracing::info!(
            url = %info.url, generation = info.generation, prims = info.prim_count, triangles = info.triangle_count,
            up_axis = info.up_axis.as_str(), reason = ?loaded.reason, "stage opened"
        );
        let Some((slot, selection)) = self.core.stage_and_selection() else { return };
        slot.commit(opened);
        let had_selection = selection.reset();
        self.input.clear();
        self.click.press = None;
        let keep_view = loaded.reason == LoadReason::Variant && had_stage;
        self.core.camera_mut().stage_changed(&info.bounds, info.up_axis, keep_view);
        status.set_state(RuntimeState::Streaming);
        let stage = serde_json::to_value(&info).unwrap_or(Value::Null);
        self.core.raise(
            0,
            "stageOpened",
            json!({ "request_id": loaded.request_id, "reason": loaded.reason, "stage": stage }),
        );
        if had_selection {
            self.core.raise(0, "selectionChanged", json!({ "prims": [], "source": "stage" }));
        }
        let camera = self.core.camera_state();
        self.core.raise_event::<svc::CameraChanged>(0, &camera);
        self.core.mark_dirty("stage");
        self.core.hub().request_keyframe();
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
            "sinks": self.out.sinks.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "clients": core.hub().stats(),
            "handlers": self.router.to_json(),
            "disabled": core.disabled(),
            "input_events_dropped": self.input.dropped,
            "input_active": core.input_active(),
            "stage": stage.and_then(|s| s.current()).map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null)),
            "loading": stage.and_then(|s| s.loading()).map(|l| json!({"url": l.1, "request_id": l.0})),
            "selection": core.selection().prims(),
            "last_stage_error": stage.and_then(|s| s.last_error()),
            "stats": core.stats().to_json(core.status(), core.hub().len()),
            "pacing": core.pacer().to_json(),
            "video": {
                "fps": self.out.video_options().fps,
                "bitrate_kbps": self.out.video_options().bitrate_kbps,
                "keyframe_interval_s": self.out.video_options().keyframe_interval_s,
                "quality": self.out.video_options().quality,
            },
            "not_ready_reason": self.out.not_ready_reason(),
        }));
    }

    /// Runs until shutdown: waits for inbound work until each frame's deadline, then renders.
    /// Frames whose deadline has already passed are dropped, never rendered concurrently.
    pub fn run(mut self, inbound: Receiver<Inbound>, clock: Instant) {
        let interval = Duration::from_micros(1_000_000 / u64::from(self.core.stream().fps.max(1)));
        let mut deadline = Instant::now();
        let mut last_publish = Instant::now();
        loop {
            self.core.status().beat();
            let now = Instant::now();
            if now < deadline {
                match inbound.recv_timeout(deadline - now) {
                    Ok(item) => {
                        if !self.handle_inbound(item) {
                            return self.shutdown();
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return self.shutdown(),
                }
            }
            // Behind schedule or at the deadline: still handle what is queued (bounded, so a
            // flood cannot starve the frames), then render.
            for item in inbound.try_iter().take(MAX_ITEMS_PER_FRAME) {
                if !self.handle_inbound(item) {
                    return self.shutdown();
                }
            }
            self.tick(clock.elapsed().as_micros() as u64);
            deadline += interval;
            let now = Instant::now();
            if now > deadline {
                let behind = (now - deadline).as_micros() / interval.as_micros().max(1);
                if behind > 0 {
                    self.core.status().frames_dropped.fetch_add(behind as u64, std::sync::atomic::Ordering::Relaxed);
                }
                deadline = now;
            }
            // The camera view and the frame statistics change every frame: published at most
            // four times a second rather than per frame.
            if last_publish.elapsed() >= Duration::from_millis(250) {
                self.publish_state();
                last_publish = Instant::now();
            }
        }
    }

    fn shutdown(self) {
        self.core.status().set_state(RuntimeState::ShuttingDown);
        tracing::info!(frames = self.frame_number, "render loop stopped");
    }
}

//! The render loop: the one thread that owns the renderer, camera, handlers and converter chains.
//!
//! Per frame ([`RenderLoop::tick`]): coalesced input into the camera controller, advance the
//! camera, render, run each wanted converter chain once, submit to the sinks. Between frames
//! ([`RenderLoop::run`]) it waits on the inbound queue until the next deadline, so messages are
//! handled as they arrive, in order, and never concurrently with a render. Time is an input to
//! `tick`, so tests can drive it frame by frame.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use abi_stable::std_types::RResult;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use ovhost_plugin_api::{CameraView, Frame, FrameSpec, InputKind, RenderRequest};
use serde_json::{Value, json};

use super::chain::{self, Chain};
use super::core::Core;
use super::hub::ClientId;
use super::input::InputQueue;
use super::router::Router;
use super::sinks::Sink;
use super::state::RuntimeState;
use crate::protocol::{self, Envelope, HELLO_EVENT_TYPE};

/// Work for the render thread, enqueued by I/O threads.
pub enum Inbound {
    Connected(ClientId),
    Disconnected(ClientId),
    Message {
        client: ClientId,
        envelope: Envelope,
    },
    Input {
        client: ClientId,
        events: Vec<ovhost_plugin_api::InputEvent>,
        seq: Option<u32>,
    },
    /// A stage load finished on the loader thread.
    StageLoaded(Box<super::stage::LoadResult>),
    Shutdown,
}

/// Pointer travel (stream pixels) below which a press and release is a click, not a drag.
pub const CLICK_THRESHOLD_PX: f32 = 4.0;

/// Tracks a left-button press to tell clicks from drags.
#[derive(Default)]
struct ClickTracker {
    press: Option<(f32, f32, f32)>, // x, y, travel
}

/// Inbound items handled per frame when the loop is behind schedule.
const MAX_ITEMS_PER_FRAME: usize = 256;

pub struct RenderLoop {
    pub core: Core,
    pub router: Router,
    pub sinks: Vec<Box<dyn Sink>>,
    pub input: InputQueue,
    chains: BTreeMap<(u32, u32), Option<Chain>>,
    /// Converter options by converter id (JSON), from settings.
    pub converter_config: BTreeMap<String, String>,
    renderer_output: Option<FrameSpec>,
    frame_number: u64,
    last_tick_us: Option<u64>,
    /// Timings of the last frame, for the overhead benchmark: the whole tick, the renderer's
    /// `render` call, and the converter chains.
    pub last_tick_ns: u64,
    pub last_render_ns: u64,
    pub last_convert_ns: u64,
    click: ClickTracker,
}

fn spec_key(spec: FrameSpec) -> (u32, u32) {
    (spec.format.0, spec.location.0)
}

impl RenderLoop {
    pub fn new(core: Core, router: Router, sinks: Vec<Box<dyn Sink>>) -> Self {
        Self {
            core,
            router,
            sinks,
            input: InputQueue::default(),
            chains: BTreeMap::new(),
            converter_config: BTreeMap::new(),
            renderer_output: None,
            frame_number: 0,
            last_tick_us: None,
            last_tick_ns: 0,
            last_render_ns: 0,
            last_convert_ns: 0,
            click: ClickTracker::default(),
        }
    }

    /// Handles one inbound item. Returns false on shutdown.
    pub fn handle_inbound(&mut self, item: Inbound) -> bool {
        let keep_running = self.handle_item(item);
        self.flush_events();
        // `/api/state` reflects what the item changed (stage, selection, camera) at once.
        self.publish_state();
        keep_running
    }

    /// Delivers host events raised by services to every handler.
    fn flush_events(&mut self) {
        for _ in 0..16 {
            let events = std::mem::take(&mut self.core.pending_events);
            if events.is_empty() {
                return;
            }
            let hub = self.core.hub.clone();
            for (client, event, payload) in events {
                self.router.notify(&hub, &mut self.core, client, &event, &payload);
            }
        }
        tracing::warn!("host events kept raising more events; the rest were dropped");
        self.core.pending_events.clear();
    }

    fn handle_item(&mut self, item: Inbound) -> bool {
        match item {
            Inbound::StageLoaded(result) => self.stage_loaded(*result),
            Inbound::Shutdown => return false,
            Inbound::Connected(client) => {
                let hub = self.core.hub.clone();
                self.router.notify(&hub, &mut self.core, client, "clientConnected", &json!({ "client_id": client }));
            }
            Inbound::Disconnected(client) => {
                let hub = self.core.hub.clone();
                self.router.notify(&hub, &mut self.core, client, "clientDisconnected", &json!({ "client_id": client }));
            }
            Inbound::Message { client, envelope } => self.handle_message(client, &envelope),
            Inbound::Input { events, seq, .. } => {
                let loading = self.core.stage.as_ref().is_some_and(|s| s.loading.is_some());
                for event in events {
                    // Input is dropped while a stage loads and pointer input while the viewport is
                    // inactive (panels own it); keys and cancels still go through.
                    let pointer = matches!(
                        event.kind,
                        InputKind::POINTER_MOVE | InputKind::POINTER_DOWN | InputKind::POINTER_UP | InputKind::WHEEL
                    );
                    if loading || (pointer && !self.core.input_active) {
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
        let hub = self.core.hub.clone();
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
        self.core.hub.set_codec(client, chosen);
        if let Some(dialect) = payload.get("dialect").and_then(Value::as_str) {
            self.core.hub.set_dialect(client, dialect);
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
                width: self.core.width,
                height: self.core.height,
                fps: self.core.fps,
            },
            video: Some(ovhost_protocol::VideoChoice {
                codec: chosen.map(codec_name),
                available: available.iter().map(|f| codec_name(*f)).collect(),
                header_bytes: super::sinks::VIDEO_HEADER_BYTES as u32,
            }),
            state: serde_json::from_value(json!(self.core.status.state()))
                .unwrap_or(ovhost_protocol::RuntimeState::Error),
        };
        let reply = serde_json::to_value(&reply).unwrap_or(Value::Null);
        self.core.hub.send(client, protocol::encode("helloResult", &reply));
        let hub = self.core.hub.clone();
        let dialect = self.core.hub.dialect(client);
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
        let from = self.renderer_output.unwrap_or(FrameSpec::host(ovhost_plugin_api::FrameFormat::RGBA8));
        [ovhost_plugin_api::FrameFormat::H264, ovhost_plugin_api::FrameFormat::JPEG]
            .into_iter()
            .filter(|f| chain::plan(&self.core.registry, from, FrameSpec::host(*f)).is_some())
            .collect()
    }

    /// Renders and delivers one frame at `now_us` (host monotonic microseconds).
    pub fn tick(&mut self, now_us: u64) {
        let started = Instant::now();
        let hub = self.core.hub.clone();
        let polled: Vec<Inbound> = self.sinks.iter_mut().flat_map(|s| s.poll(&hub, now_us)).collect();
        for item in polled {
            self.handle_inbound(item);
        }
        let dt_us = self.last_tick_us.map_or(0, |last| now_us.saturating_sub(last));
        self.last_tick_us = Some(now_us);
        self.frame_number += 1;
        let view = self.update_camera(dt_us);
        let request = RenderRequest { camera: view, frame_number: self.frame_number, time_us: now_us };
        let render_started = Instant::now();
        let frame = match self.core.renderer.instance.render(&request) {
            RResult::ROk(mut frame) => {
                frame.frame_number = self.frame_number;
                frame.timestamp_us = now_us;
                frame
            }
            RResult::RErr(e) => {
                self.core.status.render_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let id = self.core.renderer.id.clone();
                tracing::warn!(renderer = %id, "render failed: {e}");
                self.core.note_plugin_failure("renderer", &id, &e);
                return;
            }
        };
        self.last_render_ns = render_started.elapsed().as_nanos() as u64;
        self.core.status.frames_rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.renderer_output != Some(frame.spec()) {
            self.renderer_output = Some(frame.spec());
            self.chains.clear();
            self.report_sink_plans(frame.spec());
        }
        self.deliver(&frame);
        if !self.core.status.is_ready() {
            self.warm_up(&frame);
        }
        // Clicks and keys handled in this frame may have raised events (selectionChanged,
        // cameraChanged): deliver them now rather than with the next inbound message.
        self.flush_events();
        self.last_tick_ns = started.elapsed().as_nanos() as u64;
        self.core.stats.record(now_us, self.last_tick_ns, self.last_render_ns, self.last_convert_ns);
    }

    fn update_camera(&mut self, dt_us: u64) -> CameraView {
        let events = self.input.drain();
        for event in &events {
            self.route_host_input(event);
        }
        if let Some(camera) = &mut self.core.camera {
            for event in &events {
                if let RResult::RErr(e) = camera.instance.input(event) {
                    tracing::debug!(camera = %camera.id, "camera input failed: {e}");
                }
            }
            match camera.instance.advance(dt_us) {
                RResult::ROk(view) if view.is_finite() => self.core.view = view,
                RResult::ROk(_) => tracing::warn!(camera = %camera.id, "camera produced a non-finite view; ignored"),
                RResult::RErr(e) => {
                    let id = camera.id.clone();
                    tracing::warn!(camera = %id, "camera advance failed: {e}");
                    if e.is_panic() {
                        self.core.note_plugin_failure("camera", &id, &e);
                        self.core.camera = None;
                    }
                }
            }
        }
        self.core.view
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
                let selection = self.core.stage.as_ref().map(|s| s.selection.clone()).unwrap_or_default();
                if self.core.stage.as_ref().is_some_and(|s| s.current.is_some())
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
    fn stage_loaded(&mut self, loaded: super::stage::LoadResult) {
        let Some(slot) = &mut self.core.stage else { return };
        let latest = slot.loading.as_ref().map(|l| l.0);
        if latest != Some(loaded.request_id) {
            tracing::debug!(request = loaded.request_id, ?latest, "stale stage load result dropped");
            return;
        }
        slot.loading = None;
        let had_stage = slot.current.is_some();
        let opened = match loaded.result {
            Ok(opened) => opened,
            Err(e) => {
                let message = e.to_string();
                tracing::warn!(url = %loaded.url, code = e.code(), "stage load failed: {message}");
                slot.last_error = Some(message.clone());
                self.core.status.set_state(if had_stage { RuntimeState::Streaming } else { RuntimeState::Idle });
                self.core.raise(
                    0,
                    "stageOpenFailed",
                    json!({ "request_id": loaded.request_id, "url": loaded.url, "code": e.code(), "error": message }),
                );
                return;
            }
        };
        if let RResult::RErr(e) = self.core.renderer.instance.open_stage(&opened.scene) {
            let message = format!("the renderer could not take the stage: {}", e.message);
            tracing::error!(url = %loaded.url, "{message}");
            slot.last_error = Some(message.clone());
            self.core.status.set_state(if had_stage { RuntimeState::Streaming } else { RuntimeState::Idle });
            self.core.raise(0, "stageOpenFailed", json!({ "request_id": loaded.request_id, "url": loaded.url, "code": "renderer_failed", "error": message }));
            return;
        }
        let info = opened.info.clone();
        tracing::info!(
            url = %info.url, generation = info.generation, prims = info.prim_count, triangles = info.triangle_count,
            up_axis = info.up_axis.as_str(), reason = ?loaded.reason, "stage opened"
        );
        slot.current = Some(super::stage::LoadedStage::new(opened));
        self.core.authored_camera = None;
        slot.last_error = None;
        slot.pickable = None;
        let had_selection = !slot.selection.is_empty();
        slot.selection.clear();
        self.input.clear();
        self.click.press = None;
        if let Some(camera) = &mut self.core.camera {
            let _ = camera.instance.cancel();
            if (loaded.reason != super::stage::LoadReason::Variant || !had_stage)
                && let RResult::RErr(e) = camera.instance.fit(&info.bounds, info.up_axis)
            {
                tracing::warn!("camera fit failed: {e}");
            }
            if let RResult::ROk(view) = camera.instance.advance(0) {
                self.core.view = view;
            }
        }
        self.core.status.set_state(RuntimeState::Streaming);
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
        self.core.raise(0, "cameraChanged", camera);
        self.core.hub.request_keyframe();
    }

    /// Runs each wanted chain once and hands the result to every sink that wants it.
    fn deliver(&mut self, frame: &Frame) {
        self.last_convert_ns = 0;
        // Every sink's request must be taken (and so cleared), hence no short-circuiting `any`.
        let mut keyframe = false;
        for sink in &self.sinks {
            keyframe |= sink.take_keyframe_request();
        }
        for i in 0..self.sinks.len() {
            let Some(options) = self.sinks[i].converter_options() else { continue };
            for spec in self.sinks[i].accepted() {
                if options.is_empty() {
                    self.chains.remove(&spec_key(spec));
                } else if let Some(chain) = self.chain_for(frame.spec(), spec) {
                    chain.configure(&options);
                }
            }
        }
        let mut wanted: Vec<FrameSpec> = self.sinks.iter().flat_map(|s| s.wanted()).collect();
        wanted.sort_by_key(|s| spec_key(*s));
        wanted.dedup();
        for spec in wanted {
            let Some(chain) = self.chain_for(frame.spec(), spec) else { continue };
            if keyframe {
                chain.request_keyframe();
            }
            let convert_started = Instant::now();
            let converted = chain.run(frame);
            self.last_convert_ns += convert_started.elapsed().as_nanos() as u64;
            let output = match converted {
                Ok(output) => output,
                Err(e) => {
                    tracing::warn!(target_spec = %spec, "conversion failed: {e}");
                    continue;
                }
            };
            let input_seq = self.input.last_seq;
            if output.format.is_encoded() {
                let now = self.last_tick_us.unwrap_or(0);
                self.core.stats.record_video(now, output.len_bytes);
            }
            for sink in self.sinks.iter_mut().filter(|s| s.wanted().contains(&spec)) {
                if let Err(e) = sink.submit(&output, input_seq) {
                    tracing::debug!(sink = %sink.name(), "submit failed: {e}");
                }
            }
        }
    }

    /// Readiness: the first frame has been rendered and converted for the first sink that can be
    /// fed (whether or not anyone is watching).
    fn warm_up(&mut self, frame: &Frame) {
        let targets: Vec<FrameSpec> = self.sinks.iter().flat_map(|s| s.accepted()).collect();
        let mut converted = targets.is_empty();
        for spec in targets {
            if let Some(chain) = self.chain_for(frame.spec(), spec) {
                match chain.run(frame) {
                    Ok(_) => {
                        converted = true;
                        break;
                    }
                    Err(e) => tracing::warn!(target_spec = %spec, "warm-up conversion failed: {e}"),
                }
            }
        }
        if !converted
            && self.sinks.iter().all(|s| s.accepted().iter().all(|spec| self.chain_missing(frame.spec(), *spec)))
        {
            // Nothing can feed any sink (reported at start); the host still renders.
            converted = true;
        }
        if converted {
            tracing::info!(width = frame.width, height = frame.height, "first frame rendered and converted; ready");
            self.core.status.mark_ready();
            self.publish_state();
        }
    }

    fn chain_missing(&self, from: FrameSpec, to: FrameSpec) -> bool {
        chain::plan(&self.core.registry, from, to).is_none()
    }

    fn chain_for(&mut self, from: FrameSpec, to: FrameSpec) -> Option<&mut Chain> {
        let registry = self.core.registry.clone();
        let config = &self.converter_config;
        let slot = self.chains.entry(spec_key(to)).or_insert_with(|| {
            let ids = chain::plan(&registry, from, to)?;
            match Chain::build(&registry, to, ids, |id| config.get(id).cloned().unwrap_or_else(|| "{}".into())) {
                Ok(chain) => {
                    tracing::info!(from = %from, to = %to, chain = ?chain.ids, "converter chain built");
                    Some(chain)
                }
                Err(e) => {
                    tracing::error!(from = %from, to = %to, "converter chain could not be built: {e}");
                    None
                }
            }
        });
        slot.as_mut()
    }

    /// Logs, once per renderer output format, which sink specs can and cannot be fed.
    fn report_sink_plans(&self, from: FrameSpec) {
        for sink in &self.sinks {
            let feedable: Vec<String> = sink
                .accepted()
                .into_iter()
                .filter(|to| !self.chain_missing(from, *to))
                .map(|s| s.to_string())
                .collect();
            if feedable.is_empty() {
                tracing::error!(
                    sink = %sink.name(),
                    renderer_output = %from,
                    accepts = ?sink.accepted().iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    "no converter chain can feed this sink; it will receive no video (load a converter plugin that produces one of the accepted formats)"
                );
            } else {
                tracing::info!(sink = %sink.name(), renderer_output = %from, can_deliver = ?feedable, "sink negotiated");
            }
        }
    }

    /// Publishes render-thread facts for `/api/state`.
    pub fn publish_state(&self) {
        self.core.status.set_detail(json!({
            "renderer": self.core.renderer.id,
            "camera": self.core.camera_state(),
            "stream": { "width": self.core.width, "height": self.core.height, "fps": self.core.fps },
            "sinks": self.sinks.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "clients": self.core.hub.stats(),
            "handlers": self.router.to_json(),
            "disabled": self.core.disabled,
            "input_events_dropped": self.input.dropped,
            "input_active": self.core.input_active,
            "stage": self.core.stage.as_ref().and_then(|s| s.current.as_ref()).map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null)),
            "loading": self.core.stage.as_ref().and_then(|s| s.loading.as_ref()).map(|l| json!({"url": l.1, "request_id": l.0})),
            "selection": self.core.stage.as_ref().map(|s| s.selection.clone()).unwrap_or_default(),
            "last_stage_error": self.core.stage.as_ref().and_then(|s| s.last_error.clone()),
            "stats": self.core.stats.to_json(&self.core.status, self.core.hub.len()),
        }));
    }

    /// Runs until shutdown: waits for inbound work until each frame's deadline, then renders.
    /// Frames whose deadline has already passed are dropped, never rendered concurrently.
    pub fn run(mut self, inbound: Receiver<Inbound>, clock: Instant) {
        let interval = Duration::from_micros(1_000_000 / u64::from(self.core.fps.max(1)));
        let mut deadline = Instant::now();
        let mut last_publish = Instant::now();
        loop {
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
                    self.core.status.frames_dropped.fetch_add(behind as u64, std::sync::atomic::Ordering::Relaxed);
                }
                deadline = now;
            }
            if last_publish.elapsed() >= Duration::from_millis(250) {
                self.publish_state();
                last_publish = Instant::now();
            }
        }
    }

    fn shutdown(self) {
        self.core.status.set_state(RuntimeState::ShuttingDown);
        tracing::info!(frames = self.frame_number, "render loop stopped");
    }
}

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
use ovhost_plugin_api::{CameraView, Frame, FrameSpec, RenderRequest};
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
    Message { client: ClientId, envelope: Envelope },
    Input { client: ClientId, events: Vec<ovhost_plugin_api::InputEvent>, seq: Option<u32> },
    Shutdown,
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
    /// Renderer time for the last frame, for the overhead benchmark.
    pub last_render_us: u64,
    pub last_tick_cost_us: u64,
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
            last_render_us: 0,
            last_tick_cost_us: 0,
        }
    }

    /// Handles one inbound item. Returns false on shutdown.
    pub fn handle_inbound(&mut self, item: Inbound) -> bool {
        match item {
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
                for event in events {
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
        let reply = json!({
            "host": "ovhost",
            "host_version": env!("CARGO_PKG_VERSION"),
            "plugin_api_version": ovhost_plugin_api::API_VERSION,
            "protocol_version": 1,
            "client_id": client,
            "features": ["app-messages", "input", "video", "plugins", "camera-schemes"],
            "stream": { "width": self.core.width, "height": self.core.height, "fps": self.core.fps },
            "video": {
                "codec": chosen.map(|f| f.name()),
                "available": available.iter().map(|f| f.name()).collect::<Vec<_>>(),
                "header_bytes": super::sinks::VIDEO_HEADER_BYTES,
            },
            "state": self.core.status.state(),
        });
        self.core.hub.send(client, protocol::encode("helloResult", &reply));
        let hub = self.core.hub.clone();
        self.router.notify(&hub, &mut self.core, client, "clientHello", &json!({ "client_id": client }));
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
        self.last_render_us = render_started.elapsed().as_micros() as u64;
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
        self.last_tick_cost_us = started.elapsed().as_micros() as u64;
    }

    fn update_camera(&mut self, dt_us: u64) -> CameraView {
        let events = self.input.drain();
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

    /// Runs each wanted chain once and hands the result to every sink that wants it.
    fn deliver(&mut self, frame: &Frame) {
        let keyframe = self.sinks.iter().fold(false, |k, s| s.take_keyframe_request() || k);
        let mut wanted: Vec<FrameSpec> = self.sinks.iter().flat_map(|s| s.wanted()).collect();
        wanted.sort_by_key(|s| spec_key(*s));
        wanted.dedup();
        for spec in wanted {
            let Some(chain) = self.chain_for(frame.spec(), spec) else { continue };
            if keyframe {
                chain.request_keyframe();
            }
            let output = match chain.run(frame) {
                Ok(output) => output,
                Err(e) => {
                    tracing::warn!(target_spec = %spec, "conversion failed: {e}");
                    continue;
                }
            };
            let input_seq = self.input.last_seq;
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

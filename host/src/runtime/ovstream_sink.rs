//! The ovstream sink as the render loop sees it: frames go to `OvstreamSink::submit`; the
//! connected client becomes a hub client (so handlers reply to it like to any `/ws` client),
//! its app messages and input are fed to the render loop, and on connect the host pushes the
//! initial state (a synthetic `hello`). ovstream's callbacks only enqueue; this runs on the
//! render thread.

use ovhost_ovstream::{OvstreamError, OvstreamSink, SinkEvent};
use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec, MemoryLocation};
use serde_json::json;

use super::hub::{ClientChannels, ClientHub};
use super::inbound::Inbound;
use super::sinks::Sink;
use crate::protocol::{self, Envelope, INPUT_EVENT_TYPE};

pub struct OvstreamAdapter {
    sink: OvstreamSink,
    client: Option<ClientChannels>,
    want_keyframe: bool,
    frames_failed_logged: u64,
    /// The spec negotiated from the renderer's output (`Delivery::negotiate`); what `wanted` asks.
    negotiated: Option<FrameSpec>,
}

impl OvstreamAdapter {
    pub fn new(sink: OvstreamSink) -> Self {
        Self { sink, client: None, want_keyframe: true, frames_failed_logged: 0, negotiated: None }
    }

    fn forward_outbound(&mut self) {
        let Some(client) = &mut self.client else { return };
        while let Ok(text) = client.text.try_recv() {
            client.text_bytes.taken(text.len());
            match self.sink.send_app_message(&text) {
                Ok(()) => {}
                Err(e) if e.is_transient() => {
                    tracing::debug!(transport = %self.sink.transport(), "app message not sent: {e}")
                }
                Err(e) => tracing::warn!(transport = %self.sink.transport(), "app message not sent: {e}"),
            }
        }
    }
}

impl Sink for OvstreamAdapter {
    fn fixed_size(&self) -> bool {
        true // the ovstream server is configured with --width/--height at start
    }

    fn name(&self) -> String {
        self.sink.transport().cli_name().to_string()
    }

    fn accepted(&self) -> Vec<FrameSpec> {
        let primary = self.sink.accepts();
        let mut specs = vec![primary];
        // Raw sinks also take host BGRA and copy it to the GPU themselves. Negotiation prefers
        // the spec whose chain keeps the frame in the renderer's memory: BGRA8@CUDA for a CUDA
        // renderer (no host copy), host BGRA8 for a host renderer (the CPU swizzle, then the
        // sink's own upload; no CUDA converter needed).
        if primary.format == FrameFormat::BGRA8 && primary.location == MemoryLocation::CUDA {
            specs.push(FrameSpec::host(FrameFormat::BGRA8));
        }
        specs
    }

    fn set_negotiated(&mut self, spec: Option<FrameSpec>) {
        if spec != self.negotiated {
            tracing::info!(
                transport = %self.sink.transport(),
                spec = %spec.map_or_else(|| "nothing (no chain can feed this sink)".to_string(), |s| s.to_string()),
                "ovstream sink negotiated"
            );
        }
        self.negotiated = spec;
    }

    fn report(&self) -> serde_json::Value {
        let stats = self.sink.stats();
        json!({
            "accepts": self.sink.accepts().to_string(),
            "frames_submitted": stats.frames_submitted,
            "frames_failed": stats.frames_failed,
            "host_frames_staged": stats.host_frames_staged,
            "host_bytes_staged": stats.host_bytes_staged,
            "client_connected": self.sink.is_connected(),
        })
    }

    fn needs_continuous(&self) -> bool {
        true
    }

    fn wanted(&self) -> Vec<FrameSpec> {
        // ovstream servers expect a continuous stream whether or not a client is attached
        // (encoder liveness, SHM/RTSP consumers the host cannot see): always the negotiated spec,
        // the same one readiness warmed up (nothing when no chain can feed this sink).
        self.negotiated.into_iter().collect()
    }

    fn submit(&mut self, frame: &Frame<'_>, _input_seq: u32) -> Result<(), String> {
        self.forward_outbound();
        match self.sink.submit(frame) {
            Ok(()) => {
                if frame.is_keyframe() {
                    self.want_keyframe = false;
                }
                Ok(())
            }
            Err(e) => {
                let failed = self.sink.stats().frames_failed;
                if failed > self.frames_failed_logged * 2 {
                    // Transient errors never stop the loop; log them at a falling rate.
                    tracing::warn!(transport = %self.sink.transport(), failed, "stream_video failed: {e}");
                    self.frames_failed_logged = failed;
                }
                Err(e.to_string())
            }
        }
    }

    fn take_keyframe_request(&self) -> bool {
        self.want_keyframe
    }

    fn poll(&mut self, hub: &ClientHub, now_us: u64) -> Vec<Inbound> {
        let mut items = Vec::new();
        for event in self.sink.poll_events() {
            match event {
                SinkEvent::Connected { client } => {
                    if let Some(old) = self.client.take() {
                        hub.disconnect(old.id);
                        items.push(Inbound::Disconnected(old.id));
                    }
                    let channels = hub.connect();
                    let id = channels.id;
                    tracing::info!(transport = %self.sink.transport(), connection = client, client = id, "ovstream client connected");
                    self.client = Some(channels);
                    self.want_keyframe = true;
                    items.push(Inbound::Connected(id));
                    let hello = Envelope {
                        event_type: "hello".into(),
                        payload: json!({ "client": "ovstream" }),
                        wire_bytes: 0,
                    };
                    items.push(Inbound::Message { client: id, envelope: hello });
                }
                SinkEvent::Disconnected => {
                    if let Some(old) = self.client.take() {
                        tracing::info!(transport = %self.sink.transport(), client = old.id, "ovstream client disconnected");
                        hub.disconnect(old.id);
                        items.push(Inbound::Disconnected(old.id));
                    }
                }
                SinkEvent::Message(text) => {
                    let Some(client) = self.client.as_ref().map(|c| c.id) else { continue };
                    match protocol::parse_inbound(&text) {
                        Ok(envelope) if envelope.event_type == INPUT_EVENT_TYPE => {
                            match protocol::parse_input(&envelope.payload, now_us) {
                                Ok(events) => items.push(Inbound::Input { client, events, seq: None }),
                                Err(e) => hub.send(client, protocol::viewer_error(e.code, &e.message, None)),
                            }
                        }
                        Ok(envelope) => items.push(Inbound::Message { client, envelope }),
                        Err(e) => hub.send(client, protocol::viewer_error(e.code, &e.message, None)),
                    }
                }
                SinkEvent::Input(event) => {
                    if let Some(client) = self.client.as_ref().map(|c| c.id) {
                        items.push(Inbound::Input { client, events: vec![event], seq: None });
                    }
                }
                SinkEvent::Text(text) => {
                    tracing::debug!(chars = text.chars().count(), "composed text from the ovstream client ignored")
                }
            }
        }
        self.forward_outbound();
        items
    }
}

/// Starts one ovstream transport.
pub fn start(config: ovhost_ovstream::SinkConfig) -> Result<OvstreamAdapter, OvstreamError> {
    let transport = config.transport;
    let sink = OvstreamSink::start(config)?;
    tracing::info!(%transport, accepts = %sink.accepts(), "ovstream transport started");
    Ok(OvstreamAdapter::new(sink))
}

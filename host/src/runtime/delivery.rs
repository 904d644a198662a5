//! What happens to a rendered frame: the sinks, and the converter chains that feed them. Kept
//! apart from the renderer so a frame (which borrows the renderer that produced it) can be
//! delivered while the rest of the render-thread state stays usable. Render thread only.

use std::collections::BTreeMap;
use std::time::Instant;

use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec};

use serde_json::Value;

use super::chain::{self, Chain};
use super::sinks::Sink;
use super::stats::FrameStats;
use super::video_options::VideoOptions;
use crate::plugins::Registry;

fn spec_key(spec: FrameSpec) -> (u32, u32) {
    (spec.format.0, spec.location.0)
}

/// The sinks and their converter chains.
pub struct Delivery {
    pub sinks: Vec<Box<dyn Sink>>,
    /// Per target spec: the live chain, or why it could not be built.
    chains: BTreeMap<(u32, u32), Result<Chain, String>>,
    /// Per sink (same order as `sinks`): the spec negotiated from the renderer's output and its
    /// chain; readiness and delivery both use it.
    negotiated: Vec<Option<(FrameSpec, Vec<String>)>>,
    /// Per sink: frames handed over, and bytes copied between host and device memory to feed it.
    counters: Vec<SinkCounters>,
    /// The options every converter is created and configured with (`video_options.rs`).
    video: VideoOptions,
    /// Per-converter options (the settings value `converters`: converter id → options).
    per_converter: Option<Value>,
    /// The spec the renderer produced last (chains are planned from it).
    pub renderer_output: Option<FrameSpec>,
    /// The renderer's default output when it offers several (`chain::choose_renderer_output`):
    /// what a new client's codecs are judged against, whatever this frame was rendered as.
    pub renderer_default: Option<FrameSpec>,
    /// Time spent in converter chains for the last frame.
    pub last_convert_ns: u64,
    /// Why the host is not ready although it renders: a sink no chain can feed.
    unfed: Option<String>,
}

/// What one sink was fed.
#[derive(Clone, Copy, Default)]
struct SinkCounters {
    frames: u64,
    host_bytes_copied: u64,
}

impl Delivery {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        let n = sinks.len();
        Self {
            sinks,
            chains: BTreeMap::new(),
            negotiated: vec![None; n],
            counters: vec![SinkCounters::default(); n],
            video: VideoOptions::default(),
            per_converter: None,
            renderer_output: None,
            renderer_default: None,
            last_convert_ns: 0,
            unfed: None,
        }
    }

    /// Sets the converters' options: chains built later are created with them, live chains are
    /// reconfigured in place (`configure`), so an encoder keeps its state where it can.
    pub fn set_video_options(&mut self, video: VideoOptions, per_converter: Option<Value>) {
        self.video = video;
        self.per_converter = per_converter;
        for chain in self.chains.values_mut().filter_map(|c| c.as_mut().ok()) {
            let (video, per) = (&self.video, self.per_converter.as_ref());
            chain.configure_each(|id| video.options_for(id, per));
        }
    }

    pub fn video_options(&self) -> VideoOptions {
        self.video
    }

    /// Notes the renderer's output spec; a new spec re-plans every chain and renegotiates.
    pub fn set_renderer_output(&mut self, registry: &Registry, spec: FrameSpec) {
        if self.renderer_output != Some(spec) {
            self.renderer_output = Some(spec);
            self.chains.clear();
            self.negotiate(registry, spec);
            self.report_sink_plans(registry, spec);
        }
    }

    /// Chooses each sink's spec from `from`: of the specs it accepts that a chain can produce,
    /// the first whose chain can be built, trying chains that keep the frame in the renderer's
    /// memory first (`chain::candidates`: a CUDA renderer feeds a raw ovstream sink BGRA8 in
    /// CUDA memory with no host copy; a host renderer feeds it host BGRA8). Each sink is told
    /// (`Sink::set_negotiated`).
    pub fn negotiate(&mut self, registry: &Registry, from: FrameSpec) {
        for i in 0..self.sinks.len() {
            let mut chosen = None;
            for (spec, ids) in chain::candidates(registry, from, &self.sinks[i].accepted()) {
                if self.chain_for(registry, from, spec).is_some() {
                    chosen = Some((spec, ids));
                    break;
                }
            }
            self.sinks[i].set_negotiated(chosen.as_ref().map(|(spec, _)| *spec));
            self.negotiated[i] = chosen;
        }
    }

    /// Takes every sink's keyframe request (each is cleared; no short-circuiting).
    pub fn take_keyframe_requests(&self) -> bool {
        let mut keyframe = false;
        for sink in &self.sinks {
            keyframe |= sink.take_keyframe_request();
        }
        keyframe
    }

    /// Whether some sink consumes frames right now (otherwise nothing is converted).
    pub fn anyone_wants(&self) -> bool {
        self.sinks.iter().any(|s| !s.wanted().is_empty())
    }

    /// Whether some sink needs frames at the stream rate even when nothing changes.
    pub fn sink_needs_continuous(&self) -> bool {
        self.sinks.iter().any(|s| s.needs_continuous())
    }

    /// Runs each wanted chain once and hands the result to every sink that wants it.
    /// `keyframe`: a sink asked for one; `refresh`: the picture stopped changing, so the chains
    /// make this frame a keyframe at a better quality (option `refresh`, see
    /// `ovhost_plugin_api::FrameConverter`).
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        registry: &Registry,
        frame: &Frame<'_>,
        stats: &mut FrameStats,
        input_seq: u32,
        now_us: u64,
        keyframe: bool,
        refresh: bool,
    ) {
        self.last_convert_ns = 0;
        // Sinks that adapt (a bandwidth estimate) retune the converters feeding them.
        for i in 0..self.sinks.len() {
            let Some(options) = self.sinks[i].converter_options() else { continue };
            for spec in self.sinks[i].accepted() {
                if options.is_empty() {
                    self.chains.remove(&spec_key(spec));
                } else if let Some(chain) = self.chain_for(registry, frame.spec(), spec) {
                    chain.configure(&options);
                }
            }
        }
        let mut wanted: Vec<FrameSpec> = self.sinks.iter().flat_map(|s| s.wanted()).collect();
        wanted.sort_by_key(|s| spec_key(*s));
        wanted.dedup();
        for spec in wanted {
            // Borrowing fields one by one: the output borrows the chain while the sinks take it.
            let (video, per) = (&self.video, self.per_converter.as_ref());
            let options = |id: &str| video.options_for(id, per);
            let Some(chain) = chain_for(&mut self.chains, options, registry, frame.spec(), spec) else {
                continue;
            };
            if refresh {
                chain.configure(r#"{"refresh": true}"#);
            }
            if keyframe || refresh {
                chain.request_keyframe();
            }
            let convert_started = Instant::now();
            let mut chain_host_bytes = 0;
            let converted = chain.run_counting(frame, &mut chain_host_bytes);
            let convert_ns = convert_started.elapsed().as_nanos() as u64;
            self.last_convert_ns += convert_ns;
            crate::metrics::record_convert(
                spec,
                convert_ns,
                converted.as_ref().ok().map(|o| (o.format, o.len_bytes())),
            );
            let output = match converted {
                Ok(output) => output,
                Err(e) => {
                    tracing::warn!(target_spec = %spec, "conversion failed: {e}");
                    continue;
                }
            };
            if output.format.is_encoded() {
                stats.record_video(now_us, output.len_bytes());
            }
            for (sink, counters) in self.sinks.iter_mut().zip(&mut self.counters) {
                if !sink.wanted().contains(&spec) {
                    continue;
                }
                counters.host_bytes_copied += chain_host_bytes;
                match sink.submit(&output, input_seq) {
                    Ok(()) => counters.frames += 1,
                    Err(e) => tracing::debug!(sink = %sink.name(), "submit failed: {e}"),
                }
            }
        }
    }

    /// Each sink's negotiated spec (`None`: nothing can feed it), see [`Delivery::negotiate`].
    pub fn negotiated(&self) -> Vec<(String, Option<FrameSpec>)> {
        self.sinks.iter().zip(&self.negotiated).map(|(sink, n)| (sink.name(), n.as_ref().map(|(s, _)| *s))).collect()
    }

    /// Per sink for `/api/state`: the negotiated spec and chain, what it wants now, frames handed
    /// over, bytes copied between host and device memory to feed it (0 on a zero-copy path),
    /// and the transport's own counters.
    pub fn to_json(&self) -> Value {
        let sinks: Vec<Value> = self
            .sinks
            .iter()
            .zip(&self.negotiated)
            .zip(&self.counters)
            .map(|((sink, negotiated), counters)| {
                serde_json::json!({
                    "sink": sink.name(),
                    "spec": negotiated.as_ref().map(|(s, _)| s.to_string()),
                    "chain": negotiated.as_ref().map(|(_, ids)| ids.clone()),
                    "wanted": sink.wanted().iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    "frames": counters.frames,
                    "host_bytes_copied": counters.host_bytes_copied,
                    "transport": sink.report(),
                })
            })
            .collect();
        serde_json::json!({
            "renderer_output": self.renderer_output.map(|s| s.to_string()),
            "sinks": sinks,
        })
    }

    /// Readiness: true once the frame has been converted to every sink's negotiated spec
    /// (whether or not anyone is watching). A sink nothing can feed keeps the host not ready,
    /// the reason in [`Delivery::not_ready_reason`].
    pub fn warm_up(&mut self, registry: &Registry, frame: &Frame<'_>) -> bool {
        let mut ready = true;
        let mut reasons = Vec::new();
        for (i, (sink, spec)) in self.negotiated().into_iter().enumerate() {
            let Some(spec) = spec else {
                let accepted = self.sinks[i].accepted();
                let accepts: Vec<String> = accepted.iter().map(|a| a.to_string()).collect();
                // Planned chains that could not be built (say, a CUDA converter without a driver).
                let unbuilt: Vec<String> = accepted
                    .iter()
                    .filter_map(|to| match self.chains.get(&spec_key(*to)) {
                        Some(Err(e)) => Some(format!("{to}: {e}")),
                        _ => None,
                    })
                    .collect();
                if unbuilt.is_empty() {
                    reasons.push(format!(
                        "no converter chain turns the renderer's {} into what sink '{sink}' accepts ({}); load a converter plugin that does",
                        frame.spec(),
                        accepts.join(", ")
                    ));
                } else {
                    reasons.push(format!(
                        "sink '{sink}' accepts {} but no chain from the renderer's {} could be built ({})",
                        accepts.join(", "),
                        frame.spec(),
                        unbuilt.join("; ")
                    ));
                }
                ready = false;
                continue;
            };
            match self.chain_for(registry, frame.spec(), spec).map(|chain| chain.run(frame).map(|_| ())) {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    tracing::warn!(target_spec = %spec, "warm-up conversion failed: {e}");
                    reasons.push(format!("sink '{sink}': converting to {spec} failed: {}", e.message));
                    ready = false;
                }
                None => {
                    reasons.push(format!("sink '{sink}': the converter chain to {spec} could not be built"));
                    ready = false;
                }
            }
        }
        self.unfed = (!reasons.is_empty()).then(|| reasons.join("; "));
        ready
    }

    /// Why `/healthz` is not ready although frames render (shown in `/api/state`).
    pub fn not_ready_reason(&self) -> Option<&str> {
        self.unfed.as_deref()
    }

    fn chain_for(&mut self, registry: &Registry, from: FrameSpec, to: FrameSpec) -> Option<&mut Chain> {
        let (video, per) = (&self.video, self.per_converter.as_ref());
        chain_for(&mut self.chains, |id| video.options_for(id, per), registry, from, to)
    }

    /// Logs, once per renderer output format, which sink specs can and cannot be fed.
    fn report_sink_plans(&self, registry: &Registry, from: FrameSpec) {
        for sink in &self.sinks {
            let feedable: Vec<String> = sink
                .accepted()
                .into_iter()
                .filter(|to| chain::plan(registry, from, *to).is_some())
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

    /// Codecs the web sink could deliver given the registered converters.
    pub fn available_codecs(&self, registry: &Registry) -> Vec<FrameFormat> {
        let from = self.renderer_default.or(self.renderer_output).unwrap_or(FrameSpec::host(FrameFormat::RGBA8));
        [FrameFormat::H264, FrameFormat::JPEG]
            .into_iter()
            .filter(|f| chain::plan(registry, from, FrameSpec::host(*f)).is_some())
            .collect()
    }
}

fn chain_for<'c>(
    chains: &'c mut BTreeMap<(u32, u32), Result<Chain, String>>,
    config: impl Fn(&str) -> String,
    registry: &Registry,
    from: FrameSpec,
    to: FrameSpec,
) -> Option<&'c mut Chain> {
    let slot = chains.entry(spec_key(to)).or_insert_with(|| {
        let ids = chain::plan(registry, from, to).ok_or_else(|| format!("no converter chain from {from}"))?;
        match Chain::build(registry, to, ids, config) {
            Ok(chain) => {
                tracing::info!(from = %from, to = %to, chain = ?chain.ids, "converter chain built");
                Ok(chain)
            }
            Err(e) => {
                tracing::error!(from = %from, to = %to, "converter chain could not be built: {e}");
                Err(e.to_string())
            }
        }
    });
    slot.as_mut().ok()
}

//! What happens to a rendered frame: the sinks, and the converter chains that feed them. Kept
//! apart from the renderer so a frame (which borrows the renderer that produced it) can be
//! delivered while the rest of the render-thread state stays usable. Render thread only.

use std::collections::BTreeMap;
use std::time::Instant;

use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec};

use super::chain::{self, Chain};
use super::sinks::Sink;
use super::stats::FrameStats;
use crate::plugins::Registry;

fn spec_key(spec: FrameSpec) -> (u32, u32) {
    (spec.format.0, spec.location.0)
}

/// The sinks and their converter chains.
pub struct Delivery {
    pub sinks: Vec<Box<dyn Sink>>,
    chains: BTreeMap<(u32, u32), Option<Chain>>,
    /// Converter options by converter id (JSON), from settings.
    pub converter_config: BTreeMap<String, String>,
    /// The spec the renderer produced last (chains are planned from it).
    pub renderer_output: Option<FrameSpec>,
    /// Encoder options a viewer chose (`setStreamQuality`: `bitrate_kbps`, `fps`), given to the
    /// H.264 chain now and to any rebuilt later.
    pub video_options: Option<String>,
    /// Time spent in converter chains for the last frame.
    pub last_convert_ns: u64,
}

impl Delivery {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Self {
        Self {
            sinks,
            chains: BTreeMap::new(),
            converter_config: BTreeMap::new(),
            renderer_output: None,
            video_options: None,
            last_convert_ns: 0,
        }
    }

    /// Notes the renderer's output spec; a new spec re-plans every chain.
    pub fn set_renderer_output(&mut self, registry: &Registry, spec: FrameSpec) {
        if self.renderer_output != Some(spec) {
            self.renderer_output = Some(spec);
            self.chains.clear();
            self.report_sink_plans(registry, spec);
        }
    }

    /// Runs each wanted chain once and hands the result to every sink that wants it.
    pub fn deliver(
        &mut self,
        registry: &Registry,
        frame: &Frame<'_>,
        stats: &mut FrameStats,
        input_seq: u32,
        now_us: u64,
    ) {
        self.last_convert_ns = 0;
        // Every sink's request must be taken (and so cleared), hence no short-circuiting `any`.
        let mut keyframe = false;
        for sink in &self.sinks {
            keyframe |= sink.take_keyframe_request();
        }
        // Sinks that adapt (a bandwidth estimate) retune the converters feeding them.
        for i in 0..self.sinks.len() {
            let Some(options) = self.sinks[i].converter_options() else { continue };
            for spec in self.sinks[i].accepted() {
                if options.is_empty() {
                    self.chains.remove(&spec_key(spec));
                } else if let Some(chain) = chain_for(
                    &mut self.chains,
                    &self.converter_config,
                    self.video_options.as_deref(),
                    registry,
                    frame.spec(),
                    spec,
                ) {
                    chain.configure(&options);
                }
            }
        }
        let mut wanted: Vec<FrameSpec> = self.sinks.iter().flat_map(|s| s.wanted()).collect();
        wanted.sort_by_key(|s| spec_key(*s));
        wanted.dedup();
        for spec in wanted {
            let Some(chain) = chain_for(
                &mut self.chains,
                &self.converter_config,
                self.video_options.as_deref(),
                registry,
                frame.spec(),
                spec,
            ) else {
                continue;
            };
            if keyframe {
                chain.request_keyframe();
            }
            let convert_started = Instant::now();
            let converted = chain.run(frame);
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
            for sink in self.sinks.iter_mut().filter(|s| s.wanted().contains(&spec)) {
                if let Err(e) = sink.submit(&output, input_seq) {
                    tracing::debug!(sink = %sink.name(), "submit failed: {e}");
                }
            }
        }
    }

    /// Readiness: true once the frame has been converted for the first sink that can be fed
    /// (whether or not anyone is watching), or when nothing can feed any sink.
    pub fn warm_up(&mut self, registry: &Registry, frame: &Frame<'_>) -> bool {
        let targets: Vec<FrameSpec> = self.sinks.iter().flat_map(|s| s.accepted()).collect();
        if targets.is_empty() {
            return true;
        }
        for spec in targets {
            if let Some(chain) = chain_for(
                &mut self.chains,
                &self.converter_config,
                self.video_options.as_deref(),
                registry,
                frame.spec(),
                spec,
            ) {
                match chain.run(frame) {
                    Ok(_) => return true,
                    Err(e) => tracing::warn!(target_spec = %spec, "warm-up conversion failed: {e}"),
                }
            }
        }
        // Nothing can feed any sink (reported at start); the host still renders.
        self.sinks.iter().all(|s| s.accepted().iter().all(|to| chain::plan(registry, frame.spec(), *to).is_none()))
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
    /// Applies encoder options to the H.264 chain (and remembers them for rebuilt chains).
    pub fn set_video_options(&mut self, options: String) {
        if let Some(Some(chain)) = self.chains.get_mut(&spec_key(FrameSpec::host(FrameFormat::H264))) {
            chain.configure(&options);
        }
        self.video_options = Some(options);
    }

    pub fn available_codecs(&self, registry: &Registry) -> Vec<FrameFormat> {
        let from = self.renderer_output.unwrap_or(FrameSpec::host(FrameFormat::RGBA8));
        [FrameFormat::H264, FrameFormat::JPEG]
            .into_iter()
            .filter(|f| chain::plan(registry, from, FrameSpec::host(*f)).is_some())
            .collect()
    }
}

fn chain_for<'c>(
    chains: &'c mut BTreeMap<(u32, u32), Option<Chain>>,
    config: &BTreeMap<String, String>,
    video_options: Option<&str>,
    registry: &Registry,
    from: FrameSpec,
    to: FrameSpec,
) -> Option<&'c mut Chain> {
    let slot = chains.entry(spec_key(to)).or_insert_with(|| {
        let ids = chain::plan(registry, from, to)?;
        match Chain::build(registry, to, ids, |id| config.get(id).cloned().unwrap_or_else(|| "{}".into())) {
            Ok(mut chain) => {
                tracing::info!(from = %from, to = %to, chain = ?chain.ids, "converter chain built");
                if let Some(options) = video_options.filter(|_| to.format == FrameFormat::H264) {
                    chain.configure(options);
                }
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

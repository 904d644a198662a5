//! What happens to a rendered frame: the sinks, the converter chains that feed them, and the
//! encoder thread that runs those chains.
//!
//! **Pipelined encode.** Once [`Delivery::start_encoder_thread`] ran (the render loop does, in
//! `run`), a rendered host-memory frame is copied into a host-owned buffer from a small pool
//! ([`OwnedFrame`]) and handed to the `ovhost-encode` thread through a one-frame mailbox: a newer
//! frame replaces one the encoder has not started (newest wins; its keyframe and refresh
//! requests carry over). The renderer's `Frame<'_>` borrows the renderer and cannot leave the
//! render thread; the encoder only ever sees the owned copy, so the renderer may overwrite its
//! buffer for the next frame while the previous one encodes (double buffering by type, not by
//! convention). The render thread keeps its cadence and handles messages while a frame encodes.
//! Frames outside host memory (CUDA) cannot be copied here and are converted inline on the render
//! thread, under the same lock. Without the thread (a loop driven by hand: tests, benchmarks),
//! every frame is converted inline.
//!
//! **Quality tiers.** For each spec some sink wants, the chain runs once per quality tier some
//! consumer is on (`sinks::TIERS`, at most `sinks::MAX_TIERS` streams whatever the number of
//! clients): tier 0 with the video options, lower tiers with a share of the bitrate and a
//! fraction of the frame rate (a tier at half rate encodes every other frame). Keyframe requests
//! are per tier, so one client's resync never costs the others a keyframe.
//!
//! **Threads.** The converter chains (plugin objects, `FrameConverter: Send`) are owned by the
//! [`Encoder`] behind a mutex: the encoder thread calls them, the render thread only to warm up
//! (readiness), for non-host frames, and to reconfigure them. Lock order: encoder, then sinks,
//! then the client hub; the render thread never takes the encoder lock while holding the sinks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec, MemoryLocation};
use parking_lot::{Condvar, Mutex, MutexGuard};
use serde_json::Value;

use super::chain::{self, Chain};
use super::scale::HalfScaler;
use super::sinks::{ALL_TIERS, DEFAULT_BITRATE_KBPS, DEFAULT_JPEG_QUALITY, MAX_TIERS, Sink, Tier, TierFrame};
use super::stats::FrameStats;
use super::video_options::VideoOptions;
use crate::plugins::Registry;

/// A chain per (source format, source location, target format, target location, tier): a frame
/// still queued in the old format when the renderer's output changes gets its own chain.
type ChainKey = (u32, u32, u32, u32, u8);

fn chain_key(from: FrameSpec, to: FrameSpec, tier: u8) -> ChainKey {
    (from.format.0, from.location.0, to.format.0, to.location.0, tier)
}

/// Frame buffers kept for reuse: one being encoded, one waiting, one being filled.
const POOL_BUFFERS: usize = 3;

/// Host-owned frame buffers, reused so a copy allocates nothing in the steady state.
#[derive(Clone, Default)]
pub struct FramePool {
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl FramePool {
    /// Copies a validated host-memory frame into a pooled buffer.
    pub fn copy(&self, frame: &Frame<'_>) -> Result<OwnedFrame, ovhost_plugin_api::PluginError> {
        let bytes = frame.host_bytes()?;
        let mut data = self.free.lock().pop().unwrap_or_default();
        data.clear();
        data.extend_from_slice(bytes);
        Ok(OwnedFrame {
            format: frame.format,
            width: frame.width,
            height: frame.height,
            pitch_bytes: frame.pitch_bytes,
            flags: frame.flags,
            frame_number: frame.frame_number,
            timestamp_us: frame.timestamp_us,
            buffer: PooledBuffer { data, pool: self.free.clone() },
        })
    }
}

/// A buffer that goes back to its pool when dropped.
struct PooledBuffer {
    data: Vec<u8>,
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let mut free = self.pool.lock();
        if free.len() < POOL_BUFFERS {
            free.push(std::mem::take(&mut self.data));
        }
    }
}

/// A rendered frame copied out of the renderer: it owns its pixels (`'static`, `Send`), so it
/// can outlive the renderer's next `render` call on another thread.
pub struct OwnedFrame {
    format: FrameFormat,
    width: u32,
    height: u32,
    pitch_bytes: u32,
    flags: u32,
    frame_number: u64,
    timestamp_us: u64,
    buffer: PooledBuffer,
}

impl OwnedFrame {
    /// A descriptor borrowing this copy.
    pub fn frame(&self) -> Frame<'_> {
        let mut frame = Frame::host(self.format, self.width, self.height, self.pitch_bytes, &self.buffer.data);
        frame.flags = self.flags;
        frame.frame_number = self.frame_number;
        frame.timestamp_us = self.timestamp_us;
        frame
    }
}

/// What one frame asks of the converters besides converting.
#[derive(Clone, Copy, Debug, Default)]
struct FrameAsks {
    input_seq: u32,
    now_us: u64,
    /// Tiers whose next output must be a keyframe (a bit per tier).
    keyframe_tiers: u8,
    /// The picture stopped changing: a keyframe at a better quality.
    refresh: bool,
    /// The stream's frame interval (tiers at a fraction of the rate skip frames by it).
    interval_us: u64,
}

/// What an encode reports back to the render thread.
#[derive(Default)]
struct Encoded {
    convert_ns: u64,
    /// (time µs, bytes) of each encoded output.
    video: Vec<(u64, u64)>,
}

/// What one sink was fed.
#[derive(Clone, Copy, Default)]
struct SinkCounters {
    frames: u64,
    host_bytes_copied: u64,
}

/// The converter chains and their options; the encoder thread runs them.
struct Encoder {
    registry: Arc<Registry>,
    /// Per key: the live chain, or why it could not be built.
    chains: BTreeMap<ChainKey, Result<Chain, String>>,
    /// Per sink (same order as the sinks): frames handed over, and bytes copied between host and
    /// device memory to feed it. Its own lock: `/api/state` reads it without waiting for an encode.
    counters: Arc<Mutex<Vec<SinkCounters>>>,
    /// The options every converter is created and configured with (`video_options.rs`).
    video: VideoOptions,
    /// Per-converter options (the settings value `converters`: converter id → options).
    per_converter: Option<Value>,
    /// When each tier last encoded (µs).
    last_run_us: [Option<u64>; MAX_TIERS],
    /// Keyframes asked of tiers that skipped the frame (half rate): given at their next frame.
    pending_keyframes: u8,
    /// Per tier: the buffer of its smaller picture, for tiers that scale (`scale.rs`).
    scalers: [HalfScaler; MAX_TIERS],
}

impl Encoder {
    /// A converter's options for one tier: the video options, then the tier's bitrate share,
    /// quality and frame rate on top.
    fn options_for(video: &VideoOptions, per: Option<&Value>, id: &str, tier: u8) -> String {
        let base = video.options_for(id, per);
        if tier == 0 {
            return base;
        }
        let t = Tier::get(tier);
        let mut options: serde_json::Map<String, Value> = serde_json::from_str(&base).unwrap_or_default();
        options
            .insert("bitrate_kbps".into(), t.bitrate_kbps(video.bitrate_kbps.unwrap_or(DEFAULT_BITRATE_KBPS)).into());
        options.insert("fps".into(), t.fps(video.fps).into());
        options.insert("gop_frames".into(), (video.gop_frames() / t.fps_divisor).into());
        // Quality-driven encoders (JPEG) step their quality down; H.264 ignores the key.
        let base_quality =
            options.get("quality").and_then(Value::as_u64).map_or(DEFAULT_JPEG_QUALITY, |q| q.clamp(1, 100) as u8);
        options.insert("quality".into(), t.quality(base_quality).into());
        Value::Object(options).to_string()
    }

    fn chain(&mut self, from: FrameSpec, to: FrameSpec, tier: u8) -> Option<&mut Chain> {
        let (video, per, registry) = (&self.video, self.per_converter.as_ref(), &self.registry);
        chain_for(&mut self.chains, |id| Self::options_for(video, per, id, tier), registry, from, to, tier)
    }

    fn set_video_options(&mut self, video: VideoOptions, per_converter: Option<Value>) {
        self.video = video;
        self.per_converter = per_converter;
        let (video, per) = (&self.video, self.per_converter.as_ref());
        for (key, chain) in &mut self.chains {
            if let Ok(chain) = chain {
                chain.configure_each(|id| Self::options_for(video, per, id, key.4));
            }
        }
    }

    /// Runs each wanted chain once per tier in use and hands the outputs to the sinks.
    fn encode(&mut self, sinks: &Mutex<Vec<Box<dyn Sink>>>, frame: &Frame<'_>, asks: FrameAsks) -> Encoded {
        let mut out = Encoded::default();
        let counters = self.counters.clone();
        // What the sinks want now, and adapting sinks' options for the chains feeding them.
        let mut retune = Vec::new();
        let mut wanted: BTreeMap<(u32, u32), (FrameSpec, BTreeSet<u8>)> = BTreeMap::new();
        for sink in sinks.lock().iter_mut() {
            if let Some(options) = sink.converter_options() {
                retune.push((sink.accepted(), options));
            }
            for spec in sink.wanted() {
                let tiers = sink.tiers(spec);
                wanted.entry((spec.format.0, spec.location.0)).or_insert((spec, BTreeSet::new())).1.extend(tiers);
            }
        }
        for (accepted, options) in retune {
            for spec in accepted {
                if options.is_empty() {
                    self.chains.remove(&chain_key(frame.spec(), spec, 0));
                } else if let Some(chain) = self.chain(frame.spec(), spec, 0) {
                    chain.configure(&options);
                }
            }
        }
        // Taken for the loop (the chains borrow `self`), put back after it. The lowest tier
        // encodes a smaller picture (`scale.rs`), made at most once per frame, when a spec wants
        // that tier in this frame (a half-rate tier skips every other one); a frame that cannot
        // be scaled (device memory) goes at full size, and the header says which.
        let mut scalers = std::mem::take(&mut self.scalers);
        let mut scaled: Vec<(Option<&mut HalfScaler>, Option<Frame<'_>>)> =
            scalers.iter_mut().map(|scaler| (Some(scaler), None)).collect();
        for (spec, tiers) in wanted.into_values() {
            for tier in tiers.into_iter().filter(|t| usize::from(*t) < MAX_TIERS) {
                let bit = 1u8 << tier;
                let keyframe = (asks.keyframe_tiers | self.pending_keyframes) & bit != 0;
                let divisor = u64::from(Tier::get(tier).fps_divisor);
                if divisor > 1
                    && let Some(last) = self.last_run_us[usize::from(tier)]
                    && asks.now_us.saturating_sub(last) < asks.interval_us * divisor - asks.interval_us / 2
                {
                    // This tier runs at a fraction of the rate: skip, keeping its keyframe ask.
                    if keyframe {
                        self.pending_keyframes |= bit;
                    }
                    continue;
                }
                self.last_run_us[usize::from(tier)] = Some(asks.now_us);
                self.pending_keyframes &= !bit;
                let slot = &mut scaled[usize::from(tier)];
                if Tier::get(tier).scale_log2 > 0
                    && let Some(scaler) = slot.0.take()
                {
                    slot.1 = scaler.half(frame);
                }
                let smaller = slot.1.as_ref();
                let scale_log2 = if smaller.is_some() { Tier::get(tier).scale_log2 } else { 0 };
                let input = smaller.unwrap_or(frame);
                let Some(chain) = self.chain(input.spec(), spec, tier) else { continue };
                if asks.refresh {
                    chain.configure(r#"{"refresh": true}"#);
                }
                if keyframe || asks.refresh {
                    chain.request_keyframe();
                }
                let started = Instant::now();
                let mut chain_host_bytes = 0;
                let converted = chain.run_counting(input, &mut chain_host_bytes);
                let convert_ns = started.elapsed().as_nanos() as u64;
                out.convert_ns += convert_ns;
                crate::metrics::record_convert(
                    spec,
                    convert_ns,
                    converted.as_ref().ok().map(|o| (o.format, o.len_bytes())),
                );
                let output = match converted {
                    Ok(output) => output,
                    Err(e) => {
                        tracing::warn!(target_spec = %spec, tier, "conversion failed: {e}");
                        continue;
                    }
                };
                if output.format.is_encoded() {
                    out.video.push((asks.now_us, output.len_bytes()));
                }
                let mut counters = counters.lock();
                for (i, sink) in sinks.lock().iter_mut().enumerate() {
                    if !sink.wanted().contains(&spec) {
                        continue;
                    }
                    let counted = counters.get_mut(i);
                    let fed = sink.submit_tier(&output, asks.input_seq, TierFrame { tier, scale_log2 });
                    if let Some(c) = counted {
                        c.host_bytes_copied += chain_host_bytes;
                        c.frames += u64::from(fed.is_ok());
                    }
                    if let Err(e) = fed {
                        tracing::debug!(sink = %sink.name(), "submit failed: {e}");
                    }
                }
            }
        }
        drop(scaled);
        self.scalers = scalers;
        out
    }
}

/// The encoder thread's mailbox: one frame at most, newest wins.
#[derive(Default)]
struct Mailbox {
    slot: Mutex<Slot>,
    wake: Condvar,
}

#[derive(Default)]
struct Slot {
    job: Option<(OwnedFrame, FrameAsks)>,
    stop: bool,
    /// Frames replaced before the encoder started them.
    superseded: u64,
    /// Finished encodes not yet collected by the render thread.
    done: Vec<Encoded>,
}

struct EncoderThread {
    mailbox: Arc<Mailbox>,
    handle: Option<JoinHandle<()>>,
}

/// The sinks and their converter chains.
pub struct Delivery {
    sinks: Arc<Mutex<Vec<Box<dyn Sink>>>>,
    encoder: Arc<Mutex<Encoder>>,
    thread: Option<EncoderThread>,
    pool: FramePool,
    /// The encoder's video options, readable without waiting for an encode.
    video: VideoOptions,
    /// The spec the renderer produced last (chains are planned from it).
    pub renderer_output: Option<FrameSpec>,
    /// The renderer's default output when it offers several (`chain::choose_renderer_output`):
    /// what a new client's codecs are judged against, whatever this frame was rendered as.
    pub renderer_default: Option<FrameSpec>,
    /// Per sink (same order as the sinks): the spec negotiated from the renderer's output and its
    /// chain; readiness and delivery both use it.
    negotiated: Vec<Option<(FrameSpec, Vec<String>)>>,
    /// Shared with the encoder, which counts (see `Encoder::counters`).
    counters: Arc<Mutex<Vec<SinkCounters>>>,
    /// Time the converter chains took for the last frame encoded (on the encoder thread once
    /// it runs).
    pub last_convert_ns: u64,
    /// Time copying the last frame into the encoder's buffer took.
    pub last_copy_ns: u64,
    /// Frames the encoder never started because a newer one replaced them.
    pub superseded: u64,
    /// Why the host is not ready although it renders: a sink no chain can feed.
    unfed: Option<String>,
}

impl Delivery {
    pub fn new(sinks: Vec<Box<dyn Sink>>, registry: Arc<Registry>) -> Self {
        let n = sinks.len();
        let counters = Arc::new(Mutex::new(vec![SinkCounters::default(); n]));
        Self {
            sinks: Arc::new(Mutex::new(sinks)),
            encoder: Arc::new(Mutex::new(Encoder {
                registry,
                chains: BTreeMap::new(),
                counters: counters.clone(),
                video: VideoOptions::default(),
                per_converter: None,
                last_run_us: [None; MAX_TIERS],
                pending_keyframes: 0,
                scalers: Default::default(),
            })),
            thread: None,
            pool: FramePool::default(),
            video: VideoOptions::default(),
            renderer_output: None,
            renderer_default: None,
            negotiated: vec![None; n],
            counters,
            last_convert_ns: 0,
            last_copy_ns: 0,
            superseded: 0,
            unfed: None,
        }
    }

    /// The sinks (locked: never hold this while delivering).
    pub fn sinks(&self) -> MutexGuard<'_, Vec<Box<dyn Sink>>> {
        self.sinks.lock()
    }

    /// Starts the `ovhost-encode` thread: from now on host-memory frames are copied and encoded
    /// there (see the module text).
    pub fn start_encoder_thread(&mut self) -> std::io::Result<()> {
        if self.thread.is_some() {
            return Ok(());
        }
        let mailbox = Arc::new(Mailbox::default());
        let (mb, encoder, sinks) = (mailbox.clone(), self.encoder.clone(), self.sinks.clone());
        let handle = std::thread::Builder::new().name("ovhost-encode".into()).spawn(move || {
            loop {
                let (owned, asks) = {
                    let mut slot = mb.slot.lock();
                    loop {
                        if slot.stop {
                            return;
                        }
                        if let Some(job) = slot.job.take() {
                            break job;
                        }
                        mb.wake.wait(&mut slot);
                    }
                };
                let encoded = encoder.lock().encode(&sinks, &owned.frame(), asks);
                drop(owned); // the buffer goes back to the pool
                let mut slot = mb.slot.lock();
                if slot.done.len() < 64 {
                    slot.done.push(encoded);
                }
            }
        })?;
        self.thread = Some(EncoderThread { mailbox, handle: Some(handle) });
        Ok(())
    }

    /// Sets the converters' options: chains built later are created with them, live chains are
    /// reconfigured in place (`configure`), so an encoder keeps its state where it can.
    pub fn set_video_options(&mut self, video: VideoOptions, per_converter: Option<Value>) {
        self.video = video;
        self.encoder.lock().set_video_options(video, per_converter);
    }

    pub fn video_options(&self) -> VideoOptions {
        self.video
    }

    /// Notes the renderer's output spec; a new spec re-plans every chain and renegotiates.
    pub fn set_renderer_output(&mut self, spec: FrameSpec) {
        if self.renderer_output != Some(spec) {
            self.renderer_output = Some(spec);
            let registry = {
                let mut encoder = self.encoder.lock();
                encoder.chains.retain(|key, _| (key.0, key.1) == (spec.format.0, spec.location.0));
                encoder.registry.clone()
            };
            self.negotiate(spec);
            self.report_sink_plans(&registry, spec);
        }
    }

    /// Chooses each sink's spec from `from`: of the specs it accepts that a chain can produce,
    /// the first whose chain can be built, trying chains that keep the frame in the renderer's
    /// memory first (`chain::candidates`: a CUDA renderer feeds a raw ovstream sink BGRA8 in
    /// CUDA memory with no host copy; a host renderer feeds it host BGRA8). Each sink is told
    /// (`Sink::set_negotiated`). Lock order: encoder, then sinks.
    pub fn negotiate(&mut self, from: FrameSpec) {
        let mut encoder = self.encoder.lock();
        let registry = encoder.registry.clone();
        let mut sinks = self.sinks.lock();
        self.negotiated.resize(sinks.len(), None);
        for (i, sink) in sinks.iter_mut().enumerate() {
            let mut chosen = None;
            for (spec, ids) in chain::candidates(&registry, from, &sink.accepted()) {
                if encoder.chain(from, spec, 0).is_some() {
                    chosen = Some((spec, ids));
                    break;
                }
            }
            sink.set_negotiated(chosen.as_ref().map(|(spec, _)| *spec));
            self.negotiated[i] = chosen;
        }
    }

    /// Takes every sink's keyframe request (each is cleared; no short-circuiting): whether every
    /// stream needs one, and the tiers that alone need one.
    pub fn take_keyframe_requests(&self) -> (bool, u8) {
        let mut keyframe = false;
        let mut tiers = 0;
        for sink in self.sinks.lock().iter() {
            keyframe |= sink.take_keyframe_request();
            tiers |= sink.take_tier_keyframes();
        }
        (keyframe, tiers)
    }

    /// Whether some sink consumes frames right now (otherwise nothing is converted).
    pub fn anyone_wants(&self) -> bool {
        self.sinks.lock().iter().any(|s| !s.wanted().is_empty())
    }

    /// Whether some sink needs frames at the stream rate even when nothing changes.
    pub fn sink_needs_continuous(&self) -> bool {
        self.sinks.lock().iter().any(|s| s.needs_continuous())
    }

    /// Hands a frame to the converter chains: to the encoder thread (a copy; newest wins) when
    /// it runs and the frame is in host memory, inline otherwise. `keyframe`: every stream needs
    /// one; `keyframe_tiers`: some tiers alone do; `refresh`: the picture stopped changing, so the
    /// chains make this frame a keyframe at a better quality (option `refresh`, see
    /// `ovhost_plugin_api::FrameConverter`).
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        frame: &Frame<'_>,
        stats: &mut FrameStats,
        input_seq: u32,
        now_us: u64,
        keyframe: bool,
        keyframe_tiers: u8,
        refresh: bool,
        fps: u32,
    ) {
        let asks = FrameAsks {
            input_seq,
            now_us,
            keyframe_tiers: if keyframe { ALL_TIERS } else { keyframe_tiers },
            refresh,
            interval_us: 1_000_000 / u64::from(fps.max(1)),
        };
        if let Some(thread) = &self.thread
            && frame.location == MemoryLocation::HOST
        {
            let copy_started = Instant::now();
            match self.pool.copy(frame) {
                Ok(owned) => {
                    self.last_copy_ns = copy_started.elapsed().as_nanos() as u64;
                    let mut slot = thread.mailbox.slot.lock();
                    let mut asks = asks;
                    if let Some((_, older)) = slot.job.take() {
                        // Newest wins; what the replaced frame asked for is still owed.
                        asks.keyframe_tiers |= older.keyframe_tiers;
                        asks.refresh |= older.refresh;
                        slot.superseded += 1;
                    }
                    slot.job = Some((owned, asks));
                    drop(slot);
                    thread.mailbox.wake.notify_one();
                }
                Err(e) => tracing::warn!("frame copy for the encoder failed: {e}"),
            }
        } else {
            let encoded = self.encoder.lock().encode(&self.sinks, frame, asks);
            self.record(encoded, stats);
        }
        self.collect(stats);
    }

    /// Takes what the encoder thread finished since the last call into the statistics.
    pub fn collect(&mut self, stats: &mut FrameStats) {
        let Some(thread) = &self.thread else { return };
        let (done, superseded) = {
            let mut slot = thread.mailbox.slot.lock();
            (std::mem::take(&mut slot.done), slot.superseded)
        };
        self.superseded = superseded;
        for encoded in done {
            self.record(encoded, stats);
        }
    }

    fn record(&mut self, encoded: Encoded, stats: &mut FrameStats) {
        self.last_convert_ns = encoded.convert_ns;
        for (at, bytes) in encoded.video {
            stats.record_video(at, bytes);
        }
    }

    /// Each sink's negotiated spec (`None`: nothing can feed it), see [`Delivery::negotiate`].
    pub fn negotiated(&self) -> Vec<(String, Option<FrameSpec>)> {
        self.sinks
            .lock()
            .iter()
            .zip(&self.negotiated)
            .map(|(sink, n)| (sink.name(), n.as_ref().map(|(s, _)| *s)))
            .collect()
    }

    /// Per sink for `/api/state`: the negotiated spec and chain, what it wants now, frames handed
    /// over, bytes copied between host and device memory to feed it (0 on a zero-copy path),
    /// and the transport's own counters.
    pub fn to_json(&self) -> Value {
        let counters = self.counters.lock().clone();
        let sinks: Vec<Value> = self
            .sinks
            .lock()
            .iter()
            .enumerate()
            .map(|(i, sink)| {
                let negotiated = self.negotiated.get(i).cloned().flatten();
                let c = counters.get(i).copied().unwrap_or_default();
                serde_json::json!({
                    "sink": sink.name(),
                    "spec": negotiated.as_ref().map(|(s, _)| s.to_string()),
                    "chain": negotiated.as_ref().map(|(_, ids)| ids.clone()),
                    "wanted": sink.wanted().iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    "frames": c.frames,
                    "host_bytes_copied": c.host_bytes_copied,
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
    pub fn warm_up(&mut self, frame: &Frame<'_>) -> bool {
        let accepted: Vec<Vec<FrameSpec>> = self.sinks.lock().iter().map(|s| s.accepted()).collect();
        let mut ready = true;
        let mut reasons = Vec::new();
        for (i, (sink, spec)) in self.negotiated().into_iter().enumerate() {
            let mut encoder = self.encoder.lock();
            let Some(spec) = spec else {
                let accepted = accepted.get(i).cloned().unwrap_or_default();
                let accepts: Vec<String> = accepted.iter().map(|a| a.to_string()).collect();
                // Planned chains that could not be built (say, a CUDA converter without a driver).
                let unbuilt: Vec<String> = accepted
                    .iter()
                    .filter_map(|to| match encoder.chains.get(&chain_key(frame.spec(), *to, 0)) {
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
            match encoder.chain(frame.spec(), spec, 0).map(|chain| chain.run(frame).map(|_| ())) {
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

    /// Logs, once per renderer output format, which sink specs can and cannot be fed.
    fn report_sink_plans(&self, registry: &Registry, from: FrameSpec) {
        for sink in self.sinks.lock().iter() {
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

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(mut thread) = self.thread.take() {
            thread.mailbox.slot.lock().stop = true;
            thread.mailbox.wake.notify_all();
            if let Some(handle) = thread.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

fn chain_for<'c>(
    chains: &'c mut BTreeMap<ChainKey, Result<Chain, String>>,
    config: impl Fn(&str) -> String,
    registry: &Registry,
    from: FrameSpec,
    to: FrameSpec,
    tier: u8,
) -> Option<&'c mut Chain> {
    let slot = chains.entry(chain_key(from, to, tier)).or_insert_with(|| {
        let ids = chain::plan(registry, from, to).ok_or_else(|| format!("no converter chain from {from}"))?;
        match Chain::build(registry, to, ids, config) {
            Ok(chain) => {
                tracing::info!(from = %from, to = %to, tier, chain = ?chain.ids, "converter chain built");
                Ok(chain)
            }
            Err(e) => {
                tracing::error!(from = %from, to = %to, tier, "converter chain could not be built: {e}");
                Err(e.to_string())
            }
        }
    });
    slot.as_mut().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a sink was fed: the tier, the picture's width and height, the JPEG.
    type Fed = Vec<(TierFrame, u32, u32, Vec<u8>)>;

    /// A sink double that takes JPEG on tiers 0 and 3 and records what each tier was fed.
    struct TierRecorder(Arc<Mutex<Fed>>);

    impl Sink for TierRecorder {
        fn name(&self) -> String {
            "tier-recorder".into()
        }
        fn accepted(&self) -> Vec<FrameSpec> {
            vec![FrameSpec::host(FrameFormat::JPEG)]
        }
        fn wanted(&self) -> Vec<FrameSpec> {
            self.accepted()
        }
        fn submit(&mut self, _frame: &Frame<'_>, _input_seq: u32) -> Result<(), String> {
            unreachable!("a tiered sink is fed through submit_tier")
        }
        fn take_keyframe_request(&self) -> bool {
            false
        }
        fn tiers(&mut self, _spec: FrameSpec) -> Vec<u8> {
            vec![0, (MAX_TIERS - 1) as u8]
        }
        fn submit_tier(&mut self, frame: &Frame<'_>, _input_seq: u32, tier: TierFrame) -> Result<(), String> {
            let bytes = frame.host_bytes().map_err(|e| e.to_string())?.to_vec();
            self.0.lock().push((tier, frame.width, frame.height, bytes));
            Ok(())
        }
    }

    /// Width and height from a baseline JPEG's SOF0 segment.
    fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
        let at = bytes.windows(2).position(|w| w == [0xff, 0xc0])?;
        let be = |i: usize| u32::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
        Some((be(at + 7), be(at + 5)))
    }

    #[test]
    fn the_lowest_tier_encodes_a_half_size_picture_and_says_so() {
        let mut registry = Registry::default();
        registry.add_builtins();
        let fed = Arc::new(Mutex::new(Vec::new()));
        let mut delivery = Delivery::new(vec![Box::new(TierRecorder(fed.clone()))], Arc::new(registry));
        let (w, h) = (320u32, 240u32);
        let pixels: Vec<u8> = (0..w * h).flat_map(|i| [(i % w) as u8, (i / w) as u8, 128, 255]).collect();
        let frame = Frame::host(FrameFormat::RGBA8, w, h, w * 4, &pixels);
        delivery.negotiate(frame.spec());
        let mut stats = FrameStats::default();
        // Two frames a whole interval apart: the half-rate lowest tier encodes the first.
        delivery.deliver(&frame, &mut stats, 0, 0, true, 0, false, 30);
        delivery.deliver(&frame, &mut stats, 0, 33_334, false, 0, false, 30);
        let fed = fed.lock();
        let lowest = (MAX_TIERS - 1) as u8;
        let per_tier = |t: u8| fed.iter().filter(|(tier, ..)| tier.tier == t).collect::<Vec<_>>();
        assert_eq!(per_tier(0).len(), 2, "tier 0 at the full rate");
        assert_eq!(per_tier(lowest).len(), 1, "the lowest tier at half the rate");
        let (tier, fw, fh, bytes) = per_tier(lowest)[0];
        assert_eq!((tier.scale_log2, *fw, *fh), (1, w / 2, h / 2), "half size, and the header's scale says so");
        assert_eq!(jpeg_size(bytes), Some((w / 2, h / 2)), "the JPEG itself is half size");
        let (full, ..) = per_tier(0)[0];
        assert_eq!(full.scale_log2, 0);
        assert_eq!(jpeg_size(&per_tier(0)[0].3), Some((w, h)));
        assert!(bytes.len() * 2 < per_tier(0)[0].3.len(), "a quarter of the pixels at a lower quality");
    }

    #[test]
    fn an_owned_frame_outlives_the_buffer_it_was_copied_from_and_returns_to_the_pool() {
        let pool = FramePool::default();
        let owned = {
            let mut pixels = vec![7u8; 4 * 2 * 2];
            let mut frame = Frame::host(FrameFormat::RGBA8, 2, 2, 8, &pixels);
            frame.frame_number = 9;
            let owned = pool.copy(&frame).unwrap();
            pixels.fill(0); // the renderer reuses its buffer for the next frame
            drop(pixels);
            owned
        };
        let frame = owned.frame();
        assert_eq!(frame.frame_number, 9);
        assert_eq!(frame.host_bytes().unwrap(), &[7u8; 16][..]);
        // The copy moves to another thread (it is `Send + 'static`), and its buffer comes back.
        std::thread::spawn(move || drop(owned)).join().unwrap();
        assert_eq!(pool.free.lock().len(), 1);
    }
}

//! `/metrics`: Prometheus text exposition through the `metrics` facade and
//! `metrics-exporter-prometheus` (no listener of its own; the host's HTTP server serves it).
//!
//! Per-event figures (render and convert times, video bytes, frames encoded, stage loads, plugin
//! failures) are recorded where they happen with the `metrics` macros, which do nothing until
//! [`install`] has set the process-wide recorder (the binary does; library users and unit tests
//! pay nothing). Point-in-time figures (clients, queue depths, RSS, heartbeat age, the counters the
//! runtime already keeps in `SharedStatus`) are read at scrape time in [`Metrics::render`].
//!
//! Not reported yet, because the host has no such thing: recordings.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use ovhost_plugin_api::{FrameFormat, FrameSpec};

use crate::runtime::RuntimeHandle;

/// Seconds buckets for per-frame work (render, convert/encode): 0.5 ms … 1 s.
const FRAME_BUCKETS: &[f64] = &[0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.033, 0.066, 0.125, 0.25, 0.5, 1.0];
/// Seconds buckets for stage loads: 10 ms … 5 min.
const STAGE_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0];

/// The installed recorder's handle.
pub struct Metrics {
    handle: PrometheusHandle,
}

static INSTALLED: OnceLock<Arc<Metrics>> = OnceLock::new();

/// Installs the process-wide recorder once; later calls return the same handle.
pub fn install() -> Result<Arc<Metrics>, String> {
    if let Some(metrics) = INSTALLED.get() {
        return Ok(metrics.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("ovhost_render_seconds".into()), FRAME_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full("ovhost_convert_seconds".into()), FRAME_BUCKETS))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full("ovhost_stage_load_seconds".into()), STAGE_BUCKETS))
        .map_err(|e| format!("metrics: {e}"))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| format!("metrics recorder already set: {e}"))?;
    describe();
    let metrics = Arc::new(Metrics { handle });
    Ok(INSTALLED.get_or_init(|| metrics).clone())
}

fn describe() {
    describe_gauge!("ovhost_clients", "Connected clients by role (owner, controller, spectator).");
    describe_counter!("ovhost_frames_rendered_total", "Frames the renderer produced.");
    describe_counter!("ovhost_frames_dropped_total", "Frame deadlines skipped because the render thread was behind.");
    describe_counter!("ovhost_render_errors_total", "Render calls that returned an error.");
    describe_counter!("ovhost_frames_encoded_total", "Encoded frames (H.264, JPEG) produced by converter chains.");
    describe_counter!("ovhost_video_bytes_total", "Bytes of encoded video produced, by format.");
    describe_histogram!("ovhost_render_seconds", "Time in the renderer's render call per frame.");
    describe_histogram!(
        "ovhost_convert_seconds",
        "Time in one converter chain (conversion and encoding) per frame, by target format."
    );
    describe_histogram!("ovhost_stage_load_seconds", "Stage open/recomposition time on the loader thread, by outcome.");
    describe_counter!(
        "ovhost_plugin_failures_total",
        "Failing renderer calls, panicking cameras and message handlers (a panic disables the plugin), by kind."
    );
    describe_gauge!("ovhost_inbound_queue_depth", "Items waiting for the render thread.");
    describe_gauge!("ovhost_client_text_queue_depth", "App messages queued to clients, summed over clients.");
    describe_gauge!(
        "ovhost_render_heartbeat_age_seconds",
        "Time since the render thread last went round its loop (/livez)."
    );
    describe_gauge!("ovhost_ready", "1 once the first frame was rendered and converted (/healthz).");
    describe_gauge!("ovhost_draining", "1 while the host drains before exiting.");
    describe_gauge!("process_resident_memory_bytes", "Resident set size of the host process.");
}

impl Metrics {
    /// The Prometheus text document, with the point-in-time figures read now.
    pub fn render(&self, runtime: &RuntimeHandle, draining: bool) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let status = &runtime.status;
        for (role, count) in runtime.hub.role_counts() {
            let role = serde_json::to_value(role).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            gauge!("ovhost_clients", "role" => role).set(count as f64);
        }
        counter!("ovhost_frames_rendered_total").absolute(status.frames_rendered.load(Relaxed));
        counter!("ovhost_frames_dropped_total").absolute(status.frames_dropped.load(Relaxed));
        counter!("ovhost_render_errors_total").absolute(status.render_errors.load(Relaxed));
        gauge!("ovhost_inbound_queue_depth").set(runtime.inbound_len() as f64);
        gauge!("ovhost_client_text_queue_depth").set(runtime.hub.text_queued() as f64);
        gauge!("ovhost_render_heartbeat_age_seconds").set(status.heartbeat_age().as_secs_f64());
        gauge!("ovhost_ready").set(if status.is_ready() { 1.0 } else { 0.0 });
        gauge!("ovhost_draining").set(if draining { 1.0 } else { 0.0 });
        if let Some(rss) = resident_bytes() {
            gauge!("process_resident_memory_bytes").set(rss as f64);
        }
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// RSS from `/proc/self/status` (`VmRSS`, in kB); `None` off Linux.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One renderer `render` call took `ns`.
pub fn record_render(ns: u64) {
    histogram!("ovhost_render_seconds").record(Duration::from_nanos(ns).as_secs_f64());
}

/// One converter chain to `target` ran for `ns`; `output` is the produced format and size when it
/// succeeded.
pub fn record_convert(target: FrameSpec, ns: u64, output: Option<(FrameFormat, u64)>) {
    histogram!("ovhost_convert_seconds", "target" => target.format.name())
        .record(Duration::from_nanos(ns).as_secs_f64());
    if let Some((format, bytes)) = output
        && format.is_encoded()
    {
        counter!("ovhost_frames_encoded_total", "format" => format.name()).increment(1);
        counter!("ovhost_video_bytes_total", "format" => format.name()).increment(bytes);
    }
}

/// A stage open or variant recomposition finished on the loader thread.
pub fn record_stage_load(took: Duration, ok: bool) {
    histogram!("ovhost_stage_load_seconds", "outcome" => if ok { "ok" } else { "error" }).record(took.as_secs_f64());
}

/// The host noted a failing plugin call (`kind`: `renderer`, `camera`, `handler`).
pub fn plugin_failure(kind: &str, panicked: bool) {
    counter!("ovhost_plugin_failures_total", "kind" => kind.to_string(), "panic" => if panicked { "true" } else { "false" })
        .increment(1);
}

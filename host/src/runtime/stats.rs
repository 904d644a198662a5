//! Frame statistics for `stats.get` and `/api/state`: a one-second window of frame times, the
//! encoder pipeline's copy time and superseded frames, and each client's adapted video (tier,
//! bitrate, frame rate, link measurements; refreshed by the render loop four times a second).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::state::SharedStatus;

#[derive(Default)]
pub struct FrameStats {
    /// (frame time µs, tick ns, render ns, convert ns) for the last second of frames.
    window: VecDeque<(u64, u64, u64, u64)>,
    /// Video bytes sent in the window.
    video_bytes: VecDeque<(u64, u64)>,
    /// Time copying the last frame for the encoder thread took.
    copy_ns: u64,
    /// Frames the encoder never started because a newer one replaced them.
    superseded: u64,
    /// Each client's video as the hub adapted it (`ClientHub::stats`).
    clients: Value,
}

impl FrameStats {
    pub fn record(&mut self, now_us: u64, tick_ns: u64, render_ns: u64, convert_ns: u64) {
        self.window.push_back((now_us, tick_ns, render_ns, convert_ns));
        while self.window.front().is_some_and(|(t, ..)| now_us.saturating_sub(*t) > 1_000_000) {
            self.window.pop_front();
        }
    }

    pub fn record_video(&mut self, now_us: u64, bytes: u64) {
        self.video_bytes.push_back((now_us, bytes));
        while self.video_bytes.front().is_some_and(|(t, _)| now_us.saturating_sub(*t) > 1_000_000) {
            self.video_bytes.pop_front();
        }
    }

    pub fn set_pipeline(&mut self, copy_ns: u64, superseded: u64) {
        self.copy_ns = copy_ns;
        self.superseded = superseded;
    }

    pub fn set_clients(&mut self, clients: Value) {
        self.clients = clients;
    }

    pub fn to_json(&self, status: &SharedStatus, clients: usize) -> Value {
        let n = self.window.len().max(1) as f64;
        let mean_ms = |f: fn(&(u64, u64, u64, u64)) -> u64| self.window.iter().map(f).sum::<u64>() as f64 / n / 1e6;
        let span_s = match (self.window.front(), self.window.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.0 - a.0) as f64 / 1e6,
            _ => 1.0,
        };
        let fps = if self.window.len() > 1 { (self.window.len() - 1) as f64 / span_s } else { 0.0 };
        let video_bits: u64 = self.video_bytes.iter().map(|(_, b)| b * 8).sum();
        json!({
            "fps": (fps * 10.0).round() / 10.0,
            "frame_ms": mean_ms(|w| w.1),
            "render_ms": mean_ms(|w| w.2),
            "convert_ms": mean_ms(|w| w.3),
            "frames_rendered": status.frames_rendered.load(Ordering::Relaxed),
            "frames_dropped": status.frames_dropped.load(Ordering::Relaxed),
            "clients": clients,
            "video_kbps": video_bits / 1000,
            "copy_ms": self.copy_ns as f64 / 1e6,
            "encodes_superseded": self.superseded,
            "client_video": self.clients,
        })
    }
}

//! What the raster bench binaries share: consuming a frame's pixels, the timed render loop and
//! percentiles. (`src/bin/common/` has no `main.rs`, so cargo builds no binary from it.)

use std::time::{Duration, Instant};

use ovhost_plugin_api::Frame;

/// Touches every row of a frame's pixels (XOR of each row's first byte), so the readback is
/// really consumed.
pub fn touch_rows(frame: &Frame<'_>) -> u8 {
    let bytes = frame.host_bytes().unwrap_or_default();
    bytes.iter().step_by(frame.pitch_bytes.max(1) as usize).fold(0u8, |a, b| a ^ b)
}

/// Times `render`: `warmup` calls first, then calls until `seconds` passed or `max_frames` ran.
/// Returns each timed call's duration, sorted, and the seconds the timed calls took together.
pub fn time_frames(
    seconds: f64,
    max_frames: usize,
    warmup: u32,
    mut render: impl FnMut() -> u8,
) -> (Vec<Duration>, f64) {
    for _ in 0..warmup {
        std::hint::black_box(render());
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds && times.len() < max_frames {
        let t = Instant::now();
        std::hint::black_box(render());
        times.push(t.elapsed());
    }
    let total = start.elapsed().as_secs_f64();
    times.sort();
    (times, total)
}

/// The `p` quantile (0..=1, nearest rank) of sorted durations, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

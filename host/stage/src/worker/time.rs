//! Stage time: every attribute the extraction reads goes through [`get`], which resolves it at
//! the current sample time (USD's own rules through `openusd`'s `Attribute::get_at`: linear
//! between samples for interpolable types, held otherwise, clamped outside the samples) and,
//! while recording, notes the attribute's sample times.
//!
//! **How samples reach the renderer: baked at load.** The extraction walks the stage at the
//! start time code while recording every sample time it meets; it then walks again at each of
//! those times (plus every whole time code between the first and last, so rotations stay round
//! when the renderer interpolates matrices) and bakes what changed into [`Track`]s: instance
//! world transforms, instance visibility (held), and mesh positions/normals at each mesh's own
//! sample times. The renderer interpolates tracks per frame, so playback costs no parsing and
//! no round trip to this worker, and every client sees the same frame for the same time code.
//! Baking is bounded by [`TRACK_BYTES_CAP`]; tracks past it are left out (those prims stay at
//! the start pose) and counted in the open facts.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use openusd::{sdf, usd};
use ovhost_plugin_api::TimeRange;

/// Most bytes of baked samples one stage may hold (track values, f32).
pub const TRACK_BYTES_CAP: usize = 1 << 30;

/// Most time codes the transform walk visits (sample times plus whole time codes).
pub const MAX_WALK_TIMES: usize = 4096;

thread_local! {
    static NOW: Cell<Option<f64>> = const { Cell::new(None) };
    static RECORDED: RefCell<Option<BTreeSet<u64>>> = const { RefCell::new(None) };
}

/// Reads `attr` at the current sample time (its default value when none is set).
pub fn get(attr: &usd::Attribute) -> anyhow::Result<Option<sdf::Value>> {
    let recording = RECORDED.with(|r| r.borrow().is_some());
    if recording
        && attr.num_time_samples().unwrap_or(0) > 1
        && let Ok(times) = attr.time_sample_times()
    {
        RECORDED.with(|r| {
            if let Some(set) = r.borrow_mut().as_mut() {
                set.extend(times.iter().filter(|t| t.is_finite()).map(|t| key(*t)));
            }
        });
    }
    match NOW.with(Cell::get) {
        Some(t) => {
            let value = attr.get_at::<sdf::Value>(usd::TimeCode::new(t))?;
            match value {
                Some(sdf::Value::Int(_) | sdf::Value::Int64(_)) => Ok(real_scalar_at(attr, t).or(value)),
                // Token samples can come back from the text parser as strings.
                Some(sdf::Value::String(s))
                    if attr.type_name().ok().flatten().is_some_and(|n| n.as_str() == "token") =>
                {
                    Ok(Some(sdf::Value::Token(openusd::tf::Token::from(s))))
                }
                other => Ok(other),
            }
        }
        None => attr.get::<sdf::Value>(),
    }
}

/// A `float`/`double`/`half` attribute whose samples were authored as bare integers (`1: 0`)
/// can come back from the text parser as integers, which `openusd` then holds instead of
/// interpolating. pxr stores them as the declared real type and interpolates; so does this.
fn real_scalar_at(attr: &usd::Attribute, t: f64) -> Option<sdf::Value> {
    let type_name = attr.type_name().ok().flatten()?;
    if !matches!(type_name.as_str(), "float" | "double" | "half") {
        return None;
    }
    let samples = attr.time_samples().ok().flatten()?;
    let real = |v: &sdf::Value| match v {
        sdf::Value::Int(i) => Some(f64::from(*i)),
        sdf::Value::Int64(i) => Some(*i as f64),
        sdf::Value::Float(f) => Some(f64::from(*f)),
        sdf::Value::Double(d) => Some(*d),
        _ => None,
    };
    let upper = samples.partition_point(|(x, _)| *x <= t);
    let value = if upper == 0 {
        real(&samples.first()?.1)?
    } else if upper == samples.len() {
        real(&samples.last()?.1)?
    } else {
        let ((t0, v0), (t1, v1)) = (&samples[upper - 1], &samples[upper]);
        let (a, b) = (real(v0)?, real(v1)?);
        if t1 > t0 { a + (b - a) * (t - t0) / (t1 - t0) } else { a }
    };
    Some(sdf::Value::Double(value))
}

/// Whether `attr` has more than one sample (its value may change over time).
pub fn varies(attr: &usd::Attribute) -> bool {
    attr.num_time_samples().unwrap_or(0) > 1
}

/// Sample times of `attr`, ascending.
pub fn sample_times(attr: &usd::Attribute) -> Vec<f64> {
    attr.time_sample_times().unwrap_or_default().into_iter().filter(|t| t.is_finite()).collect()
}

/// Runs `f` with attributes read at `time` (`None`: default values), restoring the previous time.
pub fn at<R>(time: Option<f64>, f: impl FnOnce() -> R) -> R {
    let before = NOW.with(|n| n.replace(time));
    let out = f();
    NOW.with(|n| n.set(before));
    out
}

/// Runs `f` recording the sample times of every time-varying attribute read; returns them
/// ascending.
pub fn recording<R>(f: impl FnOnce() -> R) -> (R, Vec<f64>) {
    RECORDED.with(|r| *r.borrow_mut() = Some(BTreeSet::new()));
    let out = f();
    let set = RECORDED.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, set.into_iter().map(unkey).collect())
}

/// Order-preserving key of a finite f64 (so a `BTreeSet` sorts times).
fn key(t: f64) -> u64 {
    let bits = t.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

fn unkey(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// The stage's time metadata as pxr reports it: `startTimeCode`, `endTimeCode` (0 when
/// unauthored) and `timeCodesPerSecond` (falling back to `framesPerSecond`, then 24).
pub fn stage_range(stage: &usd::Stage) -> (TimeRange, bool) {
    let range = TimeRange {
        start_time_code: stage.start_time_code(),
        end_time_code: stage.end_time_code(),
        time_codes_per_second: stage.time_codes_per_second(),
    };
    (range, stage.has_authored_time_code_range())
}

/// The time the static scene is extracted at: the start time code (0 when unauthored, as pxr).
pub fn start(stage: &usd::Stage) -> f64 {
    let t = stage.start_time_code();
    if t.is_finite() { t } else { 0.0 }
}

/// The time codes the transform walk visits: the recorded sample times, plus every whole time
/// code between the first and the last (bounded by [`MAX_WALK_TIMES`]).
pub fn walk_times(recorded: &[f64]) -> Vec<f64> {
    let (Some(&first), Some(&last)) = (recorded.first(), recorded.last()) else { return Vec::new() };
    let mut set: BTreeSet<u64> = recorded.iter().map(|t| key(*t)).collect();
    let span = last.floor() - first.ceil();
    if span.is_finite() && span >= 0.0 && (span as usize) + recorded.len() <= MAX_WALK_TIMES {
        let mut t = first.ceil();
        while t <= last {
            set.insert(key(t));
            t += 1.0;
        }
    }
    let mut out: Vec<f64> = set.into_iter().map(unkey).collect();
    if out.len() > MAX_WALK_TIMES {
        // Evenly thinned, keeping the ends.
        let n = out.len();
        out = (0..MAX_WALK_TIMES).map(|i| out[i * (n - 1) / (MAX_WALK_TIMES - 1)]).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_like_numbers() {
        let mut v = [3.5, -1.0, 0.0, -0.0, 1e9, -7.25, 2.0];
        let mut keys: Vec<u64> = v.iter().map(|t| key(*t)).collect();
        keys.sort_unstable();
        v.sort_by(f64::total_cmp);
        assert_eq!(keys.into_iter().map(unkey).collect::<Vec<_>>(), v);
    }

    #[test]
    fn walk_times_add_whole_codes() {
        assert_eq!(walk_times(&[0.5, 3.0]), vec![0.5, 1.0, 2.0, 3.0]);
        assert!(walk_times(&[]).is_empty());
    }
}

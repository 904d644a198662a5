//! Render on demand: whether the render loop renders in this frame interval.
//!
//! The loop still wakes once per frame interval (to poll sinks, advance the camera and beat the
//! heartbeat, all cheap), but it renders only when something that affects the picture changed or
//! a sink needs a frame; a change arriving between ticks may start its frame at once
//! ([`start_frame_now`]). Once the picture stops changing it renders **one refresh** (a keyframe
//! the converters encode at a better quality) and then nothing until the next change.
//!
//! # The one entry point for other features
//!
//! Anything that changes the picture calls [`FramePacer::mark_dirty`] (through
//! [`super::core::Core::mark_dirty`] from services and handlers' host calls), naming why; the
//! next frame interval renders. Anything that needs frames to keep flowing at the stream rate
//! for a while (a playing timeline, a recording in progress, a progressive renderer) holds
//! [`FramePacer::set_continuous`] on under its own reason and lets go when done. A resize is
//! `mark_dirty("resize")`. [`FramePacer::needs_frame`] answers whether the next interval renders.
//!
//! The render loop itself marks: every app message (handlers may change anything through
//! services), pointer and key input, finished stage loads, a changed camera view (inertia,
//! animated camera schemes), keyframe requests from sinks (a client joined, a decoder lost
//! sync), and renderer output flagged [`ovhost_plugin_api::FRAME_FLAG_CHANGING`].

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long the picture must stay unchanged before the quality refresh is rendered.
pub const REFRESH_DELAY_US: u64 = 150_000;

/// Render on arrival: a change that arrives between frame ticks (a click, a key, the first move
/// of a drag, a message) starts its frame at once when a whole frame interval has passed since
/// the last frame started, rather than at the next tick of a fixed grid, which would add up to
/// one interval to its input-to-display time. The frame rate stays a cap: changes arriving
/// faster than it are rendered at the interval, as before.
pub fn start_frame_now(last_frame_started: Option<Instant>, now: Instant, interval: Duration) -> bool {
    last_frame_started.is_none_or(|at| now.saturating_duration_since(at) >= interval)
}

/// How far behind its frame grid the render loop may fall and still catch up (render the next
/// frames back to back until it is on schedule again) rather than give the time up.
pub const MAX_CATCH_UP_INTERVALS: u32 = 2;

/// The deadline after a tick whose deadline was `deadline`, and how many frame intervals were
/// given up. A tick that overran (the renderer lost its cores for a moment: a lavapipe frame that
/// usually takes 15 ms took 58 ms) keeps the grid, so the frames after it catch up and the stream
/// keeps its rate over the second; only a stall longer than [`MAX_CATCH_UP_INTERVALS`] restarts
/// the grid at `now` and counts the intervals it lost as dropped.
pub fn next_deadline(deadline: Instant, now: Instant, interval: Duration) -> (Instant, u64) {
    let next = deadline + interval;
    let behind = now.saturating_duration_since(next);
    if behind <= interval * MAX_CATCH_UP_INTERVALS {
        return (next, 0);
    }
    (now, (behind.as_micros() / interval.as_micros().max(1)) as u64)
}

/// What kind of frame the render loop should render now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Something changed: an ordinary frame.
    Changed,
    /// The picture has stopped changing: one keyframe at a better quality.
    Refresh,
}

/// The render-on-demand state (render thread only).
#[derive(Debug)]
pub struct FramePacer {
    /// Reasons marked since the last rendered frame (for logs and `/api/state`).
    dirty: BTreeSet<&'static str>,
    /// Reasons holding frames at the stream rate.
    continuous: BTreeSet<&'static str>,
    /// Host time of the last `Changed` frame; a refresh is due `REFRESH_DELAY_US` after it.
    refresh_due_at_us: Option<u64>,
    /// Frames rendered and skipped, by kind (for `/api/state` and tests).
    pub frames_changed: u64,
    pub frames_refresh: u64,
    pub intervals_idle: u64,
}

impl Default for FramePacer {
    fn default() -> Self {
        // The first frame is always rendered: readiness needs one rendered-and-converted frame.
        Self {
            dirty: BTreeSet::from(["start"]),
            continuous: BTreeSet::new(),
            refresh_due_at_us: None,
            frames_changed: 0,
            frames_refresh: 0,
            intervals_idle: 0,
        }
    }
}

impl FramePacer {
    /// Something that affects the picture changed: the next frame interval renders.
    pub fn mark_dirty(&mut self, reason: &'static str) {
        self.dirty.insert(reason);
    }

    /// Holds (or releases) frames at the stream rate under `reason`, e.g. `"timeline"` while a
    /// timeline plays, `"recording"` while a recording runs.
    pub fn set_continuous(&mut self, reason: &'static str, on: bool) {
        if on {
            self.continuous.insert(reason);
        } else {
            self.continuous.remove(reason);
        }
    }

    /// Whether the next frame interval renders (a changed frame or the pending refresh, whose
    /// time is checked by [`FramePacer::next_frame`]).
    pub fn needs_frame(&self) -> bool {
        !self.dirty.is_empty() || !self.continuous.is_empty()
    }

    /// Decides this interval's frame at host time `now_us`, clearing what it consumes. `None`:
    /// render nothing.
    pub fn next_frame(&mut self, now_us: u64) -> Option<FrameKind> {
        if self.needs_frame() {
            self.dirty.clear();
            self.refresh_due_at_us = Some(now_us.saturating_add(REFRESH_DELAY_US));
            self.frames_changed += 1;
            return Some(FrameKind::Changed);
        }
        match self.refresh_due_at_us {
            Some(due) if now_us >= due => {
                self.refresh_due_at_us = None;
                self.frames_refresh += 1;
                Some(FrameKind::Refresh)
            }
            _ => {
                self.intervals_idle += 1;
                None
            }
        }
    }

    /// Forgets a pending refresh (nobody would see it).
    pub fn cancel_refresh(&mut self) {
        self.refresh_due_at_us = None;
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "continuous": self.continuous,
            "frames_changed": self.frames_changed,
            "frames_refresh": self.frames_refresh,
            "intervals_idle": self.intervals_idle,
            "refresh_pending": self.refresh_due_at_us.is_some(),
        })
    }
}

/// What held the render thread up (for `/api/state` `render_thread`): frame ticks that took a
/// whole frame interval or more, and queued items (messages, input, stage answers) whose
/// handling took [`SLOW_ITEM_US`] or more, counted by kind, with the slowest of each.
#[derive(Debug, Default)]
pub struct Stalls {
    pub slow_ticks: u64,
    pub slowest_tick_us: u64,
    /// Kind → (count, slowest µs).
    pub slow_items: std::collections::BTreeMap<String, (u64, u64)>,
}

/// An item handled in this long or longer is counted as a stall.
pub const SLOW_ITEM_US: u64 = 10_000;
/// Kinds named separately at most (event types come from clients); the rest count as "other".
const MAX_KINDS: usize = 32;

impl Stalls {
    pub fn tick(&mut self, took: Duration, interval: Duration) {
        if took >= interval {
            self.slow_ticks += 1;
            self.slowest_tick_us = self.slowest_tick_us.max(took.as_micros() as u64);
        }
    }

    /// `kind` is asked for only when the item was slow.
    pub fn item(&mut self, took: Duration, kind: impl FnOnce() -> String) {
        let us = took.as_micros() as u64;
        if us >= SLOW_ITEM_US {
            let mut kind = kind();
            if self.slow_items.len() >= MAX_KINDS && !self.slow_items.contains_key(&kind) {
                kind = "other".into();
            }
            let entry = self.slow_items.entry(kind).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(us);
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "slow_ticks": self.slow_ticks,
            "slowest_tick_ms": self.slowest_tick_us as f64 / 1000.0,
            "slow_items": self.slow_items.iter().map(|(k, (n, us))| (k.clone(), serde_json::json!({"count": n, "slowest_ms": *us as f64 / 1000.0}))).collect::<serde_json::Map<_, _>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_on_change_then_one_refresh_then_nothing() {
        let mut pacer = FramePacer::default();
        assert_eq!(pacer.next_frame(0), Some(FrameKind::Changed), "the first frame is rendered");
        assert_eq!(pacer.next_frame(33_000), None);
        assert_eq!(pacer.next_frame(REFRESH_DELAY_US), Some(FrameKind::Refresh));
        for i in 1..100 {
            assert_eq!(pacer.next_frame(REFRESH_DELAY_US + i * 33_000), None);
        }
        pacer.mark_dirty("input");
        assert_eq!(pacer.next_frame(10_000_000), Some(FrameKind::Changed));
        assert_eq!(pacer.next_frame(10_033_000), None);
        pacer.mark_dirty("input");
        assert_eq!(pacer.next_frame(10_066_000), Some(FrameKind::Changed), "a change postpones the refresh");
        assert_eq!(pacer.next_frame(10_066_000 + REFRESH_DELAY_US - 1), None);
        assert_eq!(pacer.next_frame(10_066_000 + REFRESH_DELAY_US), Some(FrameKind::Refresh));
    }

    #[test]
    fn an_overrun_is_caught_up_and_only_a_long_stall_gives_frames_up() {
        let interval = Duration::from_millis(33);
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(next_deadline(t0, t0 + ms(15), interval), (t0 + interval, 0), "on time: the next slot");
        // A 58 ms tick: the grid holds, so the next frame starts at once and the one after is back
        // on schedule.
        let (next, dropped) = next_deadline(t0, t0 + ms(58), interval);
        assert_eq!((next, dropped), (t0 + interval, 0));
        let (next, _) = next_deadline(next, t0 + ms(73), interval);
        assert_eq!(next, t0 + interval * 2, "still behind at 73 ms: the next frame starts at once too");
        assert!(next_deadline(next, t0 + ms(88), interval).0 > t0 + ms(88), "caught up: the loop waits again");
        // A stall of 200 ms: the grid restarts and the lost intervals are counted.
        let (next, dropped) = next_deadline(t0, t0 + ms(200), interval);
        assert_eq!((next, dropped), (t0 + ms(200), 5));
    }

    #[test]
    fn a_change_starts_its_frame_at_once_only_a_whole_interval_after_the_last() {
        let interval = Duration::from_millis(33);
        let t0 = Instant::now();
        assert!(start_frame_now(None, t0, interval), "nothing rendered yet");
        assert!(!start_frame_now(Some(t0), t0 + Duration::from_millis(10), interval), "the frame rate is a cap");
        assert!(start_frame_now(Some(t0), t0 + interval, interval));
        assert!(start_frame_now(Some(t0), t0 + Duration::from_secs(5), interval), "after an idle spell: at once");
    }

    #[test]
    fn stalls_count_only_what_overran() {
        let mut s = Stalls::default();
        let interval = Duration::from_millis(33);
        s.tick(Duration::from_millis(20), interval);
        s.tick(Duration::from_millis(50), interval);
        s.tick(Duration::from_millis(40), interval);
        s.item(Duration::from_millis(2), || unreachable!("a fast item is not named"));
        s.item(Duration::from_millis(12), || "pickRequest".into());
        s.item(Duration::from_millis(30), || "pickRequest".into());
        let json = s.to_json();
        assert_eq!(json["slow_ticks"], 2);
        assert_eq!(json["slowest_tick_ms"], 50.0);
        assert_eq!(json["slow_items"]["pickRequest"], serde_json::json!({"count": 2, "slowest_ms": 30.0}));
        // Client-chosen kinds cannot grow the map without bound.
        for i in 0..100 {
            s.item(Duration::from_millis(11), || format!("kind{i}"));
        }
        assert_eq!(s.slow_items.len(), MAX_KINDS + 1);
        assert_eq!(s.slow_items["other"].0, 100 - (MAX_KINDS as u64 - 1));
    }

    #[test]
    fn continuous_reasons_hold_frames_until_released() {
        let mut pacer = FramePacer::default();
        pacer.next_frame(0);
        pacer.set_continuous("timeline", true);
        pacer.set_continuous("recording", true);
        for i in 1..10 {
            assert_eq!(pacer.next_frame(i * 33_000), Some(FrameKind::Changed));
        }
        pacer.set_continuous("timeline", false);
        assert!(pacer.needs_frame(), "the recording still holds frames");
        pacer.set_continuous("recording", false);
        assert!(!pacer.needs_frame());
        assert_eq!(pacer.next_frame(10 * 33_000), None);
    }
}

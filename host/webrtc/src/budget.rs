//! A peer's video budget: a leaky bucket of bytes drained at the peer's send-side bandwidth
//! estimate. The encoder is told the estimate too, but a picture it cannot compress enough
//! (foliage, noise, a keyframe of a detailed scene) still overshoots; without this a slow link
//! would receive far more than it can carry and freeze. Frames that do not fit are dropped up to
//! the next keyframe (a decoder cannot use a P-frame whose reference is missing), and a keyframe
//! is asked for once the bucket has drained.

use std::time::{Duration, Instant};

/// The bucket holds at most this much time at the estimated rate.
const BURST: Duration = Duration::from_millis(500);
/// A keyframe is asked for once the bucket holds no more than this fraction of a burst.
const RESUME_FRACTION: f64 = 0.25;
/// At most one keyframe request per this interval while waiting.
const REQUEST_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct MediaBudget {
    /// Bytes sent and not yet drained.
    level: f64,
    /// The estimate, bits per second; `None` (no send-side estimate yet) admits everything.
    rate_bps: Option<u64>,
    drained_at: Option<Instant>,
    /// A frame was dropped; nothing but a keyframe is sent until one fits.
    waiting: bool,
    requested_at: Option<Instant>,
}

impl MediaBudget {
    pub fn set_rate(&mut self, bps: u64, now: Instant) {
        self.drain(now);
        self.rate_bps = Some(bps.max(1));
    }

    fn capacity(&self) -> Option<f64> {
        self.rate_bps.map(|bps| bps as f64 / 8.0 * BURST.as_secs_f64())
    }

    fn drain(&mut self, now: Instant) {
        if let (Some(bps), Some(then)) = (self.rate_bps, self.drained_at) {
            let elapsed = now.saturating_duration_since(then).as_secs_f64();
            self.level = (self.level - bps as f64 / 8.0 * elapsed).max(0.0);
        }
        self.drained_at = Some(now);
    }

    /// Whether an access unit of `len` bytes may be sent now (and if so, charges it). A frame
    /// larger than the whole bucket passes when the bucket is empty, or it would never pass.
    pub fn admit(&mut self, len: usize, keyframe: bool, now: Instant) -> bool {
        self.drain(now);
        let Some(capacity) = self.capacity() else { return true };
        if self.waiting && !keyframe {
            return false;
        }
        if self.level > 0.0 && self.level + len as f64 > capacity {
            self.waiting = true;
            return false;
        }
        self.level += len as f64;
        if keyframe {
            self.waiting = false;
            self.requested_at = None;
        }
        true
    }

    /// True once per [`REQUEST_INTERVAL`] while frames are being dropped and the bucket has
    /// drained enough for a keyframe.
    pub fn keyframe_due(&mut self, now: Instant) -> bool {
        if !self.waiting {
            return false;
        }
        self.drain(now);
        let Some(capacity) = self.capacity() else { return false };
        let recent = self.requested_at.is_some_and(|t| now.saturating_duration_since(t) < REQUEST_INTERVAL);
        if recent || self.level > capacity * RESUME_FRACTION {
            return false;
        }
        self.requested_at = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: usize = 1000;

    #[test]
    fn without_an_estimate_everything_passes() {
        let mut b = MediaBudget::default();
        let now = Instant::now();
        assert!((0..100).all(|_| b.admit(100 * KB, false, now)));
        assert!(!b.keyframe_due(now));
    }

    #[test]
    fn over_the_estimate_frames_drop_until_a_keyframe_after_draining() {
        let mut b = MediaBudget::default();
        let t0 = Instant::now();
        b.set_rate(800_000, t0); // 100 kB/s: the bucket holds 50 kB
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert!(b.admit(30 * KB, true, at(0)));
        assert!(b.admit(15 * KB, false, at(10)));
        // 45 kB less 1 kB drained: another 10 kB does not fit.
        assert!(!b.admit(10 * KB, false, at(20)));
        assert!(!b.keyframe_due(at(100)), "asked before the bucket drained");
        // P-frames stay dropped even once there is room: their reference is gone.
        assert!(!b.admit(KB, false, at(300)));
        // By 400 ms about 5 kB remain (under a quarter of 50 kB): ask once, not twice.
        assert!(b.keyframe_due(at(400)));
        assert!(!b.keyframe_due(at(500)));
        assert!(b.admit(20 * KB, true, at(600)), "the keyframe did not pass");
        assert!(b.admit(KB, false, at(633)), "P-frames after the keyframe were dropped");
        assert!(!b.keyframe_due(at(700)));
    }

    #[test]
    fn a_keyframe_larger_than_the_bucket_passes_when_it_is_empty() {
        let mut b = MediaBudget::default();
        let t0 = Instant::now();
        b.set_rate(80_000, t0); // 10 kB/s: the bucket holds 5 kB
        assert!(b.admit(40 * KB, true, t0));
        assert!(!b.admit(KB, false, t0 + Duration::from_millis(100)));
        // 40 kB take 4 s to drain; the request comes when a quarter of the bucket is left.
        assert!(!b.keyframe_due(t0 + Duration::from_secs(3)));
        assert!(b.keyframe_due(t0 + Duration::from_millis(3900)));
    }

    #[test]
    fn a_higher_estimate_drains_faster() {
        let mut b = MediaBudget::default();
        let t0 = Instant::now();
        b.set_rate(80_000, t0);
        assert!(b.admit(40 * KB, true, t0));
        b.set_rate(8_000_000, t0 + Duration::from_millis(100));
        assert!(b.admit(10 * KB, false, t0 + Duration::from_millis(140)));
    }
}

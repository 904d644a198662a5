//! The host's timeline: one stage time for every client, stepped by the render loop's clock.
//!
//! A stage with time-varying data opens playing and looping from its start time code (as model
//! viewers do) unless `--timeline-autoplay false`. Playback advances `rate × timeCodesPerSecond`
//! time codes per second of host time; past the end it wraps to the start when looping, else it
//! stops on the end. The renderer receives the current time code in every `RenderRequest`
//! (`NaN` when the stage has no time), so a seek shows the same frame on every client.

use ovhost_plugin_api::services::{TimelineControl, TimelineState};
use ovhost_plugin_api::{PluginError, TimeRange};

/// While playing, clients get the state at most this often (plus on every change).
pub const PUSH_INTERVAL_US: u64 = 100_000;

#[derive(Debug, Clone)]
pub struct Timeline {
    range: Option<TimeRange>,
    animated: bool,
    time: f64,
    playing: bool,
    looping: bool,
    rate: f64,
    autoplay: bool,
    last_push_us: u64,
}

impl Timeline {
    pub fn new(autoplay: bool) -> Self {
        Self {
            range: None,
            animated: false,
            time: f64::NAN,
            playing: false,
            looping: true,
            rate: 1.0,
            autoplay,
            last_push_us: 0,
        }
    }

    /// A stage was opened: its range (if any) and whether anything in it moves.
    pub fn stage_opened(&mut self, range: Option<TimeRange>, animated: bool) {
        let range = range.filter(|r| {
            r.start_time_code.is_finite() && r.end_time_code.is_finite() && r.time_codes_per_second.is_finite()
        });
        self.range = range.map(|r| TimeRange {
            end_time_code: r.end_time_code.max(r.start_time_code),
            time_codes_per_second: if r.time_codes_per_second > 0.0 { r.time_codes_per_second } else { 24.0 },
            ..r
        });
        self.animated = animated && self.range.is_some();
        self.time = self.range.map_or(f64::NAN, |r| r.start_time_code);
        self.playing = self.animated && self.autoplay && self.span() > 0.0;
        self.looping = true;
    }

    fn span(&self) -> f64 {
        self.range.map_or(0.0, |r| r.end_time_code - r.start_time_code)
    }

    /// The time code to render (`NaN` without a stage time).
    pub fn time_code(&self) -> f64 {
        self.time
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    /// Steps playback by `dt_us` of host time. Returns true when the state should be pushed
    /// now (playback stopped at the end, or the push interval passed while playing).
    pub fn advance(&mut self, dt_us: u64, now_us: u64) -> bool {
        let Some(range) = self.range else { return false };
        if !self.playing {
            return false;
        }
        let span = self.span();
        self.time += dt_us as f64 * 1e-6 * range.time_codes_per_second * self.rate;
        let mut stopped = false;
        if self.time > range.end_time_code {
            if self.looping && span > 0.0 {
                self.time = range.start_time_code + (self.time - range.start_time_code).rem_euclid(span);
            } else {
                self.time = range.end_time_code;
                self.playing = false;
                stopped = true;
            }
        }
        if stopped || now_us.saturating_sub(self.last_push_us) >= PUSH_INTERVAL_US {
            self.last_push_us = now_us;
            return true;
        }
        false
    }

    /// Applies a control request; nothing changes unless all of it is valid.
    pub fn control(&mut self, c: &TimelineControl) -> Result<(), PluginError> {
        if let Some(rate) = c.rate
            && !(rate.is_finite() && rate >= 0.0)
        {
            return Err(PluginError::invalid_input(format!("rate must be a finite number ≥ 0, got {rate}")));
        }
        if let Some(time) = c.time
            && !time.is_finite()
        {
            return Err(PluginError::invalid_input(format!("time must be a finite time code, got {time}")));
        }
        // Pausing, loop and rate are kept without a stage time; playing and seeking need one.
        let range = match self.range {
            Some(range) => Some(range),
            None if c.playing == Some(true) || c.time.is_some() => {
                return Err(PluginError::unavailable("the open stage has no time (nothing is animated)"));
            }
            None => None,
        };
        if let Some(playing) = c.playing {
            self.playing = playing && range.is_some();
            // Play at the end of a non-looping run starts over, as players do.
            if let Some(range) = range
                && playing
                && !self.looping
                && self.time >= range.end_time_code
            {
                self.time = range.start_time_code;
            }
        }
        if let Some(looping) = c.looping {
            self.looping = looping;
        }
        if let Some(rate) = c.rate {
            self.rate = rate;
        }
        if let (Some(time), Some(range)) = (c.time, range) {
            self.time = time.clamp(range.start_time_code, range.end_time_code);
        }
        Ok(())
    }

    pub fn state(&self) -> TimelineState {
        let range =
            self.range.unwrap_or(TimeRange { start_time_code: 0.0, end_time_code: 0.0, time_codes_per_second: 24.0 });
        let time = if self.time.is_finite() { self.time } else { range.start_time_code };
        TimelineState {
            animated: self.animated,
            playing: self.playing,
            looping: self.looping,
            rate: self.rate,
            time,
            seconds: (time - range.start_time_code) / range.time_codes_per_second,
            start_time_code: range.start_time_code,
            end_time_code: range.end_time_code,
            time_codes_per_second: range.time_codes_per_second,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn opened(autoplay: bool) -> Timeline {
        let mut t = Timeline::new(autoplay);
        t.stage_opened(
            Some(TimeRange { start_time_code: 1.0, end_time_code: 49.0, time_codes_per_second: 24.0 }),
            true,
        );
        t
    }

    #[test]
    fn plays_loops_and_stops() {
        let mut t = opened(true);
        assert!(t.is_playing());
        assert_eq!(t.time_code(), 1.0);
        t.advance(1_000_000, 1_000_000);
        assert!((t.time_code() - 25.0).abs() < 1e-9, "one second is 24 codes");
        t.advance(1_500_000, 2_500_000);
        assert!((t.time_code() - 13.0).abs() < 1e-9, "61 wraps to 13 over a span of 48");
        t.control(&TimelineControl { looping: Some(false), ..Default::default() }).unwrap();
        assert!(t.advance(3_000_000, 5_500_000));
        assert_eq!((t.time_code(), t.is_playing()), (49.0, false));
        t.control(&TimelineControl { playing: Some(true), ..Default::default() }).unwrap();
        assert_eq!(t.time_code(), 1.0, "play at the end starts over");
    }

    #[test]
    fn refuses_bad_requests_without_changing_anything() {
        let mut t = opened(false);
        assert!(!t.is_playing(), "autoplay off");
        let before = t.state();
        for bad in [
            TimelineControl { rate: Some(-1.0), playing: Some(true), ..Default::default() },
            TimelineControl { rate: Some(f64::NAN), ..Default::default() },
            TimelineControl { time: Some(f64::INFINITY), ..Default::default() },
        ] {
            assert!(t.control(&bad).is_err());
            assert_eq!(t.state(), before);
        }
        t.control(&TimelineControl { time: Some(100.0), ..Default::default() }).unwrap();
        assert_eq!(t.time_code(), 49.0, "seeks clamp to the range");
        let mut none = Timeline::new(true);
        none.stage_opened(None, false);
        assert!(none.time_code().is_nan());
        assert!(none.control(&TimelineControl { playing: Some(true), ..Default::default() }).is_err());
        assert!(none.control(&TimelineControl { time: Some(3.0), ..Default::default() }).is_err());
        assert!(none.control(&TimelineControl { looping: Some(false), rate: Some(2.0), ..Default::default() }).is_ok());
    }
}

//! The `rgba-to-h264` options, read from the config at creation and from `configure` later.
//!
//! `{"bitrate_kbps": 6000, "fps": 60, "gop_frames": 60, "threads": 0}`; every key is optional and
//! unknown keys are ignored. `{"refresh": true}` (the host's render on demand, once the picture
//! stopped changing) makes the next frame an IDR encoded at [`REFRESH_BITRATE_FACTOR`] times
//! the bitrate, a better quantizer for the picture that stays on screen. `gop_frames` is the IDR interval in frames (0 = only the first frame
//! and requested keyframes); `threads` is OpenH264's worker count (0 = its own choice).

use ovhost_plugin_api::PluginError;
use serde::Deserialize;

/// The encoder settings in force.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct H264Settings {
    pub bitrate_kbps: u32,
    pub fps: f32,
    pub gop_frames: u32,
    pub threads: u16,
}

impl Default for H264Settings {
    fn default() -> Self {
        Self { bitrate_kbps: 6000, fps: 60.0, gop_frames: 60, threads: 0 }
    }
}

/// The refresh keyframe's bitrate, as a multiple of the configured one.
pub const REFRESH_BITRATE_FACTOR: u32 = 4;

/// True when the options ask for a quality refresh (`{"refresh": true}`).
pub fn wants_refresh(options_json: &str) -> bool {
    #[derive(Deserialize, Default)]
    struct Refresh {
        refresh: Option<bool>,
    }
    serde_json::from_str::<Refresh>(options_json).ok().and_then(|r| r.refresh).unwrap_or(false)
}

#[derive(Deserialize, Default)]
struct RawOptions {
    bitrate_kbps: Option<f64>,
    fps: Option<f64>,
    gop_frames: Option<f64>,
    threads: Option<f64>,
}

fn whole(name: &str, value: f64, min: f64, max: f64) -> Result<f64, PluginError> {
    if value.fract() != 0.0 || !(min..=max).contains(&value) {
        return Err(PluginError::invalid_input(format!(
            "{name} must be a whole number from {min} to {max}, got {value}"
        )));
    }
    Ok(value)
}

impl H264Settings {
    /// Returns these settings with the keys present in `options_json` applied.
    pub fn with_options(self, options_json: &str) -> Result<Self, PluginError> {
        let text = if options_json.trim().is_empty() { "{}" } else { options_json };
        let raw: RawOptions = serde_json::from_str(text).map_err(|e| {
            PluginError::invalid_input(format!("rgba-to-h264 options must be a JSON object of numbers: {e}"))
        })?;
        let mut out = self;
        if let Some(v) = raw.bitrate_kbps {
            out.bitrate_kbps = whole("bitrate_kbps", v, 50.0, 200_000.0)? as u32;
        }
        if let Some(v) = raw.fps {
            if !(1.0..=240.0).contains(&v) {
                return Err(PluginError::invalid_input(format!("fps must be from 1 to 240, got {v}")));
            }
            out.fps = v as f32;
        }
        if let Some(v) = raw.gop_frames {
            out.gop_frames = whole("gop_frames", v, 0.0, 100_000.0)? as u32;
        }
        if let Some(v) = raw.threads {
            out.threads = whole("threads", v, 0.0, 64.0)? as u16;
        }
        Ok(out)
    }

    /// True when a change from `self` to `next` needs a new OpenH264 encoder (the frame rate and
    /// threading are fixed at initialization); a bitrate change (applied to the running encoder)
    /// and a GOP change do not.
    pub fn needs_new_encoder(&self, next: &Self) -> bool {
        self.fps != next.fps || self.threads != next.threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_known_keys_and_ignores_others() {
        let s = H264Settings::default()
            .with_options(r#"{"bitrate_kbps": 2500, "fps": 30, "gop_frames": 10, "other": "x"}"#)
            .expect("valid");
        assert_eq!(s, H264Settings { bitrate_kbps: 2500, fps: 30.0, gop_frames: 10, threads: 0 });
        assert_eq!(H264Settings::default().with_options("").expect("empty"), H264Settings::default());
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            r#"{"bitrate_kbps": 0}"#,
            r#"{"bitrate_kbps": 1.5}"#,
            r#"{"fps": 0}"#,
            r#"{"gop_frames": -1}"#,
            "[1]",
            r#"{"fps": "60"}"#,
        ] {
            let err = H264Settings::default().with_options(bad).expect_err(bad);
            assert_eq!(err.kind, ovhost_plugin_api::ErrorKind::INVALID_INPUT, "{bad}: {err}");
        }
    }
}

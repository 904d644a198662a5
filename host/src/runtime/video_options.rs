//! The video options every converter is created and configured with: frame rate, bitrate,
//! keyframe interval, quality. Start values come from the CLI (`--fps`,
//! `--video-bitrate-kbps`, `--keyframe-interval-s`, `--video-quality`), overridden key by key by
//! the settings value `video` (`{"bitrate_kbps", "keyframe_interval_s", "quality"}`), which may
//! also be set at run time (`settings.set`): the converters are then reconfigured in place.
//!
//! Converters receive them as one JSON object of the conventional option names
//! (`fps`, `bitrate_kbps`, `gop_frames`, `quality`); converter options ignore keys they do not
//! know, so one object serves every converter. Per-converter options from the settings value
//! `converters` (`{"<converter id>": {...}}`) are applied on top.

use serde_json::{Map, Value, json};

/// The settings key holding run-time video options.
pub const VIDEO_SETTINGS_KEY: &str = "video";
/// The settings key holding per-converter options.
pub const CONVERTER_SETTINGS_KEY: &str = "converters";

/// Bitrate bounds (kbit/s), those of the H.264 encoder.
pub const MIN_BITRATE_KBPS: u32 = 50;
pub const MAX_BITRATE_KBPS: u32 = 200_000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VideoOptions {
    /// The stream frame rate (the render loop's).
    pub fps: u32,
    /// Encoder bitrate; `None`: the encoder's own default.
    pub bitrate_kbps: Option<u32>,
    /// Seconds between periodic keyframes; 0: only the first and requested ones.
    pub keyframe_interval_s: f64,
    /// Quality 1..=100 for quality-driven encoders (JPEG); `None`: the converter's default.
    pub quality: Option<u8>,
}

impl Default for VideoOptions {
    fn default() -> Self {
        Self { fps: 30, bitrate_kbps: None, keyframe_interval_s: 2.0, quality: None }
    }
}

impl VideoOptions {
    /// Applies the keys of a settings value `video`; a bad value is an error naming it, and
    /// changes nothing.
    pub fn with_settings(self, value: &Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err(format!("'{VIDEO_SETTINGS_KEY}' must be an object, got {value}"));
        };
        let mut out = self;
        for (key, v) in map {
            match key.as_str() {
                "bitrate_kbps" => {
                    out.bitrate_kbps = match v {
                        Value::Null => None,
                        _ => Some(check_bitrate(v.as_f64().ok_or("bitrate_kbps must be a number")?)?),
                    }
                }
                "keyframe_interval_s" => {
                    out.keyframe_interval_s =
                        check_keyframe_interval(v.as_f64().ok_or("keyframe_interval_s must be a number")?)?
                }
                "quality" => {
                    out.quality = match v {
                        Value::Null => None,
                        _ => Some(check_quality(v.as_f64().ok_or("quality must be a number")?)?),
                    }
                }
                other => {
                    return Err(format!(
                        "unknown video option '{other}' (known: bitrate_kbps, keyframe_interval_s, quality)"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Keyframe interval in frames at the stream rate (0 = no periodic keyframes).
    pub fn gop_frames(&self) -> u32 {
        (self.keyframe_interval_s * f64::from(self.fps)).round().clamp(0.0, 100_000.0) as u32
    }

    /// The options object every converter gets.
    pub fn converter_options(&self) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("fps".into(), json!(self.fps));
        map.insert("gop_frames".into(), json!(self.gop_frames()));
        if let Some(kbps) = self.bitrate_kbps {
            map.insert("bitrate_kbps".into(), json!(kbps));
        }
        if let Some(q) = self.quality {
            map.insert("quality".into(), json!(q));
        }
        map
    }

    /// The options for converter `id`: [`VideoOptions::converter_options`] with that
    /// converter's own options (from the settings value `converters`) on top.
    pub fn options_for(&self, id: &str, per_converter: Option<&Value>) -> String {
        let mut map = self.converter_options();
        if let Some(Value::Object(own)) = per_converter.and_then(|all| all.get(id)) {
            map.extend(own.clone());
        }
        Value::Object(map).to_string()
    }
}

pub fn check_bitrate(v: f64) -> Result<u32, String> {
    if v.fract() != 0.0 || !(f64::from(MIN_BITRATE_KBPS)..=f64::from(MAX_BITRATE_KBPS)).contains(&v) {
        return Err(format!(
            "bitrate_kbps must be a whole number from {MIN_BITRATE_KBPS} to {MAX_BITRATE_KBPS}, got {v}"
        ));
    }
    Ok(v as u32)
}

pub fn check_keyframe_interval(v: f64) -> Result<f64, String> {
    if !v.is_finite() || !(0.0..=3600.0).contains(&v) {
        return Err(format!("keyframe_interval_s must be from 0 to 3600 seconds, got {v}"));
    }
    Ok(v)
}

pub fn check_quality(v: f64) -> Result<u8, String> {
    if v.fract() != 0.0 || !(1.0..=100.0).contains(&v) {
        return Err(format!("quality must be a whole number from 1 to 100, got {v}"));
    }
    Ok(v as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_values_become_converter_options_and_settings_override_them() {
        let cli = VideoOptions { fps: 30, bitrate_kbps: Some(2500), keyframe_interval_s: 2.0, quality: None };
        let options: Value = serde_json::from_str(&cli.options_for("rgba-to-h264", None)).expect("json");
        assert_eq!(options, json!({"fps": 30, "gop_frames": 60, "bitrate_kbps": 2500}));
        let changed = cli.with_settings(&json!({"bitrate_kbps": 800, "keyframe_interval_s": 0.5})).expect("valid");
        assert_eq!((changed.bitrate_kbps, changed.gop_frames()), (Some(800), 15));
        let per = json!({"rgba-to-jpeg": {"quality": 95}});
        let jpeg: Value = serde_json::from_str(&changed.options_for("rgba-to-jpeg", Some(&per))).expect("json");
        assert_eq!(jpeg["quality"], 95);
    }

    #[test]
    fn bad_settings_are_refused_whole() {
        let base = VideoOptions::default();
        for bad in [
            json!({"bitrate_kbps": 10}),
            json!({"bitrate_kbps": "fast"}),
            json!({"keyframe_interval_s": -1}),
            json!({"quality": 101}),
            json!({"bitrat_kbps": 900}),
            json!([1]),
        ] {
            assert!(base.with_settings(&bad).is_err(), "{bad}");
        }
    }
}

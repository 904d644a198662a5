//! Render settings the ovrtx renderer exposes, with honest `applies_at`: settings authored on the
//! RenderProduct in the inline layer (`render_mode`, `pt_samples_per_pixel`) take effect when the
//! stage is next opened (`reload_required`); the selection outline colour goes through
//! `ovrtx_set_selection_group_styles` at once (`immediate`). None is marked `validated`: they were
//! exercised only against the test double, never against the real library.

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

pub const RENDER_MODES: [&str; 3] = ["RealTimePathTracing", "PathTracing", "MinimalRendering"];
pub const SAMPLES_MIN: u32 = 1;
pub const SAMPLES_MAX: u32 = 4096;

/// What a successful `set` means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppliesAt {
    Immediate,
    ReloadRequired,
}

impl AppliesAt {
    pub fn name(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::ReloadRequired => "reload_required",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub render_mode: String,
    pub pt_samples_per_pixel: u32,
    /// sRGB 8-bit outline colour of selection group 1.
    pub outline_color: [u8; 3],
}

impl Default for Settings {
    fn default() -> Self {
        Self { render_mode: RENDER_MODES[0].into(), pt_samples_per_pixel: 64, outline_color: [0xff, 0x8c, 0x00] }
    }
}

const EVIDENCE: &str = "exercised only against the ovrtx test double (tests/fixtures/ovrtx-double); \
     not yet run against the real ovrtx library";

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

fn parse_hex(value: &Value) -> Option<[u8; 3]> {
    let digits = value.as_str()?.trim_start_matches('#');
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

impl Settings {
    /// The outline colour as ovrtx wants it (RGBA 0..1).
    pub fn outline_rgba(&self) -> [f32; 4] {
        let c = |v: u8| f32::from(v) / 255.0;
        [c(self.outline_color[0]), c(self.outline_color[1]), c(self.outline_color[2]), 1.0]
    }

    pub fn to_json(&self) -> Value {
        let cap = |key: &str, label: &str, control: &str, applies_at: AppliesAt, apply_path: &str, extra: Value| {
            let mut c = json!({
                "key": key, "label": label, "control": control, "applies_at": applies_at.name(),
                "apply_path": apply_path, "validated": false, "validation_evidence": EVIDENCE,
            });
            if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
                c.extend(extra.clone());
            }
            c
        };
        json!({
            "settings": {
                "render_mode": self.render_mode,
                "pt_samples_per_pixel": self.pt_samples_per_pixel,
                "outline_color": hex(self.outline_color),
            },
            "capabilities": [
                cap("render_mode", "Render mode", "select", AppliesAt::ReloadRequired,
                    "usd:RenderProduct.omni:rtx:rendermode", json!({"options": RENDER_MODES})),
                cap("pt_samples_per_pixel", "Path tracing samples per pixel", "slider", AppliesAt::ReloadRequired,
                    "usd:RenderProduct.omni:rtx:pt:samplesPerPixel",
                    json!({"min": SAMPLES_MIN, "max": SAMPLES_MAX, "step": 1})),
                cap("outline_color", "Selection outline colour", "color", AppliesAt::Immediate,
                    "renderer:ovrtx_set_selection_group_styles", json!({})),
            ],
        })
    }

    /// Validates and stores one value.
    pub fn set(&mut self, key: &str, value_json: &str) -> Result<AppliesAt, PluginError> {
        let value: Value = serde_json::from_str(value_json)
            .map_err(|e| PluginError::invalid_input(format!("value for {key} is not JSON: {e}")))?;
        match key {
            "render_mode" => {
                let mode = value.as_str().filter(|m| RENDER_MODES.contains(m)).ok_or_else(|| {
                    PluginError::invalid_input(format!(
                        "render_mode must be one of {}, got {value}",
                        RENDER_MODES.join(", ")
                    ))
                })?;
                self.render_mode = mode.to_string();
                Ok(AppliesAt::ReloadRequired)
            }
            "pt_samples_per_pixel" => {
                let n = value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| (SAMPLES_MIN..=SAMPLES_MAX).contains(n))
                    .ok_or_else(|| {
                        PluginError::invalid_input(format!(
                            "pt_samples_per_pixel must be an integer {SAMPLES_MIN}..={SAMPLES_MAX}, got {value}"
                        ))
                    })?;
                self.pt_samples_per_pixel = n;
                Ok(AppliesAt::ReloadRequired)
            }
            "outline_color" => {
                self.outline_color = parse_hex(&value).ok_or_else(|| {
                    PluginError::invalid_input(format!("outline_color must be a colour like \"#ff8c00\", got {value}"))
                })?;
                Ok(AppliesAt::Immediate)
            }
            other => Err(PluginError::unsupported(format!(
                "the ovrtx renderer has no setting \"{other}\"; it has render_mode, pt_samples_per_pixel, outline_color"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_validated_and_applies_at_is_honest() {
        let mut s = Settings::default();
        assert_eq!(s.set("render_mode", "\"PathTracing\"").unwrap(), AppliesAt::ReloadRequired);
        assert_eq!(s.render_mode, "PathTracing");
        assert_eq!(s.set("outline_color", "\"#00ff10\"").unwrap(), AppliesAt::Immediate);
        assert_eq!(s.outline_color, [0, 0xff, 0x10]);
        assert!(s.set("render_mode", "\"Raster\"").is_err());
        assert!(s.set("pt_samples_per_pixel", "0").is_err());
        let e = s.set("exposure", "1").unwrap_err();
        assert_eq!(e.kind, ovhost_plugin_api::ErrorKind::UNSUPPORTED);
        let j = s.to_json();
        let caps = j["capabilities"].as_array().unwrap();
        assert!(caps.iter().all(|c| c["validated"] == false));
        assert_eq!(caps[0]["applies_at"], "reload_required");
    }
}

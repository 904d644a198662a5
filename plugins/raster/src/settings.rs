//! Render settings the raster renderer exposes live: their values, their capability list for the
//! client (`viewer-protocol.md` §6), and validation of `setRenderSetting` values.

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

/// How surfaces are shaded in the `LdrColor` AOV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderMode {
    /// displayColor lit by a headlight (a light at the camera).
    Lit,
    /// displayColor, unlit.
    Flat,
    /// World-space normals remapped to colours.
    Normals,
    /// Triangle edges in displayColor over the background.
    Wireframe,
}

impl RenderMode {
    pub const ALL: [Self; 4] = [Self::Lit, Self::Flat, Self::Normals, Self::Wireframe];

    pub fn name(self) -> &'static str {
        match self {
            Self::Lit => "lit",
            Self::Flat => "flat",
            Self::Normals => "normals",
            Self::Wireframe => "wireframe",
        }
    }

    /// The shader's code for this mode.
    pub fn shader_code(self) -> u32 {
        self as u32
    }
}

/// How the empty part of the frame is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Background {
    /// A neutral dark vertical gradient.
    Gradient,
    /// `background_color`.
    Solid,
}

impl Background {
    pub const ALL: [Self; 2] = [Self::Gradient, Self::Solid];

    pub fn name(self) -> &'static str {
        match self {
            Self::Gradient => "gradient",
            Self::Solid => "solid",
        }
    }
}

/// Which lights shade the stage (`lights` setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LightRig {
    /// The stage's lights; the default rig when the stage has none (usdview's behaviour).
    Stage,
    /// The default rig only: a light at the camera and a dim dome.
    Default,
    /// The stage's lights and the default rig.
    Both,
}

impl LightRig {
    pub const ALL: [Self; 3] = [Self::Stage, Self::Default, Self::Both];

    pub fn name(self) -> &'static str {
        match self {
            Self::Stage => "stage",
            Self::Default => "default",
            Self::Both => "both",
        }
    }
}

/// How linear radiance becomes display values (`tone_mapping` setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToneMapping {
    /// Clamp (what usdview's Storm shows by default).
    None,
    /// The ACES filmic fit (Narkowicz).
    Aces,
    Reinhard,
}

impl ToneMapping {
    pub const ALL: [Self; 3] = [Self::None, Self::Aces, Self::Reinhard];

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Aces => "aces",
            Self::Reinhard => "reinhard",
        }
    }
}

pub const EXPOSURE_MIN_EV: f64 = -10.0;
pub const EXPOSURE_MAX_EV: f64 = 10.0;

pub const OUTLINE_WIDTH_MIN_PX: u32 = 1;
pub const OUTLINE_WIDTH_MAX_PX: u32 = 6;

/// The current values.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderSettings {
    pub render_mode: RenderMode,
    pub background: Background,
    /// sRGB 8-bit colour used by the solid background.
    pub background_color: [u8; 3],
    /// sRGB 8-bit selection outline colour.
    pub outline_color: [u8; 3],
    pub outline_width_px: u32,
    pub lights: LightRig,
    /// Exposure in stops applied before tone mapping.
    pub exposure_ev: f32,
    pub tone_mapping: ToneMapping,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            render_mode: RenderMode::Lit,
            background: Background::Gradient,
            background_color: [0x2b, 0x2d, 0x31],
            outline_color: [0xff, 0x8c, 0x00],
            outline_width_px: 2,
            lights: LightRig::Stage,
            exposure_ev: 0.0,
            tone_mapping: ToneMapping::None,
        }
    }
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

fn parse_hex(key: &str, value: &Value) -> Result<[u8; 3], PluginError> {
    let bad = || PluginError::invalid_input(format!("{key} must be a colour string like \"#2b2d31\", got {value}"));
    let text = value.as_str().ok_or_else(bad)?;
    let digits = text.strip_prefix('#').unwrap_or(text);
    if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| bad());
    Ok([byte(0)?, byte(2)?, byte(4)?])
}

fn parse_choice<T: Copy>(key: &str, value: &Value, all: &[T], name: fn(T) -> &'static str) -> Result<T, PluginError> {
    let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
    value
        .as_str()
        .and_then(|s| all.iter().copied().find(|v| name(*v) == s))
        .ok_or_else(|| PluginError::invalid_input(format!("{key} must be one of {}, got {value}", names.join(", "))))
}

const APPLY_PATH: &str = "renderer:raster";
const EVIDENCE: &str = "plugins/raster tests render with each value and compare the frames";

impl RenderSettings {
    pub const KEYS: [&'static str; 8] = [
        "render_mode",
        "background",
        "background_color",
        "outline_color",
        "outline_width_px",
        "lights",
        "exposure",
        "tone_mapping",
    ];

    /// `{"settings": {...}, "capabilities": [...]}` as the host forwards it to clients.
    pub fn to_json(&self) -> Value {
        let settings = json!({
            "render_mode": self.render_mode.name(),
            "background": self.background.name(),
            "background_color": hex(self.background_color),
            "outline_color": hex(self.outline_color),
            "outline_width_px": self.outline_width_px,
            "lights": self.lights.name(),
            "exposure": self.exposure_ev,
            "tone_mapping": self.tone_mapping.name(),
        });
        let cap = |key: &str, label: &str, control: &str, extra: Value| {
            let mut c = json!({
                "key": key,
                "label": label,
                "control": control,
                "applies_at": "immediate",
                "apply_path": APPLY_PATH,
                "validated": true,
                "validation_evidence": EVIDENCE,
            });
            if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
                c.extend(extra.clone());
            }
            c
        };
        let capabilities = vec![
            cap("render_mode", "Render mode", "select", json!({"options": RenderMode::ALL.map(RenderMode::name)})),
            cap("background", "Background", "select", json!({"options": Background::ALL.map(Background::name)})),
            cap("background_color", "Background colour", "color", json!({})),
            cap("outline_color", "Selection outline colour", "color", json!({})),
            cap(
                "outline_width_px",
                "Selection outline width (px)",
                "slider",
                json!({"min": OUTLINE_WIDTH_MIN_PX, "max": OUTLINE_WIDTH_MAX_PX, "step": 1}),
            ),
            cap("lights", "Lights", "select", json!({"options": LightRig::ALL.map(LightRig::name)})),
            cap(
                "exposure",
                "Exposure (stops)",
                "slider",
                json!({"min": EXPOSURE_MIN_EV, "max": EXPOSURE_MAX_EV, "step": 0.1}),
            ),
            cap("tone_mapping", "Tone mapping", "select", json!({"options": ToneMapping::ALL.map(ToneMapping::name)})),
        ];
        json!({"settings": settings, "capabilities": capabilities})
    }

    /// Applies one setting from its JSON value. Unknown keys are `UNSUPPORTED`, bad values
    /// `INVALID_INPUT`; on error nothing changes.
    pub fn set(&mut self, key: &str, value_json: &str) -> Result<(), PluginError> {
        if !Self::KEYS.contains(&key) {
            return Err(PluginError::unsupported(format!(
                "the raster renderer has no setting \"{key}\"; it has {}",
                Self::KEYS.join(", ")
            )));
        }
        let value: Value = serde_json::from_str(value_json)
            .map_err(|e| PluginError::invalid_input(format!("value for {key} is not JSON: {e}")))?;
        match key {
            "render_mode" => self.render_mode = parse_choice(key, &value, &RenderMode::ALL, RenderMode::name)?,
            "background" => self.background = parse_choice(key, &value, &Background::ALL, Background::name)?,
            "background_color" => self.background_color = parse_hex(key, &value)?,
            "outline_color" => self.outline_color = parse_hex(key, &value)?,
            "lights" => self.lights = parse_choice(key, &value, &LightRig::ALL, LightRig::name)?,
            "tone_mapping" => self.tone_mapping = parse_choice(key, &value, &ToneMapping::ALL, ToneMapping::name)?,
            "exposure" => {
                let ev = value.as_f64().filter(|v| (EXPOSURE_MIN_EV..=EXPOSURE_MAX_EV).contains(v)).ok_or_else(|| {
                    PluginError::invalid_input(format!(
                        "exposure must be a number of stops from {EXPOSURE_MIN_EV} to {EXPOSURE_MAX_EV}, got {value}"
                    ))
                })?;
                self.exposure_ev = ev as f32;
            }
            _ => {
                let width = value
                    .as_u64()
                    .filter(|w| (u64::from(OUTLINE_WIDTH_MIN_PX)..=u64::from(OUTLINE_WIDTH_MAX_PX)).contains(w))
                    .ok_or_else(|| {
                        PluginError::invalid_input(format!(
                            "outline_width_px must be an integer from {OUTLINE_WIDTH_MIN_PX} to {OUTLINE_WIDTH_MAX_PX}, got {value}"
                        ))
                    })?;
                self.outline_width_px = width as u32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovhost_plugin_api::ErrorKind;

    #[test]
    fn sets_and_validates() {
        let mut s = RenderSettings::default();
        s.set("render_mode", "\"wireframe\"").unwrap();
        assert_eq!(s.render_mode, RenderMode::Wireframe);
        s.set("background_color", "\"#102030\"").unwrap();
        assert_eq!(s.background_color, [0x10, 0x20, 0x30]);
        s.set("outline_width_px", "3").unwrap();
        assert_eq!(s.outline_width_px, 3);
        assert_eq!(s.set("shadows", "1").unwrap_err().kind, ErrorKind::UNSUPPORTED);
        s.set("exposure", "1.5").unwrap();
        assert_eq!(s.exposure_ev, 1.5);
        assert_eq!(s.set("exposure", "99").unwrap_err().kind, ErrorKind::INVALID_INPUT);
        s.set("lights", "\"both\"").unwrap();
        assert_eq!(s.lights, LightRig::Both);
        s.set("tone_mapping", "\"aces\"").unwrap();
        assert_eq!(s.tone_mapping, ToneMapping::Aces);
        assert_eq!(s.set("render_mode", "\"rtx\"").unwrap_err().kind, ErrorKind::INVALID_INPUT);
        assert_eq!(s.set("outline_width_px", "0").unwrap_err().kind, ErrorKind::INVALID_INPUT);
        assert_eq!(s.set("background_color", "\"#12\"").unwrap_err().kind, ErrorKind::INVALID_INPUT);
        assert_eq!(s.set("background", "nope").unwrap_err().kind, ErrorKind::INVALID_INPUT);
        assert_eq!(s.render_mode, RenderMode::Wireframe, "a failed set changes nothing");
    }

    #[test]
    fn capabilities_cover_every_setting() {
        let j = RenderSettings::default().to_json();
        let caps = j["capabilities"].as_array().unwrap();
        assert_eq!(caps.len(), RenderSettings::KEYS.len());
        for (cap, key) in caps.iter().zip(RenderSettings::KEYS) {
            assert_eq!(cap["key"], key);
            assert_eq!(cap["applies_at"], "immediate");
            assert_eq!(cap["validated"], true);
            assert!(j["settings"].get(key).is_some(), "{key} has a value");
        }
        assert_eq!(caps[0]["options"].as_array().unwrap().len(), 4);
        assert_eq!(caps[4]["max"], OUTLINE_WIDTH_MAX_PX);
    }
}

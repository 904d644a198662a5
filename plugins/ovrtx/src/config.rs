//! The renderer's creation config, parsed from the plugin's JSON config:
//!
//! ```json
//! {"library_path": "/opt/ovrtx/bin", "output_device": "cuda"|"cpu", "warmup_frames": 2,
//!  "outline_width_px": 3, "aovs": ["LdrColor", "DistanceToCameraSD", "NormalSD"],
//!  "log_file_path": "...", "log_level": "warn", "active_cuda_gpus": "0",
//!  "binary_package_root": "...", "fetch_timeout_ms": 300000}
//! ```
//! Every key is optional. `library_path` overrides `OVRTX_LIBRARY_PATH` (see [`crate::ffi::locate`]).

use std::path::PathBuf;

use ovhost_plugin_api::PluginError;
use serde::Deserialize;

/// Where LdrColor is mapped (`ovrtx_map_output_description_t.device_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputDevice {
    /// Linear CUDA memory: the frame stays on the GPU (`MemoryLocation::CUDA`).
    Cuda,
    /// CPU readback: ovrtx synchronizes and copies; the frame is host memory.
    Cpu,
}

/// The parsed config.
#[derive(Clone, Debug, PartialEq)]
pub struct OvrtxConfig {
    pub library_path: Option<PathBuf>,
    pub output_device: OutputDevice,
    /// Steps rendered and discarded after every stage load / reset (the docs' tests use 2).
    pub warmup_frames: u32,
    /// Selection outline width in pixels, 0..=15 (creation-time only in ovrtx).
    pub outline_width_px: i64,
    /// RenderVar source names authored on the viewer's RenderProduct; `LdrColor` is always first.
    pub aovs: Vec<String>,
    pub log_file_path: Option<String>,
    pub log_level: Option<String>,
    pub active_cuda_gpus: String,
    pub binary_package_root: Option<String>,
    /// How long `ovrtx_fetch_results` may block (the first step of a new install compiles shaders
    /// for minutes).
    pub fetch_timeout_ms: u64,
}

impl Default for OvrtxConfig {
    fn default() -> Self {
        Self {
            library_path: None,
            output_device: OutputDevice::Cuda,
            warmup_frames: 2,
            outline_width_px: 3,
            aovs: vec!["LdrColor".into(), "DistanceToCameraSD".into(), "NormalSD".into()],
            log_file_path: None,
            log_level: None,
            active_cuda_gpus: "0".into(),
            binary_package_root: None,
            fetch_timeout_ms: 300_000,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    library_path: Option<PathBuf>,
    output_device: Option<String>,
    warmup_frames: Option<u32>,
    outline_width_px: Option<i64>,
    aovs: Option<Vec<String>>,
    log_file_path: Option<String>,
    log_level: Option<String>,
    active_cuda_gpus: Option<String>,
    binary_package_root: Option<String>,
    fetch_timeout_ms: Option<u64>,
}

fn is_source_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl OvrtxConfig {
    pub fn from_json(config_json: &str) -> Result<Self, PluginError> {
        let raw: RawConfig = if config_json.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_json::from_str(config_json).map_err(|e| {
                PluginError::invalid_input(format!(
                    "ovrtx config is not valid (see the ovrtx plugin README for its keys): {e}"
                ))
            })?
        };
        let defaults = Self::default();
        let output_device = match raw.output_device.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("cuda") => OutputDevice::Cuda,
            Some("cpu") | Some("host") => OutputDevice::Cpu,
            Some(other) => {
                return Err(PluginError::invalid_input(format!(
                    "ovrtx output_device \"{other}\" is not known: use \"cuda\" or \"cpu\""
                )));
            }
        };
        let outline_width_px = raw.outline_width_px.unwrap_or(defaults.outline_width_px);
        if !(0..=15).contains(&outline_width_px) {
            return Err(PluginError::invalid_input(format!(
                "ovrtx outline_width_px must be 0..=15, got {outline_width_px}"
            )));
        }
        let mut aovs = vec!["LdrColor".to_string()];
        for name in raw.aovs.unwrap_or(defaults.aovs) {
            if !is_source_name(&name) {
                return Err(PluginError::invalid_input(format!(
                    "ovrtx aov \"{name}\" is not a RenderVar source name (letters, digits, _)"
                )));
            }
            if !aovs.contains(&name) {
                aovs.push(name);
            }
        }
        Ok(Self {
            library_path: raw.library_path,
            output_device,
            warmup_frames: raw.warmup_frames.unwrap_or(defaults.warmup_frames),
            outline_width_px,
            aovs,
            log_file_path: raw.log_file_path,
            log_level: raw.log_level,
            active_cuda_gpus: raw.active_cuda_gpus.unwrap_or(defaults.active_cuda_gpus),
            binary_package_root: raw.binary_package_root,
            fetch_timeout_ms: raw.fetch_timeout_ms.unwrap_or(defaults.fetch_timeout_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_keeps_ldrcolor_first() {
        let c = OvrtxConfig::from_json(r#"{"output_device":"cpu","aovs":["NormalSD","LdrColor"],"warmup_frames":0}"#)
            .unwrap();
        assert_eq!(c.output_device, OutputDevice::Cpu);
        assert_eq!(c.aovs, vec!["LdrColor".to_string(), "NormalSD".to_string()]);
        assert_eq!(c.warmup_frames, 0);
        assert_eq!(OvrtxConfig::from_json("{}").unwrap(), OvrtxConfig::default());
        assert_eq!(OvrtxConfig::from_json("").unwrap(), OvrtxConfig::default());
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            r#"{"output_device":"vulkan"}"#,
            r#"{"outline_width_px":16}"#,
            r#"{"aovs":["Ldr Color"]}"#,
            r#"{"libraryPath":"/x"}"#,
            "[1]",
        ] {
            let e = OvrtxConfig::from_json(bad).unwrap_err();
            assert_eq!(e.kind, ovhost_plugin_api::ErrorKind::INVALID_INPUT, "{bad}");
        }
    }
}

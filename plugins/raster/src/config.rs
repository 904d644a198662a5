//! The renderer's creation config: which wgpu backend and adapter to use.
//!
//! Parsed from the plugin's JSON config (`{"backend": "vulkan"|"gl"|"any", "adapter": "<name
//! substring>"}`); the environment variables `OVHOST_WGPU_BACKEND` and `OVHOST_WGPU_ADAPTER`
//! override it when set and non-empty.

use ovhost_plugin_api::PluginError;
use serde::Deserialize;

/// Environment override for [`RasterConfig::backend`].
pub const ENV_BACKEND: &str = "OVHOST_WGPU_BACKEND";
/// Environment override for [`RasterConfig::adapter`].
pub const ENV_ADAPTER: &str = "OVHOST_WGPU_ADAPTER";
/// Environment override for [`RasterConfig::yuv`].
pub const ENV_YUV: &str = "OVHOST_RASTER_YUV";

/// Where RGBA → I420 happens for H.264 sinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum YuvChoice {
    /// On the GPU for hardware adapters (discrete, integrated, virtual GPUs); on the CPU (the
    /// encoder's own conversion) for software adapters such as lavapipe, where the compute pass
    /// and its readback cost more than they save (`raster_bench --yuv`).
    #[default]
    Auto,
    /// On the GPU on any adapter (lavapipe included): tests, and measuring both.
    Gpu,
    /// Never on the GPU: the renderer offers RGBA8 only.
    Cpu,
}

impl YuvChoice {
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Self::Auto),
            "gpu" | "on" => Ok(Self::Gpu),
            "cpu" | "off" => Ok(Self::Cpu),
            other => Err(PluginError::invalid_input(format!(
                "unknown yuv choice \"{other}\": use \"auto\", \"gpu\" or \"cpu\""
            ))),
        }
    }
}

/// Which graphics API family the renderer may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BackendChoice {
    Vulkan,
    Gl,
    /// Vulkan and GL (and the platform's native API elsewhere); Vulkan is preferred.
    #[default]
    Any,
}

impl BackendChoice {
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "vulkan" | "vk" => Ok(Self::Vulkan),
            "gl" | "gles" | "opengl" => Ok(Self::Gl),
            "any" | "auto" | "" => Ok(Self::Any),
            other => Err(PluginError::invalid_input(format!(
                "unknown wgpu backend \"{other}\": use \"vulkan\", \"gl\" or \"any\""
            ))),
        }
    }

    pub fn backends(self) -> wgpu::Backends {
        match self {
            Self::Vulkan => wgpu::Backends::VULKAN,
            Self::Gl => wgpu::Backends::GL,
            Self::Any => wgpu::Backends::PRIMARY | wgpu::Backends::GL,
        }
    }
}

/// The parsed creation config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RasterConfig {
    pub backend: BackendChoice,
    /// Case-insensitive substring of the adapter name to require (e.g. `"llvmpipe"`, `"NVIDIA"`).
    pub adapter: Option<String>,
    /// Where RGBA → I420 happens (`"yuv": "auto"|"gpu"|"cpu"`, env `OVHOST_RASTER_YUV`).
    pub yuv: YuvChoice,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    backend: Option<String>,
    adapter: Option<String>,
    yuv: Option<String>,
}

impl RasterConfig {
    /// Parses the JSON config, then applies the environment overrides.
    pub fn from_json_and_env(config_json: &str) -> Result<Self, PluginError> {
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
        let mut config = Self::from_parts(config_json, env(ENV_BACKEND), env(ENV_ADAPTER))?;
        if let Some(text) = env(ENV_YUV) {
            config.yuv = YuvChoice::parse(&text)?;
        }
        Ok(config)
    }

    /// Parses the JSON config with explicit override values (what the environment would give).
    pub fn from_parts(
        config_json: &str,
        backend_override: Option<String>,
        adapter_override: Option<String>,
    ) -> Result<Self, PluginError> {
        let raw: RawConfig = if config_json.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_json::from_str(config_json).map_err(|e| {
                PluginError::invalid_input(format!(
                    "raster config must look like {{\"backend\": \"vulkan\"|\"gl\"|\"any\", \"adapter\": \"name\"}}: {e}"
                ))
            })?
        };
        let backend_text = backend_override.or(raw.backend);
        let backend = match backend_text {
            Some(text) => BackendChoice::parse(&text)?,
            None => BackendChoice::Any,
        };
        let adapter = adapter_override.or(raw.adapter).filter(|a| !a.trim().is_empty());
        let yuv = raw.yuv.as_deref().map(YuvChoice::parse).transpose()?.unwrap_or_default();
        Ok(Self { backend, adapter, yuv })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_and_applies_overrides() {
        let c = RasterConfig::from_parts(r#"{"backend":"gl","adapter":"llvm"}"#, None, None).unwrap();
        assert_eq!(c, RasterConfig { backend: BackendChoice::Gl, adapter: Some("llvm".into()), yuv: YuvChoice::Auto });
        let c = RasterConfig::from_parts(r#"{"backend":"gl"}"#, Some("vulkan".into()), Some("lava".into())).unwrap();
        assert_eq!(
            c,
            RasterConfig { backend: BackendChoice::Vulkan, adapter: Some("lava".into()), yuv: YuvChoice::Auto }
        );
        let c = RasterConfig::from_parts(r#"{"yuv":"gpu"}"#, None, None).unwrap();
        assert_eq!(c.yuv, YuvChoice::Gpu);
        assert_eq!(RasterConfig::from_parts("{}", None, None).unwrap(), RasterConfig::default());
        assert_eq!(RasterConfig::from_parts("", None, None).unwrap(), RasterConfig::default());
    }

    #[test]
    fn rejects_bad_values() {
        let e = RasterConfig::from_parts(r#"{"backend":"metal9"}"#, None, None).unwrap_err();
        assert_eq!(e.kind, ovhost_plugin_api::ErrorKind::INVALID_INPUT);
        assert!(RasterConfig::from_parts(r#"{"backnd":"gl"}"#, None, None).is_err());
        assert!(RasterConfig::from_parts("[1]", None, None).is_err());
        assert!(RasterConfig::from_parts(r#"{"yuv":"fpga"}"#, None, None).is_err());
    }
}

//! The AOVs (arbitrary output variables) the raster renderer can show instead of its colour.

use ovhost_plugin_api::PluginError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aov {
    /// The shaded image (`render_mode` applies).
    LdrColor,
    /// Distance from the camera as grey, normalized over the stage bounds: near is bright.
    DepthSD,
    /// World-space normals remapped from -1..1 to 0..255.
    NormalSD,
    /// Prim ids hashed to colours; background (id 0) is black.
    InstanceSegmentationSD,
}

impl Aov {
    /// `LdrColor` first, as the protocol expects.
    pub const ALL: [Self; 4] = [Self::LdrColor, Self::DepthSD, Self::NormalSD, Self::InstanceSegmentationSD];

    pub fn name(self) -> &'static str {
        match self {
            Self::LdrColor => "LdrColor",
            Self::DepthSD => "DepthSD",
            Self::NormalSD => "NormalSD",
            Self::InstanceSegmentationSD => "InstanceSegmentationSD",
        }
    }

    pub fn parse(name: &str) -> Result<Self, PluginError> {
        Self::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
            PluginError::not_found(format!(
                "the raster renderer has no AOV \"{name}\"; it has {}",
                Self::ALL.map(Self::name).join(", ")
            ))
        })
    }

    /// The shader's code for this AOV.
    pub fn shader_code(self) -> u32 {
        self as u32
    }
}

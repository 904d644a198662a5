//! The `rgba-to-jpeg` converter: RGBA8@host → one baseline JPEG image@host (alpha is dropped).
//!
//! Options (config and `configure`): `{"quality": 1..=100}`, default 80. Every output is a
//! keyframe. Encoding uses the pure-Rust `jpeg-encoder` crate (AVX2 at run time when present).

use jpeg_encoder::{ColorType, Encoder};
use ovhost_plugin_api::{FRAME_FLAG_KEYFRAME, prelude::*};
use serde::Deserialize;

use crate::input::{host_rgba, output_frame};

/// Quality used when the config names none.
pub const DEFAULT_JPEG_QUALITY: u8 = 80;

/// The options this converter reads; unknown keys are ignored.
#[derive(Deserialize, Default)]
struct JpegOptions {
    quality: Option<i64>,
}

impl JpegOptions {
    fn parse(options_json: &str) -> Result<Self, PluginError> {
        let text = if options_json.trim().is_empty() { "{}" } else { options_json };
        let options: Self = serde_json::from_str(text)
            .map_err(|e| PluginError::invalid_input(format!("rgba-to-jpeg options must be a JSON object: {e}")))?;
        if let Some(q) = options.quality
            && !(1..=100).contains(&q)
        {
            return Err(PluginError::invalid_input(format!("JPEG quality must be 1 to 100, got {q}")));
        }
        Ok(options)
    }
}

/// Encodes each frame to a JPEG held in a buffer it owns.
pub struct RgbaToJpeg {
    quality: u8,
    /// The encoded image of the last `convert`.
    output: Vec<u8>,
    /// Packed copy of the input, used only when input rows carry pitch padding.
    packed: Vec<u8>,
}

impl FromConfig for RgbaToJpeg {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        let options = JpegOptions::parse(config_json)?;
        Ok(Self {
            quality: options.quality.map_or(DEFAULT_JPEG_QUALITY, |q| q as u8),
            output: Vec::new(),
            packed: Vec::new(),
        })
    }
}

impl RgbaToJpeg {
    /// The quality the next frame is encoded at.
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// Applies `{"quality": n}`; keys it does not know are ignored.
    pub fn apply_options(&mut self, options_json: &str) -> Result<(), PluginError> {
        if let Some(q) = JpegOptions::parse(options_json)?.quality {
            self.quality = q as u8;
        }
        Ok(())
    }

    /// Encodes one frame; the returned descriptor points into `self` until the next call.
    pub fn convert_frame(&mut self, input: &Frame<'_>) -> Result<Frame<'_>, PluginError> {
        let image = host_rgba(input)?;
        let (Ok(width), Ok(height)) = (u16::try_from(image.width), u16::try_from(image.height)) else {
            return Err(PluginError::invalid_input(format!(
                "JPEG holds at most 65535x65535 pixels, got {}x{}",
                image.width, image.height
            )));
        };
        let pixels = match image.tight_bytes() {
            Some(bytes) => bytes,
            None => {
                self.packed.clear();
                for y in 0..image.height {
                    self.packed.extend_from_slice(image.row(y));
                }
                &self.packed
            }
        };
        self.output.clear();
        Encoder::new(&mut self.output, self.quality)
            .encode(pixels, width, height, ColorType::Rgba)
            .map_err(|e| PluginError::internal(format!("JPEG encoding of a {width}x{height} frame failed: {e}")))?;
        let mut out = output_frame(input, FrameFormat::JPEG, input.width, input.height, 0, &self.output);
        out.flags = FRAME_FLAG_KEYFRAME;
        Ok(out)
    }
}

impl FrameConverter for RgbaToJpeg {
    fn configure(&mut self, options_json: RStr<'_>) -> RResult<(), PluginError> {
        self.apply_options(options_json.as_str()).into()
    }

    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        // Every JPEG stands alone.
        RResult::ROk(())
    }

    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        self.convert_frame(input).into()
    }
}

//! The `rgba-to-bgra` converter: RGBA8@host → BGRA8@host, tightly packed output.

use ovhost_plugin_api::prelude::*;

use crate::input::{host_rgba, output_frame};
use crate::swizzle::rgba_to_bgra;

/// Swaps red and blue into a buffer it owns. Takes no options; the output's pitch is always
/// `width * 4` whatever the input's pitch.
#[derive(Default)]
pub struct RgbaToBgra {
    output: Vec<u8>,
}

impl RgbaToBgra {
    /// Converts one frame; the returned descriptor points into `self` until the next call.
    pub fn convert_frame(&mut self, input: &Frame<'_>) -> Result<Frame<'_>, PluginError> {
        let image = host_rgba(input)?;
        let out_pitch = image.row_bytes();
        self.output.resize(out_pitch * image.height, 0);
        rgba_to_bgra(image.bytes, image.pitch_bytes, &mut self.output, out_pitch, image.width, image.height);
        Ok(output_frame(input, FrameFormat::BGRA8, input.width, input.height, out_pitch as u32, &self.output))
    }
}

impl FrameConverter for RgbaToBgra {
    fn configure(&mut self, _options_json: RStr<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }

    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        RResult::ROk(())
    }

    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        self.convert_frame(input).into()
    }
}

//! Feeds a host RGBA8 image with any row pitch to OpenH264's RGB → I420 conversion, cropped to
//! even dimensions (4:2:0 chroma needs them): an odd last column and/or row is dropped.

use openh264::formats::{RGB8Source, RGBA8Source, RGBSource};
use ovhost_plugin_convert::input::HostImage;

/// The even-sized size H.264 encodes for a `width`x`height` input (odd sides lose one pixel).
pub fn even_size(width: usize, height: usize) -> (usize, usize) {
    (width & !1, height & !1)
}

/// An RGBA8 image OpenH264 can read directly: rows `stride_px * 4` bytes apart.
pub struct PitchedRgba<'a> {
    data: &'a [u8],
    size: (usize, usize),
    stride_px: usize,
}

impl<'a> PitchedRgba<'a> {
    /// Views `image` cropped to even size without copying, when its pitch is a whole number of
    /// pixels and every encoded row is fully present; otherwise packs the cropped pixels into
    /// `scratch` first.
    pub fn new(image: &HostImage<'a>, scratch: &'a mut Vec<u8>) -> Self {
        let size = even_size(image.width, image.height);
        if image.pitch_bytes.is_multiple_of(4) && image.bytes.len() >= image.pitch_bytes * size.1 {
            return Self { data: image.bytes, size, stride_px: image.pitch_bytes / 4 };
        }
        scratch.clear();
        for y in 0..size.1 {
            scratch.extend_from_slice(&image.row(y)[..size.0 * 4]);
        }
        Self { data: scratch, size, stride_px: size.0 }
    }
}

impl RGBSource for PitchedRgba<'_> {
    fn dimensions(&self) -> (usize, usize) {
        self.size
    }

    fn pixel_f32(&self, x: usize, y: usize) -> (f32, f32, f32) {
        let p = (y * self.stride_px + x) * 4;
        (f32::from(self.data[p]), f32::from(self.data[p + 1]), f32::from(self.data[p + 2]))
    }
}

impl RGB8Source for PitchedRgba<'_> {
    fn dimensions_padded(&self) -> (usize, usize) {
        (self.stride_px, self.size.1)
    }

    fn rgb8_data(&self) -> &[u8] {
        self.data
    }

    fn pixel_stride(&self) -> usize {
        4
    }

    fn rgb_channel_offsets(&self) -> (usize, usize, usize) {
        (0, 1, 2)
    }
}

impl RGBA8Source for PitchedRgba<'_> {}

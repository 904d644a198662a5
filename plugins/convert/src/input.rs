//! Validated views of host-memory input frames: the one place a converter turns a [`Frame`]
//! descriptor into bytes it may read.

use ovhost_plugin_api::{Frame, FrameFormat, MemoryLocation, PluginError};

/// A raw image in host memory whose descriptor has been checked with [`Frame::validate`].
#[derive(Clone, Copy, Debug)]
pub struct HostImage<'a> {
    /// All bytes reachable from the frame's pointer (at least `pitch_bytes * (height - 1) + row`).
    pub bytes: &'a [u8],
    pub width: usize,
    pub height: usize,
    pub pitch_bytes: usize,
}

impl<'a> HostImage<'a> {
    /// Bytes of one row of pixels (`width * 4`), without the pitch padding.
    pub fn row_bytes(&self) -> usize {
        self.width * 4
    }

    /// Row `y`, exactly `width * 4` bytes.
    pub fn row(&self, y: usize) -> &'a [u8] {
        &self.bytes[y * self.pitch_bytes..][..self.row_bytes()]
    }

    /// True when rows follow each other with no padding.
    pub fn is_tight(&self) -> bool {
        self.pitch_bytes == self.row_bytes()
    }

    /// The image as one packed slice (`width * height * 4` bytes), when rows carry no padding.
    pub fn tight_bytes(&self) -> Option<&'a [u8]> {
        self.is_tight().then(|| &self.bytes[..self.row_bytes() * self.height])
    }
}

/// Checks that `frame` is an RGBA8 image in host memory with a self-consistent descriptor and
/// returns a view of its bytes.
///
/// The bytes' lifetime is the frame's borrow of its producer.
pub fn host_rgba<'a>(frame: &Frame<'a>) -> Result<HostImage<'a>, PluginError> {
    if frame.format != FrameFormat::RGBA8 || frame.location != MemoryLocation::HOST {
        return Err(PluginError::invalid_input(format!(
            "this converter takes rgba8@host frames, got {}",
            frame.spec()
        )));
    }
    let bytes = frame.host_bytes()?;
    Ok(HostImage {
        bytes,
        width: frame.width as usize,
        height: frame.height as usize,
        pitch_bytes: frame.pitch_bytes as usize,
    })
}

/// An output descriptor for bytes owned by a converter, copying the input's frame counter and
/// timestamp.
pub fn output_frame<'a>(
    input: &Frame<'_>,
    format: FrameFormat,
    width: u32,
    height: u32,
    pitch_bytes: u32,
    bytes: &'a [u8],
) -> Frame<'a> {
    let mut out = Frame::host(format, width, height, pitch_bytes, bytes);
    out.frame_number = input.frame_number;
    out.timestamp_us = input.timestamp_us;
    out
}

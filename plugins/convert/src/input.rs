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
/// # Safety
/// The frame's producer contract must hold: `data` points at `len_bytes` readable bytes that stay
/// alive and unchanged for the lifetime of the borrow of `frame` (the host guarantees this for
/// the frame it passes to `convert`).
pub unsafe fn host_rgba(frame: &Frame) -> Result<HostImage<'_>, PluginError> {
    if frame.format != FrameFormat::RGBA8 || frame.location != MemoryLocation::HOST {
        return Err(PluginError::invalid_input(format!(
            "this converter takes rgba8@host frames, got {}",
            frame.spec()
        )));
    }
    frame.validate()?;
    // SAFETY: the location is HOST and the descriptor is consistent (checked above); the pointer's
    // validity for `len_bytes` is this function's own safety contract.
    let bytes = unsafe { frame.host_bytes() }.ok_or_else(|| PluginError::invalid_input("host frame has no bytes"))?;
    Ok(HostImage {
        bytes,
        width: frame.width as usize,
        height: frame.height as usize,
        pitch_bytes: frame.pitch_bytes as usize,
    })
}

/// An output descriptor for bytes owned by a converter, copying the input's frame counter and
/// timestamp.
pub fn output_frame(
    input: &Frame,
    format: FrameFormat,
    width: u32,
    height: u32,
    pitch_bytes: u32,
    bytes: &[u8],
) -> Frame {
    let mut out = Frame::host(format, width, height, pitch_bytes, bytes);
    out.frame_number = input.frame_number;
    out.timestamp_us = input.timestamp_us;
    out
}

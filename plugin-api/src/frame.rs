//! Frame descriptors: how pixels and bitstreams cross the boundary without being copied.
//!
//! A [`Frame`] points at memory owned by whoever produced it (a renderer or a converter) and
//! borrows that producer: the borrow checker, not a comment, keeps the producer from being called
//! again while the frame is in use. Consumers that need the bytes longer copy them.

use std::marker::PhantomData;

use abi_stable::StableAbi;

/// Pixel layout or encoding of a frame's payload. New formats may be appended.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameFormat(pub u32);

impl FrameFormat {
    /// 8-bit R, G, B, A per pixel, rows of `pitch_bytes`.
    pub const RGBA8: Self = Self(1);
    /// 8-bit B, G, R, A per pixel (what ovstream's raw input and most encoders take).
    pub const BGRA8: Self = Self(2);
    /// One H.264 access unit in Annex B byte-stream form.
    pub const H264: Self = Self(3);
    /// One baseline JPEG image.
    pub const JPEG: Self = Self(4);
    /// Since 0.2.2. Planar 8-bit Y'CbCr 4:2:0 (BT.601 limited range), three planes back to back:
    /// Y, `height` rows of `pitch_bytes` (at least `width`); then U (Cb) and V (Cr), each
    /// `ceil(height / 2)` rows of `pitch_bytes / 2` bytes (at least `ceil(width / 2)`), chroma
    /// sample (x, y) covering pixels (2x..2x+1, 2y..2y+1). `pitch_bytes` is even. What an H.264
    /// encoder takes natively: a GPU renderer converting before readback moves 1.5 bytes per
    /// pixel instead of 4. See [`i420_layout`].
    pub const I420: Self = Self(5);

    pub fn name(self) -> &'static str {
        match self {
            Self::RGBA8 => "rgba8",
            Self::BGRA8 => "bgra8",
            Self::H264 => "h264",
            Self::JPEG => "jpeg",
            Self::I420 => "i420",
            _ => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::RGBA8, Self::BGRA8, Self::H264, Self::JPEG, Self::I420].into_iter().find(|f| f.name() == name)
    }

    /// Encoded formats carry a bitstream of `len_bytes`; raw formats carry `height` rows.
    pub fn is_encoded(self) -> bool {
        matches!(self, Self::H264 | Self::JPEG)
    }

    /// Bytes per pixel for packed raw formats; 0 for encoded ones and for planar ones
    /// ([`FrameFormat::I420`], whose planes [`i420_layout`] describes).
    pub fn bytes_per_pixel(self) -> u32 {
        match self {
            Self::RGBA8 | Self::BGRA8 => 4,
            _ => 0,
        }
    }
}

impl std::fmt::Debug for FrameFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a frame's bytes live.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryLocation(pub u32);

impl MemoryLocation {
    /// Ordinary process memory; `data` is a host pointer.
    pub const HOST: Self = Self(1);
    /// CUDA device memory; `data` is a `CUdeviceptr` and `cuda_context`/`cuda_stream` say where
    /// and on which stream it becomes valid.
    pub const CUDA: Self = Self(2);

    pub fn name(self) -> &'static str {
        match self {
            Self::HOST => "host",
            Self::CUDA => "cuda",
            _ => "unknown",
        }
    }
}

impl std::fmt::Debug for MemoryLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Since 0.2.2. Where the planes of an [`FrameFormat::I420`] frame of `width`x`height` at Y pitch
/// `pitch_bytes` lie, as byte offsets from the frame's data: `(u_offset, v_offset, chroma_pitch,
/// total_len)`. The chroma pitch is `pitch_bytes / 2`; `None` for an odd pitch or a pitch shorter
/// than a row (of either plane), or a size that overflows.
pub fn i420_layout(width: u32, height: u32, pitch_bytes: u32) -> Option<(u64, u64, u64, u64)> {
    if width == 0 || height == 0 || !pitch_bytes.is_multiple_of(2) || pitch_bytes < width {
        return None;
    }
    let chroma_pitch = u64::from(pitch_bytes / 2);
    if chroma_pitch < u64::from(width.div_ceil(2)) {
        return None;
    }
    let luma = u64::from(pitch_bytes).checked_mul(u64::from(height))?;
    let chroma = chroma_pitch.checked_mul(u64::from(height.div_ceil(2)))?;
    Some((luma, luma + chroma, chroma_pitch, luma + 2 * chroma))
}

/// A format at a location: what a converter accepts or produces, what a sink takes.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FrameSpec {
    pub format: FrameFormat,
    pub location: MemoryLocation,
}

impl FrameSpec {
    pub const fn new(format: FrameFormat, location: MemoryLocation) -> Self {
        Self { format, location }
    }
    pub const fn host(format: FrameFormat) -> Self {
        Self::new(format, MemoryLocation::HOST)
    }
}

impl std::fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.format.name(), self.location.name())
    }
}

/// Frame flag: this encoded frame can be decoded on its own (IDR / JPEG).
pub const FRAME_FLAG_KEYFRAME: u32 = 1;

/// Since 0.2.1. Frame flag a renderer sets on its output when its image keeps changing with
/// nothing else changing (an animation, a progressive renderer still accumulating samples): the
/// host then renders the next frame too. Without it the host renders on demand only (camera,
/// stage, selection, settings, input, a sink that needs a frame), so a renderer that stops
/// setting it once converged lets an idle host go quiet.
pub const FRAME_FLAG_CHANGING: u32 = 2;

/// A frame descriptor: format, size and where the bytes are, borrowed from the producer.
///
/// The lifetime `'a` ties the descriptor to the call that produced it: a renderer's
/// [`crate::RendererBackend::render`] and a converter's [`crate::FrameConverter::convert`] return
/// `Frame<'_>` borrowing the producer, so the producer cannot be called again (and reuse its
/// buffer) while the frame is alive. The pointer and length are private: a frame is built only by
/// [`Frame::host`] (from a slice, so the length is right by construction) or by the `unsafe`
/// [`Frame::from_raw_parts`] (device memory, foreign buffers), whose caller promises the same.
///
/// Consumers call [`Frame::validate`] (the host does, on every frame it receives) before reading:
/// a descriptor whose length cannot hold `pitch × height` bytes is refused, never read past.
/// Layout: fixed within a minor version; new kinds of frame are new [`FrameFormat`] /
/// [`MemoryLocation`] codes and `FRAME_FLAG_*` bits, which are append-only.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct Frame<'a> {
    pub format: FrameFormat,
    pub location: MemoryLocation,
    pub width: u32,
    pub height: u32,
    /// Bytes from the start of one row to the next (raw formats); 0 for encoded formats.
    pub pitch_bytes: u32,
    /// Bitflags, see `FRAME_FLAG_*`.
    pub flags: u32,
    /// Total bytes reachable from `data` (at least `pitch_bytes * (height - 1) + row` for raw formats).
    len_bytes: u64,
    /// Host pointer, or a `CUdeviceptr` for [`MemoryLocation::CUDA`].
    data: *const u8,
    /// `CUcontext` for CUDA frames, 0 otherwise.
    pub cuda_context: u64,
    /// `CUstream` on which the frame becomes valid for CUDA frames, 0 for the default stream.
    pub cuda_stream: u64,
    /// Monotonic frame counter set by the host's render loop.
    pub frame_number: u64,
    /// Capture time in microseconds on the host's monotonic clock.
    pub timestamp_us: u64,
    _borrow: PhantomData<&'a u8>,
}

impl<'a> Frame<'a> {
    /// A host-memory frame over `bytes`, borrowed for `'a`.
    pub fn host(format: FrameFormat, width: u32, height: u32, pitch_bytes: u32, bytes: &'a [u8]) -> Self {
        // SAFETY: `bytes` is a live slice of exactly `bytes.len()` bytes in host memory for `'a`.
        unsafe {
            Self::from_raw_parts(
                format,
                MemoryLocation::HOST,
                width,
                height,
                pitch_bytes,
                bytes.as_ptr(),
                bytes.len() as u64,
            )
        }
    }

    /// A frame over memory the type system cannot see (CUDA device memory, a foreign library's
    /// buffer).
    ///
    /// # Safety
    /// `data` must point to at least `len_bytes` readable bytes at `location` that stay valid
    /// and unchanged for `'a`.
    pub unsafe fn from_raw_parts(
        format: FrameFormat,
        location: MemoryLocation,
        width: u32,
        height: u32,
        pitch_bytes: u32,
        data: *const u8,
        len_bytes: u64,
    ) -> Self {
        Self {
            format,
            location,
            width,
            height,
            pitch_bytes,
            flags: 0,
            len_bytes,
            data,
            cuda_context: 0,
            cuda_stream: 0,
            frame_number: 0,
            timestamp_us: 0,
            _borrow: PhantomData,
        }
    }

    /// Sets the CUDA context and stream of a [`MemoryLocation::CUDA`] frame.
    pub fn with_cuda(mut self, context: u64, stream: u64) -> Self {
        self.cuda_context = context;
        self.cuda_stream = stream;
        self
    }

    /// Marks (or unmarks) the frame as a keyframe.
    pub fn with_keyframe(mut self, keyframe: bool) -> Self {
        if keyframe {
            self.flags |= FRAME_FLAG_KEYFRAME;
        } else {
            self.flags &= !FRAME_FLAG_KEYFRAME;
        }
        self
    }

    pub fn spec(&self) -> FrameSpec {
        FrameSpec::new(self.format, self.location)
    }

    pub fn is_keyframe(&self) -> bool {
        self.flags & FRAME_FLAG_KEYFRAME != 0
    }

    /// Bytes reachable from the data pointer, as the producer declared.
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    /// The raw data pointer (a `CUdeviceptr` for CUDA frames).
    pub fn data_ptr(&self) -> *const u8 {
        self.data
    }

    /// The frame's bytes in host memory, after [`Frame::validate`]: a descriptor that does not
    /// hold its declared rows, or that is not in host memory, is an error, never a read.
    pub fn host_bytes(&self) -> Result<&'a [u8], crate::PluginError> {
        self.validate()?;
        if self.location != MemoryLocation::HOST {
            return Err(crate::PluginError::invalid_input(format!(
                "frame is in {:?} memory, not host memory",
                self.location
            )));
        }
        let len = usize::try_from(self.len_bytes)
            .map_err(|_| crate::PluginError::invalid_input("frame length does not fit in memory"))?;
        // SAFETY: the constructors' contract: `data` points to `len_bytes` readable bytes in host
        // memory for `'a` (validated above to be non-null and in host memory).
        Ok(unsafe { std::slice::from_raw_parts(self.data, len) })
    }

    /// Checks the descriptor is self-consistent before anyone touches its memory: known format
    /// and location, non-null data, non-zero size; for raw formats a pitch that covers a row and a
    /// length that covers every row; for encoded formats a non-empty bitstream.
    pub fn validate(&self) -> Result<(), crate::PluginError> {
        use crate::PluginError;
        if self.location != MemoryLocation::HOST && self.location != MemoryLocation::CUDA {
            return Err(PluginError::invalid_input(format!("frame has unknown memory location {}", self.location.0)));
        }
        if self.data.is_null() {
            return Err(PluginError::invalid_input("frame has a null data pointer"));
        }
        if self.format.is_encoded() {
            if self.len_bytes == 0 {
                return Err(PluginError::invalid_input(format!("{:?} frame has no bytes", self.format)));
            }
            return Ok(());
        }
        if self.format == FrameFormat::I420 {
            let Some((_, _, _, need)) = i420_layout(self.width, self.height, self.pitch_bytes) else {
                return Err(PluginError::invalid_input(format!(
                    "i420 frame {}x{} at pitch {}: the pitch must be even and cover a row (and half a row per chroma plane)",
                    self.width, self.height, self.pitch_bytes
                )));
            };
            if self.len_bytes < need {
                return Err(PluginError::invalid_input(format!(
                    "i420 frame holds {} bytes but {}x{} at pitch {} needs {need} (Y plane and two chroma planes)",
                    self.len_bytes, self.width, self.height, self.pitch_bytes
                )));
            }
            return Ok(());
        }
        let bpp = self.format.bytes_per_pixel();
        if bpp == 0 || self.width == 0 || self.height == 0 {
            return Err(PluginError::invalid_input(format!(
                "frame {}x{} {:?} is empty or of unknown format",
                self.width, self.height, self.format
            )));
        }
        let row = u64::from(self.width) * u64::from(bpp);
        if u64::from(self.pitch_bytes) < row {
            return Err(PluginError::invalid_input(format!(
                "pitch {} bytes is shorter than a {}-pixel row ({row} bytes)",
                self.pitch_bytes, self.width
            )));
        }
        let need = u64::from(self.pitch_bytes) * u64::from(self.height - 1) + row;
        if self.len_bytes < need {
            return Err(PluginError::invalid_input(format!(
                "frame holds {} bytes but {}x{} at pitch {} needs {need}",
                self.len_bytes, self.width, self.height, self.pitch_bytes
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descriptor_shorter_than_its_rows_is_refused_before_any_read() {
        let bytes = vec![0u8; 4 * 4 * 4];
        let ok = Frame::host(FrameFormat::RGBA8, 4, 4, 16, &bytes);
        assert_eq!(ok.host_bytes().map(<[u8]>::len).ok(), Some(64));
        let short = Frame::host(FrameFormat::RGBA8, 4, 4, 16, &bytes[..63]);
        assert!(short.validate().is_err());
        assert!(short.host_bytes().is_err());
        let narrow_pitch = Frame::host(FrameFormat::RGBA8, 4, 4, 15, &bytes);
        assert!(narrow_pitch.validate().is_err());
        let unknown = Frame::host(FrameFormat(99), 4, 4, 16, &bytes);
        assert!(unknown.validate().is_err());
        let empty_bitstream = Frame::host(FrameFormat::H264, 4, 4, 0, &[]);
        assert!(empty_bitstream.validate().is_err());
        // SAFETY: never read: the location is unknown, which validation refuses first.
        let nowhere =
            unsafe { Frame::from_raw_parts(FrameFormat::RGBA8, MemoryLocation(9), 4, 4, 16, bytes.as_ptr(), 64) };
        assert!(nowhere.host_bytes().is_err());
    }

    #[test]
    fn i420_planes_are_checked_against_their_sizes() {
        // 6x5 at pitch 8: Y 8*5 = 40, chroma pitch 4, 3 rows each: 12 + 12 = 64 bytes.
        assert_eq!(i420_layout(6, 5, 8), Some((40, 52, 4, 64)));
        let bytes = vec![0u8; 64];
        assert!(Frame::host(FrameFormat::I420, 6, 5, 8, &bytes).validate().is_ok());
        assert!(Frame::host(FrameFormat::I420, 6, 5, 8, &bytes[..63]).validate().is_err());
        // An odd pitch, a pitch shorter than a row, an empty frame.
        assert!(Frame::host(FrameFormat::I420, 6, 5, 7, &bytes).validate().is_err());
        assert!(Frame::host(FrameFormat::I420, 6, 5, 4, &bytes).validate().is_err());
        assert!(Frame::host(FrameFormat::I420, 0, 5, 8, &bytes).validate().is_err());
        // An odd width needs a chroma row of ceil(w/2): 7 wide at pitch 8 gives chroma pitch 4.
        assert_eq!(i420_layout(7, 2, 8), Some((16, 20, 4, 24)));
        assert_eq!(FrameFormat::from_name("i420"), Some(FrameFormat::I420));
        assert!(!FrameFormat::I420.is_encoded());
    }
}

//! Frame descriptors: how pixels and bitstreams cross the boundary without being copied.
//!
//! A [`Frame`] points at memory owned by whoever produced it (a renderer or a converter). The
//! pointer stays valid until the producer's next mutable call; consumers that need the bytes longer
//! copy them.

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

    pub fn name(self) -> &'static str {
        match self {
            Self::RGBA8 => "rgba8",
            Self::BGRA8 => "bgra8",
            Self::H264 => "h264",
            Self::JPEG => "jpeg",
            _ => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::RGBA8, Self::BGRA8, Self::H264, Self::JPEG].into_iter().find(|f| f.name() == name)
    }

    /// Encoded formats carry a bitstream of `len_bytes`; raw formats carry `height` rows.
    pub fn is_encoded(self) -> bool {
        matches!(self, Self::H264 | Self::JPEG)
    }

    /// Bytes per pixel for raw formats, 0 for encoded ones.
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

/// A frame descriptor. See the module docs for who owns the memory.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Frame {
    pub format: FrameFormat,
    pub location: MemoryLocation,
    pub width: u32,
    pub height: u32,
    /// Bytes from the start of one row to the next (raw formats); 0 for encoded formats.
    pub pitch_bytes: u32,
    /// Bitflags, see `FRAME_FLAG_*`.
    pub flags: u32,
    /// Total bytes reachable from `data` (`pitch_bytes * height` for raw formats).
    pub len_bytes: u64,
    /// Host pointer, or a `CUdeviceptr` for [`MemoryLocation::CUDA`].
    pub data: *const u8,
    /// `CUcontext` for CUDA frames, 0 otherwise.
    pub cuda_context: u64,
    /// `CUstream` on which the frame becomes valid for CUDA frames, 0 for the default stream.
    pub cuda_stream: u64,
    /// Monotonic frame counter set by the host's render loop.
    pub frame_number: u64,
    /// Capture time in microseconds on the host's monotonic clock.
    pub timestamp_us: u64,
}

impl Frame {
    /// A host-memory frame over `bytes`. The caller keeps `bytes` alive while the frame is used.
    pub fn host(format: FrameFormat, width: u32, height: u32, pitch_bytes: u32, bytes: &[u8]) -> Self {
        Self {
            format,
            location: MemoryLocation::HOST,
            width,
            height,
            pitch_bytes,
            flags: 0,
            len_bytes: bytes.len() as u64,
            data: bytes.as_ptr(),
            cuda_context: 0,
            cuda_stream: 0,
            frame_number: 0,
            timestamp_us: 0,
        }
    }

    pub fn spec(&self) -> FrameSpec {
        FrameSpec::new(self.format, self.location)
    }

    pub fn is_keyframe(&self) -> bool {
        self.flags & FRAME_FLAG_KEYFRAME != 0
    }

    /// The frame's bytes, when they are in host memory.
    ///
    /// # Safety
    /// The producer's contract must still hold: the memory behind `data` is alive and
    /// `len_bytes` long (i.e. the producer has not been called mutably since it returned this).
    pub unsafe fn host_bytes(&self) -> Option<&[u8]> {
        if self.location != MemoryLocation::HOST || self.data.is_null() {
            return None;
        }
        // SAFETY: guaranteed by the caller per this function's contract.
        Some(unsafe { std::slice::from_raw_parts(self.data, self.len_bytes as usize) })
    }

    /// Checks the descriptor is self-consistent (non-zero size, pitch covers a row, length covers
    /// all rows). Converters call this on their input before touching memory.
    pub fn validate(&self) -> Result<(), crate::PluginError> {
        if self.data.is_null() {
            return Err(crate::PluginError::invalid_input("frame has a null data pointer"));
        }
        if self.format.is_encoded() {
            return Ok(());
        }
        let bpp = self.format.bytes_per_pixel();
        if bpp == 0 || self.width == 0 || self.height == 0 {
            return Err(crate::PluginError::invalid_input(format!(
                "frame {}x{} {:?} is empty or of unknown format",
                self.width, self.height, self.format
            )));
        }
        let row = u64::from(self.width) * u64::from(bpp);
        if u64::from(self.pitch_bytes) < row {
            return Err(crate::PluginError::invalid_input(format!(
                "pitch {} bytes is shorter than a {}-pixel row ({row} bytes)",
                self.pitch_bytes, self.width
            )));
        }
        let need = u64::from(self.pitch_bytes) * u64::from(self.height - 1) + row;
        if self.len_bytes < need {
            return Err(crate::PluginError::invalid_input(format!(
                "frame holds {} bytes but {}x{} at pitch {} needs {need}",
                self.len_bytes, self.width, self.height, self.pitch_bytes
            )));
        }
        Ok(())
    }
}

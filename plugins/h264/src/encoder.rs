//! The `rgba-to-h264` and `i420-to-h264` converters: RGBA8@host or I420@host → one H.264 access
//! unit (Annex B) @host per frame; an RGBA frame is converted to BT.601 limited-range I420 first
//! (OpenH264's converter), an I420 frame is read in place.
//!
//! Stream shape: Constrained Baseline (OpenH264 `Baseline`, no B-frames, CAVLC), one slice per
//! frame, SPS+PPS in front of every IDR, an IDR every `gop_frames` frames and on
//! `request_keyframe`, bitrate rate control at `bitrate_kbps`, no frame skipping (one input →
//! one non-empty access unit). BT.601 limited-range colour, signalled in the SPS VUI.
//!
//! A new `bitrate_kbps` is applied to the running encoder (OpenH264's `ENCODER_OPTION_BITRATE`),
//! so adapting to a link costs no IDR. `{"refresh": true}` makes the next frame an IDR at
//! [`crate::options::REFRESH_BITRATE_FACTOR`] times the bitrate (the host sends it once the
//! picture stopped changing), after which the configured bitrate is back.
//!
//! Odd sizes are **cropped**: H.264 4:2:0 needs even dimensions, so an odd last column and/or row
//! is dropped and the output frame reports the encoded (even) size. A size change, or a change of
//! `fps` or `threads`, re-creates the encoder, so the next output is an IDR.

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile, RateControlMode, SpsPpsStrategy,
    UsageType, VuiConfig,
};
use openh264::formats::{YUVBuffer, YUVSource};
use ovhost_plugin_api::{FRAME_FLAG_KEYFRAME, prelude::*};
use ovhost_plugin_convert::input::{HostImage, host_rgba, output_frame};

use crate::options::{H264Settings, REFRESH_BITRATE_FACTOR, wants_refresh};
use crate::rgba_source::{PitchedRgba, even_size};

/// OpenH264's limit (level 5.2): 3840x2160 landscape or 2160x3840 portrait.
const MAX_LONG_SIDE: usize = 3840;
const MAX_SHORT_SIDE: usize = 2160;

/// The frame being encoded, as it came.
enum Input<'a> {
    Rgba(HostImage<'a>),
    I420(I420Planes<'a>),
}

/// The three planes of a validated host I420 frame (layout: [`ovhost_plugin_api::i420_layout`]).
pub struct I420Planes<'a> {
    pub width: usize,
    pub height: usize,
    y: &'a [u8],
    u: &'a [u8],
    v: &'a [u8],
    pitch: usize,
    chroma_pitch: usize,
}

impl<'a> I420Planes<'a> {
    /// Splits a host I420 frame into its planes (the descriptor is validated first).
    pub fn new(frame: &Frame<'a>) -> Result<Self, PluginError> {
        if frame.location != MemoryLocation::HOST {
            return Err(PluginError::invalid_input(format!("this converter takes host frames, got {}", frame.spec())));
        }
        let bytes = frame.host_bytes()?;
        let (u_offset, v_offset, chroma_pitch, total) =
            ovhost_plugin_api::i420_layout(frame.width, frame.height, frame.pitch_bytes)
                .ok_or_else(|| PluginError::invalid_input("i420 frame with an inconsistent pitch"))?;
        let [u_offset, v_offset, chroma_pitch, total] = [u_offset, v_offset, chroma_pitch, total].map(|n| n as usize);
        Ok(Self {
            width: frame.width as usize,
            height: frame.height as usize,
            y: &bytes[..u_offset],
            u: &bytes[u_offset..v_offset],
            v: &bytes[v_offset..total],
            pitch: frame.pitch_bytes as usize,
            chroma_pitch,
        })
    }

    /// The planes cropped to `size` (even, at most the frame's), for the encoder.
    fn cropped(&self, size: (usize, usize)) -> CroppedI420<'_> {
        CroppedI420 { planes: self, size }
    }
}

/// An even-sized window on [`I420Planes`] that OpenH264 reads in place (no copy).
struct CroppedI420<'a> {
    planes: &'a I420Planes<'a>,
    size: (usize, usize),
}

impl YUVSource for CroppedI420<'_> {
    fn dimensions(&self) -> (usize, usize) {
        self.size
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.planes.pitch, self.planes.chroma_pitch, self.planes.chroma_pitch)
    }

    fn y(&self) -> &[u8] {
        self.planes.y
    }

    fn u(&self) -> &[u8] {
        self.planes.u
    }

    fn v(&self) -> &[u8] {
        self.planes.v
    }
}

/// An OpenH264 encoder and the per-size buffers that go with it.
struct Session {
    encoder: Encoder,
    yuv: YUVBuffer,
    size: (usize, usize),
    settings: H264Settings,
}

/// Encodes RGBA frames into H.264 access units held in a buffer it owns.
pub struct RgbaToH264 {
    settings: H264Settings,
    session: Option<Session>,
    keyframe_requested: bool,
    /// The next frame is a quality refresh (see the module docs).
    refresh_requested: bool,
    frames_since_idr: u32,
    output: Vec<u8>,
    scratch: Vec<u8>,
}

impl FromConfig for RgbaToH264 {
    fn from_config(config_json: &str) -> Result<Self, PluginError> {
        Ok(Self::new(H264Settings::default().with_options(config_json)?))
    }
}

impl RgbaToH264 {
    pub fn new(settings: H264Settings) -> Self {
        Self {
            settings,
            session: None,
            keyframe_requested: false,
            refresh_requested: false,
            frames_since_idr: 0,
            output: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The settings the next frame is encoded with.
    pub fn settings(&self) -> H264Settings {
        self.settings
    }

    /// Applies options (see [`crate::options`]); bad values change nothing.
    pub fn apply_options(&mut self, options_json: &str) -> Result<(), PluginError> {
        self.settings = self.settings.with_options(options_json)?;
        if wants_refresh(options_json) {
            self.refresh_requested = true;
        }
        Ok(())
    }

    /// Makes the next output an IDR (with SPS and PPS).
    pub fn request_idr(&mut self) {
        self.keyframe_requested = true;
    }

    fn new_session(settings: H264Settings, size: (usize, usize)) -> Result<Session, PluginError> {
        let config = EncoderConfig::new()
            .profile(Profile::Baseline)
            .usage_type(UsageType::CameraVideoRealTime)
            .rate_control_mode(RateControlMode::Bitrate)
            .bitrate(BitRate::from_bps(settings.bitrate_kbps.saturating_mul(1000)))
            .max_frame_rate(FrameRate::from_hz(settings.fps))
            .skip_frames(false)
            .sps_pps_strategy(SpsPpsStrategy::ConstantId)
            // The GOP is driven here (see `convert_frame`), so OpenH264's own period and scene-cut
            // IDRs are off: the IDR cadence is exactly `gop_frames`.
            .intra_frame_period(IntraFramePeriod::from_num_frames(0))
            .scene_change_detect(false)
            .num_threads(settings.threads)
            .vui(VuiConfig::bt601());
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| PluginError::internal(format!("could not create the OpenH264 encoder: {e}")))?;
        Ok(Session { encoder, yuv: YUVBuffer::new(size.0, size.1), size, settings })
    }

    /// Encodes one frame (RGBA8, converted to I420 here; or I420 as it comes, e.g. converted on
    /// the GPU before readback); the returned descriptor points into `self` until the next call.
    pub fn convert_frame(&mut self, input: &Frame<'_>) -> Result<Frame<'_>, PluginError> {
        let input_image = match input.format {
            FrameFormat::I420 => Input::I420(I420Planes::new(input)?),
            _ => Input::Rgba(host_rgba(input)?),
        };
        let (width, height) = match &input_image {
            Input::Rgba(image) => (image.width, image.height),
            Input::I420(planes) => (planes.width, planes.height),
        };
        let size = even_size(width, height);
        if size.0 == 0 || size.1 == 0 {
            return Err(PluginError::invalid_input(format!("H.264 needs at least 2x2 pixels, got {width}x{height}")));
        }
        let (long, short) = (size.0.max(size.1), size.0.min(size.1));
        if long > MAX_LONG_SIDE || short > MAX_SHORT_SIDE {
            return Err(PluginError::unsupported(format!(
                "the software H.264 encoder handles up to 3840x2160, got {width}x{height}"
            )));
        }

        let reuse =
            self.session.as_ref().is_some_and(|s| s.size == size && !s.settings.needs_new_encoder(&self.settings));
        if !reuse {
            // Drop the old encoder first: two live OpenH264 encoders at 4K are a lot of memory.
            self.session = None;
            self.session = Some(Self::new_session(self.settings, size)?);
        }
        let session = self.session.as_mut().ok_or_else(|| PluginError::internal("encoder session missing"))?;
        let refresh = std::mem::take(&mut self.refresh_requested);
        let bitrate_kbps = if refresh {
            self.settings.bitrate_kbps.saturating_mul(REFRESH_BITRATE_FACTOR)
        } else {
            self.settings.bitrate_kbps
        };
        if session.settings.bitrate_kbps != bitrate_kbps {
            set_bitrate(&mut session.encoder, session.settings.bitrate_kbps, bitrate_kbps)?;
            session.settings.bitrate_kbps = bitrate_kbps;
        }
        let gop_due = self.settings.gop_frames > 0 && self.frames_since_idr >= self.settings.gop_frames;
        if reuse && (self.keyframe_requested || gop_due || refresh) {
            session.encoder.force_intra_frame();
        }

        let at = Timestamp::from_millis(input.timestamp_us / 1000);
        let encoded = match &input_image {
            Input::Rgba(image) => {
                session.yuv.read_rgba8(PitchedRgba::new(image, &mut self.scratch));
                session.encoder.encode_at(&session.yuv, at)
            }
            Input::I420(planes) => session.encoder.encode_at(&planes.cropped(size), at),
        };
        let stream = encoded.map_err(|e| {
            PluginError::internal(format!("H.264 encoding of a {}x{} frame failed: {e}", size.0, size.1))
        })?;
        let is_idr = stream.frame_type() == FrameType::IDR;
        self.output.clear();
        stream.write_vec(&mut self.output);

        if is_idr {
            self.frames_since_idr = 1;
            self.keyframe_requested = false;
        } else {
            self.frames_since_idr = self.frames_since_idr.saturating_add(1);
        }
        let mut out = output_frame(input, FrameFormat::H264, size.0 as u32, size.1 as u32, 0, &self.output);
        if is_idr {
            out.flags |= FRAME_FLAG_KEYFRAME;
        }
        Ok(out)
    }
}

/// Changes a running encoder's target bitrate (no new encoder, so no IDR). The maximum bitrate
/// follows the target, as at creation: raised first when going up, lowered last when going down
/// (OpenH264 refuses a target above the maximum).
fn set_bitrate(encoder: &mut Encoder, from_kbps: u32, kbps: u32) -> Result<(), PluginError> {
    let order = if kbps > from_kbps {
        [openh264_sys2::ENCODER_OPTION_MAX_BITRATE, openh264_sys2::ENCODER_OPTION_BITRATE]
    } else {
        [openh264_sys2::ENCODER_OPTION_BITRATE, openh264_sys2::ENCODER_OPTION_MAX_BITRATE]
    };
    for option in order {
        // One spatial layer: the maximum is the layer's (OpenH264 checks a new target against
        // it), the target the whole stream's.
        let layer = if option == openh264_sys2::ENCODER_OPTION_MAX_BITRATE {
            openh264_sys2::SPATIAL_LAYER_0
        } else {
            openh264_sys2::SPATIAL_LAYER_ALL
        };
        let mut info = openh264_sys2::SBitrateInfo {
            iLayer: layer,
            iBitrate: i32::try_from(kbps.saturating_mul(1000)).unwrap_or(i32::MAX),
        };
        // SAFETY: `set_option` with the (max) bitrate option reads one `SBitrateInfo` through the
        // pointer during the call; `info` lives on this stack frame for the whole call. Both are
        // run-time options OpenH264 documents as changeable between frames.
        let rc = unsafe { encoder.raw_api().set_option(option, std::ptr::from_mut(&mut info).cast()) };
        if rc != 0 {
            return Err(PluginError::internal(format!(
                "OpenH264 refused the bitrate {kbps} kbit/s (option {option}, code {rc})"
            )));
        }
    }
    Ok(())
}

impl FrameConverter for RgbaToH264 {
    fn configure(&mut self, options_json: RStr<'_>) -> RResult<(), PluginError> {
        self.apply_options(options_json.as_str()).into()
    }

    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        self.request_idr();
        RResult::ROk(())
    }

    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        self.convert_frame(input).into()
    }
}

//! Stream sinks as the render loop sees them, and the built-in web sink (video over `/ws`).
//!
//! The web sink's binary video message is a 40-byte little-endian header followed by the payload
//! (documented in `docs/PROTOCOL.md`):
//! `magic "OVHF" | version u8 = 1 | codec u8 (1 = H.264 Annex B, 2 = JPEG) | flags u8 (bit 0 =
//! keyframe) | scale u8 (the picture is the stream size / 2^scale) | frame_number u64 |
//! capture_us u64 | width u32 | height u32 | input_seq u32 | reserved u32`.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec};

use super::hub::{ClientHub, VideoPacket};

/// Quality tiers: the web sink encodes one stream per tier some client is on (never more than
/// [`MAX_TIERS`], whatever the number of clients). Tier 0 is the configured quality; each lower
/// tier steps down the adaptation ladder in order: bitrate and quantizer first (a share of the
/// base bitrate for H.264, a lower quality for JPEG), then frame rate (a fraction of the stream
/// rate), then resolution scale (a picture half the stream's width and height, which the viewer
/// scales back up). `hub.rs` moves clients between tiers with hysteresis.
pub const MAX_TIERS: usize = 4;

/// One quality tier: its bitrate as a share of the base bitrate, its JPEG quality as a share of
/// the base quality, its frame-rate divisor and its picture scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub bitrate_percent: u32,
    pub quality_percent: u32,
    pub fps_divisor: u32,
    /// The picture is the stream size divided by `1 << scale_log2` in each direction.
    pub scale_log2: u8,
}

pub const TIERS: [Tier; MAX_TIERS] = [
    Tier { bitrate_percent: 100, quality_percent: 100, fps_divisor: 1, scale_log2: 0 },
    Tier { bitrate_percent: 40, quality_percent: 75, fps_divisor: 1, scale_log2: 0 },
    Tier { bitrate_percent: 15, quality_percent: 60, fps_divisor: 2, scale_log2: 0 },
    Tier { bitrate_percent: 8, quality_percent: 60, fps_divisor: 2, scale_log2: 1 },
];

/// The base bitrate when none is configured: the H.264 plugin's own default (kbit/s).
pub const DEFAULT_BITRATE_KBPS: u32 = 6000;
/// The base JPEG quality when none is configured: the JPEG converter's own default.
pub use ovhost_plugin_convert::DEFAULT_JPEG_QUALITY;
/// No tier encodes JPEG below this quality (blocks become unreadable).
const MIN_TIER_QUALITY: u32 = 25;

impl Tier {
    pub fn get(index: u8) -> Tier {
        TIERS[usize::from(index).min(MAX_TIERS - 1)]
    }

    /// This tier's bitrate given the base (tier 0's).
    pub fn bitrate_kbps(&self, base_kbps: u32) -> u32 {
        (u64::from(base_kbps) * u64::from(self.bitrate_percent) / 100).max(50) as u32
    }

    /// This tier's JPEG quality given the base (tier 0's).
    pub fn quality(&self, base: u8) -> u8 {
        (u32::from(base) * self.quality_percent / 100).clamp(MIN_TIER_QUALITY.min(u32::from(base)), 100) as u8
    }

    /// This tier's frame rate given the stream's.
    pub fn fps(&self, stream_fps: u32) -> u32 {
        (stream_fps / self.fps_divisor).max(1)
    }
}

/// Which tier a frame was encoded for, and how much smaller than the stream its picture is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierFrame {
    pub tier: u8,
    /// The picture is the stream size divided by `1 << scale_log2` in each direction (0 unless
    /// the tier scales and the frame could be scaled).
    pub scale_log2: u8,
}

/// A bit per tier in keyframe-request masks.
pub const ALL_TIERS: u8 = 0xff;

/// A destination for frames.
pub trait Sink: Send {
    fn name(&self) -> String;
    /// Every spec this sink can take, best first.
    fn accepted(&self) -> Vec<FrameSpec>;
    /// The specs someone is consuming right now (empty: nobody is watching).
    fn wanted(&self) -> Vec<FrameSpec>;
    /// Delivers one frame of a wanted spec. `input_seq` is the last input applied before it.
    fn submit(&mut self, frame: &Frame<'_>, input_seq: u32) -> Result<(), String>;
    /// The transport streams a size fixed at start (`setStreamSize` is refused).
    fn fixed_size(&self) -> bool {
        false
    }
    /// True when a consumer needs a keyframe (joins, losses).
    fn take_keyframe_request(&self) -> bool;
    /// The quality tiers (see [`TIERS`]) some consumer of `spec` is on right now; the encoder
    /// thread asks before each frame (the web sink adapts its clients here). Default: tier 0.
    fn tiers(&mut self, _spec: FrameSpec) -> Vec<u8> {
        vec![0]
    }
    /// Delivers one frame of a wanted spec encoded for a tier; sinks without tiers take tier 0.
    fn submit_tier(&mut self, frame: &Frame<'_>, input_seq: u32, tier: TierFrame) -> Result<(), String> {
        if tier.tier == 0 { self.submit(frame, input_seq) } else { Ok(()) }
    }
    /// Keyframes a consumer needs from some tiers only (a bit per tier), taken and cleared;
    /// unlike [`Sink::take_keyframe_request`] the other tiers' streams are left alone.
    fn take_tier_keyframes(&self) -> u8 {
        0
    }
    /// New options for the converters feeding this sink (JSON, the converters' `configure`), e.g.
    /// a bitrate from a bandwidth estimate; `Some("")` restores their configured options.
    fn converter_options(&mut self) -> Option<String> {
        None
    }
    /// True when the sink needs frames at the stream rate even while the picture does not
    /// change (an ovstream server's encoder and consumers the host cannot see); render on
    /// demand then keeps rendering for it.
    fn needs_continuous(&self) -> bool {
        false
    }
    /// The spec negotiation chose for this sink from the renderer's output (`None`: nothing can
    /// feed it); see `Delivery::negotiate`. A sink that takes one spec at a time wants this one.
    fn set_negotiated(&mut self, _spec: Option<FrameSpec>) {}
    /// Transport counters for `/api/state` (`null` when the sink has none).
    fn report(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// Work from the sink's own clients (messages, input, connections), once per frame.
    fn poll(&mut self, _hub: &ClientHub, _now_us: u64) -> Vec<super::inbound::Inbound> {
        Vec::new()
    }
}

pub const VIDEO_HEADER_BYTES: usize = 40;
pub const VIDEO_MAGIC: &[u8; 4] = b"OVHF";

/// Codec byte in the video header.
pub fn codec_byte(format: FrameFormat) -> Option<u8> {
    match format {
        FrameFormat::H264 => Some(1),
        FrameFormat::JPEG => Some(2),
        _ => None,
    }
}

/// Builds one binary video message; `scale_log2`: the picture is the stream size divided by
/// `1 << scale_log2` (the lowest quality tier's), which the viewer scales back up.
pub fn encode_video_message(frame: &Frame, payload: &[u8], input_seq: u32, scale_log2: u8) -> Option<Bytes> {
    let codec = codec_byte(frame.format)?;
    let mut out = BytesMut::with_capacity(VIDEO_HEADER_BYTES + payload.len());
    out.put_slice(VIDEO_MAGIC);
    out.put_u8(1);
    out.put_u8(codec);
    out.put_u8(u8::from(frame.is_keyframe()));
    out.put_u8(scale_log2);
    out.put_u64_le(frame.frame_number);
    out.put_u64_le(frame.timestamp_us);
    out.put_u32_le(frame.width);
    out.put_u32_le(frame.height);
    out.put_u32_le(input_seq);
    out.put_u32_le(0);
    out.put_slice(payload);
    Some(out.freeze())
}

/// The built-in web sink: H.264 access units or JPEG frames to `/ws` clients by their `hello`.
pub struct WebSink {
    hub: Arc<ClientHub>,
}

impl WebSink {
    pub fn new(hub: Arc<ClientHub>) -> Self {
        Self { hub }
    }
}

impl Sink for WebSink {
    fn name(&self) -> String {
        "web".into()
    }

    fn accepted(&self) -> Vec<FrameSpec> {
        vec![FrameSpec::host(FrameFormat::H264), FrameSpec::host(FrameFormat::JPEG)]
    }

    fn wanted(&self) -> Vec<FrameSpec> {
        self.hub.wanted_codecs().into_iter().map(FrameSpec::host).collect()
    }

    fn submit(&mut self, frame: &Frame<'_>, input_seq: u32) -> Result<(), String> {
        self.submit_tier(frame, input_seq, TierFrame::default())
    }

    fn submit_tier(&mut self, frame: &Frame<'_>, input_seq: u32, tier: TierFrame) -> Result<(), String> {
        let payload = frame.host_bytes().map_err(|e| format!("web sink: {e}"))?;
        let bytes = encode_video_message(frame, payload, input_seq, tier.scale_log2)
            .ok_or("web sink cannot send this format")?;
        self.hub.send_video(&VideoPacket {
            format: frame.format,
            keyframe: frame.is_keyframe(),
            bytes,
            tier: tier.tier,
            frame_number: frame.frame_number,
            queued_at: std::time::Instant::now(),
        });
        Ok(())
    }

    fn take_keyframe_request(&self) -> bool {
        self.hub.take_keyframe_request()
    }

    fn tiers(&mut self, spec: FrameSpec) -> Vec<u8> {
        self.hub.adapt(std::time::Instant::now());
        self.hub.tiers_for(spec.format)
    }

    fn take_tier_keyframes(&self) -> u8 {
        self.hub.take_tier_keyframes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_header_layout() {
        let payload = [9u8, 8, 7];
        let mut frame = Frame::host(FrameFormat::H264, 640, 360, 0, &payload);
        frame.flags = ovhost_plugin_api::FRAME_FLAG_KEYFRAME;
        frame.frame_number = 0x0102;
        frame.timestamp_us = 77;
        let msg = encode_video_message(&frame, &payload, 5, 1).unwrap();
        assert_eq!(msg.len(), VIDEO_HEADER_BYTES + 3);
        assert_eq!(&msg[0..4], b"OVHF");
        assert_eq!((msg[4], msg[5], msg[6], msg[7]), (1, 1, 1, 1), "version, codec, keyframe, scale");
        assert_eq!(u64::from_le_bytes(msg[8..16].try_into().unwrap()), 0x0102);
        assert_eq!(u64::from_le_bytes(msg[16..24].try_into().unwrap()), 77);
        assert_eq!(u32::from_le_bytes(msg[24..28].try_into().unwrap()), 640);
        assert_eq!(u32::from_le_bytes(msg[28..32].try_into().unwrap()), 360);
        assert_eq!(u32::from_le_bytes(msg[32..36].try_into().unwrap()), 5);
        assert_eq!(&msg[40..], &payload);
    }
}

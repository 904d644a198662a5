//! `rgba-to-h264` (and `i420-to-h264`) through its factory: decodability and quality (OpenH264's decoder), stream
//! shape (IDR = SPS + PPS + IDR slice, Constrained Baseline), GOP cadence, requested keyframes,
//! size changes, odd sizes and option changes.

use openh264::decoder::Decoder;
use ovhost_plugin_api::{ConverterBox, ErrorKind, Frame, FrameFormat};
use ovhost_plugin_convert::registry_probe;
use ovhost_plugin_h264::register;

const NAL_SLICE: u8 = 1;
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

/// A smooth RGBA image that drifts with `t`, rows `pitch` bytes apart (padding is junk).
fn smooth(width: usize, height: usize, pitch: usize, t: usize) -> Vec<u8> {
    let mut bytes = vec![0x5A; pitch * height];
    for y in 0..height {
        for x in 0..width {
            let p = y * pitch + x * 4;
            bytes[p] = ((x + t) * 200 / (width + 8) + 20) as u8;
            bytes[p + 1] = ((y + t / 2) * 200 / (height + 8) + 20) as u8;
            bytes[p + 2] = (((x + y) * 150) / (width + height) + 50) as u8;
            bytes[p + 3] = 255;
        }
    }
    bytes
}

/// NAL unit payloads (after the start code) of an Annex B access unit.
fn nal_units(au: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= au.len() {
        if au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let mut end = starts.get(k + 1).map_or(au.len(), |&n| n - 3);
            // A four-byte start code leaves one more zero before the next NAL.
            while end > s && au[end - 1] == 0 && k + 1 < starts.len() {
                end -= 1;
            }
            &au[s..end]
        })
        .collect()
}

fn nal_types(au: &[u8]) -> Vec<u8> {
    nal_units(au).iter().map(|n| n[0] & 0x1f).collect()
}

struct Encoded {
    bytes: Vec<u8>,
    keyframe: bool,
    width: u32,
    height: u32,
}

fn encode(conv: &mut ConverterBox, width: usize, height: usize, pitch: usize, t: usize) -> (Encoded, Vec<u8>) {
    let src = smooth(width, height, pitch, t);
    let input = Frame::host(FrameFormat::RGBA8, width as u32, height as u32, pitch as u32, &src);
    let out = conv.convert(&input).into_result().expect("convert");
    assert_eq!(out.format, FrameFormat::H264);
    // SAFETY: the converter owns the output until its next call; we copy it out right away.
    let bytes = out.host_bytes().expect("host output").to_vec();
    assert!(!bytes.is_empty(), "every input yields a non-empty access unit");
    (Encoded { bytes, keyframe: out.is_keyframe(), width: out.width, height: out.height }, src)
}

fn create(config: &str) -> ConverterBox {
    registry_probe::create_converter(register, "rgba-to-h264", config).expect("create rgba-to-h264")
}

/// Decodes `au` and returns (width, height, RGBA pixels).
fn decode(decoder: &mut Decoder, au: &[u8]) -> (usize, usize, Vec<u8>) {
    let yuv = decoder.decode(au).expect("decodes").expect("a picture per access unit");
    let (w, h) = openh264::formats::YUVSource::dimensions(&yuv);
    let mut rgba = vec![0u8; w * h * 4];
    yuv.write_rgba8(&mut rgba);
    (w, h, rgba)
}

fn psnr(src: &[u8], pitch: usize, decoded: &[u8], width: usize, height: usize) -> f64 {
    let mut sq = 0.0f64;
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let d = f64::from(src[y * pitch + x * 4 + c]) - f64::from(decoded[(y * width + x) * 4 + c]);
                sq += d * d;
            }
        }
    }
    let mse = sq / (width * height * 3) as f64;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

#[test]
fn first_frame_is_constrained_baseline_idr_with_parameter_sets() {
    let mut conv = create("{}");
    let (first, _) = encode(&mut conv, 160, 96, 160 * 4, 0);
    assert!(first.keyframe);
    let nals = nal_units(&first.bytes);
    let types = nal_types(&first.bytes);
    assert_eq!(&types[..2], &[NAL_SPS, NAL_PPS], "IDR starts with SPS + PPS: {types:?}");
    assert!(types[2..].iter().all(|&t| t == NAL_IDR), "then IDR slices: {types:?}");
    let sps = nals[0];
    assert_eq!(sps[1], 66, "profile_idc 66 (Baseline)");
    assert_ne!(sps[2] & 0x40, 0, "constraint_set1_flag set (Constrained Baseline)");

    let (second, _) = encode(&mut conv, 160, 96, 160 * 4, 1);
    assert!(!second.keyframe);
    assert_eq!(nal_types(&second.bytes), vec![NAL_SLICE]);
}

#[test]
fn decodes_within_psnr_bound_with_padded_pitch() {
    let (w, h, pitch) = (320usize, 240usize, 320 * 4 + 64);
    let mut conv = create(r#"{"bitrate_kbps": 3000, "fps": 30}"#);
    let mut decoder = Decoder::new().expect("decoder");
    let mut worst = f64::INFINITY;
    for t in 0..12 {
        let (au, src) = encode(&mut conv, w, h, pitch, t);
        assert_eq!((au.width, au.height), (w as u32, h as u32));
        let (dw, dh, rgba) = decode(&mut decoder, &au.bytes);
        assert_eq!((dw, dh), (w, h));
        worst = worst.min(psnr(&src, pitch, &rgba, w, h));
    }
    assert!(worst >= 30.0, "worst PSNR {worst:.1} dB below 30 dB");
}

#[test]
fn gop_sets_the_idr_cadence() {
    let mut conv = create(r#"{"gop_frames": 5}"#);
    let mut decoder = Decoder::new().expect("decoder");
    let mut keyframes = Vec::new();
    for t in 0..16 {
        let (au, _) = encode(&mut conv, 64, 48, 64 * 4, t);
        let types = nal_types(&au.bytes);
        if au.keyframe {
            keyframes.push(t);
            assert_eq!(&types[..2], &[NAL_SPS, NAL_PPS], "frame {t}: {types:?}");
            assert!(types.contains(&NAL_IDR), "frame {t}: {types:?}");
        } else {
            assert!(!types.contains(&NAL_IDR) && !types.contains(&NAL_SPS), "frame {t}: {types:?}");
        }
        decode(&mut decoder, &au.bytes);
    }
    assert_eq!(keyframes, vec![0, 5, 10, 15]);
}

#[test]
fn request_keyframe_makes_the_next_frame_an_idr() {
    let mut conv = create(r#"{"gop_frames": 0}"#);
    let flags: Vec<bool> = (0..4).map(|t| encode(&mut conv, 64, 48, 256, t).0.keyframe).collect();
    assert_eq!(flags, vec![true, false, false, false], "gop 0: only the first frame is an IDR");
    conv.request_keyframe().into_result().expect("request");
    let (idr, _) = encode(&mut conv, 64, 48, 256, 4);
    assert!(idr.keyframe);
    assert_eq!(&nal_types(&idr.bytes)[..2], &[NAL_SPS, NAL_PPS]);
    assert!(!encode(&mut conv, 64, 48, 256, 5).0.keyframe, "only one IDR per request");
}

#[test]
fn size_changes_restart_with_an_idr_and_odd_sizes_are_cropped() {
    let mut conv = create("{}");
    let mut decoder = Decoder::new().expect("decoder");
    for (t, &(w, h, pad)) in [(64usize, 48usize, 0usize), (96, 64, 0), (33, 17, 3), (96, 64, 0)].iter().enumerate() {
        let pitch = w * 4 + pad;
        let (au, src) = encode(&mut conv, w, h, pitch, t);
        let (ew, eh) = (w & !1, h & !1);
        assert!(au.keyframe, "{w}x{h}: a new size starts with an IDR");
        assert_eq!((au.width as usize, au.height as usize), (ew, eh), "odd sides lose their last pixel");
        let (dw, dh, rgba) = decode(&mut decoder, &au.bytes);
        assert_eq!((dw, dh), (ew, eh));
        let q = psnr(&src, pitch, &rgba, ew, eh);
        assert!(q >= 28.0, "{w}x{h}: PSNR {q:.1} dB");
    }
}

#[test]
fn lower_bitrate_gives_smaller_stream_and_bitrate_changes_keep_the_encoder() {
    let total = |config: &str| {
        let mut conv = create(config);
        (0..10).map(|t| encode(&mut conv, 320, 240, 1280, t * 7).0.bytes.len()).sum::<usize>()
    };
    let low = total(r#"{"bitrate_kbps": 100, "fps": 30}"#);
    let high = total(r#"{"bitrate_kbps": 8000, "fps": 30}"#);
    assert!(low < high, "100 kbps gave {low} bytes, 8000 kbps gave {high}");

    let mut conv = create("{}");
    encode(&mut conv, 64, 48, 256, 0);
    assert!(!encode(&mut conv, 64, 48, 256, 1).0.keyframe);
    conv.configure(r#"{"bitrate_kbps": 1000}"#.into()).into_result().expect("configure");
    assert!(!encode(&mut conv, 64, 48, 256, 2).0.keyframe, "a new bitrate is applied without an IDR");
    conv.configure(r#"{"fps": 25}"#.into()).into_result().expect("configure");
    assert!(encode(&mut conv, 64, 48, 256, 3).0.keyframe, "a new frame rate re-creates the encoder");
    let err = conv.configure(r#"{"fps": -3}"#.into()).into_result().expect_err("bad fps");
    assert_eq!(err.kind, ErrorKind::INVALID_INPUT);
}

#[test]
fn refuses_too_small_and_too_large_frames() {
    let mut conv = create("{}");
    let px = vec![0u8; 4 * 3];
    let err = conv.convert(&Frame::host(FrameFormat::RGBA8, 1, 3, 4, &px)).into_result().expect_err("1 px wide");
    assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{err}");
    let big = vec![0u8; 4000 * 4 * 2];
    let err = conv.convert(&Frame::host(FrameFormat::RGBA8, 4000, 2, 16000, &big)).into_result().expect_err("too wide");
    assert_eq!(err.kind, ErrorKind::UNSUPPORTED, "{err}");
}

#[test]
fn registers_the_rgba_and_i420_converters() {
    let entries = registry_probe::converter_entries(register).expect("register");
    let ids: Vec<String> = entries.iter().map(|e| e.id().to_string()).collect();
    assert_eq!(ids, vec!["rgba-to-h264", "i420-to-h264"]);
    assert_eq!(entries[0].input(), ovhost_plugin_api::FrameSpec::host(FrameFormat::RGBA8));
    assert_eq!(entries[0].output(), ovhost_plugin_api::FrameSpec::host(FrameFormat::H264));
    assert_eq!(entries[1].input(), ovhost_plugin_api::FrameSpec::host(FrameFormat::I420));
    assert_eq!(entries[1].output(), ovhost_plugin_api::FrameSpec::host(FrameFormat::H264));
    // Cheaper: no colour conversion, so a chain from I420 wins where a renderer offers it.
    assert!(entries[1].cost() < entries[0].cost());
}

#[test]
fn refresh_is_an_idr_at_a_better_quality_then_the_bitrate_returns() {
    let (w, h) = (320, 240);
    let mut conv = create(r#"{"bitrate_kbps": 100, "fps": 30, "gop_frames": 0}"#);
    let mut decoder = Decoder::new().expect("decoder");
    for t in 0..10 {
        decode(&mut decoder, &encode(&mut conv, w, h, w * 4, t * 5).0.bytes);
    }
    conv.request_keyframe().into_result().expect("request");
    let (plain, src) = encode(&mut conv, w, h, w * 4, 60);
    assert!(plain.keyframe);
    let (_, _, decoded) = decode(&mut decoder, &plain.bytes);
    let plain_psnr = psnr(&src, w * 4, &decoded, w, h);
    conv.configure(r#"{"refresh": true}"#.into()).into_result().expect("refresh");
    let (refresh, src) = encode(&mut conv, w, h, w * 4, 60);
    assert!(refresh.keyframe, "a refresh is an IDR");
    let (_, _, decoded) = decode(&mut decoder, &refresh.bytes);
    let refresh_psnr = psnr(&src, w * 4, &decoded, w, h);
    println!(
        "plain IDR {} bytes, {plain_psnr:.2} dB; refresh IDR {} bytes, {refresh_psnr:.2} dB",
        plain.bytes.len(),
        refresh.bytes.len()
    );
    assert!(refresh.bytes.len() > plain.bytes.len(), "the refresh spends more bits");
    assert!(refresh_psnr > plain_psnr, "and looks better: {refresh_psnr:.2} dB vs {plain_psnr:.2} dB");
    let next = encode(&mut conv, w, h, w * 4, 65).0;
    assert!(!next.keyframe, "one refresh, then ordinary frames");
}

/// BT.601 limited-range I420 of an RGBA image (the GPU pass's arithmetic), Y pitch `y_pitch`
/// (even, padding junk), chroma pitch `y_pitch / 2`, odd sizes covered by clamping.
fn to_i420(rgba: &[u8], width: usize, height: usize, pitch: usize, y_pitch: usize) -> Vec<u8> {
    let px = |x: usize, y: usize| {
        let p = y.min(height - 1) * pitch + x.min(width - 1) * 4;
        [i32::from(rgba[p]), i32::from(rgba[p + 1]), i32::from(rgba[p + 2])]
    };
    let (cw, ch, cp) = (width.div_ceil(2), height.div_ceil(2), y_pitch / 2);
    let mut out = vec![0x33u8; y_pitch * height + 2 * cp * ch];
    for y in 0..height {
        for x in 0..width {
            let [r, g, b] = px(x, y);
            out[y * y_pitch + x] = (((66 * r + 129 * g + 25 * b) >> 8) + 16) as u8;
        }
    }
    for y in 0..ch {
        for x in 0..cw {
            let q = [px(2 * x, 2 * y), px(2 * x + 1, 2 * y), px(2 * x, 2 * y + 1), px(2 * x + 1, 2 * y + 1)];
            let avg: Vec<i32> = (0..3).map(|c| (q.iter().map(|p| p[c]).sum::<i32>() + 2) / 4).collect();
            out[y_pitch * height + y * cp + x] = (((-38 * avg[0] - 74 * avg[1] + 112 * avg[2]) >> 8) + 128) as u8;
            out[y_pitch * height + cp * ch + y * cp + x] =
                (((112 * avg[0] - 94 * avg[1] - 18 * avg[2]) >> 8) + 128) as u8;
        }
    }
    out
}

#[test]
fn i420_input_encodes_the_same_picture_as_rgba_input() {
    // An odd size with a padded Y pitch: the encoder crops to 320x240 as for RGBA.
    let (w, h, pitch, y_pitch) = (321usize, 241usize, 321 * 4, 336usize);
    let mut from_i420 =
        registry_probe::create_converter(register, "i420-to-h264", r#"{"bitrate_kbps": 3000, "fps": 30}"#)
            .expect("create i420-to-h264");
    let mut decoder = Decoder::new().expect("decoder");
    let mut worst = f64::INFINITY;
    for t in 0..6 {
        let src = smooth(w, h, pitch, t);
        let yuv = to_i420(&src, w, h, pitch, y_pitch);
        let input = Frame::host(FrameFormat::I420, w as u32, h as u32, y_pitch as u32, &yuv);
        let out = from_i420.convert(&input).into_result().expect("convert I420");
        assert_eq!((out.format, out.width, out.height), (FrameFormat::H264, 320, 240));
        assert_eq!(out.is_keyframe(), t == 0);
        let (dw, dh, rgba) = decode(&mut decoder, out.host_bytes().expect("host bytes"));
        assert_eq!((dw, dh), (320, 240));
        worst = worst.min(psnr(&src, pitch, &rgba, dw, dh));
    }
    assert!(worst >= 30.0, "I420 input decodes to the RGBA source: worst PSNR {worst:.1} dB");
    // A short I420 frame is refused before anything reads it.
    let yuv = vec![0u8; 100];
    let short = Frame::host(FrameFormat::I420, 64, 48, 64, &yuv);
    assert_eq!(from_i420.convert(&short).into_result().expect_err("refused").kind, ErrorKind::INVALID_INPUT);
}

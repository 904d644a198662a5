//! `rgba-to-jpeg` through its factory: the output decodes to the input within a PSNR bound, is a
//! keyframe, and `quality` (config and `configure`) changes the size.

use ovhost_plugin_api::{ErrorKind, Frame, FrameFormat, PluginError};
use ovhost_plugin_convert::{register, registry_probe};

/// A smooth RGBA test image with rows `pitch` bytes apart (padding filled with junk).
fn gradient(width: usize, height: usize, pitch: usize) -> Vec<u8> {
    let mut bytes = vec![0xEE; pitch * height];
    for y in 0..height {
        for x in 0..width {
            let p = y * pitch + x * 4;
            bytes[p] = (x * 255 / width.max(2)) as u8;
            bytes[p + 1] = (y * 255 / height.max(2)) as u8;
            bytes[p + 2] = (((x + y) * 127) / (width + height)) as u8 + 64;
            bytes[p + 3] = 255;
        }
    }
    bytes
}

fn psnr_rgb(rgba: &[u8], pitch: usize, rgb: &[u8], width: usize, height: usize) -> f64 {
    let mut sq = 0.0f64;
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                let d = f64::from(rgba[y * pitch + x * 4 + c]) - f64::from(rgb[(y * width + x) * 3 + c]);
                sq += d * d;
            }
        }
    }
    let mse = sq / (width * height * 3) as f64;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

fn encode(conv: &mut ovhost_plugin_api::ConverterBox, input: &Frame) -> Vec<u8> {
    let out = conv.convert(input).into_result().expect("convert");
    assert_eq!(out.format, FrameFormat::JPEG);
    assert!(out.is_keyframe(), "every JPEG is a keyframe");
    // SAFETY: the converter owns the output until its next call; we copy it out right away.
    out.host_bytes().expect("host output").to_vec()
}

#[test]
fn decodes_close_to_input_with_padded_pitch() {
    let (w, h, pitch) = (97usize, 61usize, 97 * 4 + 12);
    let src = gradient(w, h, pitch);
    let input = Frame::host(FrameFormat::RGBA8, w as u32, h as u32, pitch as u32, &src);
    let mut conv = registry_probe::create_converter(register, "rgba-to-jpeg", r#"{"quality": 90}"#).expect("create");
    let jpeg = encode(&mut conv, &input);
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "starts with SOI");
    assert_eq!(&jpeg[jpeg.len() - 2..], &[0xFF, 0xD9], "ends with EOI");

    let mut decoder = jpeg_decoder::Decoder::new(&jpeg[..]);
    let rgb = decoder.decode().expect("decodes");
    let info = decoder.info().expect("info");
    assert_eq!((usize::from(info.width), usize::from(info.height)), (w, h));
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
    let psnr = psnr_rgb(&src, pitch, &rgb, w, h);
    assert!(psnr >= 30.0, "PSNR {psnr:.1} dB below 30 dB");
}

#[test]
fn quality_changes_size_through_config_and_configure() {
    let (w, h) = (256usize, 128usize);
    let mut src = gradient(w, h, w * 4);
    // Add texture so quality matters.
    for (i, b) in src.iter_mut().enumerate() {
        if i % 4 != 3 {
            *b = b.wrapping_add(((i * 7919) % 23) as u8);
        }
    }
    let input = Frame::host(FrameFormat::RGBA8, w as u32, h as u32, (w * 4) as u32, &src);

    let mut low = registry_probe::create_converter(register, "rgba-to-jpeg", r#"{"quality": 20}"#).expect("create");
    let mut high = registry_probe::create_converter(register, "rgba-to-jpeg", r#"{"quality": 95}"#).expect("create");
    let low_len = encode(&mut low, &input).len();
    let high_len = encode(&mut high, &input).len();
    assert!(low_len < high_len, "q20 {low_len} bytes should be smaller than q95 {high_len} bytes");

    high.configure(r#"{"quality": 20, "unrelated": true}"#.into()).into_result().expect("configure");
    assert_eq!(encode(&mut high, &input).len(), low_len, "configure switched to q20");
}

#[test]
fn rejects_bad_quality() {
    let check = |r: Result<(), PluginError>| {
        let err = r.expect_err("refused");
        assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{err}");
        err
    };
    let err = check(registry_probe::create_converter(register, "rgba-to-jpeg", r#"{"quality": 0}"#).map(|_| ()));
    assert!(err.message.contains("1 to 100"), "{err}");
    check(registry_probe::create_converter(register, "rgba-to-jpeg", r#"{"quality": "high"}"#).map(|_| ()));
    let mut conv = registry_probe::create_converter(register, "rgba-to-jpeg", "{}").expect("default config");
    check(conv.configure(r#"{"quality": 101}"#.into()).into_result());
    check(conv.configure("not json".into()).into_result());
}

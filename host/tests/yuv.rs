//! GPU colour conversion through the real host (issue 13): with the raster renderer converting
//! RGBA to I420 on the GPU (`OVHOST_RASTER_YUV=gpu`, which lavapipe runs as a wgpu compute pass
//! too), an H.264-only audience gets its stream through `i420-to-h264`, and the decoded pictures
//! are the rendered image (checked against `/api/snapshot.png`, an RGBA render of the same view);
//! a JPEG client joining moves everyone back to RGBA (one source feeds both chains), and both keep
//! getting frames.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use openh264::decoder::Decoder;
use ovhost_test_support::{Host, Ws, skip, wait_until, workspace_root};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(20);
const WIDTH: usize = 320;
const HEIGHT: usize = 240;

/// The host, or `None` after reporting the test skipped where the raster renderer cannot convert
/// on the GPU (not built in, or a GL-only adapter: no view-format reinterpretation).
fn start_gpu_yuv() -> Option<Host> {
    if !ovhost::builtins::RENDERERS.contains(&"raster") {
        skip("the raster renderer is not built into this host");
        return None;
    }
    let host = start();
    let said =
        |needle: &str| host.logs().iter().any(|l| l.contains("raster renderer: RGBA to I420") && l.contains(needle));
    assert!(wait_until(SECS, || said("gpu_yuv=")), "the raster renderer says where it converts: {:?}", host.logs());
    if said("gpu_yuv=false") {
        skip("the raster renderer cannot convert to I420 on this adapter (GL only)");
        return None;
    }
    Some(host)
}

fn start() -> Host {
    static ENV: std::sync::Once = std::sync::Once::new();
    // SAFETY: set once, before any host of this test binary is spawned; nothing in this process
    // reads the environment concurrently with this first call (the tests' threads start hosts
    // only after it returned).
    ENV.call_once(|| unsafe { std::env::set_var("OVHOST_RASTER_YUV", "gpu") });
    let stages = workspace_root().join("examples/stages");
    let (w, h) = (WIDTH.to_string(), HEIGHT.to_string());
    let args = [
        "--renderer",
        "raster",
        "--asset-root",
        stages.to_str().unwrap(),
        "--stage",
        "sample_yup.usda",
        "--width",
        &w,
        "--height",
        &h,
        "--fps",
        "30",
    ];
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(SECS), "host not ready: {:?}", host.logs());
    assert!(host.wait_stage_loaded(SECS), "stage did not load: {:?}", host.logs());
    host
}

/// (codec, keyframe, payload) of a binary video message.
fn video(frame: &[u8]) -> (u8, bool, &[u8]) {
    assert_eq!(&frame[0..4], b"OVHF", "magic");
    (frame[5], frame[6] & 1 == 1, &frame[40..])
}

/// How many converter chains from `from` to `to` the host built so far (warm-up builds RGBA
/// chains before anyone watches; each change of the renderer's output re-plans the chains).
fn chains_built(host: &Host, from: &str, to: &str) -> usize {
    let needle = format!("from={from} to={to}");
    host.logs().iter().filter(|l| l.contains("converter chain built") && l.contains(&needle)).count()
}

/// The source of the H.264 chain built last.
fn last_h264_source(host: &Host) -> Option<String> {
    host.logs()
        .iter()
        .rev()
        .filter(|l| l.contains("converter chain built") && l.contains("to=h264@host"))
        .find_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("from=")).map(str::to_string))
}

fn get_bytes(port: u16, path: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(SECS)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    assert!(
        raw.starts_with(b"HTTP/1.1 200") || raw.starts_with(b"HTTP/1.0 200"),
        "{}",
        String::from_utf8_lossy(&raw[..split])
    );
    raw[split + 4..].to_vec()
}

/// RGBA pixels of a PNG.
fn png_rgba(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

/// Decodes H.264 access units until one gives a picture; (width, height, RGBA).
fn decode_next(ws: &mut Ws, decoder: &mut Decoder) -> (usize, usize, Vec<u8>) {
    for _ in 0..60 {
        let frame = ws.recv_binary(SECS).expect("an H.264 frame");
        let (codec, _, au) = video(&frame);
        assert_eq!(codec, 1, "H.264");
        if let Some(yuv) = decoder.decode(au).expect("the access unit decodes") {
            let (w, h) = openh264::formats::YUVSource::dimensions(&yuv);
            let mut rgba = vec![0u8; w * h * 4];
            yuv.write_rgba8(&mut rgba);
            return (w, h, rgba);
        }
    }
    panic!("no picture decoded from 60 access units");
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let (mut sq, mut n) = (0.0f64, 0usize);
    for (pa, pb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for c in 0..3 {
            let d = f64::from(pa[c]) - f64::from(pb[c]);
            sq += d * d;
            n += 1;
        }
    }
    let mse = sq / n as f64;
    if mse == 0.0 { 99.0 } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

#[test]
fn an_h264_client_decodes_frames_converted_to_i420_on_the_gpu() {
    let Some(host) = start_gpu_yuv() else { return };
    let mut ws = host.ws();
    assert_eq!(ws.hello(&["h264"])["payload"]["video"]["codec"], "h264");
    let mut decoder = Decoder::new().unwrap();
    let (w, h, first) = decode_next(&mut ws, &mut decoder);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert!(
        wait_until(SECS, || last_h264_source(&host).as_deref() == Some("i420@host")),
        "the H.264 chain is fed I420 from the renderer: {:?}",
        host.logs().iter().filter(|l| l.contains("chain")).collect::<Vec<_>>()
    );
    // The decoded picture is the rendered image: an RGBA still of the same (unmoved) view.
    let (sw, sh, still) = png_rgba(&get_bytes(host.port, "/api/snapshot.png"));
    assert_eq!((sw, sh), (WIDTH, HEIGHT));
    let quality = psnr(&first, &still);
    eprintln!("decoded I420-chain frame vs RGBA still: PSNR {quality:.1} dB");
    assert!(quality > 30.0, "the GPU-converted stream shows the rendered image (PSNR {quality:.1} dB)");
    // The still (RGBA) did not end the I420 stream: an orbit keeps H.264 frames coming from I420.
    ws.send("input", serde_json::json!({"events": [{"type": "wheel", "x": 160, "y": 120, "notches": 2}]}));
    let (w, h, _) = decode_next(&mut ws, &mut decoder);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert!(
        wait_until(SECS, || chains_built(&host, "i420@host", "h264@host") >= 2
            && last_h264_source(&host).as_deref() == Some("i420@host")),
        "back on I420 after the still: {:?}",
        host.logs().iter().filter(|l| l.contains("chain")).collect::<Vec<_>>()
    );
}

#[test]
fn a_jpeg_client_moves_the_renderer_back_to_rgba_and_both_clients_keep_frames() {
    let Some(host) = start_gpu_yuv() else { return };
    let mut h264 = host.ws();
    assert_eq!(h264.hello(&["h264"])["payload"]["video"]["codec"], "h264");
    let mut decoder = Decoder::new().unwrap();
    decode_next(&mut h264, &mut decoder);
    assert!(wait_until(SECS, || last_h264_source(&host).as_deref() == Some("i420@host")), "{:?}", host.logs());
    let rgba_h264_before = chains_built(&host, "rgba8@host", "h264@host");
    let mut jpeg = host.ws();
    assert_eq!(
        jpeg.hello(&["jpeg"])["payload"]["video"]["codec"],
        "jpeg",
        "JPEG is offered whatever the last frame was"
    );
    let frame = jpeg.recv_binary(SECS).expect("a JPEG frame");
    let (codec, keyframe, payload) = video(&frame);
    assert_eq!((codec, keyframe), (2, true));
    assert_eq!(&payload[..2], &[0xFF, 0xD8], "JPEG SOI marker");
    // One source feeds both: RGBA → JPEG and RGBA → H.264 (I420 has no JPEG chain).
    assert!(
        wait_until(SECS, || chains_built(&host, "rgba8@host", "h264@host") > rgba_h264_before),
        "{:?}",
        host.logs().iter().filter(|l| l.contains("chain")).collect::<Vec<_>>()
    );
    assert_eq!(last_h264_source(&host).as_deref(), Some("rgba8@host"));
    assert!(wait_until(SECS, || chains_built(&host, "rgba8@host", "jpeg@host") > 0), "{:?}", host.logs());
    let (w, h, _) = decode_next(&mut h264, &mut decoder);
    assert_eq!((w, h), (WIDTH, HEIGHT), "the H.264 client decodes across the switch");
}

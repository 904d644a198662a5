//! Streams a moving test pattern through an `OvstreamSink` for N seconds and prints JSON stats.
//! Used on the GPU machine: `ovstream_probe --transport ovstream-shm --seconds 5`. RTSP/WebRTC/
//! native take pre-encoded H.264 there (no NVENC; needs the `probe-h264` feature). Any app message
//! a client sends is echoed back with a 100 KB pad (exercises chunking).

use std::time::{Duration, Instant};

use clap::Parser;
use ovhost_ovstream::ffi::cudart::{CudaRt, DeviceImage};
use ovhost_ovstream::{OvstreamSink, ResolvedInput, SinkConfig, SinkEvent, Transport, VideoInput, testpattern};
use ovhost_plugin_api::{Frame, FrameFormat, MemoryLocation};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "ovstream-shm")]
    transport: Transport,
    #[arg(long, default_value_t = 1920)]
    width: u32,
    #[arg(long, default_value_t = 1080)]
    height: u32,
    #[arg(long, default_value_t = 60)]
    fps: u16,
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    #[arg(long, default_value = "ovhost-probe")]
    name: String,
    /// auto | raw-cuda | h264
    #[arg(long, default_value = "auto")]
    input: String,
    /// Submit BGRA8 host frames (the sink stages them on the GPU) instead of CUDA frames.
    #[arg(long)]
    host_frames: bool,
    #[arg(long, default_value_t = 49100)]
    signaling_port: u16,
    /// Media port (0 = transport default).
    #[arg(long, default_value_t = 0)]
    stream_port: u16,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(&args) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            println!("{}", serde_json::json!({"transport": args.transport.cli_name(), "ok": false, "error": e}));
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let mut config = SinkConfig::new(args.transport);
    config.width = args.width;
    config.height = args.height;
    config.fps = args.fps;
    config.shm_name = args.name.clone();
    config.signaling_port = args.signaling_port;
    config.stream_port = args.stream_port;
    config.video_input = match args.input.as_str() {
        "raw-cuda" => VideoInput::RawCuda,
        "h264" => VideoInput::H264,
        _ => VideoInput::Auto,
    };
    let started = Instant::now();
    let mut sink = OvstreamSink::start(config).map_err(|e| e.to_string())?;
    let start_ms = started.elapsed().as_secs_f64() * 1e3;
    let resolved =
        if sink.accepts().format == FrameFormat::H264 { ResolvedInput::H264 } else { ResolvedInput::RawCuda };
    let (w, h) = (args.width, args.height);
    let pitch = w as usize * 4;

    let encoded = if resolved == ResolvedInput::H264 { Some(pre_encode(w, h, args.fps)?) } else { None };
    let device = if resolved == ResolvedInput::RawCuda && !args.host_frames {
        let rt = CudaRt::get().map_err(|e| e.to_string())?;
        rt.set_device(0).map_err(|e| e.to_string())?;
        Some(DeviceImage::new(rt, w, h).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let mut host = vec![0u8; pitch * h as usize];

    let interval = Duration::from_secs_f64(1.0 / f64::from(args.fps));
    let end = Instant::now() + Duration::from_secs_f64(args.seconds);
    let (mut submitted, mut errors, mut transient) = (0u64, 0u64, 0u64);
    let mut first_error: Option<String> = None;
    let mut submit_ms: Vec<f64> = Vec::new();
    let (mut connects, mut disconnects, mut messages, mut inputs, mut echoes_sent, mut echo_errors) =
        (0, 0, 0, 0, 0, 0);
    let loop_start = Instant::now();
    let mut next = loop_start;
    let mut index = 0u32;
    while Instant::now() < end {
        let frame = match (&encoded, &device) {
            (Some(aus), _) => {
                let au = &aus[index as usize % aus.len()];
                let mut f = Frame::host(FrameFormat::H264, w, h, 0, au);
                f.frame_number = u64::from(index);
                f
            }
            (None, Some(dev)) => {
                testpattern::fill(&mut host, w, h, pitch, index);
                // SAFETY: `host` holds pitch*h bytes.
                unsafe { dev.upload(host.as_ptr(), pitch) }.map_err(|e| e.to_string())?;
                // SAFETY: `dev` holds `pitch_bytes * h` bytes of device memory alive for this loop
                // iteration, in which the frame is used.
                unsafe {
                    Frame::from_raw_parts(
                        FrameFormat::BGRA8,
                        MemoryLocation::CUDA,
                        w,
                        h,
                        dev.pitch_bytes as u32,
                        dev.ptr as *const u8,
                        (dev.pitch_bytes * h as usize) as u64,
                    )
                }
            }
            (None, None) => {
                testpattern::fill(&mut host, w, h, pitch, index);
                Frame::host(FrameFormat::BGRA8, w, h, pitch as u32, &host)
            }
        };
        let t1 = Instant::now();
        match sink.submit(&frame) {
            Ok(()) => submitted += 1,
            Err(e) if e.is_transient() => transient += 1,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
        submit_ms.push(t1.elapsed().as_secs_f64() * 1e3);
        for event in sink.poll_events() {
            match event {
                SinkEvent::Connected { .. } => connects += 1,
                SinkEvent::Disconnected => disconnects += 1,
                SinkEvent::Input(_) | SinkEvent::Text(_) => inputs += 1,
                SinkEvent::Message(text) => {
                    messages += 1;
                    let reply = serde_json::json!({"event_type": "echo", "payload": {"received": text, "pad": "x".repeat(100_000)}});
                    match sink.send_app_message(&reply.to_string()) {
                        Ok(()) => echoes_sent += 1,
                        Err(e) => {
                            echo_errors += 1;
                            eprintln!("echo failed: {e}");
                        }
                    }
                }
            }
        }
        index = index.wrapping_add(1);
        next += interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    let elapsed = loop_start.elapsed().as_secs_f64();
    let stats = sink.stats();
    sink.stop();
    submit_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| submit_ms.get(((submit_ms.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
    Ok(serde_json::json!({
        "ok": errors == 0,
        "transport": args.transport.cli_name(),
        "input": format!("{resolved:?}"),
        "host_frames": args.host_frames,
        "width": w, "height": h, "fps_target": args.fps, "seconds": elapsed,
        "start_ms": start_ms,
        "frames_attempted": index, "frames_submitted": submitted, "errors": errors, "transient_errors": transient,
        "first_error": first_error,
        "fps_submitted": submitted as f64 / elapsed,
        "submit_ms_p50": pct(0.5), "submit_ms_p99": pct(0.99),
        "events": {"connected": connects, "disconnected": disconnects, "messages": messages, "inputs": inputs,
                   "echoes_sent": echoes_sent, "echo_errors": echo_errors, "dropped": stats.events_dropped},
    }))
}

#[cfg(feature = "probe-h264")]
fn pre_encode(w: u32, h: u32, fps: u16) -> Result<Vec<Vec<u8>>, String> {
    use openh264::encoder::{BitRate, Encoder, EncoderConfig, FrameRate};
    use openh264::formats::{RgbSliceU8, YUVBuffer};
    let config =
        EncoderConfig::new().bitrate(BitRate::from_bps(8_000_000)).max_frame_rate(FrameRate::from_hz(f32::from(fps)));
    let mut encoder =
        Encoder::with_api_config(openh264::OpenH264API::from_source(), config).map_err(|e| e.to_string())?;
    let pitch = w as usize * 4;
    let mut bgra = vec![0u8; pitch * h as usize];
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    let count = usize::from(fps).max(1); // a one-second loop, IDR at its start and middle
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        testpattern::fill(&mut bgra, w, h, pitch, i as u32);
        for (px, dst) in bgra.chunks_exact(4).zip(rgb.chunks_exact_mut(3)) {
            dst.copy_from_slice(&[px[2], px[1], px[0]]);
        }
        if i == 0 || i == count / 2 {
            encoder.force_intra_frame();
        }
        let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(&rgb, (w as usize, h as usize)));
        out.push(encoder.encode(&yuv).map_err(|e| e.to_string())?.to_vec());
    }
    Ok(out)
}

#[cfg(not(feature = "probe-h264"))]
fn pre_encode(_w: u32, _h: u32, _fps: u16) -> Result<Vec<Vec<u8>>, String> {
    Err("this transport needs pre-encoded H.264 here; rebuild with --features probe-h264".into())
}

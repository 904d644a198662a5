//! Benchmark: `rgba-to-h264` encode time per frame at 640x360 and 1920x1080 on moving synthetic
//! content, the same frames as I420 through `i420-to-h264` (what the CPU saves when the renderer
//! converts on the GPU), and, when `ffmpeg` with libx264 is on PATH, `libx264 -preset ultrafast -tune
//! zerolatency` on the same raw frames. Prints one JSON object per measurement on stdout.
//! Run with `--release`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use ovhost_plugin_api::{Frame, FrameFormat};
use ovhost_plugin_h264::{H264Settings, RgbaToH264};
use serde_json::json;

const FPS: u32 = 60;
const BITRATE_KBPS: u32 = 6000;

/// Frame `t` of a scene that moves every frame: scrolling bands plus a sliding bright box.
fn synthetic_frame(width: usize, height: usize, t: usize, out: &mut [u8]) {
    let (bx, by) = ((t * 7) % width.max(1), (t * 3) % height.max(1));
    let box_size = width / 8;
    for y in 0..height {
        for x in 0..width {
            let p = (y * width + x) * 4;
            let in_box = x >= bx && x < bx + box_size && y >= by && y < by + box_size;
            let u = x + 4 * t;
            let v = y + 2 * t;
            out[p] = if in_box { 240 } else { ((u * 3) ^ (v / 4)) as u8 };
            out[p + 1] = if in_box { 220 } else { (v * 2 + u / 16) as u8 };
            out[p + 2] = if in_box { 40 } else { ((u / 2 + v / 2) % 256) as u8 };
            out[p + 3] = 255;
        }
    }
}

fn frames(width: usize, height: usize, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|t| {
            let mut f = vec![0u8; width * height * 4];
            synthetic_frame(width, height, t, &mut f);
            f
        })
        .collect()
}

/// BT.601 limited-range I420 (Y pitch = width) of an RGBA frame: the GPU pass's arithmetic.
fn to_i420(width: usize, height: usize, rgba: &[u8]) -> Vec<u8> {
    let px = |x: usize, y: usize| {
        let p = (y * width + x) * 4;
        [i32::from(rgba[p]), i32::from(rgba[p + 1]), i32::from(rgba[p + 2])]
    };
    let mut out = Vec::with_capacity(width * height * 3 / 2);
    for y in 0..height {
        for x in 0..width {
            let [r, g, b] = px(x, y);
            out.push((((66 * r + 129 * g + 25 * b) >> 8) + 16) as u8);
        }
    }
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for y in 0..height / 2 {
        for x in 0..width / 2 {
            let q = [px(2 * x, 2 * y), px(2 * x + 1, 2 * y), px(2 * x, 2 * y + 1), px(2 * x + 1, 2 * y + 1)];
            let avg: Vec<i32> = (0..3).map(|c| (q.iter().map(|p| p[c]).sum::<i32>() + 2) / 4).collect();
            u.push((((-38 * avg[0] - 74 * avg[1] + 112 * avg[2]) >> 8) + 128) as u8);
            v.push((((112 * avg[0] - 94 * avg[1] - 18 * avg[2]) >> 8) + 128) as u8);
        }
    }
    out.extend(u);
    out.extend(v);
    out
}

fn bench_openh264(
    width: usize,
    height: usize,
    frames: &[Vec<u8>],
    threads: u16,
    i420: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let yuv: Vec<Vec<u8>> = if i420 { frames.iter().map(|f| to_i420(width, height, f)).collect() } else { Vec::new() };
    let settings = H264Settings { bitrate_kbps: BITRATE_KBPS, fps: FPS as f32, gop_frames: 60, threads };
    let mut enc = RgbaToH264::new(settings);
    let mut times_ms = Vec::with_capacity(frames.len());
    let mut bytes = 0usize;
    for (i, f) in frames.iter().enumerate() {
        let mut input = if i420 {
            Frame::host(FrameFormat::I420, width as u32, height as u32, width as u32, &yuv[i])
        } else {
            Frame::host(FrameFormat::RGBA8, width as u32, height as u32, (width * 4) as u32, f)
        };
        input.timestamp_us = i as u64 * 1_000_000 / u64::from(FPS);
        let start = Instant::now();
        let out = enc.convert_frame(&input)?;
        times_ms.push(start.elapsed().as_secs_f64() * 1e3);
        bytes += out.len_bytes() as usize;
    }
    // The first frame includes encoder creation; report it apart.
    let first_ms = times_ms[0];
    let mut steady: Vec<f64> = times_ms[1..].to_vec();
    steady.sort_by(f64::total_cmp);
    let mean = steady.iter().sum::<f64>() / steady.len() as f64;
    println!(
        "{}",
        json!({
            "bench": "h264_encode_openh264",
            "input": if i420 { "i420" } else { "rgba8" },
            "width": width, "height": height, "frames": frames.len(), "threads": threads,
            "bitrate_kbps": BITRATE_KBPS,
            "ms_per_frame_mean": mean,
            "ms_per_frame_median": steady[steady.len() / 2],
            "ms_per_frame_p95": steady[(steady.len() * 95 / 100).min(steady.len() - 1)],
            "first_frame_ms": first_ms,
            "output_kbps": bytes as f64 * 8.0 / 1000.0 / (frames.len() as f64 / f64::from(FPS)),
        })
    );
    Ok(())
}

fn ffmpeg_has_libx264() -> Option<bool> {
    let out = Command::new("ffmpeg").args(["-hide_banner", "-encoders"]).stderr(Stdio::null()).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).lines().any(|l| l.split_whitespace().nth(1) == Some("libx264")))
}

fn bench_x264(width: usize, height: usize, frames: &[Vec<u8>], threads: u16) -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("ovhost_h264_bench_{}_{width}x{height}.rgba", std::process::id()));
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for f in frames {
            file.write_all(f)?;
        }
    }
    let size = format!("{width}x{height}");
    let bitrate = format!("{BITRATE_KBPS}k");
    let threads_arg = threads.to_string();
    let start = Instant::now();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgba", "-s", &size])
        .args(["-r", &FPS.to_string(), "-i"])
        .arg(&path)
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-b:v", &bitrate])
        .args(["-threads", &threads_arg, "-f", "h264", "-"])
        .stdout(Stdio::null())
        .status();
    let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    let _ = std::fs::remove_file(&path);
    let status = status?;
    if !status.success() {
        return Err(format!("ffmpeg exited with {status}").into());
    }
    println!(
        "{}",
        json!({
            "bench": "h264_encode_ffmpeg_libx264",
            "width": width, "height": height, "frames": frames.len(), "threads": threads,
            "preset": "ultrafast", "tune": "zerolatency", "bitrate_kbps": BITRATE_KBPS,
            "ms_per_frame": elapsed_ms / frames.len() as f64,
            "note": "whole ffmpeg run divided by frames: includes process start, file read and RGBA to YUV conversion",
        })
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{}", json!({"bench": "h264_machine", "cpu_cores": cores}));
    let x264 = ffmpeg_has_libx264();
    for (width, height, count) in [(640usize, 360usize, 240usize), (1920, 1080, 90)] {
        let frames = frames(width, height, count);
        for threads in [1u16, 0] {
            bench_openh264(width, height, &frames, threads, false)?;
        }
        bench_openh264(width, height, &frames, 1, true)?;
        match x264 {
            Some(true) => {
                for threads in [1u16, 0] {
                    bench_x264(width, height, &frames, threads)?;
                }
            }
            Some(false) => println!(
                "{}",
                json!({"bench": "h264_encode_ffmpeg_libx264", "skipped": "ffmpeg on PATH has no libx264 encoder"})
            ),
            None => {
                println!("{}", json!({"bench": "h264_encode_ffmpeg_libx264", "skipped": "ffmpeg not found on PATH"}))
            }
        }
    }
    Ok(())
}

//! Benchmark: CPU RGBA8 → BGRA8 (`rgba-to-bgra`) against `copy_from_slice` of the same bytes.
//! Prints one JSON object per resolution on stdout. Run with `--release`.

use std::hint::black_box;
use std::time::Instant;

use ovhost_plugin_api::{Frame, FrameFormat};
use ovhost_plugin_convert::RgbaToBgra;

/// Best-of-`batches` mean seconds per call of `f`, each batch `iters` calls long.
fn best_mean_s(batches: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up: page faults, allocation
    (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed().as_secs_f64() / iters as f64
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx2() -> bool {
    false
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (width, height) in [(1920usize, 1080usize), (3840, 2160)] {
        let bytes = width * height * 4;
        let src: Vec<u8> = (0..bytes).map(|i| (i * 31 % 251) as u8).collect();
        let iters = (2_000_000_000 / bytes).clamp(10, 400);

        let mut copy_dst = vec![0u8; bytes];
        let memcpy_s = best_mean_s(7, iters, || {
            copy_dst.copy_from_slice(black_box(&src));
            black_box(&copy_dst);
        });

        let mut conv = RgbaToBgra::default();
        let input = Frame::host(FrameFormat::RGBA8, width as u32, height as u32, (width * 4) as u32, &src);
        let mut failure = None;
        let convert_s = best_mean_s(7, iters, || {
            if let Err(e) = conv.convert_frame(black_box(&input)) {
                failure = Some(e);
            }
        });
        if let Some(e) = failure {
            return Err(e.into());
        }

        let gb = bytes as f64 / 1e9;
        println!(
            "{}",
            serde_json::json!({
                "bench": "rgba_to_bgra_cpu",
                "width": width,
                "height": height,
                "bytes": bytes,
                "convert_ms": convert_s * 1e3,
                "convert_gbps": gb / convert_s,
                "memcpy_ms": memcpy_s * 1e3,
                "memcpy_gbps": gb / memcpy_s,
                "percent_of_memcpy": 100.0 * memcpy_s / convert_s,
                "avx2": has_avx2(),
            })
        );
    }
    Ok(())
}

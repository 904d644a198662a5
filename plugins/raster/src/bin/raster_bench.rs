//! Benchmark: frames per second of the raster renderer (render + readback into host memory) at
//! 640×360 and 1920×1080 with ~5k and ~100k triangles, plus pick latency. Prints one JSON object
//! on stdout and nothing else. Usage: `raster_bench [--json] [--seconds S] [--yuv] [--empty]` (S per case,
//! default 2; `--yuv`: frames converted to I420 on the GPU before readback, on any adapter). The
//! adapter follows `OVHOST_WGPU_BACKEND` / `OVHOST_WGPU_ADAPTER` like the plugin. With
//! `OVHOST_RASTER_GPU_TIMES=1` each case also reports the GPU time of its passes.

mod common;

use std::time::Instant;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_raster::{Raster, RasterConfig, synthetic};
use serde_json::json;

const SIZES: [(u32, u32); 2] = [(640, 360), (1920, 1080)];
/// Grid cells per side: 2 * cells² triangles (5,000 and 100,352).
const GRID_CELLS: [u32; 2] = [50, 224];
const WARMUP_FRAMES: u32 = 5;
const MAX_FRAMES: usize = 2000;

fn camera(frame: u64) -> CameraView {
    let angle = frame as f64 * 0.01;
    CameraView {
        eye: [3.0 * angle.sin(), 2.0, 3.0 * angle.cos()],
        target: [0.0; 3],
        up: [0.0, 1.0, 0.0],
        fov_y_deg: 45.0,
        near: 0.05,
        far: 100.0,
        ..CameraView::default()
    }
}

fn fail(what: &str, e: PluginError) -> ! {
    eprintln!("raster_bench: {what}: {e}");
    std::process::exit(1)
}

fn main() {
    let mut seconds = 2.0f64;
    let mut yuv = false;
    let mut empty = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => {}
            "--yuv" => yuv = true,
            "--empty" => empty = true,
            "--seconds" => {
                seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                    eprintln!("raster_bench: --seconds needs a number");
                    std::process::exit(2)
                })
            }
            other => {
                eprintln!(
                    "raster_bench: unknown argument {other}; usage: raster_bench [--json] [--seconds S] [--yuv] [--empty]"
                );
                std::process::exit(2)
            }
        }
    }
    let mut config = RasterConfig::from_json_and_env("{}").unwrap_or_else(|e| fail("config", e));
    if yuv {
        config.yuv = ovhost_plugin_raster::config::YuvChoice::Gpu;
    }
    let mut raster = Raster::new(&config).unwrap_or_else(|e| fail("creating the renderer", e));
    let output = if yuv { FrameFormat::I420 } else { FrameFormat::RGBA8 };
    raster.set_output_format(FrameSpec::host(output)).into_result().unwrap_or_else(|e| fail("output format", e));
    let info = raster.adapter_info().clone();
    let mut results = Vec::new();
    let mut pick_ms = Vec::new();
    // `--empty`: a stage with no meshes, so a frame is the background, the clears and the readback.
    let grids: Vec<Option<u32>> = if empty { vec![None] } else { GRID_CELLS.map(Some).to_vec() };
    for cells in grids {
        let grid = cells.map(synthetic::grid);
        let triangles = grid.as_ref().map_or(0, |g| g.triangle_count());
        let meshes = grid.into_iter().map(|g| ("/World/Grid", g, vec![synthetic::transform([0.0; 3], 1.0)])).collect();
        let scene = synthetic::scene(meshes);
        let upload_start = Instant::now();
        raster.open_stage(scene.as_scene()).into_result().unwrap_or_else(|e| fail("open_stage", e));
        let upload_ms = upload_start.elapsed().as_secs_f64() * 1e3;
        for (width, height) in SIZES {
            raster.resize(width, height).into_result().unwrap_or_else(|e| fail("resize", e));
            let mut frame_number = 0u64;
            let (mut gpu_scene, mut gpu_yuv) = (Vec::new(), Vec::new());
            let (times, total) = common::time_frames(seconds, MAX_FRAMES, WARMUP_FRAMES, || {
                frame_number += 1;
                let request =
                    RenderRequest { camera: camera(frame_number), frame_number, time_us: 0, time_code: f64::NAN };
                let touched = request.with_ref(|request| {
                    common::touch_rows(&raster.render(request).into_result().unwrap_or_else(|e| fail("render", e)))
                });
                if let Some(gpu) = raster.gpu_times() {
                    gpu_scene.extend(gpu.scene_ms);
                    gpu_yuv.extend(gpu.yuv_ms);
                }
                touched
            });
            let median = |v: &mut Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied()
            };
            let picks = 20;
            let pick_start = Instant::now();
            for i in 0..picks {
                let id = raster.pick(width / 2 + i, height / 2).into_result().unwrap_or_else(|e| fail("pick", e));
                std::hint::black_box(id);
            }
            pick_ms.push(pick_start.elapsed().as_secs_f64() * 1e3 / f64::from(picks));
            results.push(json!({
                "width": width,
                "height": height,
                "triangles": triangles,
                "frames": times.len(),
                "fps": times.len() as f64 / total,
                "frame_ms_median": common::percentile_ms(&times, 0.5),
                "frame_ms_p95": common::percentile_ms(&times, 0.95),
                "upload_ms": upload_ms,
                // OVHOST_RASTER_GPU_TIMES=1 on an adapter with timestamp queries: GPU time of
                // the scene pass and of the I420 conversion pass (null otherwise).
                "gpu_scene_ms_median": median(&mut gpu_scene),
                "gpu_yuv_ms_median": median(&mut gpu_yuv),
            }));
        }
    }
    let mean_pick_ms = pick_ms.iter().sum::<f64>() / pick_ms.len().max(1) as f64;
    let report = json!({
        "benchmark": "raster_render_readback",
        "output": output.name(),
        "adapter": info.name,
        "backend": format!("{:?}", info.backend),
        "device_type": format!("{:?}", info.device_type),
        "driver": info.driver,
        "seconds_per_case": seconds,
        "results": results,
        "pick_ms_mean": mean_pick_ms,
    });
    println!("{report}");
}

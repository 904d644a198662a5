//! Benchmark: the cost of the selection outline. Frame time (render + outline passes + readback
//! into host memory) at 1280×720 with nothing selected, then with a sphere selected at outline
//! widths 1, 2 (the default) and 6 (the settings' maximum), then with everything selected; the
//! camera orbits every frame. Prints one `BENCH outline ...` line per case on stdout. Usage:
//! `outline_bench [--seconds S] [--size WxH]` (S per case, default 3). The adapter follows
//! `OVHOST_WGPU_BACKEND` / `OVHOST_WGPU_ADAPTER` like the plugin (lavapipe on a CPU machine).

mod common;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_raster::{Raster, RasterConfig, synthetic};

const WARMUP_FRAMES: u32 = 5;
const MAX_FRAMES: usize = 2000;

fn fail(what: &str, e: PluginError) -> ! {
    eprintln!("outline_bench: {what}: {e}");
    std::process::exit(1)
}

fn usage() -> ! {
    eprintln!("usage: outline_bench [--seconds S] [--size WxH]");
    std::process::exit(2)
}

fn camera(frame: u64) -> CameraView {
    let angle = frame as f64 * 0.01;
    CameraView {
        eye: [4.0 * angle.sin(), 2.5, 4.0 * angle.cos()],
        target: [0.0; 3],
        up: [0.0, 1.0, 0.0],
        fov_y_deg: 45.0,
        near: 0.05,
        far: 100.0,
        ..CameraView::default()
    }
}

fn main() {
    let mut seconds = 3.0f64;
    let (mut width, mut height) = (1280u32, 720u32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| usage()),
            "--size" => {
                let size = args.next().unwrap_or_else(|| usage());
                let (w, h) = size.split_once('x').unwrap_or_else(|| usage());
                (width, height) = (w.parse().unwrap_or_else(|_| usage()), h.parse().unwrap_or_else(|_| usage()));
            }
            _ => usage(),
        }
    }
    let config = RasterConfig::from_json_and_env("{}").unwrap_or_else(|e| fail("config", e));
    let mut raster = Raster::new(&config).unwrap_or_else(|e| fail("creating the renderer", e));
    let adapter = raster.adapter_description();
    // A 5k-triangle ground (prim 1) and two spheres (prims 2, 3) over it.
    let scene = synthetic::scene(vec![
        ("/World/Ground", synthetic::grid(50), vec![synthetic::transform([0.0; 3], 2.0)]),
        (
            "/World/Ball",
            synthetic::sphere(0.6, 32, 48, Some([0.8, 0.2, 0.1])),
            vec![synthetic::transform([-0.8, 0.7, 0.0], 1.0)],
        ),
        (
            "/World/Other",
            synthetic::sphere(0.4, 32, 48, Some([0.1, 0.3, 0.8])),
            vec![synthetic::transform([0.9, 0.5, 0.3], 1.0)],
        ),
    ]);
    raster.open_stage(scene.as_scene()).into_result().unwrap_or_else(|e| fail("open_stage", e));
    raster.resize(width, height).into_result().unwrap_or_else(|e| fail("resize", e));
    let cases: [(&str, &[u32], u32); 5] = [
        ("none", &[], 2),
        ("one prim, width 1", &[2], 1),
        ("one prim, width 2", &[2], 2),
        ("one prim, width 6", &[2], 6),
        ("all prims, width 6", &[1, 2, 3], 6),
    ];
    let mut frame_number = 0u64;
    let mut baseline = None;
    for (label, selection, outline_width) in cases {
        raster
            .set_render_setting(RStr::from_str("outline_width_px"), RStr::from_str(&outline_width.to_string()))
            .into_result()
            .unwrap_or_else(|e| fail("outline_width_px", e));
        raster.set_selection(RSlice::from_slice(selection)).into_result().unwrap_or_else(|e| fail("selection", e));
        let (times, total) = common::time_frames(seconds, MAX_FRAMES, WARMUP_FRAMES, || {
            frame_number += 1;
            let request = RenderRequest { camera: camera(frame_number), frame_number, time_us: 0, time_code: f64::NAN };
            request.with_ref(|request| {
                common::touch_rows(&raster.render(request).into_result().unwrap_or_else(|e| fail("render", e)))
            })
        });
        let fps = times.len() as f64 / total;
        let median = common::percentile_ms(&times, 0.5);
        let base = *baseline.get_or_insert(median);
        println!(
            "BENCH outline {width}x{height} selection {label}: frame median {median:.2} ms, p95 {:.2} ms, {fps:.1} fps, {:.2}x the unselected median ({} frames; {adapter})",
            common::percentile_ms(&times, 0.95),
            median / base,
            times.len(),
        );
    }
}

//! Benchmark: playback frames per second of the raster renderer (tracks applied + render +
//! readback into host memory) at 640×360 and 1920×1080, the time code advancing every frame:
//!
//! - `deforming`: a skinned-character stand-in, a 65×65 grid (4,225 vertices, 8,192 triangles)
//!   whose positions are a baked 96-sample track, as the stage worker bakes UsdSkel skinning and
//!   time-sampled points (the whole vertex range is rewritten each frame);
//! - `instances`: 500 instanced cubes, each with its own 96-sample transform track.
//!
//! Prints one JSON object on stdout. Usage: `playback_bench [--seconds S]` (per case, default 2).

mod common;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::{StageScene, TimeRange, Track, TrackTarget};
use ovhost_plugin_raster::{Raster, RasterConfig, synthetic};
use serde_json::json;

const SIZES: [(u32, u32); 2] = [(640, 360), (1920, 1080)];
const SAMPLES: usize = 96;
const MAX_FRAMES: usize = 4000;

fn fail(what: &str, e: PluginError) -> ! {
    eprintln!("playback_bench: {what}: {e}");
    std::process::exit(1)
}

fn timed(scene: &mut StageScene) {
    scene.time_range =
        Some(TimeRange { start_time_code: 0.0, end_time_code: (SAMPLES - 1) as f64, time_codes_per_second: 24.0 });
}

fn deforming() -> StageScene {
    let grid = synthetic::grid(64);
    let base: Vec<[f32; 3]> = grid.positions.to_vec();
    let mut scene = synthetic::scene(vec![("/World/Character", grid, vec![synthetic::transform([0.0; 3], 1.0)])]);
    let mut values = Vec::with_capacity(SAMPLES * base.len() * 3);
    for s in 0..SAMPLES {
        let phase = s as f32 * 0.2;
        for p in &base {
            values.extend_from_slice(&[
                p[0],
                p[1] + 0.1 * (4.0 * p[0] + phase).sin() * (3.0 * p[2] + phase).cos(),
                p[2],
            ]);
        }
    }
    scene.tracks = vec![Track {
        target: TrackTarget::MESH_POSITIONS,
        mesh: 0,
        instance: 0,
        held: false,
        times: (0..SAMPLES).map(|s| s as f64).collect(),
        values: values.into(),
    }]
    .into();
    timed(&mut scene);
    scene
}

fn instances() -> StageScene {
    let count = 500;
    let place = |i: usize, s: usize| {
        let a = i as f64 * 0.7 + s as f64 * 0.05;
        let r = 0.5 + (i % 25) as f64 * 0.06;
        [r * a.cos(), (i / 25) as f64 * 0.08 - 0.8, r * a.sin()]
    };
    let mut scene = synthetic::scene(vec![(
        "/World/Swarm",
        synthetic::cube(0.02, Some([0.8, 0.3, 0.1])),
        (0..count).map(|i| synthetic::transform(place(i, 0), 1.0)).collect(),
    )]);
    scene.tracks = (0..count)
        .map(|i| Track {
            target: TrackTarget::INSTANCE_TRANSFORM,
            mesh: 0,
            instance: i as u32,
            held: false,
            times: (0..SAMPLES).map(|s| s as f64).collect(),
            values: (0..SAMPLES).flat_map(|s| synthetic::transform(place(i, s), 1.0).map(|x| x as f32)).collect(),
        })
        .collect();
    timed(&mut scene);
    scene
}

fn camera() -> CameraView {
    CameraView {
        eye: [0.0, 1.5, 3.0],
        target: [0.0; 3],
        up: [0.0, 1.0, 0.0],
        fov_y_deg: 45.0,
        near: 0.05,
        far: 100.0,
        ..CameraView::default()
    }
}

fn main() {
    let mut seconds = 2.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0),
            other => {
                eprintln!("playback_bench: unknown argument {other}; usage: playback_bench [--seconds S]");
                std::process::exit(2)
            }
        }
    }
    let config = RasterConfig::from_json_and_env("{}").unwrap_or_else(|e| fail("config", e));
    let mut raster = Raster::new(&config).unwrap_or_else(|e| fail("creating the renderer", e));
    let info = raster.adapter_info().clone();
    let mut results = Vec::new();
    for (name, scene) in [("deforming", deforming()), ("instances", instances())] {
        raster.open_stage(scene.as_scene()).into_result().unwrap_or_else(|e| fail("open_stage", e));
        for (width, height) in SIZES {
            raster.resize(width, height).into_result().unwrap_or_else(|e| fail("resize", e));
            let mut frame_number = 0u64;
            let (times, total) = common::time_frames(seconds, MAX_FRAMES, 5, || {
                frame_number += 1;
                // A new time code every frame (0.37 codes apart, never a sample exactly).
                let time_code = (frame_number as f64 * 0.37) % (SAMPLES - 1) as f64;
                let request = RenderRequest { camera: camera(), frame_number, time_us: 0, time_code };
                request.with_ref(|request| {
                    common::touch_rows(&raster.render(request).into_result().unwrap_or_else(|e| fail("render", e)))
                })
            });
            results.push(json!({
                "case": name,
                "width": width,
                "height": height,
                "tracks": scene.tracks.len(),
                "vertices": scene.meshes.iter().map(|m| m.positions.len()).sum::<usize>(),
                "instances": scene.meshes.iter().map(|m| m.instances.len()).sum::<usize>(),
                "frames": times.len(),
                "fps": times.len() as f64 / total,
                "frame_ms_median": common::percentile_ms(&times, 0.5),
                "frame_ms_p95": common::percentile_ms(&times, 0.95),
            }));
        }
    }
    println!(
        "{}",
        json!({
            "benchmark": "raster_playback",
            "adapter": info.name,
            "backend": format!("{:?}", info.backend),
            "seconds_per_case": seconds,
            "results": results,
        })
    );
}

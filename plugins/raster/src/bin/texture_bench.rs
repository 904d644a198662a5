//! Benchmark: textured stages end to end through the real stage service (worker process) and the
//! raster renderer. Prints one JSON object on stdout and nothing else.
//!
//! 1. **Time to first frame and until all textures are shown** for a stage with `--textures N`
//!    (default 48) PNG textures of 1024² (noise over gradients, so they compress like
//!    photographs rather than flat colour), one per quad, each quad bound to its own
//!    UsdPreviewSurface. `streamed` (what the host does): the worker answers the open with the
//!    textures still without pixels, the renderer draws the first 1920×1080 frame on fallbacks,
//!    and a second thread fetches the decoded textures batch by batch while this one keeps
//!    rendering and hands each batch to the renderer (`update_textures`); "all textures shown" is
//!    the first frame after the last batch, and the largest gap between frames meanwhile is
//!    reported. `inline` (textures decoded during the open, before the first frame): both
//!    instants are the same. Each measured cold (a fresh worker: decode) and warm (re-open: the
//!    worker's texture cache).
//! 2. **Frames per second** at 1920×1080 (render + readback) for ~100k textured triangles (a
//!    224×224 grid with a diffuse, roughness and normal map), a distant light, a sphere light and
//!    a dome, PBR shading.
//!
//! Usage: `texture_bench [--seconds S] [--textures N] [--dir PATH]`. The worker is
//! `ovhost-stage-worker` next to this binary (`OVHOST_STAGE_WORKER` overrides). Built with
//! `--features stage-bench`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_raster::{Raster, RasterConfig};
use serde_json::json;

const SIDE: u32 = 1024;

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("texture_bench: {what}: {e}");
    std::process::exit(1)
}

/// A 1024² RGB PNG: a per-texture hue gradient with value noise (xorshift), so it compresses
/// about as well as a photograph.
fn write_texture(path: &Path, seed: u32) {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut img = image::RgbImage::new(SIDE, SIDE);
    for (x, y, p) in img.enumerate_pixels_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state & 63) as i32 - 32;
        let base = [(x * 255 / SIDE) as i32, (y * 255 / SIDE) as i32, ((seed * 37) % 256) as i32];
        *p = image::Rgb(base.map(|c| (c + noise).clamp(0, 255) as u8));
    }
    img.save(path).unwrap_or_else(|e| fail("writing a texture", e));
}

fn quad_mesh(name: &str, x: f32, z: f32, material: &str) -> String {
    format!(
        r#"    def Mesh "{name}" (prepend apiSchemas = ["MaterialBindingAPI"]) {{
        rel material:binding = <{material}>
        point3f[] points = [({x0}, 0, {z0}), ({x1}, 0, {z0}), ({x1}, 0, {z1}), ({x0}, 0, {z1})]
        int[] faceVertexCounts = [4]
        int[] faceVertexIndices = [0, 3, 2, 1]
        texCoord2f[] primvars:st = [(0, 0), (0, 1), (1, 1), (1, 0)] (interpolation = "vertex")
    }}
"#,
        x0 = x,
        x1 = x + 0.9,
        z0 = z,
        z1 = z + 0.9
    )
}

fn material(name: &str, diffuse: &str, extra: &str) -> String {
    format!(
        r#"    def Material "{name}" {{
        token outputs:surface.connect = </World/Looks/{name}/Surface.outputs:surface>
        def Shader "Surface" {{
            uniform token info:id = "UsdPreviewSurface"
            color3f inputs:diffuseColor.connect = </World/Looks/{name}/Diffuse.outputs:rgb>
            {extra}
            token outputs:surface
        }}
        def Shader "St" {{
            uniform token info:id = "UsdPrimvarReader_float2"
            token inputs:varname = "st"
            float2 outputs:result
        }}
        def Shader "Diffuse" {{
            uniform token info:id = "UsdUVTexture"
            asset inputs:file = @{diffuse}@
            float2 inputs:st.connect = </World/Looks/{name}/St.outputs:result>
            token inputs:sourceColorSpace = "sRGB"
            float3 outputs:rgb
        }}
    }}
"#
    )
}

/// Writes the many-textures stage; returns its file name.
fn author_many(dir: &Path, count: u32) -> String {
    std::fs::create_dir_all(dir.join("tex")).unwrap_or_else(|e| fail("creating the stage folder", e));
    let mut looks = String::new();
    let mut meshes = String::new();
    let per_row = (count as f32).sqrt().ceil() as u32;
    for i in 0..count {
        let file = format!("tex/t{i:03}.png");
        if !dir.join(&file).exists() {
            write_texture(&dir.join(&file), i + 1);
        }
        looks.push_str(&material(&format!("M{i}"), &file, "float inputs:roughness = 0.4"));
        let (x, z) = ((i % per_row) as f32, (i / per_row) as f32);
        meshes.push_str(&quad_mesh(&format!("Q{i}"), x, z, &format!("/World/Looks/M{i}")));
    }
    let text = format!(
        "#usda 1.0\n(\n    defaultPrim = \"World\"\n    upAxis = \"Y\"\n)\ndef Xform \"World\" {{\n  def Scope \"Looks\" {{\n{looks}  }}\n{meshes}}}\n"
    );
    std::fs::write(dir.join("many_textures.usda"), text).unwrap_or_else(|e| fail("writing the stage", e));
    "many_textures.usda".into()
}

/// Writes the ~100k-triangle textured grid with lights; returns its file name.
fn author_grid(dir: &Path) -> String {
    let cells = 224u32;
    let side = cells + 1;
    let mut points = String::new();
    let mut st = String::new();
    for j in 0..side {
        for i in 0..side {
            let (u, v) = (i as f32 / cells as f32, j as f32 / cells as f32);
            let y = 0.1 * (6.0 * (u * 2.0 - 1.0)).sin() * (6.0 * (v * 2.0 - 1.0)).cos();
            points.push_str(&format!("({:.4}, {y:.4}, {:.4}),", u * 2.0 - 1.0, v * 2.0 - 1.0));
            st.push_str(&format!("({u:.4}, {v:.4}),"));
        }
    }
    let mut indices = String::new();
    for j in 0..cells {
        for i in 0..cells {
            let a = j * side + i;
            indices.push_str(&format!("{},{},{},{},", a, a + side, a + side + 1, a + 1));
        }
    }
    let counts = vec!["4"; (cells * cells) as usize].join(",");
    if !dir.join("tex/rough.png").exists() {
        write_texture(&dir.join("tex/rough.png"), 1001);
        write_texture(&dir.join("tex/normal.png"), 1002);
    }
    let extra = r#"float inputs:roughness.connect = </World/Looks/Grid/Rough.outputs:g>
            normal3f inputs:normal.connect = </World/Looks/Grid/Normal.outputs:rgb>
            float inputs:metallic = 0.3"#;
    let mut looks = material("Grid", "tex/t000.png", extra);
    let tail = "    }\n";
    looks.truncate(looks.len() - tail.len());
    looks.push_str(
        r#"        def Shader "Rough" {
            uniform token info:id = "UsdUVTexture"
            asset inputs:file = @tex/rough.png@
            float2 inputs:st.connect = </World/Looks/Grid/St.outputs:result>
            token inputs:sourceColorSpace = "raw"
            float outputs:g
        }
        def Shader "Normal" {
            uniform token info:id = "UsdUVTexture"
            asset inputs:file = @tex/normal.png@
            float2 inputs:st.connect = </World/Looks/Grid/St.outputs:result>
            token inputs:sourceColorSpace = "raw"
            float4 inputs:scale = (2, 2, 2, 1)
            float4 inputs:bias = (-1, -1, -1, 0)
            float3 outputs:rgb
        }
    }
"#,
    );
    let text = format!(
        r#"#usda 1.0
(
    defaultPrim = "World"
    upAxis = "Y"
)
def Xform "World" {{
  def Scope "Looks" {{
{looks}  }}
  def Mesh "Grid" (prepend apiSchemas = ["MaterialBindingAPI"]) {{
    rel material:binding = </World/Looks/Grid>
    point3f[] points = [{points}]
    int[] faceVertexCounts = [{counts}]
    int[] faceVertexIndices = [{indices}]
    texCoord2f[] primvars:st = [{st}] (interpolation = "vertex")
  }}
  def DistantLight "Sun" {{ float inputs:intensity = 2.5
    float3 xformOp:rotateXYZ = (-50, 30, 0)
    uniform token[] xformOpOrder = ["xformOp:rotateXYZ"] }}
  def SphereLight "Bulb" {{ float inputs:intensity = 30
    float inputs:radius = 0.1
    color3f inputs:color = (1, 0.6, 0.3)
    double3 xformOp:translate = (0.5, 0.8, 0.3)
    uniform token[] xformOpOrder = ["xformOp:translate"] }}
  def DomeLight "Sky" {{ float inputs:intensity = 0.3 }}
}}
"#
    );
    std::fs::write(dir.join("textured_grid.usda"), text).unwrap_or_else(|e| fail("writing the grid stage", e));
    "textured_grid.usda".into()
}

fn worker() -> Command {
    let path = std::env::var_os("OVHOST_STAGE_WORKER").map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap_or_else(|e| fail("locating this binary", e));
        exe.with_file_name("ovhost-stage-worker")
    });
    Command::new(path)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn camera(frame: u64, eye_radius: f64, height: f64, target: [f64; 3]) -> CameraView {
    let angle = frame as f64 * 0.01;
    CameraView {
        eye: [target[0] + eye_radius * angle.sin(), height, target[2] + eye_radius * angle.cos()],
        target,
        up: [0.0, 1.0, 0.0],
        fov_y_deg: 45.0,
        near: 0.05,
        far: 100.0,
        ..CameraView::default()
    }
}

fn render_once(raster: &mut Raster, frame: u64, cam: CameraView) -> u8 {
    let request = RenderRequest { camera: cam, frame_number: frame, time_us: 0, time_code: f64::NAN };
    request.with_ref(|q| {
        let frame = raster.render(q).into_result().unwrap_or_else(|e| fail("render", e));
        let bytes = frame.host_bytes().unwrap_or_default();
        bytes.iter().step_by(frame.pitch_bytes.max(1) as usize).fold(0u8, |a, b| a ^ b)
    })
}

/// One streamed open: the first frame on fallbacks, then frames while another thread fetches
/// the textures batch by batch; returns the figures and the service back.
fn streamed_pass(
    service: ovhost_stage::StageService,
    raster: &mut Raster,
    stage: &str,
    side: f64,
    target: [f64; 3],
) -> (serde_json::Value, ovhost_stage::StageService) {
    let mut service = service;
    let start = Instant::now();
    let opened = service.open(stage).unwrap_or_else(|e| fail("open (streamed)", e));
    let open_ms = ms(start.elapsed());
    let mut scene = opened.scene;
    raster.open_stage(scene.as_scene()).into_result().unwrap_or_else(|e| fail("open_stage", e));
    let cam = camera(0, side * 0.9, side * 0.7, target);
    std::hint::black_box(render_once(raster, 1, cam));
    let first_ms = ms(start.elapsed());
    let (tx, rx) = std::sync::mpsc::channel();
    let fetcher = std::thread::spawn(move || {
        loop {
            let batch = service.next_textures().unwrap_or_else(|e| fail("next_textures", e));
            let done = batch.remaining == 0;
            if tx.send(batch).is_err() || done {
                break;
            }
        }
        service
    });
    let (mut frames, mut max_gap, mut last, mut done, mut decoded) = (0u64, Duration::ZERO, Instant::now(), false, 0);
    while !done {
        while let Ok(batch) = rx.try_recv() {
            let mut indices = Vec::with_capacity(batch.textures.len());
            for (i, texture) in batch.textures {
                decoded += usize::from(!texture.rgba8.is_empty());
                scene.textures[i as usize] = texture;
                indices.push(i);
            }
            raster
                .update_textures(scene.as_scene(), RSlice::from_slice(&indices))
                .into_result()
                .unwrap_or_else(|e| fail("update_textures", e));
            done |= batch.remaining == 0;
        }
        std::hint::black_box(render_once(raster, 2 + frames, cam));
        frames += 1;
        max_gap = max_gap.max(last.elapsed());
        last = Instant::now();
    }
    let all_ms = ms(start.elapsed());
    let service = fetcher.join().unwrap_or_else(|_| fail("texture fetcher", "panicked"));
    let report = json!({
        "textures": scene.textures.len(),
        "textures_decoded": decoded,
        "texture_side_px": SIDE,
        "open_ms": open_ms,
        "time_to_first_frame_ms": first_ms,
        "time_to_all_textures_ms": all_ms,
        "frames_while_streaming": frames,
        "max_frame_gap_ms": ms(max_gap),
    });
    (report, service)
}

fn main() {
    let mut seconds = 3.0f64;
    let mut count = 48u32;
    let mut dir = std::env::temp_dir().join("ovhost-texture-bench");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail("arguments", format!("{arg} needs a value")));
        match arg.as_str() {
            "--seconds" => seconds = value().parse().unwrap_or_else(|e| fail("--seconds", e)),
            "--textures" => count = value().parse().unwrap_or_else(|e| fail("--textures", e)),
            "--dir" => dir = PathBuf::from(value()),
            other => fail(
                "arguments",
                format!("unknown {other}; usage: texture_bench [--seconds S] [--textures N] [--dir PATH]"),
            ),
        }
    }
    let author_start = Instant::now();
    let many = author_many(&dir, count);
    let grid = author_grid(&dir);
    let author_ms = ms(author_start.elapsed());

    let config = RasterConfig::from_json_and_env("{}").unwrap_or_else(|e| fail("config", e));
    let mut raster = Raster::new(&config).unwrap_or_else(|e| fail("creating the renderer", e));
    raster.resize(1920, 1080).into_result().unwrap_or_else(|e| fail("resize", e));
    let info = raster.adapter_info().clone();
    let mut service =
        ovhost_stage::StageService::new(worker(), dir.clone()).unwrap_or_else(|e| fail("stage service", e));

    // 1. Time to first frame, cold then warm; streamed first (its own fresh worker).
    let side = (count as f64).sqrt().ceil();
    let target = [side / 2.0, 0.0, side / 2.0];
    let mut first_frame = Vec::new();
    let mut streaming =
        ovhost_stage::StageService::new(worker(), dir.clone()).unwrap_or_else(|e| fail("stage service", e));
    streaming.set_defer_textures(true);
    for pass in ["cold", "warm"] {
        let (report, back) = streamed_pass(streaming, &mut raster, &many, side, target);
        streaming = back;
        let get = |k: &str| report[k].as_f64().unwrap_or(f64::NAN);
        eprintln!(
            "BENCH textures_streamed pass={pass} textures={count} side_px={SIDE} time_to_first_frame_ms={:.1} time_to_all_textures_ms={:.1} max_frame_gap_ms={:.1} frames_while_streaming={}",
            get("time_to_first_frame_ms"),
            get("time_to_all_textures_ms"),
            get("max_frame_gap_ms"),
            report["frames_while_streaming"]
        );
        let mut report = report;
        report["pass"] = json!(pass);
        report["mode"] = json!("streamed");
        first_frame.push(report);
    }
    drop(streaming);
    for pass in ["cold", "warm"] {
        let start = Instant::now();
        let opened = service.open(&many).unwrap_or_else(|e| fail("open", e));
        let open_ms = ms(start.elapsed());
        let textures = &opened.scene.textures;
        let decoded = textures.iter().filter(|t| !t.rgba8.is_empty()).count();
        let upload_start = Instant::now();
        raster.open_stage(opened.scene.as_scene()).into_result().unwrap_or_else(|e| fail("open_stage", e));
        let upload_ms = ms(upload_start.elapsed());
        let render_start = Instant::now();
        std::hint::black_box(render_once(&mut raster, 1, camera(0, side * 0.9, side * 0.7, target)));
        let render_ms = ms(render_start.elapsed());
        eprintln!(
            "BENCH textures_inline pass={pass} textures={count} side_px={SIDE} time_to_first_frame_ms={:.1} time_to_all_textures_ms={:.1}",
            ms(start.elapsed()),
            ms(start.elapsed())
        );
        first_frame.push(json!({
            "pass": pass,
            "mode": "inline",
            "textures": textures.len(),
            "textures_decoded": decoded,
            "texture_side_px": SIDE,
            "open_ms": open_ms,
            "upload_ms": upload_ms,
            "first_render_ms": render_ms,
            "time_to_first_frame_ms": ms(start.elapsed()),
            "time_to_all_textures_ms": ms(start.elapsed()),
        }));
    }

    // 2. Frames per second for the textured, lit grid.
    let opened = service.open(&grid).unwrap_or_else(|e| fail("open grid", e));
    let triangles = opened.scene.triangle_count();
    let lights = opened.scene.lights.len();
    raster.open_stage(opened.scene.as_scene()).into_result().unwrap_or_else(|e| fail("open_stage grid", e));
    for f in 0..5 {
        std::hint::black_box(render_once(&mut raster, f, camera(f, 2.5, 1.6, [0.0; 3])));
    }
    let mut times = Vec::new();
    let start = Instant::now();
    let mut frame = 5u64;
    while start.elapsed().as_secs_f64() < seconds && times.len() < 5000 {
        let t = Instant::now();
        std::hint::black_box(render_once(&mut raster, frame, camera(frame, 2.5, 1.6, [0.0; 3])));
        times.push(t.elapsed());
        frame += 1;
    }
    let total = start.elapsed().as_secs_f64();
    times.sort();
    let pct = |p: f64| times.get(((times.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |d| ms(*d));
    eprintln!(
        "BENCH pbr_fps width=1920 height=1080 triangles={triangles} lights={lights} fps={:.1} frame_ms_median={:.2} frame_ms_p95={:.2} adapter={:?}",
        times.len() as f64 / total,
        pct(0.5),
        pct(0.95),
        info.name
    );
    let report = json!({
        "benchmark": "textured_stages",
        "adapter": info.name,
        "backend": format!("{:?}", info.backend),
        "device_type": format!("{:?}", info.device_type),
        "author_ms": author_ms,
        "first_frame": first_frame,
        "pbr_fps": {
            "width": 1920, "height": 1080, "triangles": triangles, "lights": lights,
            "frames": times.len(), "fps": times.len() as f64 / total,
            "frame_ms_median": pct(0.5), "frame_ms_p95": pct(0.95),
        },
    });
    println!("{report}");
}

//! Shared helpers for the raster renderer tests: a renderer on whatever adapter this machine
//! has, the standard test scene and camera, frame capture, pixel checks and PNG output.

#![allow(dead_code)]

use glam::{DMat4, DVec3};
use ovhost_plugin_api::prelude::*;
use ovhost_plugin_raster::{Raster, RasterConfig, synthetic};

pub const WIDTH: u32 = 300;
pub const HEIGHT: u32 = 180;

pub const RED: [f32; 3] = [0.9, 0.05, 0.05];
pub const GREEN: [f32; 3] = [0.05, 0.8, 0.05];
pub const BLUE: [f32; 3] = [0.1, 0.15, 0.9];

pub const RED_CENTER: [f64; 3] = [-1.6, 0.6, 0.0];
pub const GREEN_CENTER: [f64; 3] = [1.6, 0.6, 0.0];
/// A point on the ground plane in front of the cubes.
pub const PLANE_POINT: [f64; 3] = [0.0, 0.0, 2.5];

/// Serializes the GPU tests of this binary. NVIDIA's driver (580) was seen to hang when many
/// libtest threads that used the GPU exit at once; one test at a time avoids that, and costs
/// little on software rasterizers. Hold the guard for the whole test.
pub fn gpu_lock() -> std::sync::MutexGuard<'static, ()> {
    static GPU: std::sync::Mutex<()> = std::sync::Mutex::new(());
    GPU.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A renderer resized to the test size.
pub fn raster() -> Raster {
    let mut r = Raster::new(&RasterConfig::from_json_and_env("{}").expect("default config parses"))
        .expect("a wgpu adapter (install libvulkan1 mesa-vulkan-drivers for lavapipe)");
    r.resize(WIDTH, HEIGHT).unwrap();
    r
}

/// Red cube (prim 1) on the left, green cube (prim 2) on the right, blue ground plane (prim 3).
pub fn cubes_scene() -> StageScene {
    synthetic::scene(vec![
        ("/World/Red", synthetic::cube(0.6, Some(RED)), vec![synthetic::transform(RED_CENTER, 1.0)]),
        ("/World/Green", synthetic::cube(0.6, Some(GREEN)), vec![synthetic::transform(GREEN_CENTER, 1.0)]),
        ("/World/Ground", synthetic::plane(8.0, BLUE), vec![synthetic::transform([0.0; 3], 1.0)]),
    ])
}

/// A y-up camera at `eye` looking at `target` (45° vertical field of view, depth 0.1 to 100).
pub fn looking(eye: [f64; 3], target: [f64; 3]) -> CameraView {
    CameraView { eye, target, up: [0.0, 1.0, 0.0], fov_y_deg: 45.0, near: 0.1, far: 100.0, ..CameraView::default() }
}

pub fn camera() -> CameraView {
    looking([0.0, 2.5, 7.0], [0.0, 0.4, 0.0])
}

pub fn request() -> RenderRequest {
    RenderRequest { camera: camera(), frame_number: 7, time_us: 1234, time_code: f64::NAN }
}

/// Where a world point lands in the test frame, in pixels (x right, y down).
pub fn project(p: [f64; 3]) -> (u32, u32) {
    let c = camera();
    let view = glam::dcamera::rh::view::look_at_mat4(c.eye.into(), c.target.into(), c.up.into());
    let proj = glam::dcamera::rh::proj::directx::perspective(
        c.fov_y_deg.to_radians(),
        f64::from(WIDTH) / f64::from(HEIGHT),
        c.near,
        c.far,
    );
    let ndc = (proj * view as DMat4).project_point3(DVec3::from(p));
    let x = (ndc.x * 0.5 + 0.5) * f64::from(WIDTH);
    let y = (0.5 - ndc.y * 0.5) * f64::from(HEIGHT);
    (x as u32, y as u32)
}

/// A frame copied out of the renderer (tight RGBA rows).
#[derive(Clone)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl Image {
    pub fn px(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]]
    }

    /// Variance of the per-pixel luminance (0..255 scale).
    pub fn luma_variance(&self) -> f64 {
        let l: Vec<f64> = self
            .rgba
            .chunks_exact(4)
            .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
            .collect();
        let mean = l.iter().sum::<f64>() / l.len() as f64;
        l.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / l.len() as f64
    }

    /// Mean absolute per-channel difference (RGB) to another image of the same size.
    pub fn mean_abs_diff(&self, other: &Image) -> f64 {
        let sum: u64 = self
            .rgba
            .chunks_exact(4)
            .zip(other.rgba.chunks_exact(4))
            .map(|(a, b)| (0..3).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>())
            .sum();
        sum as f64 / (self.rgba.len() / 4 * 3) as f64
    }

    pub fn count(&self, pred: impl Fn([u8; 4]) -> bool) -> usize {
        self.rgba.chunks_exact(4).filter(|p| pred([p[0], p[1], p[2], p[3]])).count()
    }

    /// Writes `target/raster-test-output/<name>.png` for a person to look at.
    pub fn save_png(&self, name: &str) {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
            .join("raster-test-output");
        std::fs::create_dir_all(&dir).expect("create target/raster-test-output");
        let file = std::fs::File::create(dir.join(format!("{name}.png"))).expect("create the PNG file");
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("write the PNG header");
        writer.write_image_data(&self.rgba).expect("write the PNG pixels");
    }
}

/// Checks the frame descriptor and copies its rows out, honouring `pitch_bytes`.
pub fn capture(frame: &Frame<'_>) -> Image {
    frame.validate().expect("the frame descriptor is self-consistent");
    assert_eq!(frame.format, FrameFormat::RGBA8);
    assert_eq!(frame.location, MemoryLocation::HOST);
    let bytes = frame.host_bytes().expect("a host frame has host bytes");
    let row = (frame.width * 4) as usize;
    let mut rgba = Vec::with_capacity(row * frame.height as usize);
    for y in 0..frame.height as usize {
        let start = y * frame.pitch_bytes as usize;
        rgba.extend_from_slice(&bytes[start..start + row]);
    }
    Image { width: frame.width, height: frame.height, rgba }
}

/// Renders one frame with [`request`]; the frame borrows the renderer.
pub fn frame(r: &mut Raster) -> Frame<'_> {
    request().with_ref(|q| r.render(q).unwrap())
}

pub fn render(r: &mut Raster) -> Image {
    capture(&frame(r))
}

pub fn is_red(p: [u8; 4]) -> bool {
    p[0] > 80 && u16::from(p[0]) > 2 * u16::from(p[1]) && u16::from(p[0]) > 2 * u16::from(p[2])
}

pub fn is_green(p: [u8; 4]) -> bool {
    p[1] > 80 && u16::from(p[1]) > 2 * u16::from(p[0]) && u16::from(p[1]) > 2 * u16::from(p[2])
}

pub fn is_blue(p: [u8; 4]) -> bool {
    p[2] > 80 && u16::from(p[2]) > u16::from(p[0]) + 50 && u16::from(p[2]) > u16::from(p[1]) + 40
}

/// The default outline orange (#ff8c00), with tolerance.
pub fn is_orange(p: [u8; 4]) -> bool {
    p[0] > 220 && (110..=170).contains(&p[1]) && p[2] < 50
}

/// Neutral grey-ish (background gradient): channels within a few steps of each other.
pub fn is_neutral(p: [u8; 4]) -> bool {
    let max = p[0].max(p[1]).max(p[2]);
    let min = p[0].min(p[1]).min(p[2]);
    max - min <= 16
}

/// Looking straight at the z = 0 plane from 5 units away (45° vertical field of view), at
/// `time_code` (`f64::NAN`: the scene's start).
pub fn face_on(time_code: f64) -> RenderRequest {
    RenderRequest { camera: looking([0.0, 0.0, 5.0], [0.0, 0.0, 0.0]), frame_number: 1, time_us: 0, time_code }
}

/// One frame seen [`face_on`] at `time_code`.
pub fn shoot_face_on(r: &mut Raster, time_code: f64) -> Image {
    face_on(time_code).with_ref(|q| capture(&r.render(q).unwrap()))
}

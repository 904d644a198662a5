//! `testpattern`: a diagnostic renderer that needs no GPU and no stage.
//!
//! Each frame shows a gradient that scrolls with time, the frame number in large digits (top
//! left), and a marker whose position follows the camera's viewing direction (azimuth → x,
//! elevation → y) and whose size follows the camera distance, so camera input visibly changes
//! the image. It registers renderer id `testpattern`.

mod digits;

use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::{FRAME_FLAG_CHANGING, FRAME_FLAG_KEYFRAME, builtin_plugin};

builtin_plugin! {
    name: "testpattern",
    description: "Diagnostic renderer: moving gradient, frame counter, camera-dependent marker",
    register: register,
}

fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.renderer::<TestPattern>("testpattern", "Moving gradient, frame counter and a marker that follows the camera");
    Ok(())
}

/// Marker colour for the selected "prim" (the pattern has one pickable pseudo-prim: the marker).
const MARKER_RGB: [u8; 3] = [255, 200, 40];
const SELECTED_RGB: [u8; 3] = [255, 120, 0];

#[derive(Default)]
pub struct TestPattern {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    marker: Marker,
    selected: bool,
    stage_loaded: bool,
}

#[derive(Default, Clone, Copy)]
struct Marker {
    cx: i64,
    cy: i64,
    radius: i64,
}

impl TestPattern {
    fn draw(&mut self, request: RenderRequestRef) {
        let (w, h) = (self.width as usize, self.height as usize);
        let shift = (request.time_us() / 10_000) as usize; // scrolls 100 px/s
        for y in 0..h {
            let row = &mut self.pixels[y * w * 4..(y + 1) * w * 4];
            for (x, px) in row.chunks_exact_mut(4).enumerate() {
                let u = ((x + shift) % 512) as u32;
                let tri = if u < 256 { u } else { 511 - u } as u8;
                px[0] = tri;
                px[1] = (y * 255 / h.max(1)) as u8;
                px[2] = 255 - tri / 2;
                px[3] = 255;
            }
        }
        self.marker = marker_for(&request.camera(), w as i64, h as i64);
        let color = if self.selected { SELECTED_RGB } else { MARKER_RGB };
        let Marker { cx, cy, radius } = self.marker;
        for y in (cy - radius).max(0)..(cy + radius).min(h as i64) {
            for x in (cx - radius).max(0)..(cx + radius).min(w as i64) {
                let (dx, dy) = (x - cx, y - cy);
                if dx * dx + dy * dy <= radius * radius {
                    let i = (y as usize * w + x as usize) * 4;
                    self.pixels[i..i + 3].copy_from_slice(&color);
                }
            }
        }
        let scale = (h / 90).max(2);
        digits::draw_number(&mut self.pixels, w, h, request.frame_number(), scale * 2, scale * 2, scale);
    }
}

/// Where the marker goes for a camera: azimuth around the up axis maps to x, elevation to y,
/// distance to size.
fn marker_for(view: &CameraView, w: i64, h: i64) -> Marker {
    let d: [f64; 3] = std::array::from_fn(|i| view.eye[i] - view.target[i]);
    let dist = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt().max(1e-9);
    let z_up = view.up[2].abs() > view.up[1].abs();
    let (horiz_a, horiz_b, vert) = if z_up { (d[0], d[1], d[2]) } else { (d[0], d[2], d[1]) };
    let azimuth = horiz_a.atan2(horiz_b); // -pi..pi
    let elevation = (vert / dist).clamp(-1.0, 1.0).asin(); // -pi/2..pi/2
    let cx = ((azimuth / std::f64::consts::TAU + 0.5) * w as f64) as i64;
    let cy = ((0.5 - elevation / std::f64::consts::PI) * h as f64) as i64;
    let radius = ((h as f64 / 6.0) * (10.0 / dist).clamp(0.2, 3.0)) as i64;
    Marker { cx, cy, radius: radius.max(4) }
}

impl RendererBackend for TestPattern {
    fn resize(&mut self, width: u32, height: u32) -> RResult<(), PluginError> {
        if width == 0 || height == 0 || width > 16384 || height > 16384 {
            return RResult::RErr(PluginError::invalid_input(format!("unsupported size {width}x{height}")));
        }
        self.width = width;
        self.height = height;
        self.pixels = vec![0; width as usize * height as usize * 4];
        RResult::ROk(())
    }

    fn open_stage(&mut self, _scene: SceneRef<'_>) -> RResult<(), PluginError> {
        self.stage_loaded = true;
        RResult::ROk(())
    }

    fn close_stage(&mut self) -> RResult<(), PluginError> {
        self.stage_loaded = false;
        RResult::ROk(())
    }

    fn render(&mut self, request: RenderRequestRef) -> RResult<Frame<'_>, PluginError> {
        if self.pixels.is_empty() {
            return RResult::RErr(PluginError::bad_state("resize must be called before render"));
        }
        self.draw(request);
        let mut frame = Frame::host(FrameFormat::RGBA8, self.width, self.height, self.width * 4, &self.pixels);
        // It scrolls with time and prints the frame number: always changing.
        frame.flags = FRAME_FLAG_KEYFRAME | FRAME_FLAG_CHANGING;
        frame.frame_number = request.frame_number();
        frame.timestamp_us = request.time_us();
        RResult::ROk(frame)
    }

    fn pick(&mut self, x: u32, y: u32) -> RResult<u32, PluginError> {
        let Marker { cx, cy, radius } = self.marker;
        let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
        RResult::ROk(u32::from(dx * dx + dy * dy <= radius * radius))
    }

    fn set_selection(&mut self, prim_ids: RSlice<'_, u32>) -> RResult<(), PluginError> {
        self.selected = prim_ids.contains(&1);
        RResult::ROk(())
    }

    fn render_settings(&self) -> RResult<RString, PluginError> {
        RResult::ROk(r#"{"settings":{},"capabilities":[]}"#.into())
    }

    fn set_render_setting(&mut self, key: RStr<'_>, _value_json: RStr<'_>) -> RResult<RString, PluginError> {
        RResult::RErr(PluginError::unsupported(format!("testpattern has no setting '{key}'")))
    }

    fn aovs(&self) -> RResult<RVec<RString>, PluginError> {
        RResult::ROk(RVec::from(vec![RString::from("LdrColor")]))
    }

    fn set_aov(&mut self, name: RStr<'_>) -> RResult<(), PluginError> {
        if name.as_str() == "LdrColor" {
            RResult::ROk(())
        } else {
            RResult::RErr(PluginError::not_found(format!("testpattern has no AOV '{name}'")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(tp: &mut TestPattern, camera: CameraView, frame_number: u64, time_us: u64) -> Vec<u8> {
        RenderRequest { camera, frame_number, time_us, time_code: f64::NAN }.with_ref(|request| {
            let frame = tp.render(request).unwrap();
            assert_eq!(frame.pitch_bytes, frame.width * 4);
            frame.host_bytes().unwrap().to_vec()
        })
    }

    fn changed_pixels(a: &[u8], b: &[u8]) -> usize {
        a.chunks(4).zip(b.chunks(4)).filter(|(p, q)| p != q).count()
    }

    #[test]
    fn camera_moves_the_marker_and_time_moves_the_gradient() {
        let mut tp = TestPattern::default();
        tp.resize(320, 180).unwrap();
        let base = CameraView::default();
        let a = render(&mut tp, base, 1, 0);
        let rotated = CameraView { eye: [10.0, 0.0, 0.0], ..base };
        let b = render(&mut tp, rotated, 1, 0);
        assert!(changed_pixels(&a, &b) > 500, "camera change must be visible");
        let c = render(&mut tp, base, 1, 500_000);
        assert!(changed_pixels(&a, &c) > 10_000, "time must scroll the gradient");
        let d = render(&mut tp, base, 1, 0);
        assert_eq!(a, d, "same inputs, same image");
    }

    #[test]
    fn frame_counter_is_drawn() {
        let mut tp = TestPattern::default();
        tp.resize(320, 180).unwrap();
        let a = render(&mut tp, CameraView::default(), 7, 0);
        let b = render(&mut tp, CameraView::default(), 8, 0);
        let diff = changed_pixels(&a, &b);
        assert!(diff > 0 && diff < 2000, "only the counter differs, got {diff} pixels");
    }

    #[test]
    fn pick_hits_the_marker_only() {
        let mut tp = TestPattern::default();
        tp.resize(320, 180).unwrap();
        render(&mut tp, CameraView::default(), 0, 0);
        let m = tp.marker;
        assert_eq!(tp.pick(m.cx as u32, m.cy as u32).unwrap(), 1);
        assert_eq!(tp.pick(0, 179).unwrap(), 0);
    }

    #[test]
    fn render_before_resize_is_an_error() {
        let mut tp = TestPattern::default();
        let request = RenderRequest { camera: CameraView::default(), frame_number: 0, time_us: 0, time_code: f64::NAN };
        let kind = request.with_ref(|q| tp.render(q).into_result().map(|_| ()).err().map(|e| e.kind));
        assert_eq!(kind, Some(ErrorKind::BAD_STATE));
    }
}

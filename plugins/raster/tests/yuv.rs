//! GPU colour conversion: the I420 frames the raster renderer converts on the GPU before readback
//! match a CPU BT.601 conversion (the encoder's own integer arithmetic) of the RGBA frame it
//! renders for the same request, within ±2 per sample; at a pitch-padded width, an odd size and
//! through the outline pass; and the renderer offers I420 only where it was asked to.
//! Runs on any Vulkan adapter (lavapipe in CI: the conversion is a wgpu compute pass).

mod support;

use ovhost_plugin_api::i420_layout;
use ovhost_plugin_api::prelude::*;
use ovhost_plugin_raster::config::YuvChoice;
use ovhost_plugin_raster::{Raster, RasterConfig};
use support::*;

/// Planes copied out of an I420 frame (tight rows).
struct Planes {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

fn raster_with(yuv: YuvChoice) -> Option<Raster> {
    let mut config = RasterConfig::from_json_and_env("{}").expect("default config parses");
    config.yuv = yuv;
    let r = Raster::new(&config).expect("a wgpu adapter (install libvulkan1 mesa-vulkan-drivers for lavapipe)");
    if r.adapter_info().backend == wgpu::Backend::Gl {
        eprintln!("skipped: the GPU YUV pass needs view-format reinterpretation, which GL lacks");
        return None;
    }
    Some(r)
}

fn capture_i420(frame: &Frame<'_>) -> Planes {
    frame.validate().expect("the I420 descriptor is self-consistent");
    assert_eq!(frame.format, FrameFormat::I420);
    let bytes = frame.host_bytes().expect("host bytes");
    let (w, h, pitch) = (frame.width as usize, frame.height as usize, frame.pitch_bytes as usize);
    let (u_off, v_off, cp, total) = i420_layout(frame.width, frame.height, frame.pitch_bytes).expect("an I420 layout");
    assert_eq!(bytes.len() as u64, total, "the frame is exactly its three planes");
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let plane = |offset: usize, pitch: usize, rw: usize, rows: usize| -> Vec<u8> {
        (0..rows).flat_map(|r| bytes[offset + r * pitch..][..rw].to_vec()).collect()
    };
    Planes {
        width: w,
        height: h,
        y: plane(0, pitch, w, h),
        u: plane(u_off as usize, cp as usize, cw, ch),
        v: plane(v_off as usize, cp as usize, cw, ch),
    }
}

/// The CPU reference: OpenH264's RGB → I420 (BT.601 limited range, integer), over the even part.
fn cpu_i420(img: &Image) -> Planes {
    let (w, h) = (img.width as usize, img.height as usize);
    let px = |x: usize, y: usize| img.px(x as u32, y as u32).map(i32::from);
    let y = (0..h)
        .flat_map(|j| (0..w).map(move |i| (j, i)))
        .map(|(j, i)| {
            let p = px(i, j);
            (((66 * p[0] + 129 * p[1] + 25 * p[2]) >> 8) + 16) as u8
        })
        .collect();
    let (cw, ch) = (w / 2, h / 2);
    let mut u = Vec::with_capacity(cw * ch);
    let mut v = Vec::with_capacity(cw * ch);
    for j in 0..ch {
        for i in 0..cw {
            let [a, b, c, d] = [px(2 * i, 2 * j), px(2 * i + 1, 2 * j), px(2 * i, 2 * j + 1), px(2 * i + 1, 2 * j + 1)];
            let avg: Vec<i32> = (0..3).map(|k| (a[k] + b[k] + c[k] + d[k] + 2) / 4).collect();
            u.push((((-38 * avg[0] - 74 * avg[1] + 112 * avg[2]) >> 8) + 128) as u8);
            v.push((((112 * avg[0] - 94 * avg[1] - 18 * avg[2]) >> 8) + 128) as u8);
        }
    }
    Planes { width: w, height: h, y, u, v }
}

/// Largest per-sample difference over the even-sized area both conversions cover.
fn max_diff(gpu: &Planes, cpu: &Planes) -> (u8, u8, u8) {
    let (ew, eh) = (gpu.width & !1, gpu.height & !1);
    let gcw = gpu.width.div_ceil(2);
    let dy = (0..eh)
        .flat_map(|j| (0..ew).map(move |i| (j, i)))
        .map(|(j, i)| gpu.y[j * gpu.width + i].abs_diff(cpu.y[j * cpu.width + i]))
        .max()
        .unwrap_or(0);
    let chroma = |g: &[u8], c: &[u8]| {
        (0..eh / 2)
            .flat_map(|j| (0..ew / 2).map(move |i| (j, i)))
            .map(|(j, i)| g[j * gcw + i].abs_diff(c[j * (cpu.width / 2) + i]))
            .max()
            .unwrap_or(0)
    };
    (dy, chroma(&gpu.u, &cpu.u), chroma(&gpu.v, &cpu.v))
}

/// Renders the cubes as RGBA, then as I420, and compares.
fn compare_at(r: &mut Raster, width: u32, height: u32, label: &str) {
    r.resize(width, height).unwrap();
    r.set_output_format(FrameSpec::host(FrameFormat::RGBA8)).unwrap();
    let rgba = render(r);
    r.set_output_format(FrameSpec::host(FrameFormat::I420)).unwrap();
    let (planes, pitch) = {
        let frame = frame(r);
        assert_eq!((frame.width, frame.height), (width, height), "{label}: the frame keeps the render size");
        assert_eq!(frame.pitch_bytes % 8, 0, "{label}: the Y pitch is a multiple of 8");
        (capture_i420(&frame), frame.pitch_bytes)
    };
    let reference = cpu_i420(&rgba);
    let (dy, du, dv) = max_diff(&planes, &reference);
    eprintln!("{label}: {width}x{height} pitch {pitch}: max |GPU - CPU| Y {dy} U {du} V {dv}");
    assert!(dy <= 2 && du <= 2 && dv <= 2, "{label}: GPU I420 differs from the CPU conversion by Y {dy} U {du} V {dv}");
    // Not a flat image: the comparison means something.
    let distinct = planes.y.iter().copied().collect::<std::collections::BTreeSet<u8>>().len();
    assert!(distinct > 20, "{label}: the Y plane has {distinct} distinct values");
    // Back to RGBA on request.
    r.set_output_format(FrameSpec::host(FrameFormat::RGBA8)).unwrap();
    assert_eq!(frame(r).format, FrameFormat::RGBA8);
}

#[test]
fn gpu_i420_matches_the_cpu_conversion_of_the_same_frame() {
    let _gpu = gpu_lock();
    let Some(mut r) = raster_with(YuvChoice::Gpu) else { return };
    let offered: Vec<FrameSpec> = r.output_formats().unwrap().into_iter().collect();
    assert_eq!(offered, vec![FrameSpec::host(FrameFormat::RGBA8), FrameSpec::host(FrameFormat::I420)]);
    r.open_stage(cubes_scene().as_scene()).unwrap();
    // 300 px rows pad to a 304-byte Y pitch; an odd size covers the clamped last row and column.
    compare_at(&mut r, WIDTH, HEIGHT, "cubes");
    compare_at(&mut r, 301, 181, "odd size");
    // Through the outline pass (the conversion then reads the post-pass output).
    r.resize(WIDTH, HEIGHT).unwrap();
    r.set_selection(RSlice::from_slice(&[1])).unwrap();
    compare_at(&mut r, WIDTH, HEIGHT, "outlined");
}

#[test]
fn i420_is_offered_only_where_asked_for() {
    let _gpu = gpu_lock();
    let Some(mut r) = raster_with(YuvChoice::Cpu) else { return };
    r.resize(64, 32).unwrap();
    let offered: Vec<FrameSpec> = r.output_formats().unwrap().into_iter().collect();
    assert_eq!(offered, vec![FrameSpec::host(FrameFormat::RGBA8)]);
    let refused = r.set_output_format(FrameSpec::host(FrameFormat::I420)).into_result().expect_err("I420 refused");
    assert_eq!(refused.kind, ErrorKind::UNSUPPORTED);
    assert_eq!(frame(&mut r).format, FrameFormat::RGBA8, "a refused format changes nothing");
    // `auto` offers I420 exactly on hardware adapters.
    let Some(auto) = raster_with(YuvChoice::Auto) else { return };
    let hardware = auto.adapter_info().device_type != wgpu::DeviceType::Cpu;
    let offers_i420 = auto.output_formats().unwrap().iter().any(|s| s.format == FrameFormat::I420);
    eprintln!("auto on {}: I420 offered: {offers_i420}", auto.adapter_description());
    assert_eq!(offers_i420, hardware);
}

//! End-to-end tests of the raster renderer on this machine's adapter (Mesa lavapipe/llvmpipe in
//! CI): colours, picking, outlines, AOVs, instancing, render modes, pitch, settings and the
//! registry path. Pixel checks use tolerances: software rasterizers differ between versions.

mod support;

use ovhost_plugin_api::MeshInstance;
use ovhost_plugin_api::prelude::*;
use ovhost_plugin_raster::{Raster, synthetic};
use support::*;

#[test]
fn objects_show_their_colours_over_the_background() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    let img = render(&mut r);
    img.save_png("lit");
    let (rx, ry) = project(RED_CENTER);
    let (gx, gy) = project(GREEN_CENTER);
    let (px, py) = project(PLANE_POINT);
    assert!(is_red(img.px(rx, ry)), "red cube at ({rx},{ry}): {:?}", img.px(rx, ry));
    assert!(is_green(img.px(gx, gy)), "green cube at ({gx},{gy}): {:?}", img.px(gx, gy));
    assert!(is_blue(img.px(px, py)), "ground at ({px},{py}): {:?}", img.px(px, py));
    // The top rows look past the plane's far edge: background.
    for x in [0, WIDTH / 2, WIDTH - 1] {
        assert!(is_neutral(img.px(x, 2)), "background at ({x},2): {:?}", img.px(x, 2));
    }
    // The red cube is left of the green one on screen.
    assert!(rx < WIDTH / 2 && gx > WIDTH / 2);
    // Lit: the cube shows at least two faces with clearly different brightness.
    let (_, top_y) = project([RED_CENTER[0], RED_CENTER[1] + 0.6, RED_CENTER[2] + 0.3]);
    let (_, front_y) = project([RED_CENTER[0], RED_CENTER[1] - 0.3, RED_CENTER[2] + 0.6]);
    let top = img.px(rx, top_y.saturating_add(1));
    let front = img.px(rx, front_y);
    assert!(is_red(top) && is_red(front), "{top:?} {front:?}");
    assert!(top[0].abs_diff(front[0]) > 8, "faces shade differently: top {top:?} front {front:?}");
}

#[test]
fn frame_descriptor_honours_the_padded_pitch() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    let frame = frame(&mut r);
    assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
    // 300 px * 4 bytes = 1200, padded to wgpu's 256-byte row alignment.
    assert_eq!(frame.pitch_bytes, 1280);
    assert_eq!(frame.len_bytes(), 1280 * u64::from(HEIGHT));
    assert_eq!((frame.frame_number, frame.timestamp_us), (7, 1234));
    // Reading rows at the tight width instead of the pitch misplaces the cubes: the pitch matters.
    // SAFETY: no call into the renderer since it returned the frame.
    let bytes = frame.host_bytes().unwrap();
    let (rx, ry) = project(RED_CENTER);
    let at = |pitch: u32| {
        let i = (ry * pitch + rx * 4) as usize;
        [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]
    };
    assert!(is_red(at(frame.pitch_bytes)));
    assert!(!is_red(at(WIDTH * 4)));
}

#[test]
fn pick_returns_prim_ids_and_zero_for_background() {
    let _gpu = gpu_lock();
    let mut r = raster();
    assert_eq!(r.pick(1, 1).unwrap_err().kind, ErrorKind::BAD_STATE, "no frame yet");
    r.open_stage(cubes_scene().as_scene()).unwrap();
    render(&mut r);
    let (rx, ry) = project(RED_CENTER);
    let (gx, gy) = project(GREEN_CENTER);
    let (px, py) = project(PLANE_POINT);
    assert_eq!(r.pick(rx, ry).unwrap(), 1);
    assert_eq!(r.pick(gx, gy).unwrap(), 2);
    assert_eq!(r.pick(px, py).unwrap(), 3);
    assert_eq!(r.pick(WIDTH / 2, 1).unwrap(), 0);
    assert_eq!(r.pick(WIDTH, 0).unwrap_err().kind, ErrorKind::INVALID_INPUT);
}

#[test]
fn selection_draws_an_outline_around_the_selected_prim_only() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    let plain = render(&mut r);
    assert_eq!(plain.count(is_orange), 0, "no outline without a selection");
    r.set_selection(RSlice::from_slice(&[1])).unwrap();
    let outlined = render(&mut r);
    outlined.save_png("outline");
    let orange: Vec<(u32, u32)> = (0..HEIGHT)
        .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
        .filter(|&(x, y)| is_orange(outlined.px(x, y)))
        .collect();
    assert!(orange.len() > 60, "an outline of some length, got {} pixels", orange.len());
    // Every outline pixel is on the left half, near the red cube, and the cube itself stays red.
    let (rx, ry) = project(RED_CENTER);
    assert!(orange.iter().all(|&(x, _)| x < WIDTH / 2), "outline only around the selected (left) cube");
    assert!(is_red(outlined.px(rx, ry)));
    // The outline surrounds the cube: orange both left and right of its centre on its row.
    assert!(orange.iter().any(|&(x, y)| y == ry && x < rx) && orange.iter().any(|&(x, y)| y == ry && x > rx));
    // Pixels other than the outline are unchanged (within rounding of the sRGB round trip).
    let changed = plain
        .rgba
        .chunks_exact(4)
        .zip(outlined.rgba.chunks_exact(4))
        .filter(|(a, b)| (0..3).any(|c| a[c].abs_diff(b[c]) > 2))
        .count();
    assert_eq!(changed, orange.len());
    r.set_selection(RSlice::from_slice(&[])).unwrap();
    assert_eq!(render(&mut r).count(is_orange), 0, "clearing the selection clears the outline");
}

/// The outline's definition (the pre-separable shader, which read every id of the disk): an
/// unselected pixel is outlined when a selected pixel lies within dx² + dy² <= r² + r, neighbours
/// beyond the edge reading the edge pixel.
fn reference_outline(ids: &[u32], selected: &[u32], r: i32) -> Vec<bool> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    let sel = |x: i32, y: i32| {
        let id = ids[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize];
        id != 0 && selected.contains(&id)
    };
    let mut out = vec![false; ids.len()];
    for y in 0..h {
        for x in 0..w {
            out[(y * w + x) as usize] = !sel(x, y)
                && (-r..=r).any(|dy| (-r..=r).any(|dx| dx * dx + dy * dy <= r * r + r && sel(x + dx, y + dy)));
        }
    }
    out
}

#[test]
fn the_separable_outline_matches_the_disk_outline_pixel_for_pixel() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    render(&mut r);
    let ids = r.id_image().unwrap();
    assert_eq!(ids.len(), (WIDTH * HEIGHT) as usize);
    // The id image is the pick answer, pixel for pixel.
    let (rx, ry) = project(RED_CENTER);
    assert_eq!(ids[(ry * WIDTH + rx) as usize], r.pick(rx, ry).unwrap());
    // A cube, both cubes, and the ground plane (it touches the frame's edges: clamping).
    check_outlines(&mut r, camera(), &[&[1u32][..], &[1, 2], &[3]]);
}

/// The outline passes draw only in the rectangle the selection projects to: a cube cut by the
/// frame's left edge, and the ground reaching behind the eye (no bounded projection: the whole
/// frame) still outline exactly as the disk test says.
#[test]
fn the_scissored_outline_holds_at_the_frame_edge_and_behind_the_eye() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    let close = looking([0.2, 1.0, 3.0], [0.2, 0.6, 0.0]);
    RenderRequest { camera: close, ..request() }.with_ref(|q| r.render(q).map(|_| ()).unwrap());
    let ids = r.id_image().unwrap();
    let column = |x: u32| (0..HEIGHT).map(|y| ids[(y * WIDTH + x) as usize]).collect::<Vec<_>>();
    assert!(column(0).contains(&1), "the red cube is cut by the left edge in this view");
    assert!(column(WIDTH / 2).contains(&3), "the ground is in view");
    check_outlines(&mut r, close, &[&[1u32][..], &[3], &[1, 2, 3]]);
}

/// Renders the view from `camera` with each selection at every outline width and compares every pixel with
/// [`reference_outline`] of the id image (orange where it says, the unselected frame elsewhere).
fn check_outlines(r: &mut Raster, camera: CameraView, selections: &[&[u32]]) {
    let shoot = |r: &mut Raster| RenderRequest { camera, ..request() }.with_ref(|q| capture(&r.render(q).unwrap()));
    r.set_selection(RSlice::from_slice(&[])).unwrap();
    let plain = shoot(r);
    let ids = r.id_image().expect("the id image of the unselected frame");
    for &selected in selections {
        r.set_selection(RSlice::from_slice(selected)).unwrap();
        for width in 1..=6u32 {
            r.set_render_setting(RStr::from_str("outline_width_px"), RStr::from_str(&width.to_string())).unwrap();
            let outlined = shoot(r);
            let expected = reference_outline(&ids, selected, width as i32);
            let want = expected.iter().filter(|&&o| o).count();
            assert!(want > 50, "selection {selected:?} width {width}: a visible outline expected ({want} px)");
            let orange = [0xff, 0x8c, 0x00];
            let mut wrong = Vec::new();
            for (i, &outline) in expected.iter().enumerate() {
                let (x, y) = (i as u32 % WIDTH, i as u32 / WIDTH);
                let got = outlined.px(x, y);
                let want_px = if outline { orange } else { [plain.px(x, y)[0], plain.px(x, y)[1], plain.px(x, y)[2]] };
                if (0..3).any(|c| got[c].abs_diff(want_px[c]) > 1) {
                    wrong.push((x, y, got, outline));
                }
            }
            assert!(
                wrong.is_empty(),
                "selection {selected:?} width {width}: {} of {} pixels differ from the disk outline, first {:?}",
                wrong.len(),
                ids.len(),
                &wrong[..wrong.len().min(5)]
            );
        }
    }
}

#[test]
fn every_aov_gives_a_distinct_non_trivial_image() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    let names: Vec<String> = r.aovs().unwrap().into_iter().map(|s| s.into_string()).collect();
    assert_eq!(names, ["LdrColor", "DepthSD", "NormalSD", "InstanceSegmentationSD"]);
    let ldr = render(&mut r);
    let (rx, ry) = project(RED_CENTER);
    let (gx, gy) = project(GREEN_CENTER);
    for aov in &names[1..] {
        r.set_aov(RStr::from_str(aov)).unwrap();
        let img = render(&mut r);
        img.save_png(&format!("aov-{aov}"));
        assert!(img.luma_variance() > 100.0, "{aov} variance {}", img.luma_variance());
        assert!(img.mean_abs_diff(&ldr) > 10.0, "{aov} differs from LdrColor by {}", img.mean_abs_diff(&ldr));
        // Background is black in every data AOV.
        assert_eq!(&img.px(WIDTH / 2, 1)[..3], &[0, 0, 0], "{aov} background");
    }
    r.set_aov(RStr::from_str("DepthSD")).unwrap();
    let depth = render(&mut r);
    let (fx, fy) = project([0.0, 0.0, -3.5]);
    let (nx, ny) = project([0.0, 0.0, 3.5]);
    assert!(depth.px(nx, ny)[0] > depth.px(fx, fy)[0] + 20, "near ground is brighter than far ground");
    r.set_aov(RStr::from_str("InstanceSegmentationSD")).unwrap();
    let seg = render(&mut r);
    assert_ne!(seg.px(rx, ry), seg.px(gx, gy), "different prims, different colours");
    assert_eq!(r.set_aov(RStr::from_str("HdrColor")).unwrap_err().kind, ErrorKind::NOT_FOUND);
}

#[test]
fn instances_render_at_their_transforms() {
    let _gpu = gpu_lock();
    let mut r = raster();
    let cube = synthetic::cube(0.5, Some(RED));
    let mut scene = synthetic::scene(vec![("/World/Cube", cube, vec![])]);
    scene.prim_paths.push("/World/Cube2".into());
    let at = [[-2.0, 0.5, 0.0], [2.0, 0.5, 0.0]];
    scene.meshes[0].instances = vec![
        MeshInstance { prim_id: 1, world_transform: synthetic::transform(at[0], 1.0) },
        MeshInstance { prim_id: 2, world_transform: synthetic::transform(at[1], 1.0) },
    ]
    .into_iter()
    .collect();
    r.open_stage(scene.as_scene()).unwrap();
    let img = render(&mut r);
    img.save_png("instances");
    for (i, p) in at.iter().enumerate() {
        let (x, y) = project(*p);
        assert!(is_red(img.px(x, y)), "instance {i} at ({x},{y})");
        assert_eq!(r.pick(x, y).unwrap(), i as u32 + 1);
    }
    let (cx, cy) = project([0.0, 0.5, 0.0]);
    assert!(is_neutral(img.px(cx, cy)), "nothing between the instances");
    assert_eq!(r.pick(cx, cy).unwrap(), 0);
}

#[test]
fn render_modes_differ() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(cubes_scene().as_scene()).unwrap();
    let mut images = Vec::new();
    for mode in ["lit", "flat", "normals", "wireframe"] {
        assert_eq!(
            r.set_render_setting(RStr::from_str("render_mode"), RStr::from_str(&format!("\"{mode}\""))).unwrap(),
            "immediate"
        );
        let img = render(&mut r);
        img.save_png(&format!("mode-{mode}"));
        images.push((mode, img));
    }
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            let d = images[i].1.mean_abs_diff(&images[j].1);
            assert!(d > 2.0, "{} vs {} differ by only {d}", images[i].0, images[j].0);
        }
    }
    // Flat: every pixel of the red cube has the same colour (no shading).
    let flat = &images[1].1;
    let (rx, ry) = project(RED_CENTER);
    let (_, top_y) = project([RED_CENTER[0], RED_CENTER[1] + 0.6, RED_CENTER[2] + 0.3]);
    assert_eq!(flat.px(rx, ry), flat.px(rx, top_y + 1));
    // Wireframe: the ground between edges shows the background.
    let wire = &images[3].1;
    assert!(wire.count(is_neutral) > images[0].1.count(is_neutral) + 1000);
}

#[test]
fn no_stage_renders_the_background_and_close_stage_returns_to_it() {
    let _gpu = gpu_lock();
    let mut r = raster();
    let empty = render(&mut r);
    assert_eq!(empty.count(is_neutral), (WIDTH * HEIGHT) as usize);
    // A vertical gradient: lighter at the top.
    assert!(empty.px(10, 0)[0] > empty.px(10, HEIGHT - 1)[0]);
    assert_eq!(r.pick(10, 10).unwrap(), 0);
    r.open_stage(cubes_scene().as_scene()).unwrap();
    assert!(render(&mut r).mean_abs_diff(&empty) > 5.0);
    r.close_stage().unwrap();
    assert_eq!(render(&mut r).rgba, empty.rgba);
}

#[test]
fn settings_apply_immediately_and_reject_bad_input() {
    let _gpu = gpu_lock();
    let mut r = raster();
    let json: serde_json::Value = serde_json::from_str(r.render_settings().unwrap().as_str()).unwrap();
    assert_eq!(json["settings"]["render_mode"], "lit");
    assert!(json["capabilities"].as_array().unwrap().iter().all(|c| c["applies_at"] == "immediate"));
    let set = |r: &mut ovhost_plugin_raster::Raster, k: &str, v: &str| {
        r.set_render_setting(RStr::from_str(k), RStr::from_str(v))
    };
    set(&mut r, "background", "\"solid\"").unwrap();
    set(&mut r, "background_color", "\"#336699\"").unwrap();
    let img = render(&mut r);
    for (x, y) in [(0, 0), (WIDTH - 1, HEIGHT - 1)] {
        let p = img.px(x, y);
        assert!(p[0].abs_diff(0x33) <= 2 && p[1].abs_diff(0x66) <= 2 && p[2].abs_diff(0x99) <= 2, "{p:?}");
    }
    assert_eq!(set(&mut r, "samples", "4").unwrap_err().kind, ErrorKind::UNSUPPORTED);
    assert_eq!(set(&mut r, "render_mode", "\"rtx\"").unwrap_err().kind, ErrorKind::INVALID_INPUT);
    assert_eq!(set(&mut r, "outline_width_px", "99").unwrap_err().kind, ErrorKind::INVALID_INPUT);
}

#[test]
fn resize_changes_the_frame_size_and_rejects_zero() {
    let _gpu = gpu_lock();
    let mut r = raster();
    assert_eq!(r.resize(0, 10).unwrap_err().kind, ErrorKind::INVALID_INPUT);
    r.resize(64, 32).unwrap();
    let frame = frame(&mut r);
    assert_eq!((frame.width, frame.height, frame.pitch_bytes), (64, 32, 256));
}

#[test]
fn inconsistent_meshes_are_skipped_not_fatal() {
    let _gpu = gpu_lock();
    let mut r = raster();
    let mut scene = cubes_scene();
    scene.meshes[0].indices.push(999); // no longer whole triangles, and out of range
    r.open_stage(scene.as_scene()).unwrap();
    let img = render(&mut r);
    let (rx, ry) = project(RED_CENTER);
    let (gx, gy) = project(GREEN_CENTER);
    assert!(!is_red(img.px(rx, ry)));
    assert!(is_green(img.px(gx, gy)));
}

#[test]
fn a_million_triangles_upload_and_render() {
    let _gpu = gpu_lock();
    let mut r = raster();
    let grid = synthetic::grid(708); // 2 * 708² ≈ 1.0M triangles
    assert!(grid.triangle_count() >= 1_000_000);
    let scene = synthetic::scene(vec![("/World/Grid", grid, vec![synthetic::transform([0.0, 0.0, 0.0], 3.0)])]);
    r.open_stage(scene.as_scene()).unwrap();
    let img = render(&mut r);
    img.save_png("grid-1m");
    let (x, y) = project([0.0, 0.0, 0.0]);
    assert_eq!(r.pick(x, y).unwrap(), 1);
    assert!(img.luma_variance() > 50.0);
}

/// The registry path the host uses: `register` adds `raster`, and the factory builds a working,
/// guarded renderer from a JSON config.
#[test]
fn registers_the_raster_renderer() {
    let _gpu = gpu_lock();
    let recorded = ovhost_plugin_api::Recorded::of(ovhost_plugin_raster::register).unwrap();
    let collect = (recorded.renderers,);
    assert_eq!(collect.0.len(), 1);
    assert_eq!(collect.0[0].id().as_str(), "raster");
    let bad = (collect.0[0].create())(RStr::from_str(r#"{"backnd":"gl"}"#));
    assert_eq!(bad.into_result().err().unwrap().kind, ErrorKind::INVALID_INPUT);
    if std::env::var_os("OVHOST_WGPU_ADAPTER").is_none() {
        let nothing = (collect.0[0].create())(RStr::from_str(r#"{"adapter":"no-such-gpu-xyz"}"#));
        let e = nothing.into_result().err().unwrap();
        assert_eq!(e.kind, ErrorKind::UNAVAILABLE);
        assert!(e.message.as_str().contains("no-such-gpu-xyz"), "{e}");
    }
    let mut boxed = (collect.0[0].create())(RStr::from_str("{}")).unwrap();
    boxed.resize(WIDTH, HEIGHT).unwrap();
    boxed.open_stage(cubes_scene().as_scene()).unwrap();
    let img = request().with_ref(|q| capture(&boxed.render(q).unwrap()));
    let (rx, ry) = project(RED_CENTER);
    assert!(is_red(img.px(rx, ry)));
    assert_eq!(boxed.pick(rx, ry).unwrap(), 1);
}

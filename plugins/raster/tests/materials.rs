//! The raster renderer's materials, textures and lights on this machine's adapter (Mesa lavapipe
//! in CI), with tolerances: textured quadrants (and their rotation by UsdTransform2d), constant
//! diffuse colour, metallic/roughness highlights, opacityThreshold cutouts, blended
//! transparency, a coloured DistantLight, a texture without pixels falling back, exposure.

mod support;

use ovhost_plugin_api::abi_stable::std_types::RVec;
use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::{ColorSpace, Light, LightKind, Texture, WrapMode};
use ovhost_plugin_raster::{Raster, synthetic};
use support::*;

/// The checker's texels as authored (top-left, top-right, bottom-left, bottom-right of the image).
const CHECKER: [[u8; 4]; 4] = [[230, 30, 30, 255], [30, 200, 30, 255], [30, 30, 230, 255], [240, 220, 20, 255]];

fn shoot(r: &mut Raster) -> Image {
    shoot_face_on(r, f64::NAN)
}

/// Pixel of a point in the z = 0 plane seen by [`face_on`].
fn at(x: f64, y: f64) -> (u32, u32) {
    let half_h = 5.0 * (22.5f64).to_radians().tan();
    let half_w = half_h * f64::from(WIDTH) / f64::from(HEIGHT);
    let px = (x / half_w * 0.5 + 0.5) * f64::from(WIDTH);
    let py = (0.5 - y / half_h * 0.5) * f64::from(HEIGHT);
    (px as u32, py as u32)
}

fn checker_texture() -> Texture {
    Texture {
        asset_path: "tex/checker.png".into(),
        resolved_path: "/assets/tex/checker.png".into(),
        color_space: ColorSpace::SRGB,
        wrap_s: WrapMode::CLAMP,
        wrap_t: WrapMode::CLAMP,
        width: 2,
        height: 2,
        rgba8: CHECKER.concat().into(),
    }
}

/// A 2×2 quad at the origin facing the camera with `material` bound; flat render mode shows
/// the base colour unshaded.
fn quad_scene(material: ovhost_plugin_api::Material, textures: Vec<Texture>) -> StageScene {
    let (mesh, uvs) = synthetic::textured_quad(2.0);
    let mut scene = synthetic::scene(vec![("/World/Quad", mesh, vec![synthetic::transform([0.0; 3], 1.0)])]);
    scene.mesh_uvs = vec![uvs];
    scene.materials = vec![material].into();
    scene.textures = textures.into();
    synthetic::bind(&mut scene, 0, 1);
    scene
}

fn textured_diffuse(rotation_deg: f32) -> ovhost_plugin_api::Material {
    let mut input = synthetic::constant_input("diffuseColor", [1.0, 0.0, 1.0, 1.0]);
    input.texture = 1;
    input.channels = "rgb".into();
    // Rotation about the texture origin: scale and translate so the unit square maps onto itself.
    input.uv_transform = match rotation_deg as i32 {
        90 => [1.0, 1.0, 90.0, 1.0, 0.0],
        _ => [1.0, 1.0, 0.0, 0.0, 0.0],
    };
    let mut m = synthetic::preview_material("/World/Looks/Checker", &[]);
    m.inputs = vec![input].into();
    m
}

fn close(p: [u8; 4], want: [u8; 4], tol: u8) -> bool {
    (0..3).all(|c| p[c].abs_diff(want[c]) <= tol)
}

fn set(r: &mut Raster, key: &str, value: &str) {
    r.set_render_setting(RStr::from_str(key), RStr::from_str(value)).unwrap();
}

#[test]
fn a_checker_texture_shows_its_quadrants_and_rotates_with_its_transform() {
    let _gpu = gpu_lock();
    let mut r = raster();
    set(&mut r, "render_mode", "\"flat\"");
    r.open_stage(quad_scene(textured_diffuse(0.0), vec![checker_texture()]).as_scene()).unwrap();
    let img = shoot(&mut r);
    img.save_png("checker");
    let quadrants = [(-0.5, 0.5), (0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)];
    for (i, (x, y)) in quadrants.iter().enumerate() {
        let (px, py) = at(*x, *y);
        assert!(close(img.px(px, py), CHECKER[i], 16), "quadrant {i} at ({px},{py}): {:?}", img.px(px, py));
    }
    // Rotated 90° (st rotated counter-clockwise, then shifted back onto the unit square by
    // (1, 0)): st (s, t) reads the texel at (1 - t, s), so the image turns clockwise on the quad.
    r.open_stage(quad_scene(textured_diffuse(90.0), vec![checker_texture()]).as_scene()).unwrap();
    let rotated = shoot(&mut r);
    rotated.save_png("checker-rotated");
    let expect = [2, 0, 3, 1];
    for (i, (x, y)) in quadrants.iter().enumerate() {
        let (px, py) = at(*x, *y);
        let want = CHECKER[expect[i]];
        assert!(close(rotated.px(px, py), want, 16), "rotated quadrant {i}: {:?} want {want:?}", rotated.px(px, py));
    }
}

#[test]
fn a_texture_without_pixels_leaves_the_input_on_its_fallback() {
    let _gpu = gpu_lock();
    let mut r = raster();
    set(&mut r, "render_mode", "\"flat\"");
    let mut broken = checker_texture();
    broken.rgba8 = RVec::new();
    broken.width = 0;
    broken.height = 0;
    r.open_stage(quad_scene(textured_diffuse(0.0), vec![broken]).as_scene()).unwrap();
    let img = shoot(&mut r);
    let (px, py) = at(0.3, 0.3);
    // The UsdUVTexture fallback (1, 0, 1) in the flat (unshaded) mode.
    assert!(close(img.px(px, py), [255, 0, 255, 255], 4), "{:?}", img.px(px, py));
}

fn sphere_scene(inputs: &[(&str, [f32; 4])]) -> StageScene {
    let mut scene = synthetic::scene(vec![(
        "/World/Ball",
        synthetic::sphere(1.0, 48, 64, None),
        vec![synthetic::transform([0.0; 3], 1.0)],
    )]);
    scene.materials = vec![synthetic::preview_material("/World/Looks/M", inputs)].into();
    synthetic::bind(&mut scene, 0, 1);
    scene
}

fn luma(p: [u8; 4]) -> f64 {
    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
}

#[test]
fn a_red_diffuse_sphere_renders_red_where_the_stage_had_grey() {
    let _gpu = gpu_lock();
    let mut r = raster();
    r.open_stage(sphere_scene(&[("diffuseColor", [0.8, 0.02, 0.02, 0.0])]).as_scene()).unwrap();
    let img = shoot(&mut r);
    img.save_png("red-sphere");
    let reds = (0..HEIGHT).flat_map(|y| (0..WIDTH).map(move |x| (x, y))).filter(|&(x, y)| is_red(img.px(x, y))).count();
    let (cx, cy) = at(0.0, 0.0);
    assert!(is_red(img.px(cx, cy)), "centre {:?}", img.px(cx, cy));
    // The disc covers about π·43² ≈ 5800 pixels; most of it is clearly red.
    assert!(reds > 3500, "{reds} red pixels");
}

/// The brightest luma on the sphere and how many pixels are within 90 % of it (the highlight).
fn highlight(img: &Image) -> (f64, usize) {
    let max = img.rgba.chunks_exact(4).map(|p| luma([p[0], p[1], p[2], p[3]])).fold(0.0, f64::max);
    let near = img.rgba.chunks_exact(4).filter(|p| luma([p[0], p[1], p[2], p[3]]) > 0.9 * max).count();
    (max, near)
}

#[test]
fn metallic_and_roughness_change_the_highlight() {
    let _gpu = gpu_lock();
    let mut r = raster();
    set(&mut r, "background", "\"solid\"");
    set(&mut r, "background_color", "\"#000000\"");
    let mut shots = Vec::new();
    for (name, metallic, roughness) in [("smooth", 0.0, 0.1), ("rough", 0.0, 0.9), ("metal", 1.0, 0.2)] {
        let scene = sphere_scene(&[
            ("diffuseColor", [0.2, 0.3, 0.8, 0.0]),
            ("metallic", [metallic, 0.0, 0.0, 0.0]),
            ("roughness", [roughness, 0.0, 0.0, 0.0]),
        ]);
        r.open_stage(scene.as_scene()).unwrap();
        let img = shoot(&mut r);
        img.save_png(&format!("sphere-{name}"));
        shots.push((name, img));
    }
    let (smooth_peak, smooth_area) = highlight(&shots[0].1);
    let (rough_peak, rough_area) = highlight(&shots[1].1);
    assert!(smooth_peak > rough_peak + 20.0, "a smooth surface has a brighter peak: {smooth_peak} vs {rough_peak}");
    assert!(smooth_area < rough_area, "and a tighter highlight: {smooth_area} vs {rough_area} pixels");
    // Metal: no diffuse; what it reflects takes the base colour (blue), so the sphere away from
    // the saturated peak is much bluer than red.
    let metal = &shots[2].1;
    let (mut red, mut blue) = (0u64, 0u64);
    for p in metal.rgba.chunks_exact(4).filter(|p| p[0] < 250 && p[2] > 5) {
        red += u64::from(p[0]);
        blue += u64::from(p[2]);
    }
    assert!(2 * blue > 3 * red, "metal reflects its base colour: blue {blue} red {red}");
    assert!(metal.mean_abs_diff(&shots[0].1) > 2.0, "metal differs from the dielectric");
}

#[test]
fn an_opacity_threshold_cuts_holes_that_show_the_background() {
    let _gpu = gpu_lock();
    let mut r = raster();
    set(&mut r, "background", "\"solid\"");
    set(&mut r, "background_color", "\"#000000\"");
    set(&mut r, "render_mode", "\"flat\"");
    // Opacity from the checker's blue channel: the blue texel (0.9) stays, the others (≤ 0.12)
    // are cut.
    let mut opacity = synthetic::constant_input("opacity", [1.0, 0.0, 0.0, 0.0]);
    opacity.texture = 1;
    opacity.channels = "b".into();
    let mut m = synthetic::preview_material(
        "/World/Looks/Cut",
        &[("diffuseColor", [0.9, 0.9, 0.9, 0.0]), ("opacityThreshold", [0.5, 0.0, 0.0, 0.0])],
    );
    m.inputs.push(opacity);
    let mut tex = checker_texture();
    tex.color_space = ColorSpace::RAW;
    r.open_stage(quad_scene(m, vec![tex]).as_scene()).unwrap();
    let img = shoot(&mut r);
    img.save_png("cutout");
    let (kx, ky) = at(-0.5, -0.5);
    assert!(close(img.px(kx, ky), [243, 243, 243, 255], 6), "kept quadrant: {:?}", img.px(kx, ky));
    for (x, y) in [(0.5, 0.5), (-0.5, 0.5), (0.5, -0.5)] {
        let (px, py) = at(x, y);
        assert!(close(img.px(px, py), [0, 0, 0, 255], 2), "hole at ({x},{y}): {:?}", img.px(px, py));
        assert_eq!(r.pick(px, py).unwrap(), 0, "a hole picks the background");
    }
}

#[test]
fn blended_transparency_mixes_with_what_is_behind() {
    let _gpu = gpu_lock();
    let mut r = raster();
    set(&mut r, "render_mode", "\"flat\"");
    let (front, uvs) = synthetic::textured_quad(2.0);
    let (back, _) = synthetic::textured_quad(4.0);
    let mut scene = synthetic::scene(vec![
        ("/World/Glass", front, vec![synthetic::transform([0.0, 0.0, 1.0], 1.0)]),
        ("/World/Wall", back, vec![synthetic::transform([0.0; 3], 1.0)]),
    ]);
    scene.mesh_uvs = vec![uvs.clone(), uvs];
    scene.materials = vec![
        synthetic::preview_material(
            "/World/Looks/Glass",
            &[("diffuseColor", [1.0, 0.0, 0.0, 0.0]), ("opacity", [0.5, 0.0, 0.0, 0.0])],
        ),
        synthetic::preview_material("/World/Looks/Wall", &[("diffuseColor", [0.0, 0.0, 1.0, 0.0])]),
    ]
    .into();
    synthetic::bind(&mut scene, 0, 1);
    synthetic::bind(&mut scene, 1, 2);
    r.open_stage(scene.as_scene()).unwrap();
    let img = shoot(&mut r);
    img.save_png("blend");
    // Half red over blue: both channels well above zero (sRGB of 0.5 is ~188).
    let (x, y) = (WIDTH / 2, HEIGHT / 2);
    let p = img.px(x, y);
    assert!(p[0] > 150 && p[2] > 150 && p[1] < 30, "glass over wall: {p:?}");
    let (wx, wy) = at(1.7, 1.7 * 0.0);
    assert!(close(img.px(wx, wy), [0, 0, 255, 255], 4), "the wall alone: {:?}", img.px(wx, wy));
}

#[test]
fn a_blue_distant_light_tints_the_lit_side_and_exposure_scales() {
    let _gpu = gpu_lock();
    let mut r = raster();
    set(&mut r, "background", "\"solid\"");
    set(&mut r, "background_color", "\"#000000\"");
    let mut scene = sphere_scene(&[("diffuseColor", [0.8, 0.8, 0.8, 0.0]), ("roughness", [0.9, 0.0, 0.0, 0.0])]);
    // Light travelling along -X (from +X): the sphere's right side is lit.
    let mut m = [0.0; 16];
    // Local -Z mapped to world -X: rotate +90° about Y (row-vector matrix rows are the images of
    // the local axes: X → -Z... Z → +X).
    m[2] = -1.0; // x axis → (0, 0, -1)
    m[5] = 1.0; // y axis → (0, 1, 0)
    m[8] = 1.0; // z axis → (1, 0, 0)
    m[15] = 1.0;
    scene.prim_paths.push("/World/Sun".into());
    scene.lights = vec![Light {
        prim_id: 2,
        kind: LightKind::DISTANT,
        world_transform: m,
        color: [0.1, 0.2, 1.0],
        intensity: 1.5,
        radius: 0.0,
        width: 0.0,
        height: 0.0,
        length: 0.0,
        angle_deg: 0.53,
        normalize: false,
        cone_angle_deg: 90.0,
        cone_softness: 0.0,
        texture: 0,
    }]
    .into();
    r.open_stage(scene.as_scene()).unwrap();
    let img = shoot(&mut r);
    img.save_png("blue-light");
    let (lx, ly) = at(0.8, 0.0);
    let (dx, dy) = at(-0.8, 0.0);
    let (lit, dark) = (img.px(lx, ly), img.px(dx, dy));
    assert!(u16::from(lit[2]) > u16::from(lit[0]) + 60, "the lit side is blue: {lit:?}");
    assert!(luma(lit) > luma(dark) + 30.0, "lit {lit:?} vs unlit {dark:?}");
    // With the default rig instead, the same sphere is neutral grey.
    set(&mut r, "lights", "\"default\"");
    let rig = shoot(&mut r);
    let (cx, cy) = at(0.0, 0.0);
    let c = rig.px(cx, cy);
    assert!(c[0].abs_diff(c[2]) < 12, "default rig is neutral: {c:?}");
    // Exposure: one stop down darkens.
    set(&mut r, "exposure", "-1");
    let darker = shoot(&mut r);
    assert!(luma(darker.px(cx, cy)) + 20.0 < luma(c), "{:?} vs {c:?}", darker.px(cx, cy));
}

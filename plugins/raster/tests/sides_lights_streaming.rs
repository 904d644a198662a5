//! The raster renderer on this machine's adapter (Mesa lavapipe in CI), with tolerances:
//! `doubleSided` and back-face culling (mirroring transforms included), time-sampled light
//! transforms and visibility (baked `LIGHT_*` tracks), and textures that arrive after the stage
//! (`update_textures`, plugin API 0.2.2).

mod support;

use ovhost_plugin_api::abi_stable::std_types::RVec;
use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::{ColorSpace, Light, LightKind, Texture, Track, TrackTarget, WrapMode};
use ovhost_plugin_raster::{Raster, synthetic};
use support::*;

const BACKGROUND: [u8; 4] = [0, 0, 0, 255];

fn shoot(r: &mut Raster, time_code: f64) -> Image {
    shoot_face_on(r, time_code)
}

fn set(r: &mut Raster, key: &str, value: &str) {
    r.set_render_setting(RStr::from_str(key), RStr::from_str(value)).unwrap();
}

/// A renderer on a black background (so "culled" reads as black).
fn black_raster() -> Raster {
    let mut r = raster();
    set(&mut r, "background", "\"solid\"");
    set(&mut r, "background_color", "\"#000000\"");
    r
}

fn centre(img: &Image) -> [u8; 4] {
    img.px(WIDTH / 2, HEIGHT / 2)
}

fn close(p: [u8; 4], want: [u8; 4], tol: u8) -> bool {
    (0..3).all(|c| p[c].abs_diff(want[c]) <= tol)
}

fn luma(p: [u8; 4]) -> f64 {
    0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2])
}

/// Row-major USD matrix: rotation of `deg` about Y, then scale `sx` along X.
fn turned(deg: f64, sx: f64) -> [f64; 16] {
    let (s, c) = deg.to_radians().sin_cos();
    // Rows are the images of the local axes (row-vector convention).
    [c * sx, 0.0, -s * sx, 0.0, 0.0, 1.0, 0.0, 0.0, s, 0.0, c, 0.0, 0.0, 0.0, 0.0, 1.0]
}

/// A white 2×2 quad in the XY plane, counter-clockwise seen from +Z (its front), placed by
/// `world`, with `double_sided` said (or not said: `None`).
fn quad(world: [f64; 16], double_sided: Option<bool>) -> StageScene {
    let (mut mesh, _) = synthetic::textured_quad(2.0);
    mesh.colors = vec![[0.8, 0.8, 0.8]].into();
    let mut scene = synthetic::scene(vec![("/World/Quad", mesh, vec![world])]);
    if let Some(d) = double_sided {
        scene.mesh_double_sided = vec![d].into();
    }
    scene
}

#[test]
fn a_single_sided_quad_shows_its_front_and_culls_its_back_a_double_sided_one_shows_both_lit() {
    let _gpu = gpu_lock();
    let mut r = black_raster();
    // Front (counter-clockwise towards the camera): drawn, single- or double-sided.
    r.open_stage(quad(turned(0.0, 1.0), Some(false)).as_scene()).unwrap();
    let front = centre(&shoot(&mut r, f64::NAN));
    assert!(luma(front) > 60.0, "the front of a single-sided quad is drawn: {front:?}");
    // Turned away: a single-sided quad's back face is culled (background shows), as usdview.
    r.open_stage(quad(turned(180.0, 1.0), Some(false)).as_scene()).unwrap();
    let back = shoot(&mut r, f64::NAN);
    back.save_png("single-sided-back");
    assert!(close(centre(&back), BACKGROUND, 2), "the back face is culled: {:?}", centre(&back));
    // doubleSided: the back face is drawn, and lit on its own side (normal flipped): the camera
    // light makes it about as bright as the front.
    r.open_stage(quad(turned(180.0, 1.0), Some(true)).as_scene()).unwrap();
    let double = centre(&shoot(&mut r, f64::NAN));
    assert!(
        luma(double) > 0.7 * luma(front),
        "a double-sided back face is lit like the front: {double:?} vs {front:?}"
    );
    // A host that does not say (empty section, older host): both sides drawn.
    r.open_stage(quad(turned(180.0, 1.0), None).as_scene()).unwrap();
    assert!(luma(centre(&shoot(&mut r, f64::NAN))) > 60.0, "unsaid: drawn");
    // A mirroring transform (scale -1 in X) flips the winding on screen, not the side facing
    // the camera: the front stays drawn, the turned-away back stays culled.
    r.open_stage(quad(turned(0.0, -1.0), Some(false)).as_scene()).unwrap();
    let mirrored = centre(&shoot(&mut r, f64::NAN));
    assert!(luma(mirrored) > 60.0, "a mirrored front is still the front: {mirrored:?}");
    r.open_stage(quad(turned(180.0, -1.0), Some(false)).as_scene()).unwrap();
    let mirrored_back = centre(&shoot(&mut r, f64::NAN));
    assert!(close(mirrored_back, BACKGROUND, 2), "a mirrored back is still culled: {mirrored_back:?}");
    // The id pass (picking) culls too: nothing to pick on a culled back face.
    r.open_stage(quad(turned(180.0, 1.0), Some(false)).as_scene()).unwrap();
    shoot(&mut r, f64::NAN);
    assert_eq!(r.pick(WIDTH / 2, HEIGHT / 2).unwrap(), 0, "a culled face is not pickable");
}

fn sun(world_transform: [f64; 16]) -> Light {
    Light {
        prim_id: 2,
        kind: LightKind::DISTANT,
        world_transform,
        color: [1.0, 1.0, 1.0],
        intensity: 2.0,
        radius: 0.0,
        width: 0.0,
        height: 0.0,
        length: 0.0,
        angle_deg: 0.53,
        normalize: false,
        cone_angle_deg: 180.0,
        cone_softness: 0.0,
        texture: 0,
    }
}

fn sphere_with_sun() -> StageScene {
    let mut scene = synthetic::scene(vec![(
        "/World/Ball",
        synthetic::sphere(1.0, 48, 24, Some([0.8, 0.8, 0.8])),
        vec![synthetic::transform([0.0; 3], 1.0)],
    )]);
    scene.prim_paths.push("/World/Sun".into());
    // A DistantLight shines along its local -Z: turned +90° about Y it travels along -X (from +X).
    scene.lights = vec![sun(turned(90.0, 1.0))].into();
    scene
}

fn sides(img: &Image) -> (f64, f64) {
    let y = HEIGHT / 2;
    let dx = (f64::from(HEIGHT) * 0.18) as u32;
    (luma(img.px(WIDTH / 2 + dx, y)), luma(img.px(WIDTH / 2 - dx, y)))
}

#[test]
fn a_light_under_an_animated_transform_changes_the_lit_side_between_time_codes() {
    let _gpu = gpu_lock();
    let mut r = black_raster();
    let mut scene = sphere_with_sun();
    // Baked as the stage worker bakes it: at t=0 turned +90° (from +X), at t=10 −90° (from −X).
    let values: Vec<f32> = [turned(90.0, 1.0), turned(-90.0, 1.0)].iter().flatten().map(|&x| x as f32).collect();
    scene.tracks = vec![Track {
        target: TrackTarget::LIGHT_TRANSFORM,
        mesh: 0,
        instance: 0,
        held: true,
        times: vec![0.0, 10.0].into(),
        values: values.into(),
    }]
    .into();
    r.open_stage(scene.as_scene()).unwrap();
    let start = shoot(&mut r, 0.0);
    let end = shoot(&mut r, 10.0);
    start.save_png("light-track-start");
    end.save_png("light-track-end");
    let ((sr, sl), (er, el)) = (sides(&start), sides(&end));
    assert!(sr > sl + 30.0, "t=0: lit from +X, the right side is brighter: right {sr} left {sl}");
    assert!(el > er + 30.0, "t=10: lit from -X, the left side is brighter: right {er} left {el}");

    // A visibility track hides the light from t=5: at t=10 only the ambient is left.
    let mut hidden = sphere_with_sun();
    hidden.tracks = vec![Track {
        target: TrackTarget::LIGHT_VISIBILITY,
        mesh: 0,
        instance: 0,
        held: true,
        times: vec![0.0, 5.0].into(),
        values: vec![1.0, 0.0].into(),
    }]
    .into();
    r.open_stage(hidden.as_scene()).unwrap();
    let (lit_right, _) = sides(&shoot(&mut r, 0.0));
    let (dark_right, _) = sides(&shoot(&mut r, 10.0));
    assert!(lit_right > dark_right + 30.0, "the hidden light no longer lights: {lit_right} vs {dark_right}");
}

fn red_texture() -> Texture {
    Texture {
        asset_path: "tex/red.png".into(),
        resolved_path: "/assets/tex/red.png".into(),
        color_space: ColorSpace::SRGB,
        wrap_s: WrapMode::REPEAT,
        wrap_t: WrapMode::REPEAT,
        width: 2,
        height: 2,
        rgba8: [[230u8, 20, 20, 255]; 4].concat().into(),
    }
}

#[test]
fn textures_that_arrive_after_the_stage_replace_their_fallbacks() {
    let _gpu = gpu_lock();
    let mut r = black_raster();
    set(&mut r, "render_mode", "\"flat\"");
    let (mesh, uvs) = synthetic::textured_quad(2.0);
    let mut scene = synthetic::scene(vec![("/World/Quad", mesh, vec![synthetic::transform([0.0; 3], 1.0)])]);
    scene.mesh_uvs = vec![uvs];
    let mut input = synthetic::constant_input("diffuseColor", [0.0, 1.0, 0.0, 1.0]);
    input.texture = 1;
    input.channels = "rgb".into();
    let mut material = synthetic::preview_material("/World/Looks/Red", &[]);
    material.inputs = vec![input].into();
    scene.materials = vec![material].into();
    // As the host opens a stage: the texture without its pixels yet.
    let mut placeholder = red_texture();
    placeholder.rgba8 = RVec::new();
    placeholder.width = 0;
    placeholder.height = 0;
    scene.textures = vec![placeholder].into();
    synthetic::bind(&mut scene, 0, 1);
    r.open_stage(scene.as_scene()).unwrap();
    let before = centre(&shoot(&mut r, f64::NAN));
    assert!(close(before, [0, 255, 0, 255], 4), "the fallback (green) until the pixels arrive: {before:?}");
    // The pixels arrive.
    scene.textures = vec![red_texture()].into();
    assert!(r.update_textures(scene.as_scene(), RSlice::from_slice(&[0])).unwrap(), "raster takes streamed textures");
    let after = centre(&shoot(&mut r, f64::NAN));
    assert!(close(after, [230, 20, 20, 255], 8), "the texture replaces the fallback: {after:?}");
    // An index out of range, or a texture still without pixels, changes nothing and fails nothing.
    assert!(r.update_textures(scene.as_scene(), RSlice::from_slice(&[7])).unwrap());
    assert!(close(centre(&shoot(&mut r, f64::NAN)), [230, 20, 20, 255], 8));
}

//! Stage time against Pixar's pxr: the time range metadata, and at several time codes (between
//! samples, on samples, before and after them) the world transforms (`UsdGeom.XformCache(t)`),
//! world bounds (`UsdGeom.BBoxCache(t)`) and mesh points, computed from what the worker baked
//! (the scene's tracks, sampled with `Track::sample_into` exactly as the renderer does).

mod common;

use ovhost_plugin_api::{Bounds, StageScene, TrackTarget};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

const TIMES: [f64; 9] = [-3.0, 1.0, 5.5, 19.0, 20.0, 24.0, 29.75, 47.25, 60.0];

fn stages() -> Option<(PathBuf, PathBuf)> {
    let python = common::oracle_python()?;
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR
        .get_or_init(|| {
            let dir = common::fresh_dir("time");
            common::run_python(&python, "time_stages.py", &["author", dir.to_str().expect("utf-8")]);
            dir
        })
        .clone();
    Some((python, dir))
}

fn oracle(python: &std::path::Path, stage: &std::path::Path, times: &[f64]) -> Value {
    let mut args = vec!["oracle".to_owned(), stage.to_str().expect("utf-8").to_owned()];
    args.extend(times.iter().map(|t| t.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    serde_json::from_str(&common::run_python(python, "time_stages.py", &args)).expect("oracle JSON")
}

/// World transform and visibility of every mesh instance at `t`, from the scene and its tracks.
struct Posed {
    path: String,
    world: [f64; 16],
    visible: bool,
    positions: Vec<[f32; 3]>,
}

fn pose(scene: &StageScene, t: f64) -> Vec<Posed> {
    let mut out = Vec::new();
    for (m, mesh) in scene.meshes.iter().enumerate() {
        let mut positions: Vec<[f32; 3]> = mesh.positions.to_vec();
        for track in scene.tracks.iter().filter(|k| k.mesh as usize == m && k.target == TrackTarget::MESH_POSITIONS) {
            let mut flat = vec![0.0f32; track.stride()];
            assert!(track.sample_into(t, &mut flat));
            positions = flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        }
        for (i, inst) in mesh.instances.iter().enumerate() {
            let mut world = inst.world_transform;
            let mut visible = true;
            for track in scene.tracks.iter().filter(|k| k.mesh as usize == m && k.instance as usize == i) {
                let mut v = vec![0.0f32; track.stride()];
                match track.target {
                    TrackTarget::INSTANCE_TRANSFORM => {
                        assert!(track.sample_into(t, &mut v));
                        world = std::array::from_fn(|k| f64::from(v[k]));
                    }
                    TrackTarget::INSTANCE_VISIBILITY => {
                        assert!(track.held, "visibility is a token: held, never interpolated");
                        assert!(track.sample_into(t, &mut v));
                        visible = v[0] > 0.5;
                    }
                    _ => {}
                }
            }
            let path = scene.prim_path(inst.prim_id).expect("prim id").to_owned();
            out.push(Posed { path, world, visible, positions: positions.clone() });
        }
    }
    out
}

fn world_bounds(p: &Posed) -> Bounds {
    let mut b = Bounds::EMPTY;
    for q in &p.positions {
        let q = q.map(f64::from);
        b.include_point(std::array::from_fn(|j| {
            q[0] * p.world[j] + q[1] * p.world[4 + j] + q[2] * p.world[8 + j] + p.world[12 + j]
        }));
    }
    b
}

fn their_bounds(v: &Value) -> Bounds {
    if v.is_null() {
        return Bounds::EMPTY;
    }
    let arr = |k: &str| std::array::from_fn(|i| v[k][i].as_f64().expect("number"));
    Bounds { min: arr("min"), max: arr("max") }
}

/// Bounds agree within 1e-3 of the box size: between whole time codes the renderer blends the
/// matrices baked at them, so a rotation there is a chord, not an arc (4e-4 of the size for the
/// 3.6° per code here); on whole codes and samples they agree to float precision.
fn close_bounds(what: &str, ours: &Bounds, theirs: &Bounds) {
    assert_eq!(ours.is_empty(), theirs.is_empty(), "{what}: ours {ours:?} vs pxr {theirs:?}");
    if !ours.is_empty() {
        let tol = 1e-3 * theirs.size().iter().fold(1.0f64, |a, b| a.max(*b));
        for i in 0..3 {
            assert!(
                (ours.min[i] - theirs.min[i]).abs() < tol && (ours.max[i] - theirs.max[i]).abs() < tol,
                "{what}: ours {ours:?} vs pxr {theirs:?}"
            );
        }
    }
}

#[test]
fn transforms_bounds_points_and_visibility_match_pxr_over_time() {
    let Some((python, dir)) = stages() else { return };
    let facts = oracle(&python, &dir.join("anim.usda"), &TIMES);
    let mut service = common::service(&dir);
    let opened = service.open("anim.usda").expect("open");
    let scene = &opened.scene;
    let range = scene.time_range.expect("an animated stage has a time range");
    assert_eq!(range.start_time_code, facts["start"].as_f64().expect("start"));
    assert_eq!(range.end_time_code, facts["end"].as_f64().expect("end"));
    assert_eq!(range.time_codes_per_second, facts["tcps"].as_f64().expect("tcps"));
    assert!(!scene.tracks.is_empty(), "the animated stage bakes tracks");
    for t in TIMES {
        let theirs = &facts["times"][format!("{t:?}")];
        let posed = pose(scene, t);
        let mut world_union = Bounds::EMPTY;
        for p in &posed {
            let their = &theirs[&p.path];
            for (k, (ours, pxr)) in p.world.iter().zip(their["world"].as_array().expect("world")).enumerate() {
                let pxr = pxr.as_f64().expect("number");
                assert!(
                    (ours - pxr).abs() < 2e-3 * pxr.abs().max(1.0),
                    "{} at t={t}: world[{k}] ours {ours} vs pxr {pxr}",
                    p.path
                );
            }
            if let Some(points) = their.get("points").and_then(Value::as_array) {
                for (ours, pxr) in p.positions.iter().zip(points) {
                    for c in 0..3 {
                        let pxr = pxr[c].as_f64().expect("number");
                        assert!((f64::from(ours[c]) - pxr).abs() < 1e-5, "{} points at t={t}", p.path);
                    }
                }
            }
            if p.visible {
                close_bounds(&format!("{} at t={t}", p.path), &world_bounds(p), &their_bounds(&their["bounds"]));
                world_union = world_union.union(&world_bounds(p));
            }
        }
        let blinker = posed.iter().find(|p| p.path == "/World/Blinker").expect("the blinker is extracted");
        assert_eq!(blinker.visible, !(20.0..30.0).contains(&t), "blinker visibility at t={t}");
        // The whole stage's bounds leave out the invisible prim, as pxr's do.
        close_bounds(&format!("/World at t={t}"), &world_union, &their_bounds(&theirs["/World"]["bounds"]));
    }
}

#[test]
fn an_unranged_animation_plays_over_its_samples() {
    let Some((python, dir)) = stages() else { return };
    let facts = oracle(&python, &dir.join("anim_unranged.usda"), &[0.0, 15.0, 25.0]);
    assert_eq!(facts["authored_range"], Value::Bool(false));
    let mut service = common::service(&dir);
    let opened = service.open("anim_unranged.usda").expect("open");
    let range = opened.scene.time_range.expect("the sample span stands in for the range");
    assert_eq!((range.start_time_code, range.end_time_code), (10.0, 20.0));
    assert_eq!(range.time_codes_per_second, facts["tcps"].as_f64().expect("tcps"));
    for t in [0.0, 15.0, 25.0] {
        let posed = pose(&opened.scene, t);
        let ours = posed[0].world[13];
        let pxr = facts["times"][format!("{t:?}")]["/World/Slider/Box"]["world"][13].as_f64().expect("ty");
        assert!((ours - pxr).abs() < 1e-5, "slider at t={t}: ours {ours} vs pxr {pxr}");
    }
}

#[test]
fn a_static_stage_has_no_tracks() {
    let Some((_python, dir)) = stages() else { return };
    std::fs::write(dir.join("static.usda"), "#usda 1.0\ndef Cube \"C\" {}\n").expect("write");
    let mut service = common::service(&dir);
    let opened = service.open("static.usda").expect("open");
    assert!(opened.scene.tracks.is_empty());
    assert!(opened.scene.time_range.is_none(), "no range authored and nothing sampled");
}

#[test]
fn skinned_points_match_pxr_bake_skinning() {
    let Some((python, dir)) = stages() else { return };
    let times = [1.0, 6.5, 12.0, 18.25, 24.0, 30.0];
    let mut args = vec!["skinned".to_owned(), dir.join("skinned.usda").to_str().expect("utf-8").to_owned()];
    args.extend(times.iter().map(|t| t.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let facts: Value =
        serde_json::from_str(&common::run_python(&python, "time_stages.py", &args)).expect("oracle JSON");
    let mut service = common::service(&dir);
    let opened = service.open("skinned.usda").expect("open");
    let scene = &opened.scene;
    assert!(
        scene.tracks.iter().any(|t| t.target == TrackTarget::MESH_POSITIONS),
        "the skinned arm bakes a positions track"
    );
    let mut tips = Vec::new();
    for t in times {
        let arm = pose(scene, t).into_iter().find(|p| p.path == "/Rig/Arm").expect("the arm is drawn");
        let theirs = facts["points"][format!("{t:?}")].as_array().expect("points");
        assert_eq!(arm.positions.len(), theirs.len(), "one vertex per point (no unwelding here)");
        for (i, (ours, pxr)) in arm.positions.iter().zip(theirs).enumerate() {
            let q = ours.map(f64::from);
            let w = arm.world;
            let world: [f64; 3] = std::array::from_fn(|j| q[0] * w[j] + q[1] * w[4 + j] + q[2] * w[8 + j] + w[12 + j]);
            for c in 0..3 {
                let p = pxr[c].as_f64().expect("number");
                assert!((world[c] - p).abs() < 1e-4, "point {i} at t={t}: ours {world:?} vs pxr {pxr}");
            }
        }
        tips.push(arm.positions[arm.positions.len() - 1]);
    }
    assert!(tips.windows(2).take(4).all(|w| w[0] != w[1]), "the arm's tip moves: {tips:?}");
}

/// `TetMesh` draws its surface: the same faces as pxr's `ComputeSurfaceFaces`, bounds as BBoxCache.
#[test]
fn tet_mesh_draws_its_surface_faces() {
    let Some((python, dir)) = stages() else { return };
    let path = dir.join("tet.usda");
    let facts: Value =
        serde_json::from_str(&common::run_python(&python, "time_stages.py", &["tet", path.to_str().expect("utf-8")]))
            .expect("oracle JSON");
    let mut service = common::service(&dir);
    let opened = service.open("tet.usda").expect("open");
    let mesh = opened.scene.meshes.iter().find(|m| !m.instances.is_empty()).expect("the TetMesh is drawn");
    let mut ours: Vec<Vec<i64>> = mesh
        .indices
        .chunks_exact(3)
        .map(|t| {
            let mut f: Vec<i64> = t.iter().map(|&i| i64::from(i)).collect();
            f.sort_unstable();
            f
        })
        .collect();
    let mut theirs: Vec<Vec<i64>> = facts["faces"]
        .as_array()
        .expect("faces")
        .iter()
        .map(|f| f.as_array().expect("face").iter().map(|i| i.as_i64().expect("index")).collect())
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "surface faces");
    close_bounds("/Tet", &opened.scene.bounds, &their_bounds(&facts["bounds"]));
}

/// Curves of every basis and wrap and a point set are drawn (as tubes and spheres), and their
/// bounds are pxr's (`UsdGeom.BBoxCache`: points padded by the widths).
#[test]
fn curves_and_points_are_drawn_with_pxr_bounds() {
    let Some((python, dir)) = stages() else { return };
    let path = dir.join("curves.usda");
    let facts: Value = serde_json::from_str(&common::run_python(
        &python,
        "time_stages.py",
        &["bounds", path.to_str().expect("utf-8")],
    ))
    .expect("oracle JSON");
    let mut service = common::service(&dir);
    let opened = service.open("curves.usda").expect("open");
    let drawn: std::collections::BTreeSet<&str> = opened
        .scene
        .meshes
        .iter()
        .filter(|m| m.triangle_count() > 0)
        .flat_map(|m| m.instances.iter().filter_map(|i| opened.scene.prim_path(i.prim_id)))
        .collect();
    let prims = facts.as_object().expect("bounds");
    let curves: Vec<&String> = prims.keys().filter(|p| p.starts_with("/World/C") || *p == "/World/Dots").collect();
    assert_eq!(curves.len(), 11, "10 curves (each type, basis and wrap) and a point set: {curves:?}");
    for path in curves {
        assert!(drawn.contains(path.as_str()), "{path} is drawn");
        let ours = service.bounds(path).expect("bounds");
        close_bounds(path, &ours, &their_bounds(&prims[path]));
    }
    close_bounds("stage", &opened.scene.bounds, &their_bounds(&prims["/World"]));
}

/// A mesh's positions and colours at `t` from its tracks (as the renderer samples them).
fn posed_mesh(scene: &StageScene, m: usize, t: f64) -> (Vec<[f32; 3]>, Vec<[f32; 3]>) {
    let mesh = &scene.meshes[m];
    let mut positions: Vec<[f32; 3]> = mesh.positions.to_vec();
    let mut colors: Vec<[f32; 3]> = mesh.colors.to_vec();
    for track in scene.tracks.iter().filter(|k| k.mesh as usize == m) {
        let mut flat = vec![0.0f32; track.stride()];
        assert!(track.sample_into(t, &mut flat), "a well-formed track");
        let values: Vec<[f32; 3]> = flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        match track.target {
            TrackTarget::MESH_POSITIONS => positions = values,
            TrackTarget::MESH_COLORS => colors = values,
            _ => {}
        }
    }
    (positions, colors)
}

/// Time-sampled gprim attributes (a sphere's radius and displayColor), curve and point positions
/// and widths, and tet mesh points are baked: at times on and between samples the drawn shapes'
/// bounds are pxr's `BBoxCache(t)` (tubes and spheres inside pxr's width-padded boxes, within a
/// half-width of them) and the colour is pxr's interpolated `displayColor`.
#[test]
fn sampled_shapes_widths_and_colors_follow_pxr() {
    let Some((python, dir)) = stages() else { return };
    let times = [1.0, 6.0, 12.5, 24.0, 30.0];
    let facts = oracle(&python, &dir.join("anim_shapes.usda"), &times);
    let mut service = common::service(&dir);
    let opened = service.open("anim_shapes.usda").expect("open");
    let scene = &opened.scene;
    let mesh_of = |path: &str| {
        scene
            .meshes
            .iter()
            .position(|m| m.instances.iter().any(|i| scene.prim_path(i.prim_id) == Some(path)))
            .unwrap_or_else(|| panic!("{path} is drawn"))
    };
    for path in ["/World/Ball", "/World/Hair", "/World/Dots", "/World/Tet"] {
        let m = mesh_of(path);
        assert!(
            scene.tracks.iter().any(|k| k.mesh as usize == m && k.target == TrackTarget::MESH_POSITIONS),
            "{path} bakes a positions track"
        );
    }
    let still = mesh_of("/World/Still");
    assert!(scene.tracks.iter().all(|k| k.mesh as usize != still), "the static cube has no track");
    let mut ball_sizes = Vec::new();
    for t in times {
        let theirs = &facts["times"][format!("{t:?}")];
        for (path, slack) in [("/World/Ball", 0.0), ("/World/Tet", 0.0), ("/World/Hair", 0.2), ("/World/Dots", 0.08)] {
            let m = mesh_of(path);
            let (positions, colors) = posed_mesh(scene, m, t);
            let world = scene.meshes[m].instances[0].world_transform;
            let p = Posed { path: path.to_owned(), world, visible: true, positions };
            let ours = world_bounds(&p);
            let pxr = their_bounds(&theirs[path]["bounds"]);
            if slack == 0.0 {
                // Tessellated spheres reach their radius at the poles and the equator.
                close_bounds(&format!("{path} at t={t}"), &ours, &pxr);
            } else {
                // Tubes and point spheres (icosahedra) sit inside pxr's box (points padded by the
                // widest half-width in every axis) and reach within a half-width (tubes) or 15 %
                // of the largest radius (spheres) of it.
                for i in 0..3 {
                    assert!(
                        ours.min[i] >= pxr.min[i] - 1e-4 && ours.max[i] <= pxr.max[i] + 1e-4,
                        "{path} at t={t}: ours {ours:?} inside pxr {pxr:?}"
                    );
                    assert!(
                        ours.min[i] - pxr.min[i] <= slack && pxr.max[i] - ours.max[i] <= slack,
                        "{path} at t={t}: ours {ours:?} within a half-width of pxr {pxr:?}"
                    );
                }
            }
            if path == "/World/Ball" {
                ball_sizes.push(ours.size()[0]);
                let want = theirs[path]["displayColor"][0].as_array().expect("displayColor");
                assert_eq!(colors.len(), 1, "one colour for the sphere");
                for c in 0..3 {
                    let w = want[c].as_f64().expect("number");
                    assert!((f64::from(colors[0][c]) - w).abs() < 1e-5, "ball colour at t={t}: {colors:?} vs {want:?}");
                }
            }
        }
    }
    assert!(ball_sizes.windows(2).take(3).all(|w| w[1] > w[0]), "the ball grows: {ball_sizes:?}");
}

/// A PointInstancer whose `invisibleIds` is time-sampled: every instance is placed, each one's
/// visibility is a held track, and at each time the shown instances' bounds are pxr's
/// `BBoxCache(t)` bounds of the instancer (which applies the mask).
#[test]
fn a_sampled_invisible_ids_mask_hides_instances_over_time() {
    let Some((python, dir)) = stages() else { return };
    let times = [1.0, 9.5, 10.0, 15.0, 20.0, 30.0];
    let facts = oracle(&python, &dir.join("anim_shapes.usda"), &times);
    let mut service = common::service(&dir);
    let opened = service.open("anim_shapes.usda").expect("open");
    let mut shown_counts = Vec::new();
    for t in times {
        let crowd: Vec<Posed> = pose(&opened.scene, t).into_iter().filter(|p| p.path == "/World/Crowd").collect();
        assert_eq!(crowd.len(), 3, "every instance is placed");
        let shown: Vec<&Posed> = crowd.iter().filter(|p| p.visible).collect();
        shown_counts.push(shown.len());
        let ours = shown.iter().fold(Bounds::EMPTY, |acc, p| acc.union(&world_bounds(p)));
        let theirs = their_bounds(&facts["times"][format!("{t:?}")]["/World/Crowd"]["bounds"]);
        close_bounds(&format!("/World/Crowd at t={t}"), &ours, &theirs);
    }
    assert_eq!(shown_counts, [3, 3, 2, 2, 1, 1], "instances shown over time");
}

/// An authored camera whose transform, focal length and clipping range are time-sampled bakes a
/// `CAMERA` track: at each time its world transform is pxr's `XformCache(t)`, and its vertical
/// field of view and clipping range are pxr's `GfCamera` at t.
#[test]
fn an_animated_camera_bakes_a_track_that_matches_pxr() {
    let Some((python, dir)) = stages() else { return };
    let times = [0.0, 1.0, 7.0, 12.5, 24.0, 40.0];
    let stage = dir.join("anim_shapes.usda");
    let mut args = vec!["camera".to_owned(), stage.to_str().expect("utf-8").to_owned(), "/World/Cam".to_owned()];
    args.extend(times.iter().map(|t| t.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let facts: Value =
        serde_json::from_str(&common::run_python(&python, "time_stages.py", &args)).expect("oracle JSON");
    let mut service = common::service(&dir);
    let opened = service.open("anim_shapes.usda").expect("open");
    let scene = &opened.scene;
    let index = scene.cameras.iter().position(|c| c.path.as_str() == "/World/Cam").expect("the camera is extracted");
    let track = scene
        .tracks
        .iter()
        .find(|k| k.target == TrackTarget::CAMERA && k.mesh as usize == index)
        .expect("the animated camera bakes a camera track");
    assert_eq!(track.stride(), ovhost_plugin_api::CAMERA_TRACK_STRIDE);
    for t in times {
        let mut sample = [0.0f32; ovhost_plugin_api::CAMERA_TRACK_STRIDE];
        assert!(track.sample_into(t, &mut sample));
        let cam = scene.cameras[index].with_track_sample(&sample);
        let theirs = &facts[format!("{t:?}")];
        for (k, (ours, pxr)) in cam.world_transform.iter().zip(theirs["world"].as_array().expect("world")).enumerate() {
            let pxr = pxr.as_f64().expect("number");
            assert!(
                (ours - pxr).abs() < 2e-3 * pxr.abs().max(1.0),
                "camera at t={t}: world[{k}] ours {ours} vs pxr {pxr}"
            );
        }
        // Between whole time codes the field of view is blended from the ones baked at them.
        let fov = theirs["fov_y_deg"].as_f64().expect("fov");
        assert!((cam.fov_y_deg - fov).abs() < 0.05, "camera at t={t}: fov ours {} vs pxr {fov}", cam.fov_y_deg);
        for (ours, key) in [(cam.near, "near"), (cam.far, "far")] {
            let pxr = theirs[key].as_f64().expect("clip");
            assert!((ours - pxr).abs() < 1e-3 * pxr.max(1.0), "camera at t={t}: {key} ours {ours} vs pxr {pxr}");
        }
    }
}

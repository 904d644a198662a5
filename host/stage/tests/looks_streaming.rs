//! Textures streamed after the stage (`set_defer_textures` / `next_textures`), `doubleSided` and
//! `orientation` as the worker extracts them, and time-sampled light transforms and visibility
//! baked into `LIGHT_*` tracks, checked against Pixar's pxr (`scripts/usd/time_stages.py oracle`).

mod common;

use ovhost_plugin_api::{StageScene, Track, TrackTarget};
use std::path::Path;

/// A solid-colour PNG.
fn png(path: &Path, side: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    image::RgbImage::from_pixel(side, side, image::Rgb(rgb)).save(path).expect("write png");
}

fn material(name: &str, file: &str) -> String {
    format!(
        r#"    def Material "{name}" {{
        token outputs:surface.connect = </World/Looks/{name}/Surface.outputs:surface>
        def Shader "Surface" {{
            uniform token info:id = "UsdPreviewSurface"
            color3f inputs:diffuseColor.connect = </World/Looks/{name}/Tex.outputs:rgb>
            token outputs:surface
        }}
        def Shader "Tex" {{
            uniform token info:id = "UsdUVTexture"
            asset inputs:file = @{file}@
            float4 inputs:fallback = (1, 0, 1, 1)
            float3 outputs:rgb
        }}
    }}
"#
    )
}

fn quad(name: &str, x: f32, material: &str) -> String {
    format!(
        r#"    def Mesh "{name}" (prepend apiSchemas = ["MaterialBindingAPI"]) {{
        rel material:binding = </World/Looks/{material}>
        point3f[] points = [({x}, 0, 0), ({x1}, 0, 0), ({x1}, 1, 0), ({x}, 1, 0)]
        int[] faceVertexCounts = [4]
        int[] faceVertexIndices = [0, 1, 2, 3]
        texCoord2f[] primvars:st = [(0, 0), (1, 0), (1, 1), (0, 1)] (interpolation = "vertex")
    }}
"#,
        x1 = x + 1.0
    )
}

const COLOURS: [[u8; 3]; 6] =
    [[200, 10, 10], [10, 200, 10], [10, 10, 200], [200, 200, 10], [10, 200, 200], [200, 10, 200]];

/// `count` textured quads (the colours repeat) and one whose texture is truncated.
fn author_textured(dir: &Path, count: usize) -> &'static str {
    let mut looks = String::new();
    let mut meshes = String::new();
    for (i, rgb) in COLOURS.iter().cycle().take(count).enumerate() {
        png(&dir.join(format!("tex/c{i}.png")), 64, *rgb);
        looks.push_str(&material(&format!("M{i}"), &format!("tex/c{i}.png")));
        meshes.push_str(&quad(&format!("Q{i}"), i as f32 * 1.5, &format!("M{i}")));
    }
    let bytes = std::fs::read(dir.join("tex/c0.png")).expect("read");
    std::fs::write(dir.join("tex/truncated.png"), &bytes[..bytes.len() / 2]).expect("write");
    looks.push_str(&material("Broken", "tex/truncated.png"));
    meshes.push_str(&quad("Broken", -2.0, "Broken"));
    let text = format!(
        "#usda 1.0\n(\n    defaultPrim = \"World\"\n)\ndef Xform \"World\" {{\n  def Scope \"Looks\" {{\n{looks}  }}\n{meshes}}}\n"
    );
    std::fs::write(dir.join("textured.usda"), text).expect("write stage");
    "textured.usda"
}

fn index_of(scene: &StageScene, file: &str) -> usize {
    scene.textures.iter().position(|t| t.asset_path.as_str() == file).unwrap_or_else(|| panic!("no texture {file}"))
}

#[test]
fn a_deferred_open_sends_textures_without_pixels_and_batches_fill_each_one_once() {
    let dir = common::fresh_dir("streamed-textures");
    let stage = author_textured(&dir, COLOURS.len());
    // Inline (the default): pixels arrive with the stage.
    let mut inline = common::service(&dir);
    let full = inline.open(stage).expect("open inline").scene;
    assert!(full.textures[index_of(&full, "tex/c2.png")].rgba8.len() == 64 * 64 * 4);

    let mut service = common::service(&dir);
    service.set_defer_textures(true);
    let opened = service.open(stage).expect("open deferred");
    let scene = opened.scene;
    assert_eq!(scene.textures.len(), full.textures.len(), "the same texture table");
    for (t, f) in scene.textures.iter().zip(full.textures.iter()) {
        assert!(t.rgba8.is_empty() && t.width == 0, "{}: no pixels yet", t.asset_path);
        assert_eq!(
            (t.asset_path.as_str(), t.resolved_path.as_str()),
            (f.asset_path.as_str(), f.resolved_path.as_str())
        );
    }
    // The materials are already there, pointing at the textures (the renderer shows fallbacks).
    assert_eq!(scene.materials.len(), full.materials.len());

    let mut seen = vec![0u32; scene.textures.len()];
    let mut batches = 0;
    loop {
        let batch = service.next_textures().expect("a batch");
        assert_eq!(batch.generation, scene.generation, "the batch belongs to the open stage");
        batches += 1;
        for (index, texture) in &batch.textures {
            seen[*index as usize] += 1;
            let want = &full.textures[*index as usize];
            assert_eq!((texture.width, texture.height), (want.width, want.height), "{}", want.asset_path);
            assert!(texture.rgba8 == want.rgba8, "{}: the same pixels as an inline open", want.asset_path);
        }
        if batch.remaining == 0 {
            break;
        }
        assert!(batches < 64, "streaming ends");
    }
    assert!(seen.iter().all(|&n| n == 1), "each texture arrives exactly once: {seen:?}");
    for (i, rgb) in COLOURS.iter().enumerate() {
        let full_tex = &full.textures[index_of(&full, &format!("tex/c{i}.png"))];
        assert_eq!(&full_tex.rgba8[..3], rgb, "texture {i} decoded");
    }
    // The broken one stays without pixels, and the inspector says why once it was tried.
    assert!(full.textures[index_of(&full, "tex/truncated.png")].rgba8.is_empty());
    let props = service.properties("/World/Broken", ovhost_stage::DEFAULT_PROPERTIES_MAX_BYTES).expect("properties");
    let bound = props.properties.iter().find(|(k, _)| k == "material:bound").expect("material:bound").1.clone();
    let error = &bound["inputs"]["diffuseColor"]["error"];
    assert!(error.as_str().is_some_and(|e| !e.is_empty()), "the inspector says why: {bound}");
    // Asking again after the end is harmless: nothing remains.
    let after = service.next_textures().expect("after the end");
    assert!(after.textures.is_empty() && after.remaining == 0);
}

#[test]
fn a_newer_open_drops_the_textures_still_pending() {
    let dir = common::fresh_dir("streamed-superseded");
    // More textures than any machine has cores, so the first batch never takes them all.
    let stage = author_textured(&dir, 300);
    std::fs::write(
        dir.join("plain.usda"),
        "#usda 1.0\ndef Mesh \"M\" {\n point3f[] points = [(0,0,0),(1,0,0),(0,1,0)]\n int[] faceVertexCounts = [3]\n int[] faceVertexIndices = [0,1,2]\n}\n",
    )
    .expect("write");
    let mut service = common::service(&dir);
    service.set_defer_textures(true);
    service.open(stage).expect("open");
    let first = service.next_textures().expect("first batch");
    assert!(first.remaining > 0, "more than one batch on this machine's cores: {}", first.remaining);
    let plain = service.open("plain.usda").expect("open another");
    let next = service.next_textures().expect("batch after the new open");
    assert_eq!(next.generation, plain.scene.generation);
    assert!(next.textures.is_empty() && next.remaining == 0, "the old stage's textures are gone");
}

#[test]
fn double_sided_is_read_per_mesh_and_left_handed_winding_is_flipped() {
    let dir = common::fresh_dir("double-sided");
    let mesh = |name: &str, extra: &str| {
        format!(
            "  def Mesh \"{name}\" {{\n    {extra}\n    point3f[] points = [(0,0,0),(1,0,0),(1,1,0),(0,1,0)]\n    int[] faceVertexCounts = [4]\n    int[] faceVertexIndices = [0,1,2,3]\n  }}\n"
        )
    };
    let text = format!(
        "#usda 1.0\ndef Xform \"World\" {{\n{}{}{}{}  def Cube \"Box\" {{ uniform bool doubleSided = 1 }}\n  def Points \"Dots\" {{ point3f[] points = [(0,0,3)] float[] widths = [0.1] }}\n}}\n",
        mesh("Single", ""),
        mesh("Double", "uniform bool doubleSided = 1"),
        mesh("Left", "uniform token orientation = \"leftHanded\""),
        mesh("Off", "uniform bool doubleSided = 0"),
    );
    std::fs::write(dir.join("sides.usda"), text).expect("write");
    let mut service = common::service(&dir);
    let scene = service.open("sides.usda").expect("open").scene;
    assert_eq!(scene.mesh_double_sided.len(), scene.meshes.len(), "one flag per mesh");
    let flag = |path: &str| {
        let id = scene.prim_paths.iter().position(|p| p.as_str() == path).expect(path) as u32 + 1;
        let mesh = scene.meshes.iter().position(|m| m.instances.iter().any(|i| i.prim_id == id)).expect("mesh");
        (mesh, scene.mesh_double_sided[mesh])
    };
    assert!(!flag("/World/Single").1, "fallback: single-sided");
    assert!(flag("/World/Double").1);
    assert!(!flag("/World/Off").1);
    assert!(flag("/World/Box").1, "an implicit gprim's doubleSided");
    assert!(flag("/World/Dots").1, "points are seen from both sides");
    // Right-handed (0,1,2,3) is counter-clockwise seen from +Z; leftHanded is clockwise, so the
    // worker flips it: its triangles must face -Z.
    let facing = |mesh: usize| {
        let m = &scene.meshes[mesh];
        let p = |i: u32| m.positions[i as usize];
        let t = &m.indices[..3];
        let (a, b, c) = (p(t[0]), p(t[1]), p(t[2]));
        // z of (b - a) × (c - a)
        (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    };
    assert!(facing(flag("/World/Single").0) > 0.0, "right-handed faces +Z");
    assert!(facing(flag("/World/Left").0) < 0.0, "leftHanded faces -Z");
}

fn light_tracks(scene: &StageScene, target: TrackTarget) -> Vec<&Track> {
    scene.tracks.iter().filter(|t| t.target == target).collect()
}

#[test]
fn a_light_under_an_animated_transform_is_baked_as_pxr_places_it() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::fresh_dir("light-tracks");
    let text = r#"#usda 1.0
(
    startTimeCode = 1
    endTimeCode = 10
)
def Xform "World" {
    def Xform "Rig" {
        float xformOp:rotateY.timeSamples = { 1: 0, 10: 180 }
        double3 xformOp:translate.timeSamples = { 1: (0, 0, 0), 10: (2, 0, 0) }
        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:rotateY"]
        def DistantLight "Sun" {
            float inputs:intensity = 2
            double3 xformOp:translate = (0, 1, 0)
            uniform token[] xformOpOrder = ["xformOp:translate"]
        }
    }
    def SphereLight "Blink" {
        token visibility.timeSamples = { 1: "inherited", 5: "invisible", 8: "inherited" }
    }
    def SphereLight "Still" { }
    def Cube "Box" { }
}
"#;
    std::fs::write(dir.join("lights.usda"), text).expect("write");
    let mut service = common::service(&dir);
    let scene = service.open("lights.usda").expect("open").scene;
    assert_eq!(scene.lights.len(), 3, "each light once (not once more per baked time)");
    let index = |path: &str| {
        let id = scene.prim_paths.iter().position(|p| p.as_str() == path).expect(path) as u32 + 1;
        scene.lights.iter().position(|l| l.prim_id == id).expect("light") as u32
    };
    let transforms = light_tracks(&scene, TrackTarget::LIGHT_TRANSFORM);
    assert_eq!(transforms.len(), 1, "only the moving light has a transform track");
    let sun = transforms[0];
    assert_eq!(sun.mesh, index("/World/Rig/Sun"));
    let times = ["1", "3.5", "5", "10"];
    let stage_path = dir.join("lights.usda");
    let mut args = vec!["oracle", stage_path.to_str().expect("utf-8")];
    args.extend(times);
    let oracle: serde_json::Value =
        serde_json::from_str(&common::run_python(&python, "time_stages.py", &args)).expect("oracle JSON");
    let mut ours = [0.0f32; 16];
    for t in times {
        let t: f64 = t.parse().expect("time");
        let theirs = &oracle["times"][format!("{t:?}")]["/World/Rig/Sun"]["world"];
        assert!(sun.sample_into(t, &mut ours), "sampled at {t}");
        for (k, want) in theirs.as_array().expect("matrix").iter().enumerate() {
            let want = want.as_f64().expect("number");
            // Whole time codes are baked exactly; between them the renderer interpolates the
            // matrices linearly (as for instance transforms), a chord of at most 20° here.
            let tolerance = if t.fract() == 0.0 { 1e-4 } else { 0.03 };
            assert!((f64::from(ours[k]) - want).abs() < tolerance, "t={t} [{k}]: ours {ours:?} vs pxr {theirs}");
        }
    }
    let visibility = light_tracks(&scene, TrackTarget::LIGHT_VISIBILITY);
    assert_eq!(visibility.len(), 1, "only the blinking light has a visibility track");
    let blink = visibility[0];
    assert_eq!(blink.mesh, index("/World/Blink"));
    let mut v = [0.0f32; 1];
    for (t, shown) in [(1.0, 1.0), (4.0, 1.0), (5.0, 0.0), (7.5, 0.0), (8.0, 1.0), (10.0, 1.0)] {
        assert!(blink.sample_into(t, &mut v));
        assert_eq!(v[0], shown, "visibility at {t}");
    }
}

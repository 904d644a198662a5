//! Materials against Pixar's pxr (the oracle) on stages authored with pxr
//! (`scripts/usd/author_material_stages.py`): the bound material of every gprim and face subset
//! for the preview, full and all-purpose purposes equals `ComputeBoundMaterial`'s; UsdPreviewSurface
//! input values and resolved texture paths equal pxr's; the scene's subsets, texture pixels,
//! fallbacks for broken textures, the inspector entry, and lights.

mod common;

use ovhost_plugin_api::{LightKind, StageScene};
use ovhost_stage::StageService;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn authored(python: &Path) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = common::fresh_dir("materials");
        common::run_python(python, "author_material_stages.py", &[dir.to_str().expect("utf-8 path")]);
        dir
    })
    .clone()
}

fn oracle(python: &Path, stage: &Path) -> Value {
    let text = common::run_python(python, "material_oracle.py", &[stage.to_str().expect("utf-8")]);
    serde_json::from_str(&text).expect("oracle JSON")
}

/// Our material facts in the oracle's shape: surface id and authored inputs.
fn our_materials(scene: &StageScene) -> BTreeMap<String, Value> {
    scene
        .materials
        .iter()
        .map(|m| {
            let mut inputs = serde_json::Map::new();
            for i in m.inputs.iter() {
                let entry = match (i.texture as usize).checked_sub(1) {
                    Some(t) => serde_json::json!({
                        "texture": scene.textures[t].resolved_path.as_str(),
                        "channels": i.channels.as_str(),
                    }),
                    None => serde_json::json!({ "value": i.value }),
                };
                inputs.insert(i.name.to_string(), entry);
            }
            (m.path.to_string(), serde_json::json!({"surface": m.surface.as_str(), "inputs": inputs}))
        })
        .collect()
}

fn assert_inputs_match(stage: &str, path: &str, ours: &Value, theirs: &Value) {
    let ours = ours["inputs"].as_object().expect("our inputs");
    let theirs = theirs["inputs"].as_object().expect("their inputs");
    let our_names: Vec<&String> = ours.keys().collect();
    let their_names: Vec<&String> = theirs.keys().collect();
    assert_eq!(our_names, their_names, "{stage} {path}: input names");
    for (name, t) in theirs {
        let o = &ours[name];
        if let Some(file) = t.get("texture") {
            assert_eq!(o["texture"], *file, "{stage} {path}.{name}: resolved texture path");
            assert_eq!(o["channels"], t["channels"], "{stage} {path}.{name}: texture output");
        } else {
            let tv: Vec<f64> = t["value"].as_array().expect("value").iter().map(|v| v.as_f64().expect("num")).collect();
            let ov: Vec<f64> = o["value"].as_array().expect("value").iter().map(|v| v.as_f64().expect("num")).collect();
            for (k, want) in tv.iter().enumerate() {
                assert!((ov[k] - want).abs() < 1e-6, "{stage} {path}.{name}[{k}]: ours {ov:?} vs pxr {tv:?}");
            }
        }
    }
}

fn check_stage(service: &mut StageService, python: &Path, dir: &Path, name: &str) -> StageScene {
    let facts = oracle(python, &dir.join(name));
    let opened = service.open(name).unwrap_or_else(|e| panic!("open {name}: {e}"));
    for (purpose, theirs) in facts["bindings"].as_object().expect("bindings") {
        let ours = service.material_bindings(purpose).expect("material bindings");
        let theirs: BTreeMap<String, String> = theirs
            .as_object()
            .expect("per prim")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("path").to_owned()))
            .collect();
        assert_eq!(ours, theirs, "{name}: bound materials for purpose {purpose:?}");
    }
    // Every material the preview purpose binds is in the scene's table, read as pxr reads it.
    let ours = our_materials(&opened.scene);
    let theirs = facts["materials"].as_object().expect("materials");
    let preview = service.material_bindings("preview").expect("preview bindings");
    for path in preview.values().filter(|p| !p.is_empty()) {
        let o = ours.get(path).unwrap_or_else(|| panic!("{name}: material {path} is missing from the scene"));
        let t = &theirs[path];
        if t["surface"] == "UsdPreviewSurface" {
            assert_eq!(o["surface"], "UsdPreviewSurface", "{name} {path} surface");
            assert_inputs_match(name, path, o, t);
        } else {
            assert_ne!(o["surface"], "UsdPreviewSurface", "{name} {path}: a non-preview surface must fall back");
            assert!(o["inputs"].as_object().expect("inputs").is_empty(), "{name} {path}: fallback has no inputs");
        }
    }
    opened.scene
}

fn material_index(scene: &StageScene, path: &str) -> u32 {
    scene.materials.iter().position(|m| m.path.as_str() == path).map_or(0, |i| i as u32 + 1)
}

/// The materials a prim's mesh draws with, as (material path, triangle count) runs.
fn runs_of(scene: &StageScene, prim: &str) -> Vec<(String, u32)> {
    let id = scene.prim_paths.iter().position(|p| p.as_str() == prim).expect("prim drawn") as u32 + 1;
    let mesh = scene.meshes.iter().position(|m| m.instances.iter().any(|i| i.prim_id == id)).expect("mesh of prim");
    scene.mesh_subsets[mesh]
        .iter()
        .map(|s| {
            let path =
                (s.material as usize).checked_sub(1).map_or(String::new(), |i| scene.materials[i].path.to_string());
            (path, s.index_count / 3)
        })
        .collect()
}

#[test]
fn bindings_and_preview_surfaces_match_pxr() {
    let Some(python) = common::oracle_python() else { return };
    let dir = authored(&python);
    let mut service = common::service(&dir);
    let scene = check_stage(&mut service, &python, &dir, "bindings.usda");
    // Subsets: faces 0,1 red, 3 blue, the rest (2, 4, 5: "plain" has no binding) green; two
    // triangles per quad face.
    let mut runs = runs_of(&scene, "/World/Subsets");
    runs.sort();
    assert_eq!(
        runs,
        vec![("/World/Looks/Blue".into(), 2), ("/World/Looks/Green".into(), 6), ("/World/Looks/Red".into(), 4)]
    );
    assert_eq!(runs_of(&scene, "/World/Unbound"), Vec::<(String, u32)>::new(), "unbound: displayColor");
    assert_eq!(runs_of(&scene, "/World/Ball"), vec![("/World/Looks/Red".into(), runs_of(&scene, "/World/Ball")[0].1)]);
    // The MaterialX-only material is in the table as a fallback; the one with a preview output is read.
    let mtlx = material_index(&scene, "/World/Looks/MtlxOnly") as usize;
    assert_eq!(scene.materials[mtlx - 1].surface.as_str(), "mtlx:surface");
    let with_preview = material_index(&scene, "/World/Looks/MtlxWithPreview") as usize;
    assert_eq!(scene.materials[with_preview - 1].surface.as_str(), "UsdPreviewSurface");

    // The inspector names the material, its inputs and the fallback reason.
    let props = service.properties("/World/MtlxOnlyMesh", 60 * 1024).expect("properties");
    let (key, material) = &props.properties[1];
    assert_eq!(key, "material:bound");
    assert_eq!(material["path"], "/World/Looks/MtlxOnly");
    let why = material["fallback"].as_str().expect("fallback reason");
    assert!(why.contains("mtlx") && why.contains("displayColor"), "{why}");
    let props = service.properties("/World/Direct", 60 * 1024).expect("properties");
    assert_eq!(props.properties[1].1["inputs"]["roughness"]["value"][0], 0.3f32 as f64);
    assert!(props.properties[1].1["fallback"].is_null());
}

#[test]
fn textures_resolve_decode_and_fall_back_like_pxr() {
    let Some(python) = common::oracle_python() else { return };
    let dir = authored(&python);
    let mut service = common::service(&dir);
    for name in ["textured.usda", "textured.usdz"] {
        let scene = check_stage(&mut service, &python, &dir, name);
        let by_asset = |suffix: &str| {
            scene
                .textures
                .iter()
                .find(|t| t.resolved_path.ends_with(&format!("{suffix}]")) || t.resolved_path.ends_with(suffix))
        };
        let checker = by_asset("checker.png").expect("checker texture");
        assert_eq!((checker.width, checker.height), (2, 2), "{name}");
        assert_eq!(&checker.rgba8[..4], &[230, 30, 30, 255], "{name}: top-left texel");
        assert_eq!(&checker.rgba8[12..16], &[240, 220, 20, 255], "{name}: bottom-right texel");
        for broken in ["truncated.png", "not_an_image.png"] {
            let t = by_asset(broken).unwrap_or_else(|| panic!("{name}: {broken} is in the table"));
            assert!(t.rgba8.is_empty() && t.width == 0, "{name}: {broken} has no pixels");
        }
        // Inputs carry the network's details.
        let checker_mat = &scene.materials[material_index(&scene, "/World/Looks/Checker") as usize - 1];
        let rough = checker_mat.inputs.iter().find(|i| i.name.as_str() == "roughness").expect("roughness input");
        assert_eq!((rough.scale[0], rough.bias[0], rough.channels.as_str()), (0.5, 0.1, "g"));
        let rotated = &scene.materials[material_index(&scene, "/World/Looks/Rotated") as usize - 1];
        let diffuse = rotated.inputs.iter().find(|i| i.name.as_str() == "diffuseColor").expect("diffuse");
        assert_eq!(diffuse.uv_transform, [1.0, 1.0, 90.0, 0.0, 0.0]);
        assert_eq!(diffuse.uv_set.as_str(), "st");
        assert_eq!(diffuse.value, [1.0, 0.0, 1.0, 1.0], "the UsdUVTexture fallback");
        assert!(!scene.mesh_uvs.is_empty() && scene.mesh_uvs[0].len() == scene.meshes[0].positions.len());
        // The inspector says why the broken texture shows its fallback.
        let props = service.properties("/World/TruncatedQuad", 60 * 1024).expect("properties");
        let entry = &props.properties[1].1["inputs"]["diffuseColor"];
        assert!(entry["texture"].as_str().expect("file").ends_with("truncated.png"), "{entry}");
        assert!(entry["error"].as_str().expect("error").contains("could not be decoded"), "{entry}");
    }
}

#[test]
fn textures_outside_the_asset_root_are_refused() {
    let Some(python) = common::oracle_python() else { return };
    let dir = authored(&python);
    let root = common::fresh_dir("material-root");
    let outside = common::fresh_dir("material-outside");
    std::fs::copy(dir.join("tex/checker.png"), outside.join("secret.png")).expect("copy");
    let usda = format!(
        "#usda 1.0\n(defaultPrim = \"World\")\ndef Xform \"World\" {{\n def Material \"M\" {{\n  token outputs:surface.connect = </World/M/S.outputs:surface>\n  def Shader \"S\" {{ uniform token info:id = \"UsdPreviewSurface\"\n   color3f inputs:diffuseColor.connect = </World/M/T.outputs:rgb>\n   token outputs:surface }}\n  def Shader \"T\" {{ uniform token info:id = \"UsdUVTexture\"\n   asset inputs:file = @{}@\n   float3 outputs:rgb }}\n }}\n def Mesh \"Q\" (prepend apiSchemas = [\"MaterialBindingAPI\"]) {{\n  rel material:binding = </World/M>\n  point3f[] points = [(0,0,0),(1,0,0),(1,1,0)]\n  int[] faceVertexCounts = [3]\n  int[] faceVertexIndices = [0,1,2]\n }}\n}}\n",
        outside.join("secret.png").display()
    );
    std::fs::write(root.join("escape.usda"), usda).expect("write stage");
    let mut service = common::service(&root);
    let opened = service.open("escape.usda").expect("the stage itself opens");
    assert_eq!(opened.scene.textures.len(), 1);
    assert!(opened.scene.textures[0].rgba8.is_empty(), "a texture outside the asset root is not read");
    let props = service.properties("/World/Q", 60 * 1024).expect("properties");
    let error = props.properties[1].1["inputs"]["diffuseColor"]["error"].as_str().expect("error").to_owned();
    assert!(error.contains("outside the asset root"), "{error}");
}

#[test]
fn lights_are_read_with_colour_temperature_and_exposure() {
    let root = common::fresh_dir("lights");
    let usda = "#usda 1.0\ndef Xform \"World\" {\n def DistantLight \"Sun\" { color3f inputs:color = (0, 0, 1)\n  float inputs:intensity = 2\n  float inputs:exposure = 1 }\n def SphereLight \"Bulb\" { float inputs:radius = 0.25\n  bool inputs:enableColorTemperature = 1\n  float inputs:colorTemperature = 3000\n  double3 xformOp:translate = (1, 2, 3)\n  uniform token[] xformOpOrder = [\"xformOp:translate\"] }\n def RectLight \"Hidden\" { token visibility = \"invisible\" }\n def DomeLight \"Sky\" { float inputs:intensity = 0.3 }\n}\n";
    std::fs::write(root.join("lights.usda"), usda).expect("write");
    let mut service = common::service(&root);
    let scene = service.open("lights.usda").expect("open").scene;
    let kinds: Vec<LightKind> = scene.lights.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, vec![LightKind::DISTANT, LightKind::SPHERE, LightKind::DOME], "the invisible light is skipped");
    assert_eq!(scene.lights[0].color, [0.0, 0.0, 1.0]);
    assert_eq!(scene.lights[0].intensity, 4.0, "intensity × 2^exposure");
    let bulb = &scene.lights[1];
    assert_eq!(bulb.radius, 0.25);
    assert_eq!(&bulb.world_transform[12..15], &[1.0, 2.0, 3.0]);
    assert!(bulb.color[0] > bulb.color[2] * 1.5, "3000 K is warm: {:?}", bulb.color);
    assert_eq!(scene.prim_path(bulb.prim_id), Some("/World/Bulb"));
}

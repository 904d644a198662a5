//! The stage service against Pixar's pxr (the oracle) on stages authored with pxr: hierarchy,
//! type classes, root prim, up axis, metersPerUnit, prim count, world bounds, triangle counts,
//! variants; plus geometry details pxr does not report (instancing, primvars, cameras).

mod common;

use ovhost_plugin_api::{Bounds, StageScene};
use ovhost_stage::{StageService, TypeClass};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const TOLERANCE: f64 = 1e-4;

fn oracle(python: &Path, stage: &Path) -> Value {
    let text = common::run_python(python, "oracle.py", &[stage.to_str().expect("utf-8")]);
    let all: Value = serde_json::from_str(&text).expect("oracle JSON");
    all.as_object().and_then(|m| m.values().next().cloned()).expect("one stage")
}

fn bounds_of(v: &Value) -> Bounds {
    if v.is_null() {
        return Bounds::EMPTY;
    }
    let arr = |k: &str| -> [f64; 3] {
        let a = v[k].as_array().expect("bounds array");
        std::array::from_fn(|i| a[i].as_f64().expect("number"))
    };
    Bounds { min: arr("min"), max: arr("max") }
}

fn assert_bounds_close(what: &str, ours: &Bounds, theirs: &Bounds) {
    assert_eq!(ours.is_empty(), theirs.is_empty(), "{what}: ours {ours:?} vs pxr {theirs:?}");
    if ours.is_empty() {
        return;
    }
    let scale = theirs.size().iter().fold(1.0f64, |a, b| a.max(*b));
    for i in 0..3 {
        assert!(
            (ours.min[i] - theirs.min[i]).abs() <= TOLERANCE * scale
                && (ours.max[i] - theirs.max[i]).abs() <= TOLERANCE * scale,
            "{what}: ours {ours:?} vs pxr {theirs:?}"
        );
    }
}

/// Triangles per picked prim path, counting every instance.
fn triangles_by_pick(scene: &StageScene) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for mesh in scene.meshes.iter() {
        for inst in mesh.instances.iter() {
            let path = scene.prim_path(inst.prim_id).expect("valid prim id").to_owned();
            *out.entry(path).or_insert(0) += mesh.triangle_count() as u64;
        }
    }
    out
}

/// Walks the whole hierarchy through `children`, as a client would.
fn walk(service: &mut StageService) -> BTreeMap<String, (TypeClass, bool, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut todo = vec!["/".to_owned()];
    while let Some(path) = todo.pop() {
        let rows = service.children(&path).expect("children");
        for row in rows {
            if row.has_children {
                todo.push(row.path.clone());
            }
            out.insert(row.path.clone(), (row.type_class, row.has_children, Vec::new()));
            if let Some(parent) = out.get_mut(&path) {
                parent.2.push(row.name.clone());
            }
        }
    }
    out
}

fn check_stage(service: &mut StageService, python: &Path, dir: &Path, name: &str) {
    let facts = oracle(python, &dir.join(name));
    let opened = service.open(name).unwrap_or_else(|e| panic!("open {name}: {e}"));
    let info = &opened.info;
    assert_eq!(info.up_axis.as_str(), facts["up_axis"].as_str().expect("up axis"), "{name} up axis");
    assert!((info.meters_per_unit - facts["meters_per_unit"].as_f64().expect("mpu")).abs() < 1e-12, "{name} mpu");
    assert_eq!(info.root_prim_path, facts["root_prim_path"].as_str().expect("root"), "{name} root prim");
    assert_eq!(opened.scene.root_prim_path.as_str(), info.root_prim_path);
    assert_eq!(info.prim_count as u64, facts["prim_count"].as_u64().expect("count"), "{name} prim count");
    assert_eq!(service.prim_count().expect("prim_count"), info.prim_count);

    // Hierarchy: same prims, type classes, child order and leaf flags.
    let ours = walk(service);
    let theirs = facts["hierarchy"].as_object().expect("hierarchy");
    let our_paths: BTreeSet<&String> = ours.keys().collect();
    let their_paths: BTreeSet<&String> = theirs.keys().collect();
    assert_eq!(our_paths, their_paths, "{name} hierarchy");
    for (path, (class, has_children, children)) in &ours {
        let t = &theirs[path];
        assert_eq!(class.as_str(), t["class"].as_str().expect("class"), "{name} {path} type class");
        let their_children: Vec<String> =
            t["children"].as_array().expect("children").iter().map(|c| c.as_str().expect("name").to_owned()).collect();
        assert_eq!(*has_children, !their_children.is_empty(), "{name} {path} has_children");
        assert_eq!(children, &their_children, "{name} {path} child order");
    }
    let roots: Vec<String> = service.children("/").expect("root rows").into_iter().map(|r| r.path).collect();
    let their_roots: Vec<String> = facts["root_children"]
        .as_array()
        .expect("roots")
        .iter()
        .map(|c| c.as_str().expect("path").to_owned())
        .collect();
    assert_eq!(roots, their_roots, "{name} root prims");

    // World bounds of the stage and of every prim outside PointInstancer prototypes.
    assert_bounds_close(&format!("{name} stage bounds"), &info.bounds, &bounds_of(&facts["bounds"]));
    assert_bounds_close(&format!("{name} scene bounds"), &opened.scene.bounds, &bounds_of(&facts["bounds"]));
    let instancers: Vec<&String> =
        theirs.iter().filter(|(_, v)| v["type"] == "PointInstancer").map(|(k, _)| k).collect();
    for (path, their_bounds) in facts["prim_bounds"].as_object().expect("prim bounds") {
        if instancers.iter().any(|pi| path.starts_with(&format!("{pi}/"))) {
            continue; // prototypes are drawn only through their instancer
        }
        let ours = service.bounds(path).expect("bounds");
        assert_bounds_close(&format!("{name} bounds of {path}"), &ours, &bounds_of(their_bounds));
    }

    // Triangles: total and per picked prim.
    let their_tris: BTreeMap<String, u64> = facts["triangles"]
        .as_object()
        .expect("triangles")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(triangles_by_pick(&opened.scene), their_tris, "{name} triangles per prim");
    assert_eq!(info.triangle_count as u64, facts["triangle_count"].as_u64().expect("tris"), "{name} triangle count");
    assert_eq!(opened.scene.triangle_count(), info.triangle_count);

    // Variants of every prim that has some.
    for (path, sets) in facts["variants"].as_object().expect("variants") {
        let ours = service.variants(path).expect("variants");
        assert_eq!(serde_json::to_value(&ours).expect("json"), *sets, "{name} variants of {path}");
    }
}

#[test]
fn matches_pxr_on_composed_and_sample_stages() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::authored_stages(&python);
    let mut service = common::service(&dir);
    for name in [
        "composed.usda",
        "composed.usdc",
        "composed.usdz",
        "zup_meters.usda",
        "no_default.usda",
        "sample_yup.usda",
        "sample_zup.usda",
    ] {
        check_stage(&mut service, &python, &dir, name);
    }
}

#[test]
fn geometry_details_instancing_primvars_and_cameras() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::authored_stages(&python);
    let mut service = common::service(&dir);
    let opened = service.open("composed.usda").expect("open");
    let scene = &opened.scene;
    let meshes_of = |path: &str| -> Vec<&ovhost_plugin_api::MeshData> {
        scene.meshes.iter().filter(|m| m.instances.iter().any(|i| scene.prim_path(i.prim_id) == Some(path))).collect()
    };
    // Native instancing: the chair prototype's two meshes are shared by the three instances.
    let chair = meshes_of("/World/Chairs/Chair_0");
    assert_eq!(chair.len(), 2);
    for mesh in &chair {
        assert_eq!(mesh.instances.len(), 3, "one mesh, three placements");
    }
    // faceVarying normals + indexed uniform colors unweld the cube: 6 quads × 4 corners.
    let pv = meshes_of("/World/Primvars");
    assert_eq!(pv.len(), 1);
    let pv = pv[0];
    assert_eq!(pv.positions.len(), 24);
    assert_eq!(pv.normals.len(), 24);
    assert_eq!(pv.colors.len(), 24);
    assert_eq!(pv.colors[0], [1.0, 0.0, 0.0]);
    assert_eq!(pv.colors[4], [0.0, 1.0, 0.0], "the second face takes color index 1");
    // leftHanded: the first triangle's winding is flipped (0, 2, 1).
    assert_eq!(&pv.indices[..3], &[0, 2, 1]);
    // A constant displayColor stays one color.
    let seat = meshes_of("/World/SoloChair/Seat");
    assert_eq!(seat[0].colors.len(), 1);
    // The camera: focal length 24, default vertical aperture 15.2908, default clipping range.
    let cam = scene.cameras.iter().find(|c| c.path.as_str() == "/World/Cam").expect("camera");
    let expected_fov = (2.0 * (15.2908f64 / 48.0).atan()).to_degrees();
    assert!((cam.fov_y_deg - expected_fov).abs() < 1e-6, "{}", cam.fov_y_deg);
    assert_eq!((cam.near, cam.far), (1.0, 1.0e6));
    assert_eq!(&cam.world_transform[12..15], &[0.0, 2.0, 30.0]);
    assert_eq!(opened.info.cameras, vec!["/World/Cam".to_owned()]);
    assert_eq!(scene.url.as_str(), "composed.usda");
    assert!(scene.resolved_path.as_str().ends_with("composed.usda"));
}

#[test]
fn set_variant_recomposes_with_a_new_generation() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::authored_stages(&python);
    let mut service = common::service(&dir);
    let first = service.open("composed.usda").expect("open");
    let before = service.variants("/World/Switch").expect("variants");
    assert_eq!(before["size"].selection, "small");
    assert_eq!(before["size"].options, ["large", "small"], "sorted, as pxr reports them");

    let after = service.set_variant("/World/Switch", "size", "large").expect("select large");
    assert_eq!(after.info.generation, first.info.generation + 1);
    assert_eq!(service.variants("/World/Switch").expect("variants")["size"].selection, "large");
    let names: Vec<String> = service.children("/World/Switch").expect("children").into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Box_large"]);
    let b = service.bounds("/World/Switch").expect("bounds");
    assert_eq!((b.min, b.max), ([-1.5; 3], [1.5; 3]));

    let bad = service.set_variant("/World/Switch", "size", "huge").expect_err("no such variant");
    assert!(bad.to_string().contains("huge"), "{bad}");
    assert_eq!(
        service.variants("/World/Switch").expect("variants")["size"].selection,
        "large",
        "a failed selection keeps the stage"
    );
}

#[test]
fn properties_use_the_protocol_mapping_and_cap() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::authored_stages(&python);
    let mut service = common::service(&dir);
    service.open("composed.usda").expect("open");
    let props = service.properties("/World/Ops/Oriented", 60 * 1024).expect("properties");
    assert_eq!(props.properties[0], ("typeName".to_owned(), Value::from("Mesh")));
    assert!(!props.truncated);
    assert_eq!(props.omitted_count, 0);
    let points = props.get("points").expect("points");
    assert_eq!(points["length"], 8);
    assert_eq!(points["preview"].as_array().expect("preview").len(), 8);
    assert_eq!(points["preview"][0], serde_json::json!([-0.5, -0.5, -0.5]));
    assert_eq!(points["truncated"], false);
    let orient = props.get("xformOp:orient").expect("orient");
    assert!(orient["real"].as_f64().expect("real") > 0.92);
    assert_eq!(orient["imaginary"].as_array().expect("imaginary").len(), 3);
    let order = props.get("xformOpOrder").expect("order");
    assert_eq!(order["preview"][0], "xformOp:orient");

    let matrix = service.properties("/World/Ops/Matrix", 60 * 1024).expect("properties");
    let rows = matrix.get("xformOp:transform").expect("transform").as_array().expect("rows").clone();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3], serde_json::json!([0.0, 3.0, 0.0, 1.0]));

    let scatter = service.properties("/World/Scatter", 60 * 1024).expect("properties");
    assert_eq!(
        scatter.get("prototypes").expect("relationship"),
        &serde_json::json!(["/World/Scatter/Protos/Cube", "/World/Scatter/Protos/Poly"])
    );

    let capped = service.properties("/World/Ops/Oriented", 200).expect("capped");
    assert!(capped.truncated);
    assert!(capped.omitted_count > 0);
    assert_eq!(capped.properties.len() + capped.omitted_count, props.properties.len());
    let json = serde_json::to_string(&capped).expect("json");
    assert!(json.starts_with(r#"{"prim_path":"/World/Ops/Oriented","properties":{"typeName":"Mesh""#), "{json}");
}

#[test]
fn ten_thousand_children_come_back_in_order() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::authored_stages(&python);
    let mut service = common::service(&dir);
    service.open("wide.usdc").expect("open");
    let rows = service.children("/World/Wide").expect("children");
    assert_eq!(rows.len(), 10_000);
    assert_eq!(rows[0].path, "/World/Wide/Item_00000");
    assert_eq!(rows[9_999].name, "Item_09999");
    assert!(rows.iter().all(|r| r.type_class == TypeClass::Xform && !r.has_children));
}

/// World box of every placement of the meshes a pick path selects: each position through its
/// instance's world transform (row-vector convention, translation in the last row).
fn drawn_bounds_by_pick(scene: &StageScene) -> BTreeMap<String, Bounds> {
    let mut out: BTreeMap<String, Bounds> = BTreeMap::new();
    for mesh in scene.meshes.iter() {
        for inst in mesh.instances.iter() {
            let m = &inst.world_transform;
            let path = scene.prim_path(inst.prim_id).expect("valid prim id").to_owned();
            let entry = out.entry(path).or_insert(Bounds::EMPTY);
            for p in mesh.positions.iter() {
                let p = p.map(f64::from);
                entry.include_point(std::array::from_fn(|j| {
                    p[0] * m[j] + p[1] * m[4 + j] + p[2] * m[8 + j] + m[12 + j]
                }));
            }
        }
    }
    out
}

#[test]
fn implicit_gprims_are_tessellated_within_pxr_bounds() {
    let Some(python) = common::oracle_python() else { return };
    let dir = common::authored_stages(&python);
    let mut service = common::service(&dir);
    let facts = oracle(&python, &dir.join("gprims.usda"));
    let opened = service.open("gprims.usda").expect("open");
    let scene = &opened.scene;
    let drawn = drawn_bounds_by_pick(scene);
    let shapes: Vec<&String> = facts["hierarchy"]
        .as_object()
        .expect("hierarchy")
        .iter()
        .filter(|(_, v)| v["class"] == "geom")
        .map(|(k, _)| k)
        .collect();
    // 8 with fallbacks, 2 sized, 7 per axis; the hidden sphere and the guide cube are not drawn.
    assert_eq!(shapes.len(), 8 + 2 + 3 * 7 + 2);
    let expected: BTreeSet<&str> =
        shapes.iter().map(|s| s.as_str()).filter(|s| s.starts_with("/World/Shapes/")).collect();
    assert_eq!(drawn.keys().map(String::as_str).collect::<BTreeSet<_>>(), expected, "drawn prims");
    for path in &expected {
        let theirs = bounds_of(&facts["prim_bounds"][*path]);
        let ours = drawn[*path];
        // The tessellation is inscribed; its vertices include every axis-aligned extreme, so
        // under the parent's quarter-turn it should meet pxr's box well within 1 %.
        let scale = theirs.size().iter().fold(0.0f64, |a, b| a.max(*b));
        for i in 0..3 {
            assert!(
                (ours.min[i] - theirs.min[i]).abs() <= 0.01 * scale
                    && (ours.max[i] - theirs.max[i]).abs() <= 0.01 * scale,
                "{path}: drawn {ours:?} vs pxr {theirs:?}"
            );
        }
        // The placement's bounds (what the hierarchy and camera fit use) are pxr's.
        assert_bounds_close(&format!("bounds of {path}"), &service.bounds(path).expect("bounds"), &theirs);
    }
    for mesh in scene.meshes.iter() {
        assert!(mesh.triangle_count() > 0);
        assert_eq!(mesh.normals.len(), mesh.positions.len(), "per-vertex normals");
        for n in mesh.normals.iter() {
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-4, "unit normal {n:?}");
        }
        assert!(mesh.indices.iter().all(|&i| (i as usize) < mesh.positions.len()));
    }
    // displayColor: constant red on CubeSized only.
    for mesh in scene.meshes.iter() {
        let path = scene.prim_path(mesh.instances[0].prim_id).expect("path");
        if path == "/World/Shapes/CubeSized" {
            assert_eq!(&mesh.colors[..], &[[1.0, 0.0, 0.0]]);
        } else {
            assert!(mesh.colors.is_empty(), "{path} has no displayColor");
        }
    }
    // Equal shapes share one mesh: Capsule and Capsule_1 (and Cylinder and Cylinder_1) with
    // their fallbacks are the same geometry, drawn once per prim.
    for (a, b) in [("CapsuleDefault", "Capsule_1Default"), ("CylinderDefault", "Cylinder_1Default")] {
        let mesh = scene
            .meshes
            .iter()
            .find(|m| m.instances.iter().any(|i| scene.prim_path(i.prim_id) == Some(&format!("/World/Shapes/{a}"))))
            .expect("mesh");
        let mut on: Vec<&str> = mesh.instances.iter().map(|i| scene.prim_path(i.prim_id).expect("path")).collect();
        on.sort_unstable();
        assert_eq!(on, [format!("/World/Shapes/{a}"), format!("/World/Shapes/{b}")], "one mesh, two prims");
    }
    // Round shapes are smooth: a sphere has many more than a handful of triangles.
    let tris = triangles_by_pick(scene);
    assert!(tris["/World/Shapes/SphereDefault"] >= 1000, "{}", tris["/World/Shapes/SphereDefault"]);
    assert_eq!(tris["/World/Shapes/CubeDefault"], 12);
    assert_eq!(tris["/World/Shapes/PlaneDefault"], 2);
    // The stage bounds (camera fit) cover every drawn shape and match pxr's.
    assert_bounds_close("stage bounds", &opened.info.bounds, &bounds_of(&facts["bounds"]));
    assert_bounds_close("scene bounds", &scene.bounds, &bounds_of(&facts["bounds"]));
    for b in drawn.values() {
        let covered = (0..3).all(|i| b.min[i] >= scene.bounds.min[i] - 1e-6 && b.max[i] <= scene.bounds.max[i] + 1e-6);
        assert!(covered, "scene bounds {:?} cover {b:?}", scene.bounds);
    }
}

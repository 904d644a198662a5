//! `--camera-policy` against the real host: `fit` (the default) frames the drawn meshes — a light
//! far away with a big extent does not pull the view off-centre; `stage-camera` opens looking
//! through the stage's first authored camera with its focal length, apertures, aperture offsets,
//! clipping range and projection (orthographic here); a stage without a camera is fitted.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use ovhost_test_support::Host;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");

/// A room box seen from inside by an orthographic camera with aperture offsets; a far-off light
/// whose authored extent would dominate the stage bounds.
const ROOM: &str = r#"#usda 1.0
(
    defaultPrim = "World"
    upAxis = "Y"
)

def Xform "World"
{
    def Cube "Room"
    {
        double size = 10
    }
    def Cube "Table"
    {
        double size = 1
        double3 xformOp:translate = (0, -4, 0)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
    def SphereLight "Far"
    {
        float3[] extent = [(-50, -50, -50), (50, 50, 50)]
        double3 xformOp:translate = (300, 0, 0)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
    def Camera "Inside"
    {
        token projection = "orthographic"
        float horizontalAperture = 40
        float verticalAperture = 30
        float horizontalApertureOffset = 4
        float verticalApertureOffset = -3
        float2 clippingRange = (0.5, 50)
        double3 xformOp:translate = (0, 0, 3)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
}
"#;

fn host(root: &Path, stage: &str, policy: &[&str]) -> Host {
    let mut args = vec!["--asset-root", root.to_str().unwrap(), "--stage", stage, "--width", "320", "--height", "180"];
    args.extend_from_slice(policy);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_stage_loaded(Duration::from_secs(30)), "stage did not load: {:?}", host.logs());
    host
}

fn view(host: &Host) -> Value {
    host.get_json("/api/state")["camera"]["view"].clone()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn stage_camera_policy_adopts_the_authored_camera() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("room.usda"), ROOM).unwrap();
    std::fs::write(root.path().join("nocam.usda"), "#usda 1.0\ndef Cube \"C\" {}\n").unwrap();

    let adopted = host(root.path(), "room.usda", &["--camera-policy", "stage-camera"]);
    let v = view(&adopted);
    assert_eq!(v["projection"], "orthographic", "{v}");
    let eye: Vec<f64> = v["eye"].as_array().unwrap().iter().map(num).collect();
    assert!((eye[0]).abs() < 1e-9 && eye[1].abs() < 1e-9 && (eye[2] - 3.0).abs() < 1e-9, "eye {eye:?}");
    assert!(num(&v["target"][2]) < 3.0, "looks down -Z: {v}");
    // Apertures are tenths of a stage unit: 30 → 3 units tall; offsets over apertures.
    assert!((num(&v["ortho_height"]) - 3.0).abs() < 1e-9, "{v}");
    assert!((num(&v["lens_shift"][0]) - 0.1).abs() < 1e-9 && (num(&v["lens_shift"][1]) + 0.1).abs() < 1e-9, "{v}");
    assert_eq!((num(&v["near"]), num(&v["far"])), (0.5, 50.0));
    assert_eq!(
        adopted.get_json("/api/state")["camera"]["scheme"],
        "orbit",
        "the controller stays; it starts from the camera"
    );

    // `fit` (default): framed on the meshes, not the far light: the target is the room's centre.
    let fitted = host(root.path(), "room.usda", &[]);
    let v = view(&fitted);
    let target: Vec<f64> = v["target"].as_array().unwrap().iter().map(num).collect();
    assert!(target.iter().all(|c| c.abs() < 1e-6), "fit targets the drawn bounds' centre, not the light: {target:?}");
    assert_eq!(v["projection"], "perspective");

    // A stage without a camera is fitted under either policy.
    let nocam = host(root.path(), "nocam.usda", &["--camera-policy", "stage-camera"]);
    let v = view(&nocam);
    assert_eq!(v["projection"], "perspective");
    assert!(num(&v["eye"][2]) > 1.0, "fitted outside the unit cube: {v}");
}

#[test]
fn a_bad_camera_policy_is_refused_at_start() {
    let out = std::process::Command::new(BIN).args(["--camera-policy", "sideways"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fit") && stderr.contains("stage-camera"), "{stderr}");
}

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

/// A camera whose translate and focal length are time-sampled: it dollies back from z = 3 (t=1)
/// to z = 13 (t=24) while zooming in from 20 mm to 80 mm, and its far clip opens up.
const DOLLY: &str = r#"#usda 1.0
(
    defaultPrim = "World"
    upAxis = "Y"
    startTimeCode = 1
    endTimeCode = 24
    timeCodesPerSecond = 24
)

def Xform "World"
{
    def Cube "Box" {}
    def Camera "Dolly"
    {
        float focalLength.timeSamples = { 1: 20, 24: 80 }
        float verticalAperture = 15.2908
        float2 clippingRange.timeSamples = { 1: (0.1, 100), 24: (0.1, 1000) }
        double3 xformOp:translate.timeSamples = { 1: (0, 0, 3), 24: (0, 0, 13) }
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
}
"#;

/// Looking through an animated authored camera, the view follows the timeline: a seek poses the
/// camera (position, field of view from the focal length, clipping) as USD interpolates its
/// samples; orbiting hands the camera to the user, and the timeline then leaves the view alone.
#[test]
fn an_animated_stage_camera_follows_the_timeline() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("dolly.usda"), DOLLY).unwrap();
    let host = host(root.path(), "dolly.usda", &["--camera-policy", "stage-camera", "--timeline-autoplay", "false"]);
    let fov = |focal: f64| (2.0 * (15.2908 / (2.0 * focal)).atan()).to_degrees();
    let v = view(&host);
    assert!((num(&v["eye"][2]) - 3.0).abs() < 1e-4, "t=1: at z=3: {v}");
    assert!((num(&v["fov_y_deg"]) - fov(20.0)).abs() < 1e-3, "t=1: 20 mm: {v}");
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    let wait_view = |host: &Host, z: f64| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = view(host);
            if (num(&v["eye"][2]) - z).abs() < 1e-3 || std::time::Instant::now() > deadline {
                return v;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    ws.send("timelineSeekRequest", serde_json::json!({"time": 24}));
    let v = wait_view(&host, 13.0);
    assert!((num(&v["eye"][2]) - 13.0).abs() < 1e-3, "t=24: at z=13: {v}");
    assert!((num(&v["fov_y_deg"]) - fov(80.0)).abs() < 1e-3, "t=24: 80 mm: {v}");
    assert!((num(&v["far"]) - 1000.0).abs() < 1e-2, "t=24: far clip 1000: {v}");
    // Halfway in time: translate and focal length interpolate linearly (the field of view is
    // the one of the interpolated focal length).
    ws.send("timelineSeekRequest", serde_json::json!({"time": 12.5}));
    let v = wait_view(&host, 8.0);
    assert!((num(&v["eye"][2]) - 8.0).abs() < 1e-3, "t=12.5: at z=8: {v}");
    assert!((num(&v["fov_y_deg"]) - fov(50.0)).abs() < 5e-2, "t=12.5: 50 mm: {v}");
    // Orbit: a drag moves the view, and the timeline no longer drives it.
    ws.send(
        "input",
        serde_json::json!({"seq": 1, "events": [
            {"type": "pointerdown", "x": 100, "y": 90, "button": 0, "buttons": 1},
            {"type": "pointermove", "x": 180, "y": 100, "dx": 80, "dy": 10, "buttons": 1},
            {"type": "pointerup", "x": 180, "y": 100, "button": 0, "buttons": 0},
        ]}),
    );
    std::thread::sleep(Duration::from_millis(500));
    let orbited = view(&host);
    assert!((num(&orbited["eye"][0])).abs() > 1e-3, "the drag orbited the view: {orbited}");
    ws.send("timelineSeekRequest", serde_json::json!({"time": 24}));
    std::thread::sleep(Duration::from_millis(800));
    let after = view(&host);
    assert_eq!(orbited["eye"], after["eye"], "after orbiting, a seek leaves the user's view alone");
}

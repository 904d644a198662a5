//! Materials through the real `ovhost` binary over `/ws`: a textured stage authored with pxr
//! (`scripts/usd/author_material_stages.py`) opens with a broken texture in it, the host keeps
//! streaming, and the inspector (`getPropertiesRequest`) names each prim's bound material, its
//! texture files and why a fallback is shown.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ovhost_test_support::{Host, Ws, wait_until};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(10);

/// This checkout (the scripts the test runs are the ones next to the test).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The usd-core venv's python (`scripts/usd/setup-venv.sh`), or `None` (skipped) when it cannot
/// be set up and `OVHOST_SKIP_ORACLE=1`.
fn usd_python() -> Option<PathBuf> {
    let out = Command::new("bash").arg(workspace_root().join("scripts/usd/setup-venv.sh")).output().unwrap();
    if out.status.success() {
        return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    assert_eq!(
        std::env::var("OVHOST_SKIP_ORACLE").as_deref(),
        Ok("1"),
        "usd-core is needed to author the test stages: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("SKIPPED: usd-core is unavailable and OVHOST_SKIP_ORACLE=1");
    None
}

fn authored_root(python: &Path) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("host-materials-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let status = Command::new(python)
        .arg(workspace_root().join("scripts/usd/author_material_stages.py"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

fn properties(ws: &mut Ws, prim: &str) -> Value {
    ws.send("getPropertiesRequest", json!({"prim_path": prim}));
    let reply = ws.recv_type("getPropertiesResponse", SECS).unwrap_or_else(|| panic!("no properties for {prim}"));
    reply["payload"]["properties"].clone()
}

#[test]
fn the_inspector_names_materials_and_texture_files_and_broken_textures_do_not_stop_the_stream() {
    let Some(python) = usd_python() else { return };
    let root = authored_root(&python);
    let host = Host::start(
        Path::new(BIN),
        // Every interval rendered, so "still streaming" is a count of frames (render on demand
        // would rightly send none for this static stage).
        &[
            "--asset-root",
            root.to_str().unwrap(),
            "--stage",
            "textured.usda",
            "--renderer",
            "raster",
            "--continuous-frames",
        ],
    );
    assert!(host.wait_ready(Duration::from_secs(30)), "host not ready: {:?}", host.logs());
    assert!(host.wait_stage_loaded(Duration::from_secs(30)), "stage did not load: {:?}", host.logs());
    // Textures stream in after the stage; the inspector knows a broken one once it was tried.
    assert!(
        host.wait_for_log("stage textures all arrived", Duration::from_secs(30)).is_some(),
        "textures never arrived: {:?}",
        host.logs()
    );
    let mut ws = host.ws();

    let quad = properties(&mut ws, "/World/Quad");
    let material = &quad["material:bound"];
    assert_eq!(material["path"], "/World/Looks/Checker", "{quad}");
    assert_eq!(material["surface"], "UsdPreviewSurface");
    assert!(material["fallback"].is_null(), "{material}");
    let diffuse = &material["inputs"]["diffuseColor"];
    assert_eq!(diffuse["texture"], "./tex/checker.png", "the authored file: {diffuse}");
    assert!(diffuse["resolved"].as_str().unwrap().ends_with("tex/checker.png"), "{diffuse}");
    assert!(diffuse["error"].is_null(), "{diffuse}");
    assert_eq!(material["inputs"]["roughness"]["texture"], "tex/rough.png");
    assert_eq!(material["inputs"]["roughness"]["channels"], "g");
    assert_eq!(material["inputs"]["metallic"]["value"][0], 0.0);

    for (prim, file) in [("/World/TruncatedQuad", "tex/truncated.png"), ("/World/GarbageQuad", "tex/not_an_image.png")]
    {
        let props = properties(&mut ws, prim);
        let diffuse = &props["material:bound"]["inputs"]["diffuseColor"];
        assert_eq!(diffuse["texture"], file, "{props}");
        assert!(diffuse["error"].as_str().is_some_and(|e| !e.is_empty()), "{prim}: says why: {diffuse}");
        assert_eq!(diffuse["fallback"], json!([1.0, 0.0, 1.0, 1.0]), "{prim}: shows the fallback");
    }

    // Still streaming after opening a stage with broken textures.
    let before = host.get_json("/api/state")["frames_rendered"].as_u64().unwrap();
    assert!(
        wait_until(SECS, || host.get_json("/api/state")["frames_rendered"].as_u64().unwrap() > before + 3),
        "frames stopped: {:?}",
        host.logs()
    );
    assert_eq!(host.get("/healthz").0, 200);
}

//! Curves and points are drawn and pickable through the real host (raster renderer): a stage of
//! only a `BasisCurves` tube and a `Points` set opens fitted, and picking over a grid of stream
//! pixels finds both prims and the background.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use ovhost_test_support::Host;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");

const STAGE: &str = r#"#usda 1.0
(
    defaultPrim = "World"
    upAxis = "Y"
)

def Xform "World"
{
    def BasisCurves "Hair"
    {
        uniform token type = "cubic"
        uniform token basis = "catmullRom"
        uniform token wrap = "pinned"
        int[] curveVertexCounts = [5]
        point3f[] points = [(-4, 0, 0), (-3, 1.5, 0), (-2, -1, 0), (-1, 1, 0), (0, 0, 0)]
        float[] widths = [0.6] (interpolation = "constant")
    }
    def Points "Dots"
    {
        point3f[] points = [(2, 0, 0), (3, 1, 0), (4, 0, 0)]
        float[] widths = [0.9, 1.2, 0.9] (interpolation = "vertex")
    }
}
"#;

#[test]
fn curves_and_points_cover_pixels_and_pick() {
    if !ovhost::builtins::RENDERERS.contains(&"raster") {
        eprintln!("skipped: picking needs the raster renderer, not linked in this build");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("curves.usda"), STAGE).unwrap();
    let host = Host::start(
        Path::new(BIN),
        &["--asset-root", root.path().to_str().unwrap(), "--stage", "curves.usda", "--width", "320", "--height", "180"],
    );
    assert!(host.wait_stage_loaded(Duration::from_secs(30)), "the stage did not load: {:?}", host.logs());
    let mut ws = host.ws();
    ws.hello(&[]);
    let grid: Vec<(u32, u32)> = (4..180).step_by(8).flat_map(|y| (4..320).step_by(8).map(move |x| (x, y))).collect();
    let mut found = std::collections::BTreeMap::<Option<String>, usize>::new();
    for batch in grid.chunks(100) {
        for (x, y) in batch {
            ws.send("pickRequest", json!({"request_id": format!("{x},{y}"), "x": x, "y": y}));
        }
        for _ in batch {
            let pick = ws.recv_type("pickResult", Duration::from_secs(5)).expect("pickResult")["payload"].clone();
            *found.entry(pick["path"].as_str().map(str::to_owned)).or_default() += 1;
        }
    }
    let keys: Vec<Option<&str>> = found.keys().map(|k| k.as_deref()).collect();
    assert_eq!(keys, vec![None, Some("/World/Dots"), Some("/World/Hair")], "background, points and curve: {found:?}");
}

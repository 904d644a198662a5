//! Stage service benchmark: prints one JSON object.
//!
//! Generates 100k- and 1M-triangle usdc grids with pxr (`scripts/usd/make_bench_stages.py`), then
//! measures `StageService::open` (worker open + extract + binary transfer + decode) and compares it
//! with pxr's open + traverse + reading mesh arrays (`scripts/usd/oracle.py --time`) on the same
//! files; also times `children` on a prim with 10,000 children. Run in release:
//!
//!     cargo run --release -p ovhost-stage --bin stage_bench
//!
//! Targets: 100k triangles opened + extracted + transferred in ≤ 50 ms; 10k children ≤ 20 ms.

use ovhost_stage::StageService;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stage_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<serde_json::Value, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = setup_python(&repo)?;
    let dir =
        std::env::var_os("OVHOST_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| repo.join("target/bench-stages"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;
    python_out(&python, &repo.join("scripts/usd/make_bench_stages.py"), &[dir.to_string_lossy().as_ref()])?;

    let worker = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("ovhost-stage-worker");
    if !worker.exists() {
        return Err(format!("{} is missing; build it with `cargo build --release -p ovhost-stage`", worker.display()));
    }
    let mut service = StageService::new(Command::new(&worker), dir.clone()).map_err(|e| e.to_string())?;

    let mut results = serde_json::Map::new();
    for (name, runs) in [("grid_100k.usdc", 15usize), ("grid_1m.usdc", 5)] {
        let first = service.open(name).map_err(|e| e.to_string())?; // warm-up (page cache, worker)
        let mut ours_ms = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let opened = service.open(name).map_err(|e| e.to_string())?;
            ours_ms.push(start.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(opened);
        }
        let pxr = python_out(
            &python,
            &repo.join("scripts/usd/oracle.py"),
            &["--time", &runs.to_string(), dir.join(name).to_string_lossy().as_ref()],
        )?;
        let pxr: serde_json::Value = serde_json::from_str(&pxr).map_err(|e| format!("pxr timing output: {e}"))?;
        let pxr_ms = pxr
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|v| v["open_traverse_ms"].as_f64())
            .ok_or("pxr timing output has no open_traverse_ms")?;
        let scene_bytes: usize = first
            .scene
            .meshes
            .iter()
            .map(|m| 12 * (m.positions.len() + m.normals.len() + m.colors.len()) + 4 * m.indices.len())
            .sum();
        results.insert(
            name.trim_end_matches(".usdc").to_owned(),
            serde_json::json!({
                "triangles": first.info.triangle_count,
                "geometry_bytes": scene_bytes,
                "ours_open_extract_transfer_ms_median": median(&mut ours_ms),
                "ours_open_extract_transfer_ms_min": ours_ms.iter().cloned().fold(f64::INFINITY, f64::min),
                "pxr_open_traverse_ms_median": pxr_ms,
                "runs": runs,
            }),
        );
    }

    service.open("wide.usdc").map_err(|e| e.to_string())?;
    let mut children_ms = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let rows = service.children("/World/Wide").map_err(|e| e.to_string())?;
        children_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        if rows.len() != 10_000 {
            return Err(format!("expected 10000 children, got {}", rows.len()));
        }
    }
    results.insert(
        "children_10k".into(),
        serde_json::json!({ "children_ms_median": median(&mut children_ms), "runs": children_ms.len() }),
    );
    results.insert("targets".into(), serde_json::json!({ "open_100k_ms": 50, "children_10k_ms": 20 }));
    Ok(serde_json::Value::Object(results))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn setup_python(repo: &Path) -> Result<PathBuf, String> {
    let script = repo.join("scripts/usd/setup-venv.sh");
    let out =
        Command::new("bash").arg(&script).output().map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn python_out(python: &Path, script: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(python).arg(script).args(args).output().map_err(|e| format!("cannot run python: {e}"))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

//! Animation open benchmark: prints one JSON object.
//!
//! Authors (once) a usdc stage whose 99,856-point mesh carries 200 time samples of its points
//! (`scripts/usd/make_anim_bench_stage.py`), then measures `StageService::open` (worker open,
//! extraction, baking every sample into a track, transfer, decode) and the resident memory of the
//! worker process (peak, `VmHWM`) and of this client process holding the decoded scene. Run in
//! release:
//!
//!     cargo run --release -p ovhost-stage --bin anim_bench

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
            eprintln!("anim_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A `/proc/PID/status` field in MiB (`VmRSS`, `VmHWM`).
fn status_mib(pid: &str, field: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Child processes of this process (the stage worker).
fn children() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(text.split_whitespace().map(str::to_owned));
            }
        }
    }
    out
}

fn run() -> Result<serde_json::Value, String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = repo.join("scripts/usd/setup-venv.sh");
    let out =
        Command::new("bash").arg(&script).output().map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let dir =
        std::env::var_os("OVHOST_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| repo.join("target/bench-stages"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;
    let made = Command::new(&python)
        .arg(repo.join("scripts/usd/make_anim_bench_stage.py"))
        .arg(&dir)
        .status()
        .map_err(|e| format!("cannot run python: {e}"))?;
    if !made.success() {
        return Err("make_anim_bench_stage.py failed".into());
    }
    let worker = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("ovhost-stage-worker");
    let rss_before = status_mib("self", "VmRSS").unwrap_or(f64::NAN);
    let mut runs = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        // A fresh worker each run, so its peak memory is this open's.
        let mut service = StageService::new(Command::new(&worker), dir.clone()).map_err(|e| e.to_string())?;
        let start = Instant::now();
        let opened = service.open("anim_100k.usdc").map_err(|e| e.to_string())?;
        let open_ms = start.elapsed().as_secs_f64() * 1e3;
        let worker_peak: f64 = children().iter().filter_map(|pid| status_mib(pid, "VmHWM")).sum();
        let track_bytes: usize = opened.scene.tracks.iter().map(|t| t.values.len() * 4 + t.times.len() * 8).sum();
        runs.push(open_ms);
        last = serde_json::json!({
            "open_ms": open_ms,
            "worker_peak_rss_mib": worker_peak,
            "client_rss_mib": status_mib("self", "VmRSS").unwrap_or(f64::NAN),
            "client_rss_before_mib": rss_before,
            "points": opened.scene.meshes.iter().map(|m| m.positions.len()).sum::<usize>(),
            "tracks": opened.scene.tracks.len(),
            "samples": opened.scene.tracks.first().map_or(0, |t| t.times.len()),
            "track_mib": track_bytes as f64 / (1024.0 * 1024.0),
        });
        drop(opened);
    }
    runs.sort_by(f64::total_cmp);
    Ok(serde_json::json!({"benchmark": "anim_open", "stage": "anim_100k.usdc", "open_ms_runs": runs, "last": last}))
}

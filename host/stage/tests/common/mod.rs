//! Shared test support: the worker command, a fresh asset root, and the pxr oracle.
#![allow(dead_code)]

use ovhost_stage::StageService;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

pub fn worker_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ovhost-stage-worker"))
}

/// A fresh, empty directory under the target dir (kept after the run for inspection); unique
/// per call, so parallel tests never share one.
pub fn fresh_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test dir");
    dir
}

pub fn service(root: &Path) -> StageService {
    StageService::new(worker_command(), root.to_owned()).expect("start the stage service")
}

/// The python of the usd-core venv, or `None` when `OVHOST_SKIP_ORACLE=1` and it is unavailable.
/// Panics with a clear message otherwise: CI must have the oracle.
pub fn oracle_python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PYTHON.get_or_init(|| {
        let script = repo_root().join("scripts/usd/setup-venv.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("could not run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} failed ({}): {}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let python = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(PathBuf::from(python))
    });
    match found {
        Ok(p) => Some(p.clone()),
        Err(why) if std::env::var("OVHOST_SKIP_ORACLE").as_deref() == Ok("1") => {
            skip(&format!("the pxr oracle is unavailable and OVHOST_SKIP_ORACLE=1 ({why})"));
            None
        }
        Err(why) => panic!(
            "the pxr oracle (Python usd-core venv) could not be set up: {why}. Fix the venv (scripts/usd/setup-venv.sh) \
             or set OVHOST_SKIP_ORACLE=1 to skip the oracle comparisons."
        ),
    }
}

/// Runs a script from scripts/usd with the oracle python; returns stdout.
pub fn run_python(python: &Path, script: &str, args: &[&str]) -> String {
    let path = repo_root().join("scripts/usd").join(script);
    let out = Command::new(python).arg(&path).args(args).output().expect("run python");
    assert!(out.status.success(), "{} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Authors the pxr test stages (once per test binary) and returns their directory.
pub fn authored_stages(python: &Path) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = fresh_dir("authored");
        run_python(python, "author_test_stages.py", &[dir.to_str().expect("utf-8 path")]);
        for sample in ["sample_yup.usda", "sample_zup.usda"] {
            std::fs::copy(repo_root().join("examples/stages").join(sample), dir.join(sample)).expect("copy sample");
        }
        dir
    })
    .clone()
}

/// Reports that the calling test cannot run here (`skipped: <reason>`), and to scripts/test's
/// tally through `OVHOST_SKIP_LOG`, so it is counted as skipped rather than passed.
pub fn skip(reason: &str) {
    eprintln!("skipped: {reason}");
    if let Some(path) = std::env::var_os("OVHOST_SKIP_LOG") {
        use std::io::Write as _;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}

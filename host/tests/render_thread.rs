//! A render thread that never waits (issue 15), against the real binary over real sockets: a
//! watching client measures the gaps between the video frames it receives (the host runs with
//! `--continuous-frames`, so a frame is due every 33 ms) while another client asks the stage
//! worker things: 5,000 paths in one `selectPrimsRequest`, hierarchy and property queries while a
//! slow stage loads (answered from the previous stage), an open over `--stage-open-timeout-s`, a
//! worker over `--stage-memory-limit-mb`. A panicking renderer is covered in `faults.rs`.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws, wait_until};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(20);
/// The longest gap between two frames a watching client may see (the bound).
const MAX_GAP: Duration = Duration::from_millis(200);

/// A client that receives video in a thread and measures, while armed, the frames it receives
/// and the longest gap between two of them.
struct Watcher {
    frames: Arc<AtomicU64>,
    armed: Arc<AtomicBool>,
    armed_frames: Arc<AtomicU64>,
    gap_us: Arc<AtomicU64>,
    /// When the last frame arrived (or the measurement started), in µs since `epoch`.
    last_us: Arc<AtomicU64>,
    epoch: Instant,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Watcher {
    fn start(port: u16) -> Self {
        let counter = || Arc::new(AtomicU64::new(0));
        let (frames, armed_frames, gap_us, last_us) = (counter(), counter(), counter(), counter());
        let (armed, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let (f, af, g, a, s) = (frames.clone(), armed_frames.clone(), gap_us.clone(), armed.clone(), stop.clone());
        let (l, epoch) = (last_us.clone(), Instant::now());
        let thread = std::thread::spawn(move || {
            let mut ws = Ws::connect(port, "");
            ws.hello(&["jpeg"]);
            let mut last = None::<Instant>;
            while !s.load(Ordering::Relaxed) {
                if ws.recv_binary(Duration::from_millis(500)).is_some() {
                    f.fetch_add(1, Ordering::Relaxed);
                    let now = Instant::now();
                    l.store((now - epoch).as_micros() as u64, Ordering::Relaxed);
                    if !a.load(Ordering::Relaxed) {
                        last = None;
                        continue;
                    }
                    if let Some(last) = last {
                        g.fetch_max((now - last).as_micros() as u64, Ordering::Relaxed);
                    }
                    af.fetch_add(1, Ordering::Relaxed);
                    last = Some(now);
                }
            }
        });
        let watcher = Self { frames, armed, armed_frames, gap_us, last_us, epoch, stop, thread };
        // Warm-up: the first frames (first JPEG, first stage upload) are not measured.
        assert!(wait_until(SECS, || watcher.frames.load(Ordering::Relaxed) >= 15), "the watcher receives video");
        watcher
    }

    /// Starts a measurement.
    fn arm(&self) {
        self.armed_frames.store(0, Ordering::Relaxed);
        self.gap_us.store(0, Ordering::Relaxed);
        self.last_us.store(self.now_us(), Ordering::Relaxed);
        self.armed.store(true, Ordering::Relaxed);
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Ends a measurement: (frames, longest gap), the time since the last frame (or since the
    /// start, without one) counting as a gap too: video that stopped is the longest gap of all.
    fn take(&self) -> (u64, Duration) {
        self.armed.store(false, Ordering::Relaxed);
        let trailing = self.now_us().saturating_sub(self.last_us.load(Ordering::Relaxed));
        let gap = self.gap_us.load(Ordering::Relaxed).max(trailing);
        (self.armed_frames.load(Ordering::Relaxed), Duration::from_micros(gap))
    }

    /// The longest gap over `duration` of doing nothing: what this machine's load alone costs.
    fn baseline(&self, duration: Duration) -> Duration {
        self.arm();
        std::thread::sleep(duration);
        self.take().1
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
    }
}

/// The frame gap bound: the 200 ms, or on a machine so loaded that frames arrive further
/// apart with nothing going on, twice what it showed then.
fn gap_bound(baseline: Duration) -> Duration {
    MAX_GAP.max(baseline * 2)
}

/// The bound for a message whose handling is JSON work proportional to its size (5,000 paths go
/// through about fifteen parse or serialize passes on the render thread: the handler ABI's text
/// boundary, the typed service, the selection event; the watching client in this process shares
/// the CPU with the asking one): the 200 ms where a pass is cheap (an optimized build, a
/// quiet machine), else 40 passes as measured here and now (a debug build on a loaded CI
/// machine). Waiting on the worker path by path, as before, cost 30 s here, far above it.
fn work_bound(baseline: Duration, json_pass: Duration) -> Duration {
    gap_bound(baseline).max(json_pass * 40)
}

/// How long one parse and one serialization of `payload` take in this (test) process now: what
/// the machine's speed and load make of the JSON work a message of this size costs.
fn json_pass_time(payload: &Value) -> Duration {
    let text = payload.to_string();
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let started = Instant::now();
            let parsed: Value = serde_json::from_str(&text).unwrap();
            assert!(!parsed.to_string().is_empty());
            started.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// An asset root with the sample stage as `good.usda` and `other.usda`, and `files`.
fn asset_root(files: &[(&str, String)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let sample = ovhost_test_support::workspace_root().join("examples/stages/sample_yup.usda");
    std::fs::copy(&sample, root.path().join("good.usda")).unwrap();
    std::fs::copy(&sample, root.path().join("other.usda")).unwrap();
    for (name, text) in files {
        std::fs::write(root.path().join(name), text).unwrap();
    }
    root
}

fn start_host(root: &tempfile::TempDir, stage: &str, extra: &[&str]) -> Host {
    let mut args = vec![
        "--renderer",
        "testpattern",
        "--continuous-frames",
        "--width",
        "320",
        "--height",
        "180",
        "--asset-root",
        root.path().to_str().unwrap(),
        "--stage",
        stage,
    ];
    args.extend_from_slice(extra);
    // OVHOST_TEST_BIN runs the tests against another build (e.g. to see an older one fail them).
    let bin = std::env::var("OVHOST_TEST_BIN").unwrap_or_else(|_| BIN.to_string());
    let host = Host::start(Path::new(&bin), &args);
    assert!(host.wait_ready(SECS), "host did not become ready");
    assert!(host.wait_stage_loaded(Duration::from_secs(120)), "{stage} did not load");
    host
}

/// A stage of `depth` nested prims: openusd's parse time grows about with the cube of nesting.
fn nested_stage(depth: usize) -> String {
    let mut text = String::from("#usda 1.0\n");
    for i in 0..depth {
        text.push_str(&format!("def Xform \"p{i}\" {{\n"));
    }
    text.push_str(&"}\n".repeat(depth));
    text
}

/// The next message of `event_type`, failing on any `viewerError` met before it.
fn expect(ws: &mut Ws, event_type: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    while let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) {
        assert_ne!(message["event_type"], "viewerError", "while waiting for {event_type}: {message}");
        if message["event_type"] == event_type {
            return message;
        }
    }
    panic!("no {event_type} within {timeout:?}");
}

/// The `openStageResult` for `url`, skipping other messages.
fn open_result(ws: &mut Ws, url: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    while let Some(message) = ws.recv_type("openStageResult", deadline.saturating_duration_since(Instant::now())) {
        if message["payload"]["url"] == url {
            return message;
        }
    }
    panic!("no openStageResult for {url} within {timeout:?}");
}

/// A control client past its initial state push (which ends with `pluginsResult`).
fn client(host: &Host) -> Ws {
    let mut ws = host.ws();
    ws.hello(&[]);
    assert!(ws.recv_type("pluginsResult", SECS).is_some(), "the initial state push ends");
    ws
}

fn loading_url(host: &Host) -> Value {
    host.get_json("/api/state")["loading"]["url"].clone()
}

#[test]
fn five_thousand_paths_in_one_select_prims_request_do_not_stall_video() {
    const PRIMS: usize = 5000;
    let mut stage = String::from("#usda 1.0\ndef Xform \"a\" {\n");
    for i in 0..PRIMS {
        stage.push_str(&format!("    def Xform \"p{i}\" {{}}\n"));
    }
    // Gprims beside them: a per-path bounds check (as before) scans every placement.
    stage.push_str("}\ndef Xform \"g\" {\n");
    for i in 0..500 {
        stage.push_str(&format!(
            "    def Cube \"c{i}\" {{ double3 xformOp:translate = ({i}, 0, 0)\n        uniform token[] xformOpOrder = [\"xformOp:translate\"] }}\n"
        ));
    }
    stage.push_str("}\n");
    let root = asset_root(&[("many.usda", stage)]);
    let host = start_host(&root, "many.usda", &[]);
    let mut ws = client(&host);
    let mut paths: Vec<String> = (0..PRIMS).map(|i| format!("/a/p{i}")).collect();
    paths.push("/a/missing".into());
    let watcher = Watcher::start(host.port);
    let baseline = watcher.baseline(Duration::from_secs(2));
    let calibration = json_pass_time(&json!({ "paths": paths }));
    watcher.arm();
    let mut latencies = Vec::new();
    for round in 0..3 {
        let started = Instant::now();
        ws.send("selectPrimsRequest", json!({ "paths": paths }));
        let changed = expect(&mut ws, "stageSelectionChanged", SECS);
        latencies.push(started.elapsed());
        let prims = changed["payload"]["prims"].as_array().unwrap();
        assert_eq!(prims.len(), PRIMS, "round {round}: the missing path is dropped, every other kept");
        assert_eq!(prims[0], "/a/p0");
        assert_eq!(prims[PRIMS - 1], format!("/a/p{}", PRIMS - 1));
    }
    // The pickable set takes the same 5,000 (no reply; the next request's answer comes after it).
    ws.send("makePrimsPickable", json!({ "paths": &paths[..PRIMS] }));
    ws.send("selectPrimsRequest", json!({ "paths": ["/a/p1"] }));
    assert_eq!(expect(&mut ws, "stageSelectionChanged", SECS)["payload"]["prims"], json!(["/a/p1"]));
    std::thread::sleep(Duration::from_millis(500));
    let (frames, gap) = watcher.take();
    watcher.finish();
    eprintln!(
        "BENCH select 5000 paths: answered in {} ms (3 rounds: {:?} ms); watcher {frames} frames, longest gap {} ms \
         (idle baseline {} ms; one JSON pass over the request here {} ms)",
        latencies.iter().max().unwrap().as_millis(),
        latencies.iter().map(Duration::as_millis).collect::<Vec<_>>(),
        gap.as_millis(),
        baseline.as_millis(),
        calibration.as_millis()
    );
    assert!(frames > 10, "the watcher kept receiving video ({frames} frames)");
    let bound = work_bound(baseline, calibration);
    assert!(
        gap < bound,
        "a frame gap of {} ms (bound {} ms) while 5,000 paths were checked",
        gap.as_millis(),
        bound.as_millis()
    );
}

#[test]
fn while_a_slow_stage_loads_queries_answer_from_the_previous_stage_and_a_newer_open_cancels_it() {
    let root = asset_root(&[("slow.usda", nested_stage(2000))]);
    let host = start_host(&root, "good.usda", &["--stage-open-timeout-s", "120"]);
    let mut ws = client(&host);
    // What the loaded stage answers before the load.
    ws.send("getChildrenRequest", json!({ "prim_path": "/" }));
    let children = expect(&mut ws, "getChildrenResult", SECS)["payload"].clone();
    let first = children["children"][0]["path"].as_str().expect("the sample stage has a root prim").to_string();
    ws.send("getPropertiesRequest", json!({ "prim_path": first }));
    let properties = expect(&mut ws, "getPropertiesResponse", SECS)["payload"].clone();

    let watcher = Watcher::start(host.port);
    let baseline = watcher.baseline(Duration::from_secs(2));
    watcher.arm();
    ws.send("openStageRequest", json!({ "url": "slow.usda" }));
    assert!(wait_until(SECS, || loading_url(&host) == "slow.usda"), "the slow stage is loading");
    std::thread::sleep(Duration::from_millis(500));
    // The loader's worker is parsing; the query worker still has the previous stage.
    let mut answered = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        ws.send("getChildrenRequest", json!({ "prim_path": "/" }));
        assert_eq!(expect(&mut ws, "getChildrenResult", SECS)["payload"], children, "children of the previous stage");
        ws.send("getPropertiesRequest", json!({ "prim_path": first }));
        assert_eq!(expect(&mut ws, "getPropertiesResponse", SECS)["payload"], properties);
        ws.send("selectPrimsRequest", json!({ "paths": [first, "/nowhere"] }));
        assert_eq!(expect(&mut ws, "stageSelectionChanged", SECS)["payload"]["prims"], json!([first]));
        answered.push(started.elapsed());
    }
    assert_eq!(loading_url(&host), "slow.usda", "the queries were answered while the slow stage was loading");
    // A newer open of a small stage cancels the slow one and is answered promptly.
    let started = Instant::now();
    ws.send("openStageRequest", json!({ "url": "other.usda" }));
    let superseded = open_result(&mut ws, "slow.usda", SECS);
    assert_eq!(superseded["payload"]["result"], "error", "{superseded}");
    let opened = open_result(&mut ws, "other.usda", Duration::from_secs(30));
    let open_took = started.elapsed();
    assert_eq!(opened["payload"]["result"], "success", "{opened}");
    std::thread::sleep(Duration::from_millis(500));
    let (frames, gap) = watcher.take();
    watcher.finish();
    eprintln!(
        "BENCH queries during a slow load: 3 × (children, properties, select) answered in {:?} ms; the newer open \
         answered after {} ms; watcher {frames} frames, longest gap {} ms (idle baseline {} ms)",
        answered.iter().map(Duration::as_millis).collect::<Vec<_>>(),
        open_took.as_millis(),
        gap.as_millis(),
        baseline.as_millis()
    );
    assert!(frames > 10, "the watcher kept receiving video ({frames} frames)");
    assert!(gap < gap_bound(baseline), "a frame gap of {} ms during the load", gap.as_millis());
    // Queries are now about the new stage (the root prim's listing broadcast on stageOpened is
    // skipped).
    ws.send("getChildrenRequest", json!({ "prim_path": "/" }));
    let listing = loop {
        let listing = expect(&mut ws, "getChildrenResult", SECS);
        if listing["payload"]["prim_path"] == "/" {
            break listing;
        }
    };
    assert_eq!(listing["payload"]["children"], children["children"]);
    assert_eq!(host.get_json("/api/state")["stage"]["url"], "other.usda");
}

#[test]
fn an_open_over_the_timeout_stops_at_the_bound_with_parser_timeout_and_video_keeps_flowing() {
    let root = asset_root(&[("slow.usda", nested_stage(2000))]);
    let host = start_host(&root, "good.usda", &["--stage-open-timeout-s", "2"]);
    let mut ws = client(&host);
    let watcher = Watcher::start(host.port);
    let baseline = watcher.baseline(Duration::from_secs(2));
    watcher.arm();
    let started = Instant::now();
    ws.send("openStageRequest", json!({ "url": "slow.usda" }));
    let result = open_result(&mut ws, "slow.usda", Duration::from_secs(30));
    let took = started.elapsed();
    let (frames, gap) = watcher.take();
    watcher.finish();
    eprintln!(
        "BENCH open timeout 2 s: answered after {} ms; watcher {frames} frames, longest gap {} ms (idle baseline {} ms)",
        took.as_millis(),
        gap.as_millis(),
        baseline.as_millis()
    );
    assert_eq!(result["payload"]["result"], "error", "{result}");
    assert!(result["payload"]["error"].as_str().unwrap().contains("within 2000 ms"), "{result}");
    let viewer_error = ws.recv_type("viewerError", SECS).unwrap();
    assert_eq!(viewer_error["payload"]["code"], "parser_timeout", "{viewer_error}");
    // At the bound: not before it, and not much after (a generous margin for a loaded machine).
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(12), "answered after {took:?}");
    assert!(gap < gap_bound(baseline), "a frame gap of {} ms during the open", gap.as_millis());
    // The previous stage stays and still answers.
    assert_eq!(host.get_json("/api/state")["stage"]["url"], "good.usda");
    ws.send("getChildrenRequest", json!({ "prim_path": "/" }));
    assert!(
        expect(&mut ws, "getChildrenResult", SECS)["payload"]["children"].as_array().is_some_and(|c| !c.is_empty())
    );
}

/// The usd-core venv's python (`scripts/usd/setup-venv.sh`), or `None` (reported skipped) when
/// it cannot be set up and `OVHOST_SKIP_ORACLE=1`.
fn usd_python() -> Option<std::path::PathBuf> {
    let script = ovhost_test_support::workspace_root().join("scripts/usd/setup-venv.sh");
    let out = std::process::Command::new("bash").arg(script).output().unwrap();
    if out.status.success() {
        return Some(String::from_utf8_lossy(&out.stdout).trim().into());
    }
    assert_eq!(
        std::env::var("OVHOST_SKIP_ORACLE").as_deref(),
        Ok("1"),
        "usd-core is needed to author the test stage: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ovhost_test_support::skip("usd-core is unavailable and OVHOST_SKIP_ORACLE=1");
    None
}

/// A 400 KB crate file whose mesh arrays decompress to `faces` × 16 bytes: reading them needs
/// far more memory than the file's size.
fn author_memory_bomb(python: &Path, path: &Path, faces: usize) {
    let script = format!(
        "from pxr import Usd, UsdGeom, Vt\n\
         stage = Usd.Stage.CreateNew({path:?})\n\
         mesh = UsdGeom.Mesh.Define(stage, '/M')\n\
         stage.SetDefaultPrim(mesh.GetPrim())\n\
         mesh.GetPointsAttr().Set(Vt.Vec3fArray([(0, 0, 0), (1, 0, 0), (0, 1, 0)]))\n\
         mesh.GetFaceVertexCountsAttr().Set(Vt.IntArray({faces}, 3))\n\
         mesh.GetFaceVertexIndicesAttr().Set(Vt.IntArray({}))\n\
         stage.GetRootLayer().Save()\n",
        faces * 3,
        path = path.to_str().unwrap(),
    );
    let status = std::process::Command::new(python).arg("-c").arg(script).status().unwrap();
    assert!(status.success(), "usd-core could not author {}", path.display());
}

#[test]
fn a_worker_over_its_memory_limit_gives_an_error_naming_the_limit_and_the_next_open_works() {
    let Some(python) = usd_python() else { return };
    let root = asset_root(&[]);
    author_memory_bomb(&python, &root.path().join("huge.usdc"), 100_000_000);
    let host = start_host(&root, "good.usda", &["--stage-memory-limit-mb", "1024", "--stage-open-timeout-s", "120"]);
    let mut ws = client(&host);
    let started = Instant::now();
    ws.send("openStageRequest", json!({ "url": "huge.usdc" }));
    let result = open_result(&mut ws, "huge.usdc", Duration::from_secs(150));
    eprintln!("BENCH memory limit 1024 MiB: the open failed after {} ms", started.elapsed().as_millis());
    assert_eq!(result["payload"]["result"], "error", "{result}");
    let error = result["payload"]["error"].as_str().unwrap();
    eprintln!("the error: {error}");
    assert!(error.contains("memory limit of 1024 MiB") && error.contains("--stage-memory-limit-mb"), "{error}");
    // The previous stage stays current; the next open starts a fresh worker and works.
    assert_eq!(host.get_json("/api/state")["stage"]["url"], "good.usda");
    ws.send("openStageRequest", json!({ "url": "other.usda" }));
    let result = open_result(&mut ws, "other.usda", Duration::from_secs(60));
    assert_eq!(result["payload"]["result"], "success", "{result}");
    ws.send("getChildrenRequest", json!({ "prim_path": "/" }));
    assert!(
        expect(&mut ws, "getChildrenResult", SECS)["payload"]["children"].as_array().is_some_and(|c| !c.is_empty())
    );
}

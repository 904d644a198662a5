//! Protocol benchmark: starts the real `ovhost` binary and measures, over real `/ws` sockets,
//! 1. the app-message round trip (`loadingStateQuery` → `loadingStateResponse`) paced at 500
//!    messages/s while a second client receives H.264 video at the stream rate, and
//! 2. `getChildrenRequest` on a prim with 10,000 children (a generated stage in a temp asset root).
//!
//! Prints one JSON object. Targets: round-trip p99 ≤ 5 ms; 10k children ≤ 20 ms.
//!
//! ```text
//! cargo build --release -p ovhost
//! cargo run --release -p ovhost-plugin-viewer-protocol --bin protocol_bench -- [target/release/ovhost] [--renderer ID]
//! ```

// A benchmark harness: any failure aborts the run with its message, like a test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, workspace_root};
use serde_json::{Value, json};

const RATE_PER_S: u64 = 500;
const RTT_SECONDS: u64 = 6;
const WIDE_CHILDREN: usize = 10_000;
const CHILDREN_RUNS: usize = 30;
const RTT_P99_TARGET_MS: f64 = 5.0;
const CHILDREN_TARGET_MS: f64 = 20.0;

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted_ms.len() - 1) as f64).round() as usize;
    sorted_ms[rank.min(sorted_ms.len() - 1)]
}

fn summary(mut samples_ms: Vec<f64>) -> Value {
    samples_ms.sort_by(f64::total_cmp);
    json!({
        "count": samples_ms.len(),
        "p50_ms": percentile(&samples_ms, 50.0),
        "p99_ms": percentile(&samples_ms, 99.0),
        "max_ms": samples_ms.last().copied().unwrap_or(f64::NAN),
    })
}

/// A temp asset root with the sample stage and `wide.usda`: `/World/Wide` has 10,000 children.
fn asset_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(workspace_root().join("examples/stages/sample_yup.usda"), dir.path().join("sample_yup.usda"))
        .expect("copy the sample stage");
    let mut usda = String::from(
        "#usda 1.0\n(\n    defaultPrim = \"World\"\n    upAxis = \"Y\"\n)\n\ndef Xform \"World\"\n{\n    def Xform \"Wide\"\n    {\n",
    );
    for i in 0..WIDE_CHILDREN {
        usda.push_str(&format!("        def Xform \"Item_{i:05}\"\n        {{\n        }}\n"));
    }
    usda.push_str("    }\n}\n");
    std::fs::write(dir.path().join("wide.usda"), usda).expect("write wide.usda");
    dir
}

fn main() {
    let (mut binary, mut renderer) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--renderer" {
            renderer = args.next();
        } else {
            binary = Some(PathBuf::from(arg));
        }
    }
    let binary = binary.unwrap_or_else(|| workspace_root().join("target/release/ovhost"));
    assert!(binary.is_file(), "{} is not built; run `cargo build --release -p ovhost` first", binary.display());

    let root = asset_root();
    let mut host_args = vec!["--asset-root", root.path().to_str().unwrap(), "--stage", "sample_yup.usda"];
    if let Some(renderer) = &renderer {
        host_args.extend(["--renderer", renderer.as_str()]);
    }
    let host = Host::start(Path::new(&binary), &host_args);
    assert!(host.wait_ready(Duration::from_secs(30)), "host not ready: {:?}", host.logs());
    let state = host.get_json("/api/state");

    // The video client: hello with h264, then count binary frames until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let frames = Arc::new(AtomicUsize::new(0));
    let mut video = host.ws();
    let hello = video.hello(&["h264"]);
    let codec = hello["payload"]["video"]["codec"].clone();
    let video_thread = {
        let (stop, frames) = (stop.clone(), frames.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if video.recv_binary(Duration::from_millis(200)).is_some() {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500)); // let the encoder chain settle

    // Paced round trips: one message every 2 ms (500/s), one outstanding at a time.
    let mut ws = host.ws();
    let interval = Duration::from_micros(1_000_000 / RATE_PER_S);
    let total = (RATE_PER_S * RTT_SECONDS) as usize;
    let mut rtt_ms = Vec::with_capacity(total);
    let mut lost = 0usize;
    let frames_before = frames.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut next = started;
    for _ in 0..total {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        next += interval;
        let sent = Instant::now();
        ws.send("loadingStateQuery", json!({}));
        match ws.recv_type("loadingStateResponse", Duration::from_secs(2)) {
            Some(_) => rtt_ms.push(sent.elapsed().as_secs_f64() * 1e3),
            None => lost += 1,
        }
    }
    let elapsed_s = started.elapsed().as_secs_f64();
    let video_frames = frames.load(Ordering::Relaxed) - frames_before;
    // The render thread handles app messages between frames, so frame work bounds the tail.
    ws.send("getStatsRequest", json!({}));
    let host_stats = ws.recv_type("getStatsResult", Duration::from_secs(2)).map(|m| m["payload"].clone());
    stop.store(true, Ordering::Relaxed);
    video_thread.join().unwrap();
    let rtt = summary(rtt_ms);

    // 10k children: open the wide stage, then time getChildrenRequest on /World/Wide.
    ws.send("openStageRequest", json!({"url": "wide.usda"}));
    let opened = ws.recv_type("openStageResult", Duration::from_secs(60)).expect("openStageResult for wide.usda");
    assert_eq!(opened["payload"]["result"], "success", "{opened}");
    // The root listing pushed with the open result.
    ws.recv_type("getChildrenResult", Duration::from_secs(10)).expect("root children after the open");
    let mut children_ms = Vec::with_capacity(CHILDREN_RUNS);
    let mut reply_bytes = 0;
    for _ in 0..CHILDREN_RUNS {
        let sent = Instant::now();
        ws.send("getChildrenRequest", json!({"prim_path": "/World/Wide"}));
        let reply = ws.recv_type("getChildrenResult", Duration::from_secs(10)).expect("getChildrenResult");
        children_ms.push(sent.elapsed().as_secs_f64() * 1e3);
        let count = reply["payload"]["children"].as_array().map_or(0, Vec::len);
        assert_eq!(count, WIDE_CHILDREN, "every child is listed");
        reply_bytes = reply.to_string().len();
    }
    let children = summary(children_ms);

    let pass = rtt["p99_ms"].as_f64().is_some_and(|p| p <= RTT_P99_TARGET_MS)
        && children["p50_ms"].as_f64().is_some_and(|p| p <= CHILDREN_TARGET_MS)
        && lost == 0;
    let report = json!({
        "bench": "protocol_bench",
        "host": binary.display().to_string(),
        "renderer": state["renderer"],
        "stream": state["stream"],
        "round_trip": {
            "message": "loadingStateQuery",
            "target_rate_per_s": RATE_PER_S,
            "achieved_rate_per_s": total as f64 / elapsed_s,
            "lost": lost,
            "latency": rtt,
            "target_p99_ms": RTT_P99_TARGET_MS,
        },
        "host_stats_during_round_trips": host_stats,
        "video_client": {
            "codec": codec,
            "frames_received": video_frames,
            "fps_received": video_frames as f64 / elapsed_s,
        },
        "children_10k": {
            "prim_path": "/World/Wide",
            "children": WIDE_CHILDREN,
            "reply_bytes": reply_bytes,
            "latency": children,
            "target_ms": CHILDREN_TARGET_MS,
        },
        "pass": pass,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

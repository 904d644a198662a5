//! The CUDA frame path (issue 13 item 7).
//!
//! Without a GPU (CI): negotiation over the real built-in converters with a test-double sink —
//! a raw ovstream-like sink (BGRA8 in CUDA or host memory) gets BGRA8@CUDA through
//! `rgba-to-bgra-cuda` from a CUDA renderer and host BGRA8 from a host renderer; host-memory
//! targets are reached from CUDA through the download converters at the cheapest cost; where the
//! CUDA converters cannot be created, nothing feeds the sink and readiness says why.
//!
//! With an NVIDIA driver and the ovstream library (the GPU machine): the real host with the
//! `ovrtx` renderer over the ovrtx TEST DOUBLE (real device memory) feeds ovstream SHM and CUDASHM
//! through `rgba-to-bgra-cuda` with no host copy (per sink in `/api/state`: chain, and bytes
//! copied between host and device memory = 0, the sink's own host staging = 0; a consumer
//! process receives the frames), and a web client gets H.264 through `cuda-download-rgba`.
//! Elsewhere that test reports itself skipped.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ovhost::plugins::Registry;
use ovhost::runtime::chain;
use ovhost::runtime::delivery::Delivery;
use ovhost::runtime::sinks::Sink;
use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec, MemoryLocation};
use ovhost_test_support::{Host, skip, target_dir, wait_until, workspace_root};
use serde_json::Value;

fn cuda(format: FrameFormat) -> FrameSpec {
    FrameSpec::new(format, MemoryLocation::CUDA)
}

fn host(format: FrameFormat) -> FrameSpec {
    FrameSpec::host(format)
}

fn builtins() -> Registry {
    let mut registry = Registry::default();
    registry.add_builtins();
    assert!(registry.errors.is_empty(), "{:?}", registry.errors);
    registry
}

fn ids(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

/// TEST DOUBLE of a raw ovstream sink: takes BGRA8 in CUDA or host memory, wants what it was
/// negotiated, records what it was told and given.
struct RawSinkDouble {
    told: Arc<Mutex<Vec<Option<FrameSpec>>>>,
    negotiated: Option<FrameSpec>,
}

impl Sink for RawSinkDouble {
    fn name(&self) -> String {
        "raw-double".into()
    }
    fn accepted(&self) -> Vec<FrameSpec> {
        vec![cuda(FrameFormat::BGRA8), host(FrameFormat::BGRA8)]
    }
    fn wanted(&self) -> Vec<FrameSpec> {
        self.negotiated.into_iter().collect()
    }
    fn submit(&mut self, _frame: &Frame<'_>, _input_seq: u32) -> Result<(), String> {
        Ok(())
    }
    fn take_keyframe_request(&self) -> bool {
        false
    }
    fn set_negotiated(&mut self, spec: Option<FrameSpec>) {
        self.told.lock().unwrap().push(spec);
        self.negotiated = spec;
    }
}

#[test]
fn chains_from_cuda_frames_keep_them_on_the_gpu_as_long_as_they_can() {
    let r = builtins();
    let rgba_cuda = cuda(FrameFormat::RGBA8);
    // The zero-copy path for raw ovstream sinks.
    assert_eq!(chain::plan(&r, rgba_cuda, cuda(FrameFormat::BGRA8)), ids(&["rgba-to-bgra-cuda"]));
    // Host BGRA: swizzle on the GPU, then one download (2 + 20), not download + CPU swizzle (20 + 10).
    assert_eq!(chain::plan(&r, rgba_cuda, host(FrameFormat::BGRA8)), ids(&["rgba-to-bgra-cuda", "cuda-download-bgra"]));
    // The web sink's encoders take host RGBA8: one download first.
    assert_eq!(chain::plan(&r, rgba_cuda, host(FrameFormat::H264)), ids(&["cuda-download-rgba", "rgba-to-h264"]));
    assert_eq!(chain::plan(&r, rgba_cuda, host(FrameFormat::JPEG)), ids(&["cuda-download-rgba", "rgba-to-jpeg"]));
    let accepted = [cuda(FrameFormat::BGRA8), host(FrameFormat::BGRA8)];
    // From CUDA: BGRA8@CUDA first (no crossing), host BGRA8 only as a fallback.
    let from_cuda = chain::candidates(&r, rgba_cuda, &accepted);
    assert_eq!(from_cuda.iter().map(|c| c.0).collect::<Vec<_>>(), accepted.to_vec());
    assert_eq!(chain::memory_crossings(&r, &from_cuda[0].1), 0);
    // From host memory: host BGRA8 first (the CPU swizzle; the sink uploads), although the sink
    // lists BGRA8@CUDA first.
    let from_host = chain::candidates(&r, host(FrameFormat::RGBA8), &accepted);
    assert_eq!(from_host[0], (host(FrameFormat::BGRA8), ids(&["rgba-to-bgra"]).unwrap()));
    assert_eq!(from_host[1], (cuda(FrameFormat::BGRA8), ids(&["rgba-to-bgra-cuda-upload"]).unwrap()));
}

#[test]
fn readiness_and_delivery_share_one_negotiated_spec_per_sink() {
    let r = Arc::new(builtins());
    let told = Arc::new(Mutex::new(Vec::new()));
    let sink = RawSinkDouble { told: told.clone(), negotiated: None };
    let mut out = Delivery::new(vec![Box::new(sink)], r.clone());

    out.set_renderer_output(host(FrameFormat::RGBA8));
    assert_eq!(told.lock().unwrap().last(), Some(&Some(host(FrameFormat::BGRA8))));
    assert_eq!(out.negotiated(), vec![("raw-double".to_string(), Some(host(FrameFormat::BGRA8)))]);
    let state = out.to_json();
    assert_eq!(state["sinks"][0]["chain"], serde_json::json!(["rgba-to-bgra"]), "{state}");
    assert_eq!(state["sinks"][0]["wanted"], serde_json::json!(["bgra8@host"]), "delivery asks what readiness uses");
    let pixels = [7u8; 16 * 4];
    let frame = Frame::host(FrameFormat::RGBA8, 4, 4, 16, &pixels);
    assert!(out.warm_up(&frame), "a host renderer feeds it: {:?}", out.not_ready_reason());

    out.set_renderer_output(cuda(FrameFormat::RGBA8));
    if ovhost_plugin_cuda::driver_present() {
        assert_eq!(told.lock().unwrap().last(), Some(&Some(cuda(FrameFormat::BGRA8))));
        assert_eq!(out.to_json()["sinks"][0]["chain"], serde_json::json!(["rgba-to-bgra-cuda"]));
        skip("a CUDA driver is present: the no-driver negotiation cannot be exercised (GPU path: the next test)");
        return;
    }
    // No driver: both planned chains need a CUDA converter that cannot be created, so nothing
    // feeds the sink; it wants nothing, and readiness names the reason.
    assert_eq!(told.lock().unwrap().last(), Some(&None));
    assert_eq!(out.to_json()["sinks"][0]["spec"], Value::Null);
    // SAFETY: no chain exists, so nothing reads the (dangling, never dereferenced) pointer.
    let cuda_frame = unsafe {
        Frame::from_raw_parts(
            FrameFormat::RGBA8,
            MemoryLocation::CUDA,
            4,
            4,
            16,
            std::ptr::NonNull::<u8>::dangling().as_ptr(),
            64,
        )
    };
    assert!(!out.warm_up(&cuda_frame), "a sink nothing can feed keeps the host not ready");
    let reason = out.not_ready_reason().unwrap();
    assert!(
        reason.contains("'raw-double'") && reason.contains("rgba8@cuda") && reason.contains("CUDA not available"),
        "{reason}"
    );
}

/// What the GPU test needs, or why it cannot run here.
struct GpuSetup {
    bin: PathBuf,
    shm_client: PathBuf,
}

fn gpu_setup() -> Result<GpuSetup, String> {
    if !ovhost_plugin_cuda::driver_present() {
        return Err("CUDA not available: no NVIDIA driver (libcuda) on this machine".into());
    }
    let ovstream = std::env::var_os("OVSTREAM_LIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("third_party/ovstream/ovstream"));
    if !ovstream.exists() {
        return Err(format!("the ovstream library is not at {} (scripts/ovstream/fetch.sh)", ovstream.display()));
    }
    let env_or = |var: &str, default: PathBuf| std::env::var_os(var).map(PathBuf::from).unwrap_or(default);
    let double = env_or("OVRTX_LIBRARY_PATH", target_dir().join("libovrtx_double.so"));
    let shm_client = env_or("OVHOST_SHM_CLIENT", target_dir().join("shm_client"));
    let bin = env_or("OVHOST_BIN", PathBuf::from(env!("CARGO_BIN_EXE_ovhost")));
    for (what, path, build) in [
        ("the ovrtx test double", &double, "cargo build -p ovhost-fixture-ovrtx-double"),
        ("the SHM consumer", &shm_client, "cargo build -p ovhost-ovstream --bin shm_client"),
        ("ovhost", &bin, "cargo build -p ovhost"),
    ] {
        if !path.is_file() {
            return Err(format!("{what} is not built at {} ({build})", path.display()));
        }
    }
    static ENV: OnceLock<()> = OnceLock::new();
    ENV.get_or_init(|| {
        // SAFETY: set once, before any host is spawned by this test binary; no other thread of
        // this binary reads these variables.
        unsafe {
            std::env::set_var("OVRTX_LIBRARY_PATH", &double);
            std::env::set_var("OVSTREAM_LIB_PATH", &ovstream);
        }
    });
    Ok(GpuSetup { bin, shm_client })
}

fn sink_state<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["delivery"]["sinks"].as_array().and_then(|s| s.iter().find(|s| s["sink"] == name)).unwrap_or(&Value::Null)
}

#[test]
fn a_cuda_renderer_feeds_shm_and_cudashm_through_rgba_to_bgra_cuda_with_no_host_copy() {
    let setup = match gpu_setup() {
        Ok(setup) => setup,
        Err(reason) => {
            skip(&reason);
            return;
        }
    };
    for transport in ["shm", "cudashm"] {
        let sink = format!("ovstream-{transport}");
        let name = format!("ovh-cuda-path-{transport}-{}", std::process::id());
        let transports = format!("web,{sink}");
        let args = [
            "--renderer",
            "ovrtx",
            "--asset-root",
            "examples/stages",
            "--stage",
            "sample_yup.usda",
            "--width",
            "640",
            "--height",
            "360",
            "--fps",
            "30",
            "--transport",
            transports.as_str(),
            "--shm-name",
            name.as_str(),
            "--strict-transports",
        ];
        let host = Host::start(&setup.bin, &args);
        assert!(host.wait_ready(Duration::from_secs(60)), "{sink}: not ready: {:?}", host.logs());
        let on_cuda = wait_until(Duration::from_secs(60), || {
            let state = host.get_json("/api/state");
            state["delivery"]["renderer_output"] == "rgba8@cuda"
                && sink_state(&state, &sink)["frames"].as_u64() > Some(5)
        });
        let state = host.get_json("/api/state");
        assert!(on_cuda, "{sink}: the ovrtx renderer outputs CUDA frames and the sink is fed: {}", state["delivery"]);
        // Before the stage opened, ovrtx drew its empty host frame (negotiated host BGRA8, staged
        // by the sink): compare the counters from here on.
        let before = sink_state(&state, &sink).clone();

        // A consumer in another process receives them.
        let consumer = Command::new(&setup.shm_client)
            .args(["--transport", transport, "--name", &name, "--seconds", "3", "--no-pixel-check"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&consumer.stdout)
            .unwrap_or_else(|e| panic!("{sink}: consumer output: {e}: {}", String::from_utf8_lossy(&consumer.stderr)));
        println!("{sink} consumer: {report}");
        assert_eq!(report["ok"], true, "{sink}: {report}");
        // A debug build of the host and the double renders slowly; the point is that frames flow.
        assert!(report["frames"].as_u64() >= Some(10), "{sink}: frames flow: {report}");
        assert_eq!((report["width"].as_u64(), report["height"].as_u64()), (Some(640), Some(360)));

        let state = host.get_json("/api/state");
        let fed = sink_state(&state, &sink);
        println!("{sink} delivery: {fed}; stats: {}", state["stats"]);
        assert_eq!(fed["spec"], "bgra8@cuda", "{fed}");
        assert_eq!(fed["chain"], serde_json::json!(["rgba-to-bgra-cuda"]), "{fed}");
        assert_eq!(fed["wanted"], serde_json::json!(["bgra8@cuda"]), "{fed}");
        assert_eq!(
            fed["host_bytes_copied"], before["host_bytes_copied"],
            "no converter copied to or from host memory: {fed}"
        );
        assert_eq!(
            fed["transport"]["host_bytes_staged"], before["transport"]["host_bytes_staged"],
            "the sink staged nothing from host memory: {fed}"
        );
        let submitted = |s: &Value| s["transport"]["frames_submitted"].as_u64().unwrap_or(0);
        assert!(submitted(fed) >= submitted(&before) + 10, "frames were submitted meanwhile: {before} → {fed}");
        assert_eq!(state["ready"], true);

        if transport == "shm" {
            // A web client at the same time: H.264 through the download converter.
            let mut ws = host.ws();
            assert_eq!(ws.hello(&["h264"])["payload"]["video"]["codec"], "h264");
            let mut frames = 0;
            while frames < 10 {
                let message = ws.recv_binary(Duration::from_secs(5)).expect("H.264 frames reach the web client");
                assert_eq!((&message[0..4], message[5]), (&b"OVHF"[..], 1), "an H.264 video message");
                frames += 1;
            }
            // `/api/state` is published four times a second: it may not count the last frames
            // the client already has.
            let mut state = Value::Null;
            wait_until(Duration::from_secs(5), || {
                state = host.get_json("/api/state");
                sink_state(&state, "web")["frames"].as_u64() >= Some(10)
            });
            let web = sink_state(&state, "web");
            println!("web delivery: {web}");
            assert_eq!(web["wanted"], serde_json::json!(["h264@host"]), "{web}");
            assert!(web["frames"].as_u64() >= Some(10), "{web}");
            assert!(web["host_bytes_copied"].as_u64() >= Some(10 * 640 * 360 * 4), "the web path downloads: {web}");
            let logs = host.logs().join("\n");
            assert!(logs.contains("cuda-download-rgba"), "the H.264 chain starts with the download: {logs}");
            // The raw sink still gets no host copies while the web client watches.
            let raw = sink_state(&host.get_json("/api/state"), &sink).clone();
            assert_eq!(raw["host_bytes_copied"], before["host_bytes_copied"], "{raw}");
            assert_eq!(raw["transport"]["host_bytes_staged"], before["transport"]["host_bytes_staged"], "{raw}");
        }
        assert!(Path::new(&setup.bin).is_file());
    }
}

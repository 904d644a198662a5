//! `--agones` against `agones-sdk-double`, a **test double** of the Agones SDK sidecar (the real
//! one runs only inside a Kubernetes cluster with Agones) that serves Agones' gRPC SDK service and
//! prints each call. The host under test is the real binary with the real `agones` crate.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ovhost_test_support::{Host, target_dir, wait_until, workspace_root};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(10);

/// The running double: its port and the calls it has printed so far.
struct SidecarDouble {
    child: Child,
    port: u16,
    calls: Arc<Mutex<Vec<String>>>,
}

impl SidecarDouble {
    fn start(args: &[&str]) -> SidecarDouble {
        let binary = double_binary();
        let mut child = Command::new(&binary).args(args).stdout(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let port = first.rsplit(':').next().unwrap().parse().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let sink = calls.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(name) = line.strip_prefix("call ") {
                    sink.lock().unwrap().push(name.to_string());
                }
            }
        });
        SidecarDouble { child, port, calls }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls with runs of `Health` collapsed to one `Health…`, and the watch left out. A ping
    /// the host sent just before `Shutdown` travels on its own gRPC stream and may be printed just
    /// after it; such a trailing `Health…` is left out too (anything else after `Shutdown` stays).
    fn sequence(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for call in self.calls().into_iter().filter(|c| c != "WatchGameServer") {
            let call = if call == "Health" { "Health…".to_string() } else { call };
            if out.last() != Some(&call) || call != "Health…" {
                out.push(call);
            }
        }
        if out.len() >= 2 && out[out.len() - 2] == "Shutdown" && out[out.len() - 1] == "Health…" {
            out.pop();
        }
        out
    }
}

impl Drop for SidecarDouble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn double_binary() -> PathBuf {
    let path = target_dir().join("agones-sdk-double");
    assert!(path.is_file(), "{} is not built; run scripts/build-plugins (scripts/test does)", path.display());
    path
}

fn start_host(double: &SidecarDouble, extra: &[&str]) -> Host {
    // The SDK finds the sidecar through this variable, as in a GameServer pod. Every test in this
    // binary sets it before starting its host; the hosts are separate processes.
    // SAFETY: tests in this file run one at a time (`serial` below) and nothing else reads it.
    unsafe { std::env::set_var("AGONES_SDK_GRPC_PORT", double.port.to_string()) };
    let stages = workspace_root().join("examples/stages");
    let mut args = vec!["--agones", "--renderer", "testpattern", "--asset-root", stages.to_str().unwrap()];
    args.extend_from_slice(extra);
    Host::start(Path::new(BIN), &args)
}

static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn allocation_opens_the_annotated_stage_and_idle_exit_calls_shutdown() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let double =
        SidecarDouble::start(&["--allocate-after-ready-ms", "500", "--annotation", "ovhost.dev/stage=sample_yup.usda"]);
    let mut host = start_host(&double, &["--exit-when-idle-s", "4"]);
    assert!(host.wait_ready(SECS));
    // Ready after the first frame, then health pings.
    assert!(wait_until(SECS, || double.calls().iter().any(|c| c == "Ready")), "{:?}", double.calls());
    assert!(wait_until(SECS, || double.calls().iter().filter(|c| *c == "Health").count() >= 2));
    // The simulated GameServerAllocation's annotation names the stage; the host opens it.
    assert!(host.wait_stage_loaded(SECS), "{:?}", host.logs());
    let state = host.get_json("/api/state");
    assert!(state["stage"]["url"].as_str().unwrap().ends_with("sample_yup.usda"), "{state}");
    // The load is in /metrics too.
    let (_, metrics) = host.get("/metrics");
    assert!(metrics.contains("ovhost_stage_load_seconds_count{outcome=\"ok\"} 1"), "{metrics}");
    // Allocated already: no client connects, so after the idle limit the host ends the session.
    let (_, status) = host.wait_exit(Duration::from_secs(15)).expect("idle exit");
    assert_eq!(status.code(), Some(0));
    assert!(wait_until(SECS, || double.calls().iter().any(|c| c == "Shutdown")), "{:?}", double.calls());
    assert_eq!(double.sequence(), ["Ready", "Health…", "Shutdown"]);
}

#[test]
fn first_client_marks_the_game_server_allocated_then_idle_exit_calls_shutdown() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let double = SidecarDouble::start(&[]);
    let mut host = start_host(&double, &["--exit-when-idle-s", "2"]);
    assert!(host.wait_ready(SECS));
    assert!(wait_until(SECS, || double.calls().iter().any(|c| c == "Ready")));
    assert!(wait_until(SECS, || double.calls().iter().any(|c| c == "Health")));
    // Not allocated: a warm server does not end itself, whatever the idle limit.
    std::thread::sleep(Duration::from_secs(3));
    assert!(host.child.try_wait().unwrap().is_none(), "a Ready, unallocated server exited: {:?}", host.logs());
    let mut ws = host.ws();
    ws.hello(&[]);
    assert!(wait_until(SECS, || double.calls().iter().any(|c| c == "Allocate")), "{:?}", double.calls());
    drop(ws);
    let (_, status) = host.wait_exit(Duration::from_secs(15)).expect("idle exit after the client left");
    assert_eq!(status.code(), Some(0));
    assert!(wait_until(SECS, || double.calls().iter().any(|c| c == "Shutdown")), "{:?}", double.calls());
    assert_eq!(double.sequence(), ["Ready", "Health…", "Allocate", "Health…", "Shutdown"]);
}

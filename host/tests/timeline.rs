//! The host's timeline over `/ws` against the real binary: an animated stage's time range in the
//! initial state; play → frames change and `timelineState` advances; pause → the picture holds;
//! a seek shows the same pixels as a fresh host seeked to the same time; bad requests get
//! `viewerError` and change nothing; autoplay on by default and off with
//! `--timeline-autoplay false`; a static stage reports no animation.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::{Host, Ws};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const SECS: Duration = Duration::from_secs(5);

/// A cube sliding along X over time codes 0..48 at 24 per second, a static ground beneath.
const ANIMATED: &str = r#"#usda 1.0
(
    defaultPrim = "World"
    startTimeCode = 0
    endTimeCode = 48
    timeCodesPerSecond = 24
    upAxis = "Y"
)

def Xform "World"
{
    def Cube "Slider"
    {
        double3 xformOp:translate.timeSamples = {
            0: (-4, 1, 0),
            48: (4, 1, 0),
        }
        uniform token[] xformOpOrder = ["xformOp:translate"]
        color3f[] primvars:displayColor = [(0.9, 0.2, 0.1)]
    }
    def Cube "Ground"
    {
        double size = 1
        double3 xformOp:translate = (0, -0.5, 0)
        float3 xformOp:scale = (12, 0.2, 4)
        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:scale"]
    }
}
"#;

fn stages() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("anim.usda"), ANIMATED).unwrap();
    std::fs::write(root.path().join("static.usda"), "#usda 1.0\ndef Cube \"C\" {}\n").unwrap();
    root
}

/// A host rendering every interval (`--continuous-frames`): these tests compare consecutive frames,
/// so a paused timeline must still send frames to show that they are identical (render on demand
/// itself, which sends none, is tested in `pacing.rs`).
fn start(root: &Path, stage: &str, extra: &[&str]) -> Host {
    let mut args = vec![
        "--asset-root",
        root.to_str().unwrap(),
        "--stage",
        stage,
        "--width",
        "320",
        "--height",
        "180",
        "--continuous-frames",
    ];
    args.extend_from_slice(extra);
    let host = Host::start(Path::new(BIN), &args);
    assert!(host.wait_ready(Duration::from_secs(30)), "host not ready: {:?}", host.logs());
    assert!(host.wait_stage_loaded(Duration::from_secs(30)), "stage did not load: {:?}", host.logs());
    host
}

/// A client that asked for JPEG video, with its initial `timelineState`.
fn client(host: &Host) -> (Ws, Value) {
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    let state = ws.recv_type("timelineState", SECS).expect("timelineState in the initial state")["payload"].clone();
    (ws, state)
}

/// The picture of a frame (the 40-byte video header carries frame number and time).
fn picture(frame: Vec<u8>) -> Vec<u8> {
    frame[40..].to_vec()
}

/// The next frames after letting `settle` pass (frames rendered before a request are dropped).
fn frames_after(ws: &mut Ws, settle: Duration, count: usize) -> Vec<Vec<u8>> {
    let until = Instant::now() + settle;
    while Instant::now() < until {
        ws.recv_binary(Duration::from_millis(50));
    }
    (0..count).map(|_| picture(ws.recv_binary(SECS).expect("a frame"))).collect()
}

/// Sends a request and waits for the `timelineState` it causes.
fn control(ws: &mut Ws, event_type: &str, payload: Value, expect: impl Fn(&Value) -> bool) -> Value {
    ws.send(event_type, payload);
    let deadline = Instant::now() + SECS;
    while Instant::now() < deadline {
        if let Some(msg) = ws.recv_type("timelineState", SECS)
            && expect(&msg["payload"])
        {
            return msg["payload"].clone();
        }
    }
    panic!("no matching timelineState after {event_type}");
}

#[test]
fn play_pause_seek_and_bad_requests() {
    let root = stages();
    let host = start(root.path(), "anim.usda", &["--timeline-autoplay", "false"]);
    let (mut ws, initial) = client(&host);
    assert_eq!(initial["animated"], true);
    assert_eq!(initial["playing"], false, "autoplay is off");
    assert_eq!(initial["loop"], true);
    assert_eq!((initial["start_time_code"].as_f64(), initial["end_time_code"].as_f64()), (Some(0.0), Some(48.0)));
    assert_eq!(initial["time_codes_per_second"].as_f64(), Some(24.0));
    assert_eq!(initial["time"].as_f64(), Some(0.0));

    // Seek to 24 while paused: the picture holds still there.
    let sought = control(&mut ws, "timelineSeekRequest", json!({"time": 24}), |s| s["time"] == 24.0);
    assert_eq!(sought["seconds"].as_f64(), Some(1.0));
    let at24 = frames_after(&mut ws, Duration::from_millis(300), 3);
    assert!(at24.windows(2).all(|w| w[0] == w[1]), "a paused timeline gives a stable picture");

    // Play: the state advances and the picture changes.
    control(&mut ws, "timelinePlayRequest", json!({}), |s| s["playing"] == true);
    let mut times = Vec::new();
    while times.len() < 4 {
        let s = ws.recv_type("timelineState", SECS).expect("timelineState while playing")["payload"].clone();
        times.push(s["time"].as_f64().unwrap());
    }
    assert!(times.windows(2).any(|w| w[1] != w[0]), "time advances while playing: {times:?}");
    let playing = frames_after(&mut ws, Duration::ZERO, 8);
    assert!(playing.iter().any(|f| *f != at24[0]), "frames change while playing");

    // Pause: stable again.
    let paused = control(&mut ws, "timelinePauseRequest", json!({}), |s| s["playing"] == false);
    let held = frames_after(&mut ws, Duration::from_millis(300), 3);
    assert!(held.windows(2).all(|w| w[0] == w[1]), "pause holds the picture");

    // Bad requests: viewerError, nothing changes.
    for (event_type, payload) in [
        ("timelineSeekRequest", json!({"time": "NaN"})),
        ("timelineSeekRequest", json!({})),
        ("timelineSetRateRequest", json!({"rate": -1})),
        ("timelineSetRateRequest", json!({"rate": null})),
        ("timelinePlayRequest", json!({"speed": 2})),
        ("timelineSetLoopRequest", json!({"loop": "yes"})),
    ] {
        ws.send(event_type, payload.clone());
        let error =
            ws.recv_type("viewerError", SECS).unwrap_or_else(|| panic!("no viewerError for {event_type} {payload}"));
        assert!(error["payload"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    }
    ws.send("getTimelineRequest", json!({}));
    let now = ws.recv_type("timelineState", SECS).expect("timelineState")["payload"].clone();
    assert_eq!(
        (now["time"].clone(), now["rate"].clone(), now["playing"].clone()),
        (paused["time"].clone(), json!(1.0), json!(false))
    );

    // Seek back to 24: the same pixels as before, and as a fresh host seeked to 24.
    control(&mut ws, "timelineSeekRequest", json!({"time": 24}), |s| s["time"] == 24.0);
    let again = frames_after(&mut ws, Duration::from_millis(300), 1);
    assert_eq!(again[0], at24[0], "seeking back to 24 repeats the frame");
    let fresh_host = start(root.path(), "anim.usda", &["--timeline-autoplay", "false"]);
    let (mut fresh, _) = client(&fresh_host);
    control(&mut fresh, "timelineSeekRequest", json!({"time": 24}), |s| s["time"] == 24.0);
    let fresh_frame = frames_after(&mut fresh, Duration::from_millis(300), 1);
    assert_eq!(fresh_frame[0], at24[0], "a fresh load seeked to 24 shows the same pixels");
    // And time 0 differs (the cube is elsewhere).
    control(&mut fresh, "timelineSeekRequest", json!({"time": 0}), |s| s["time"] == 0.0);
    assert_ne!(frames_after(&mut fresh, Duration::from_millis(300), 1)[0], at24[0]);
}

#[test]
fn animated_stages_autoplay_and_static_ones_have_no_timeline() {
    let root = stages();
    let host = start(root.path(), "anim.usda", &[]);
    let (mut ws, initial) = client(&host);
    assert_eq!(
        (initial["animated"].clone(), initial["playing"].clone(), initial["loop"].clone()),
        (json!(true), json!(true), json!(true))
    );
    // Rate 2 plays twice as fast (loop off so it stops at the end within a second at 2 × 24/s).
    control(&mut ws, "timelineSetRateRequest", json!({"rate": 2}), |s| s["rate"] == 2.0);
    control(&mut ws, "timelineSetLoopRequest", json!({"loop": false}), |s| s["loop"] == false);
    control(&mut ws, "timelineSeekRequest", json!({"time": 0}), |s| s["time"] == 0.0);
    let ended = control(&mut ws, "getTimelineRequest", json!({}), |s| s["playing"] == false && s["time"] == 48.0);
    assert_eq!(ended["seconds"].as_f64(), Some(2.0));

    let still = start(root.path(), "static.usda", &[]);
    let (mut ws, state) = client(&still);
    assert_eq!((state["animated"].clone(), state["playing"].clone()), (json!(false), json!(false)));
    ws.send("timelinePlayRequest", json!({}));
    let error = ws.recv_type("viewerError", SECS).expect("playing a static stage is refused");
    assert!(error["payload"]["message"].as_str().unwrap().contains("no time"), "{error}");
}

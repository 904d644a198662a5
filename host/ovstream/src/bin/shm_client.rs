//! A Rust SHM/CUDASHM consumer on the ovstream client library: attaches to a producer (retrying
//! until it appears), receives frames for N seconds, checks pixels against the test pattern, and
//! prints JSON stats. With `--send-message` it sends one app message and waits for the probe's
//! (chunked) echo, reassembling it with the crate's reassembler.

use std::ffi::c_void;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;
use ovhost_ovstream::ffi::client::{ClientApi, ClientHandle, ClientLibrary};
use ovhost_ovstream::ffi::cudart::{self, CudaRt};
use ovhost_ovstream::ffi::types::{ApiStatus, ClientConfig, ClientFrame, OvString, client_type};
use ovhost_ovstream::messaging::{Inbound, Reassembler, unwrap_browser_frame};
use ovhost_ovstream::testpattern;

#[derive(Parser, Debug)]
struct Args {
    /// shm | cudashm
    #[arg(long, default_value = "shm")]
    transport: String,
    #[arg(long, default_value = "ovhost-probe")]
    name: String,
    #[arg(long, default_value_t = 4.0)]
    seconds: f64,
    /// Seconds to keep retrying the attach.
    #[arg(long, default_value_t = 10.0)]
    attach_timeout: f64,
    #[arg(long)]
    send_message: bool,
    #[arg(long, default_value_t = 0)]
    cuda_device: i32,
    /// App envelopes (JSON) to send once frames flow, e.g. to a real ovhost. Repeatable.
    #[arg(long = "send-json")]
    send_json: Vec<String>,
    /// An `event_type` that must come back (after unwrapping and reassembly). Repeatable.
    #[arg(long = "expect-event")]
    expect_event: Vec<String>,
    /// Frames are not the probe's test pattern (e.g. the host's renderer): skip the pixel check.
    #[arg(long)]
    no_pixel_check: bool,
}

static RECEIVED: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_message(text: ovhost_ovstream::ffi::types::OvString, _user: *mut c_void) {
    // SAFETY: the view is valid for this call; copied.
    let text = unsafe { text.to_string_lossy() };
    RECEIVED.lock().unwrap_or_else(|p| p.into_inner()).push(text);
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            println!("{}", serde_json::json!({"client": args.transport, "ok": false, "error": e}));
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    let cuda = args.transport == "cudashm";
    // The SHM-only library serves CUDASHM too and needs no StreamSDK client libraries.
    let api = ClientApi::get(ClientLibrary::ShmOnly).map_err(|e| e.to_string())?;
    let rt = if cuda {
        let rt = CudaRt::get().map_err(|e| e.to_string())?;
        rt.set_device(args.cuda_device).map_err(|e| e.to_string())?;
        Some(rt)
    } else {
        None
    };
    let config = ClientConfig {
        shm_stream_name: OvString::borrow(&args.name),
        cudashm_stream_name: OvString::borrow(&args.name),
        native_server_ip: OvString::EMPTY,
        native_stream_port: 0,
        native_signal_port: 0,
        native_cuda_device: 0,
    };
    let kind = if cuda { client_type::CUDASHM } else { client_type::SHM };
    let mut handle: ClientHandle = std::ptr::null_mut();
    let attach_deadline = Instant::now() + Duration::from_secs_f64(args.attach_timeout);
    let attach_start = Instant::now();
    loop {
        // SAFETY: valid config (borrowed name outlives the call) and out-pointer.
        let r = unsafe { (api.ovstream_create_client)(kind, &config, &mut handle) };
        if r.status == ApiStatus::SUCCESS {
            break;
        }
        if Instant::now() > attach_deadline {
            return Err(format!("attach failed: {}", api.last_error()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let attach_ms = attach_start.elapsed().as_secs_f64() * 1e3;
    // SAFETY: valid handle; static callback with no user data.
    api.check("ovstream_client_set_message_callback", unsafe {
        (api.ovstream_client_set_message_callback)(handle, Some(on_message), std::ptr::null_mut())
    })
    .map_err(|e| e.to_string())?;

    let (mut frames, mut bad_frames, mut bad_pixels, mut gaps, mut timeouts) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut last_seq: Option<u64> = None;
    let mut first_index = None;
    let mut last_index = 0;
    let mut size = (0, 0);
    let mut message_sent = false;
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.seconds);
    let mut end_reason = "time";
    while Instant::now() < end {
        let mut frame = ClientFrame::zeroed();
        // SAFETY: valid handle and out-pointer.
        let r = unsafe { (api.ovstream_client_wait_frame)(handle, 500, &mut frame) };
        if r.status == ApiStatus::TIMEOUT {
            timeouts += 1;
            continue;
        }
        if r.status != ApiStatus::SUCCESS {
            end_reason = "producer stopped";
            break;
        }
        frames += 1;
        size = (frame.width, frame.height);
        if let Some(prev) = last_seq {
            gaps += frame.sequence.saturating_sub(prev + 1);
        }
        last_seq = Some(frame.sequence);
        let (index, bad) = if let Some(rt) = rt {
            // SAFETY: CUDASHM slot pointer of pitch*height bytes, valid within the ring depth.
            let bytes = unsafe {
                cudart::download(rt, frame.device_ptr, frame.pitch_bytes as usize, frame.width, frame.height)
            }
            .map_err(|e| e.to_string())?;
            testpattern::check(&bytes, frame.width, frame.height, frame.width as usize * 4)
        } else {
            // SAFETY: SHM frame data is pitch*height host bytes, coherent at return.
            let bytes = unsafe {
                std::slice::from_raw_parts(frame.data.cast::<u8>(), frame.pitch_bytes as usize * frame.height as usize)
            };
            testpattern::check(bytes, frame.width, frame.height, frame.pitch_bytes as usize)
        };
        first_index.get_or_insert(index);
        last_index = index;
        if bad > 0 {
            bad_frames += 1;
            bad_pixels += u64::from(bad);
        }
        if args.send_message && !message_sent {
            let msg = serde_json::json!({"messageRecipient":"app","messageType":"json",
                "data": serde_json::json!({"event_type":"probe:hello","payload":{"from":"shm_client"}}).to_string()})
            .to_string();
            // SAFETY: valid handle; `msg` outlives the call.
            api.check("ovstream_client_send_message", unsafe {
                (api.ovstream_client_send_message)(handle, OvString::borrow(&msg))
            })
            .map_err(|e| e.to_string())?;
            message_sent = true;
        }
        if !args.send_json.is_empty() && frames == 1 {
            for envelope in &args.send_json {
                let msg =
                    serde_json::json!({"messageRecipient":"app","messageType":"json","data": envelope}).to_string();
                // SAFETY: valid handle; `msg` outlives the call.
                api.check("ovstream_client_send_message", unsafe {
                    (api.ovstream_client_send_message)(handle, OvString::borrow(&msg))
                })
                .map_err(|e| e.to_string())?;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // SAFETY: valid handle; clear the callback before destroy, as the Python layer does.
    unsafe {
        let _ = (api.ovstream_client_set_message_callback)(handle, None, std::ptr::null_mut());
        let _ = (api.ovstream_destroy_client)(handle);
    }
    let raw = std::mem::take(&mut *RECEIVED.lock().unwrap_or_else(|p| p.into_inner()));
    let mut reassembler = Reassembler::default();
    let mut echoes = Vec::new();
    for text in &raw {
        if let Some(inner) = unwrap_browser_frame(text)
            && let Inbound::Complete(m) = reassembler.accept(&inner, Instant::now())
        {
            echoes.push(m);
        }
    }
    let echo_ok = echoes.iter().any(|m| {
        serde_json::from_str::<serde_json::Value>(m).ok().is_some_and(|v| {
            v["event_type"] == "echo"
                && v["payload"]["pad"].as_str().map(str::len) == Some(100_000)
                && v["payload"]["received"].as_str().is_some_and(|r| r.contains("probe:hello"))
        })
    });
    let received_types: Vec<String> = echoes
        .iter()
        .filter_map(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .filter_map(|v| v["event_type"].as_str().map(str::to_string))
        .collect();
    let expected_ok = args.expect_event.iter().all(|e| received_types.contains(e));
    let pixels_ok = args.no_pixel_check || bad_frames == 0;
    Ok(serde_json::json!({
        "ok": frames > 0 && pixels_ok && (!args.send_message || echo_ok) && expected_ok,
        "received_event_types": received_types, "expected_events_ok": expected_ok,
        "client": args.transport, "attach_ms": attach_ms, "seconds": elapsed, "end": end_reason,
        "frames": frames, "fps_received": frames as f64 / elapsed, "width": size.0, "height": size.1,
        "bad_frames": bad_frames, "bad_pixels": bad_pixels, "sequence_gaps": gaps, "timeouts": timeouts,
        "first_pattern_index": first_index, "last_pattern_index": last_index,
        "raw_messages": raw.len(), "echo_parts": raw.len(), "echo_reassembled_ok": echo_ok,
    }))
}

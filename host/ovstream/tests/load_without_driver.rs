//! On a machine without the NVIDIA driver (the CPU-only CI machines), loading ovstream must fail
//! fast with an error naming libcuda / the driver, while the SHM-only client library (which needs
//! no driver) loads and reports its own errors. On a GPU machine the driver tests are skipped.

use std::path::PathBuf;

use ovhost_ovstream::ffi::client::{ClientApi, ClientLibrary};
use ovhost_ovstream::ffi::types::{ApiStatus, ClientConfig, OvString, client_type};
use ovhost_ovstream::{OvstreamError, OvstreamSink, SinkConfig, Transport};

fn bundle_present() -> bool {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../third_party/ovstream/ovstream/libovstream.so");
    if lib.is_file() || std::env::var_os("OVSTREAM_LIB_PATH").is_some() {
        return true;
    }
    if std::env::var("OVHOST_SKIP_OVSTREAM_PY").as_deref() == Ok("1") {
        return false;
    }
    panic!("{} is missing: run scripts/ovstream/fetch.sh (or set OVHOST_SKIP_OVSTREAM_PY=1 to skip)", lib.display());
}

fn driver_present() -> bool {
    // SAFETY: probing for the driver library; dropped (unloaded) right away.
    unsafe { libloading::Library::new("libcuda.so.1") }.is_ok()
}

#[test]
fn server_library_fails_fast_naming_the_missing_driver() {
    if !bundle_present() || driver_present() {
        skip("needs the ovstream bundle and a machine without the NVIDIA driver");
        return;
    }
    let err = ovhost_ovstream::probe_library().expect_err("libovstream.so cannot load without libcuda.so.1");
    let text = err.to_string();
    assert!(matches!(err, OvstreamError::DriverMissing { .. }), "unexpected error kind: {text}");
    assert!(text.contains("libcuda.so.1") && text.contains("NVIDIA driver"), "{text}");

    let err = OvstreamSink::start(SinkConfig::new(Transport::Shm)).expect_err("sink cannot start");
    assert!(err.to_string().contains("libcuda.so.1"), "{err}");
}

#[test]
fn shm_client_library_loads_without_a_driver_and_reports_its_own_errors() {
    if !bundle_present() {
        return;
    }
    let api = ClientApi::get(ClientLibrary::ShmOnly).expect("libovstream_shm_client.so loads without a driver");
    let name = format!("ovhost-no-such-producer-{}", std::process::id());
    let config = ClientConfig {
        shm_stream_name: OvString::borrow(&name),
        cudashm_stream_name: OvString::EMPTY,
        native_server_ip: OvString::EMPTY,
        native_stream_port: 0,
        native_signal_port: 0,
        native_cuda_device: 0,
    };
    let mut handle = std::ptr::null_mut();
    // SAFETY: valid config (borrowed name outlives the call) and out-pointer.
    let result = unsafe { (api.ovstream_create_client)(client_type::SHM, &config, &mut handle) };
    assert_ne!(result.status, ApiStatus::SUCCESS, "no producer is running");
    let detail = api.last_error();
    assert!(detail.contains(&name), "the client library's own error names the stream: {detail:?}");
    // NATIVE is not in the SHM-only library.
    // SAFETY: as above.
    let result = unsafe { (api.ovstream_create_client)(client_type::NATIVE, &config, &mut handle) };
    assert_eq!(result.status, ApiStatus::NOT_SUPPORTED);
}

/// Reports that the calling test cannot run here (`skipped: <reason>`), and to scripts/test's
/// tally through `OVHOST_SKIP_LOG`, so it is counted as skipped rather than passed.
fn skip(reason: &str) {
    eprintln!("skipped: {reason}");
    if let Some(path) = std::env::var_os("OVHOST_SKIP_LOG") {
        use std::io::Write as _;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}

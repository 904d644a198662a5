//! The plugin's CUDA output path (`output_device: "cuda"`, the default) against the ovrtx TEST
//! DOUBLE, which hands out real device memory where an NVIDIA driver is present: the frame is a
//! CUDA frame whose pixels equal the CPU readback of the same view. Without a driver the double
//! refuses CUDA maps with a clear error, which the plugin surfaces; the GPU half reports itself
//! skipped (`OVHOST_SKIP_LOG`).

mod common;

use common::*;
use ovhost_plugin_api::{FrameFormat, FromConfig, MemoryLocation, RendererBackend};
use ovhost_plugin_cuda::{CudaDownload, driver_present};
use ovhost_plugin_ovrtx::Ovrtx;

fn cuda_renderer() -> Ovrtx {
    let config = format!(r#"{{"library_path": {:?}, "output_device": "cuda"}}"#, double_path().display().to_string());
    Ovrtx::from_config(&config).expect("renderer over the double")
}

#[test]
fn cuda_frames_are_device_memory_equal_to_the_cpu_readback() {
    let mut gpu = cuda_renderer();
    gpu.resize(96, 54).into_result().unwrap();
    gpu.open_stage(scene("cuda").as_scene()).into_result().unwrap();
    if !driver_present() {
        let err =
            request([0.0, 1.0, 9.0]).with_ref(|q| gpu.render(q).into_result().map(|_| ()).expect_err("no driver"));
        assert!(err.message.contains("no NVIDIA driver"), "the missing driver is named: {err}");
        skip("CUDA not available: no NVIDIA driver (libcuda) on this machine; only the refusal was checked");
        return;
    }
    let mut cpu = create("");
    cpu.resize(96, 54).into_result().unwrap();
    cpu.open_stage(scene("cuda-cpu").as_scene()).into_result().unwrap();
    let (_, want) = render(&mut cpu, [0.0, 1.0, 9.0]);
    let mut download = CudaDownload::new(0).expect("CUDA download converter");
    for eye in [[0.0, 1.0, 9.0], [3.0, 1.0, 9.0]] {
        let got = request(eye).with_ref(|q| {
            let frame = gpu.render(q).into_result().expect("render");
            frame.validate().expect("a consistent descriptor");
            assert_eq!(
                (frame.format, frame.location, frame.width, frame.height),
                (FrameFormat::RGBA8, MemoryLocation::CUDA, 96, 54)
            );
            assert_eq!((frame.cuda_context, frame.cuda_stream), (0, 0), "valid on the default stream");
            download.download(&frame).expect("download").host_bytes().expect("host").to_vec()
        });
        if eye == [0.0, 1.0, 9.0] {
            assert_eq!(got, want, "the device image equals the CPU readback of the same view");
        } else {
            assert_ne!(got, want, "a new view makes a new image");
        }
    }
    assert_eq!(download.bytes_downloaded(), 2 * 96 * 54 * 4);
    // The mapping of the last frame is held until the next call; a close releases everything.
    gpu.close_stage().into_result().unwrap();
    assert_eq!(live_handles(&gpu), 0, "every result and mapping is released");
}

/// Reports that the calling test cannot fully run here (`skipped: <reason>`), and to
/// scripts/test's tally through `OVHOST_SKIP_LOG`, so it is counted as skipped rather than passed.
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

//! The CUDA converters: registration needs no GPU; without a driver, creation fails with
//! `UNAVAILABLE` (no panic); with a GPU, output equals the CPU reference for host and device
//! input, odd sizes and pitches included.

use std::sync::Arc;

use cudarc::driver::{CudaContext, CudaStream, DevicePtr, result, sys};
use ovhost_plugin_api::{ErrorKind, Frame, FrameFormat, FrameSpec, MemoryLocation};
use ovhost_plugin_convert::{registry_probe, swizzle::rgba_to_bgra_reference};
use ovhost_plugin_cuda::{driver_present, register};

const SIZES: &[(usize, usize, usize)] =
    &[(1, 1, 0), (3, 5, 0), (17, 9, 7), (17, 9, 3), (1920, 1080, 0), (1280, 720, 256)];

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Waits for `frame`'s stream and copies its bytes back to the host.
fn download(frame: &Frame) -> Vec<u8> {
    assert_eq!(frame.location, MemoryLocation::CUDA);
    assert_ne!(frame.cuda_context, 0);
    let mut host = vec![0u8; frame.len_bytes() as usize];
    // SAFETY: the frame's stream and device pointer belong to the converter that produced it and
    // stay valid until its next call; we synchronize before reading.
    unsafe {
        result::stream::synchronize(frame.cuda_stream as sys::CUstream).expect("stream sync");
        result::memcpy_dtoh_sync(&mut host, frame.data_ptr() as sys::CUdeviceptr).expect("download");
    }
    host
}

/// Uploads `src` (rows of `pitch` bytes) to the device on `stream` and describes it as a
/// `format` frame in CUDA memory on that stream (`context`: the frame's CUDA context handle).
/// The returned buffer owns the memory the frame points at: keep it alive while the frame is used.
fn device_frame(
    stream: &Arc<CudaStream>,
    context: u64,
    format: FrameFormat,
    src: &[u8],
    (w, h, pitch): (usize, usize, usize),
) -> (cudarc::driver::CudaSlice<u8>, Frame<'static>) {
    let device_src = stream.clone_htod(src).expect("upload");
    let ptr = {
        let (ptr, _sync) = device_src.device_ptr(stream);
        ptr
    };
    // SAFETY: `device_src` holds `src.len()` bytes of device memory; the caller keeps it alive
    // for as long as it uses the frame.
    let frame = unsafe {
        Frame::from_raw_parts(
            format,
            MemoryLocation::CUDA,
            w as u32,
            h as u32,
            pitch as u32,
            ptr as *const u8,
            src.len() as u64,
        )
    }
    .with_cuda(context, stream.cu_stream() as u64);
    (device_src, frame)
}

fn expected(src: &[u8], pitch: usize, w: usize, h: usize) -> Vec<u8> {
    let mut want = vec![0u8; w * 4 * h];
    rgba_to_bgra_reference(src, pitch, &mut want, w * 4, w, h);
    want
}

#[test]
fn registers_device_and_upload_converters() {
    let entries = registry_probe::converter_entries(register).expect("register needs no GPU");
    let got: Vec<(String, FrameSpec, FrameSpec)> =
        entries.iter().map(|e| (e.id().to_string(), e.input(), e.output())).collect();
    let cuda = |f| FrameSpec::new(f, MemoryLocation::CUDA);
    assert_eq!(
        got,
        vec![
            ("rgba-to-bgra-cuda".to_string(), cuda(FrameFormat::RGBA8), cuda(FrameFormat::BGRA8)),
            ("rgba-to-bgra-cuda-upload".to_string(), FrameSpec::host(FrameFormat::RGBA8), cuda(FrameFormat::BGRA8)),
            ("cuda-download-rgba".to_string(), cuda(FrameFormat::RGBA8), FrameSpec::host(FrameFormat::RGBA8)),
            ("cuda-download-bgra".to_string(), cuda(FrameFormat::BGRA8), FrameSpec::host(FrameFormat::BGRA8)),
        ]
    );
}

#[test]
fn without_a_driver_creation_is_unavailable() {
    if driver_present() {
        skip("a CUDA driver is present, the no-driver path cannot be exercised here");
        return;
    }
    for id in ["rgba-to-bgra-cuda", "rgba-to-bgra-cuda-upload", "cuda-download-rgba", "cuda-download-bgra"] {
        let err = registry_probe::create_converter(register, id, "{}").map(|_| ()).expect_err("no driver");
        assert_eq!(err.kind, ErrorKind::UNAVAILABLE, "{id}: {err}");
        assert!(err.message.starts_with("CUDA not available:"), "{id}: {err}");
    }
}

#[test]
fn host_input_matches_cpu() {
    if !driver_present() {
        skip("CUDA not available: no NVIDIA driver (libcuda) on this machine");
        return;
    }
    let mut conv = registry_probe::create_converter(register, "rgba-to-bgra-cuda-upload", "{}").expect("create");
    for &(w, h, pad) in SIZES {
        let pitch = w * 4 + pad;
        let src = noise(pitch * (h - 1) + w * 4, (w * 7 + h) as u64);
        let mut input = Frame::host(FrameFormat::RGBA8, w as u32, h as u32, pitch as u32, &src);
        input.frame_number = 9;
        let out = conv.convert(&input).into_result().expect("convert");
        assert_eq!(
            (out.format, out.width, out.height, out.pitch_bytes),
            (FrameFormat::BGRA8, w as u32, h as u32, (w * 4) as u32)
        );
        assert_eq!(out.frame_number, 9);
        assert_eq!(download(&out), expected(&src, pitch, w, h), "{w}x{h} pad {pad}");
    }
}

#[test]
fn device_input_matches_cpu_without_host_round_trip() {
    if !driver_present() {
        skip("CUDA not available: no NVIDIA driver (libcuda) on this machine");
        return;
    }
    let ctx = CudaContext::new(0).expect("primary context");
    let producer: Arc<CudaStream> = ctx.new_stream().expect("stream");
    let mut conv = registry_probe::create_converter(register, "rgba-to-bgra-cuda", "{}").expect("create");
    for &(w, h, pad) in SIZES {
        let pitch = w * 4 + pad;
        let src = noise(pitch * h, (w * 13 + h) as u64);
        let (_device_src, input) =
            device_frame(&producer, ctx.cu_ctx() as u64, FrameFormat::RGBA8, &src, (w, h, pitch));
        let ptr = input.data_ptr() as u64;
        let out = conv.convert(&input).into_result().expect("convert");
        assert_ne!(out.data_ptr() as u64, ptr, "output is the converter's own buffer");
        assert_eq!(download(&out), expected(&src, pitch, w, h), "{w}x{h} pad {pad}");
        producer.synchronize().expect("sync");
    }
}

#[test]
fn download_returns_the_device_frame_in_host_memory_packed() {
    if !driver_present() {
        skip("CUDA not available: no NVIDIA driver (libcuda) on this machine");
        return;
    }
    let ctx = CudaContext::new(0).expect("primary context");
    let producer: Arc<CudaStream> = ctx.new_stream().expect("stream");
    for (id, format) in [("cuda-download-rgba", FrameFormat::RGBA8), ("cuda-download-bgra", FrameFormat::BGRA8)] {
        let mut conv = registry_probe::create_converter(register, id, "{}").expect("create");
        for &(w, h, pad) in SIZES {
            let pitch = w * 4 + pad;
            let src = noise(pitch * h, (w * 5 + h) as u64);
            let (_device_src, mut input) = device_frame(&producer, ctx.cu_ctx() as u64, format, &src, (w, h, pitch));
            input.frame_number = 4;
            let out = conv.convert(&input).into_result().expect("download");
            assert_eq!(
                (out.format, out.location, out.width, out.height, out.pitch_bytes, out.frame_number),
                (format, MemoryLocation::HOST, w as u32, h as u32, (w * 4) as u32, 4),
                "{id}"
            );
            let packed: Vec<u8> = src.chunks(pitch).flat_map(|row| row[..w * 4].to_vec()).collect();
            assert_eq!(out.host_bytes().expect("host frame"), packed.as_slice(), "{id} {w}x{h} pad {pad}");
            producer.synchronize().expect("sync");
        }
        let host = Frame::host(format, 2, 2, 8, &[0u8; 16]);
        let err = conv.convert(&host).into_result().map(|_| ()).expect_err("host input is refused");
        assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{err}");
    }
}

#[test]
fn gpu_swizzle_then_download_matches_the_cpu_reference() {
    if !driver_present() {
        skip("CUDA not available: no NVIDIA driver (libcuda) on this machine");
        return;
    }
    // The chain the host plans for rgba8@cuda -> bgra8@host.
    let ctx = CudaContext::new(0).expect("primary context");
    let producer: Arc<CudaStream> = ctx.new_stream().expect("stream");
    let mut swizzle = registry_probe::create_converter(register, "rgba-to-bgra-cuda", "{}").expect("create");
    let mut download = registry_probe::create_converter(register, "cuda-download-bgra", "{}").expect("create");
    let (w, h, pitch) = (1280usize, 720usize, 1280 * 4 + 64);
    let src = noise(pitch * h, 99);
    let (_device_src, input) = device_frame(&producer, 0, FrameFormat::RGBA8, &src, (w, h, pitch));
    let bgra = swizzle.convert(&input).into_result().expect("swizzle");
    let out = download.convert(&bgra).into_result().expect("download");
    assert_eq!((out.format, out.location), (FrameFormat::BGRA8, MemoryLocation::HOST));
    assert_eq!(out.host_bytes().expect("host"), expected(&src, pitch, w, h).as_slice());
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

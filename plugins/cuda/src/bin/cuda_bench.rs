//! Benchmark: CUDA RGBA8 → BGRA8 (`rgba-to-bgra-cuda`, device input) at 1080p and 4K against a
//! device-to-device copy (`cuMemcpyDtoDAsync`) of the same bytes, timed with CUDA events, plus the
//! host-input path (upload + convert). Prints JSON lines on stdout; on a machine without CUDA it
//! prints one line saying so and exits 0. Run with `--release`.

use std::time::Instant;

use cudarc::driver::{DevicePtr, result, sys};
use ovhost_plugin_api::{ErrorKind, Frame, FrameFormat, MemoryLocation, PluginError};
use ovhost_plugin_convert::swizzle::rgba_to_bgra_reference;
use ovhost_plugin_cuda::{RgbaToBgraCuda, driver_present};
use serde_json::json;

const ITERS: usize = 200;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if !driver_present() {
        println!(
            "{}",
            json!({"bench": "rgba_to_bgra_cuda", "skipped": "CUDA not available: no NVIDIA driver (libcuda) on this machine"})
        );
        return Ok(());
    }
    let mut conv = match RgbaToBgraCuda::new(0) {
        Ok(c) => c,
        Err(e) if e.kind == ErrorKind::UNAVAILABLE => {
            println!("{}", json!({"bench": "rgba_to_bgra_cuda", "skipped": e.message.as_str()}));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let stream = conv.stream().clone();
    let ctx = stream.context().clone();
    println!("{}", json!({"bench": "cuda_device", "name": ctx.name()?}));
    let timing_event = || ctx.new_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT));

    for (width, height) in [(1920usize, 1080usize), (3840, 2160)] {
        let bytes = width * height * 4;
        let host: Vec<u8> = (0..bytes).map(|i| (i * 37 % 253) as u8).collect();
        let src = stream.clone_htod(&host)?;
        let dst = stream.alloc_zeros::<u8>(bytes)?;
        let (src_ptr, _s) = src.device_ptr(&stream);
        let (dst_ptr, _d) = dst.device_ptr(&stream);
        // SAFETY: `src` holds `bytes` bytes of device memory for this iteration.
        let input = unsafe {
            Frame::from_raw_parts(
                FrameFormat::RGBA8,
                MemoryLocation::CUDA,
                width as u32,
                height as u32,
                (width * 4) as u32,
                src_ptr as *const u8,
                bytes as u64,
            )
        }
        .with_cuda(ctx.cu_ctx() as u64, stream.cu_stream() as u64);

        // Correctness once, then warm-up.
        let out = conv.convert_frame(&input)?;
        let mut got = vec![0u8; bytes];
        stream.synchronize()?;
        // SAFETY: `out` points at the converter's output buffer of `bytes` bytes; the stream is idle.
        unsafe { result::memcpy_dtoh_sync(&mut got, out.data_ptr() as sys::CUdeviceptr) }?;
        let mut want = vec![0u8; bytes];
        rgba_to_bgra_reference(&host, width * 4, &mut want, width * 4, width, height);
        let matches_cpu = got == want;

        let (start, end) = (timing_event()?, timing_event()?);
        start.record(&stream)?;
        for _ in 0..ITERS {
            conv.convert_frame(&input)?;
        }
        end.record(&stream)?;
        end.synchronize()?;
        let convert_ms = f64::from(start.elapsed_ms(&end)?) / ITERS as f64;

        start.record(&stream)?;
        for _ in 0..ITERS {
            // SAFETY: both buffers are `bytes` long and owned here; the copy is ordered on `stream`.
            unsafe { result::memcpy_dtod_async(dst_ptr, src_ptr, bytes, stream.cu_stream()) }?;
        }
        end.record(&stream)?;
        end.synchronize()?;
        let copy_ms = f64::from(start.elapsed_ms(&end)?) / ITERS as f64;

        // Host input: pageable upload + kernel, waited for each frame.
        let host_input = Frame::host(FrameFormat::RGBA8, width as u32, height as u32, (width * 4) as u32, &host);
        conv.convert_frame(&host_input)?;
        stream.synchronize()?;
        let t = Instant::now();
        let host_iters = 20;
        for _ in 0..host_iters {
            conv.convert_frame(&host_input)?;
            stream.synchronize()?;
        }
        let upload_ms = t.elapsed().as_secs_f64() * 1e3 / f64::from(host_iters);

        let gb = bytes as f64 / 1e9;
        println!(
            "{}",
            json!({
                "bench": "rgba_to_bgra_cuda",
                "width": width, "height": height, "bytes": bytes,
                "matches_cpu": matches_cpu,
                "convert_ms": convert_ms,
                "convert_gbps": gb / (convert_ms / 1e3),
                "dtod_copy_ms": copy_ms,
                "dtod_copy_gbps": gb / (copy_ms / 1e3),
                "percent_of_dtod_copy": 100.0 * copy_ms / convert_ms,
                "host_upload_and_convert_ms": upload_ms,
            })
        );
        if !matches_cpu {
            return Err(PluginError::internal("CUDA output differs from the CPU reference").into());
        }
    }
    Ok(())
}

//! GPU time per pass of each frame, for benchmarks: with `OVHOST_RASTER_GPU_TIMES=1` on an
//! adapter with timestamp queries, the scene pass and the I420 conversion pass (when it runs)
//! write begin/end timestamps, resolved into a small buffer read back after the frame's own
//! readback. Off by default: it adds a map per frame.

use ovhost_plugin_api::PluginError;

/// The environment switch.
pub const ENV: &str = "OVHOST_RASTER_GPU_TIMES";

/// Whether `OVHOST_RASTER_GPU_TIMES` asks for GPU times.
pub fn wanted() -> bool {
    std::env::var(ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Timed passes, in query order: each has a begin and an end timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Scene = 0,
    Yuv = 1,
}

const PASSES: u32 = 2;

/// The last frame's GPU milliseconds per pass (`None`: the pass did not run).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameTimes {
    pub scene_ms: Option<f64>,
    pub yuv_ms: Option<f64>,
}

pub struct GpuTimer {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    /// Passes given timestamp writes in the frame being recorded.
    used: [bool; PASSES as usize],
    pub last: FrameTimes,
}

impl GpuTimer {
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Self {
        let count = 2 * PASSES;
        let bytes = u64::from(count) * 8;
        let set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("raster gpu times"),
            ty: wgpu::QueryType::Timestamp,
            count,
        });
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Self {
            set,
            resolve: buffer(
                "raster gpu times resolve",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            read: buffer("raster gpu times read", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            period_ns: f64::from(queue.get_timestamp_period()),
            used: [false; PASSES as usize],
            last: FrameTimes::default(),
        }
    }

    /// The timestamp writes for `pass` in the frame being recorded.
    pub fn render_pass(&mut self, pass: Pass) -> wgpu::RenderPassTimestampWrites<'_> {
        let i = pass as u32;
        self.used[i as usize] = true;
        wgpu::RenderPassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(2 * i),
            end_of_pass_write_index: Some(2 * i + 1),
        }
    }

    pub fn compute_pass(&mut self, pass: Pass) -> wgpu::ComputePassTimestampWrites<'_> {
        let i = pass as u32;
        self.used[i as usize] = true;
        wgpu::ComputePassTimestampWrites {
            query_set: &self.set,
            beginning_of_pass_write_index: Some(2 * i),
            end_of_pass_write_index: Some(2 * i + 1),
        }
    }

    /// Records the resolve of this frame's timestamps (after its last timed pass).
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        encoder.resolve_query_set(&self.set, 0..2 * PASSES, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.read, 0, self.resolve.size());
    }

    /// Reads the resolved timestamps once the frame's submission finished (its readback was
    /// waited for) and forgets which passes ran.
    pub fn collect(&mut self, device: &wgpu::Device) -> Result<(), PluginError> {
        crate::targets::map_read(device, self.read.slice(..))?;
        let ticks: Vec<u64> = {
            let view = self
                .read
                .get_mapped_range(..)
                .map_err(|e| PluginError::internal(format!("mapping the GPU times failed: {e}")))?;
            view.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect()
        };
        self.read.unmap();
        let ms = |pass: Pass| {
            let i = pass as usize;
            (self.used[i] && ticks[2 * i + 1] >= ticks[2 * i])
                .then(|| (ticks[2 * i + 1] - ticks[2 * i]) as f64 * self.period_ns / 1e6)
        };
        self.last = FrameTimes { scene_ms: ms(Pass::Scene), yuv_ms: ms(Pass::Yuv) };
        self.used = [false; PASSES as usize];
        Ok(())
    }
}

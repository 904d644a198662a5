//! Host benchmarks, printed as JSON lines on stdout:
//! 1. per-frame host overhead at 1920×1080 with the test pattern: tick time minus render time
//!    minus conversion time, with no client and with one H.264 web client;
//! 2. the per-call cost of each plugin kind through the ABI (boxed `#[sabi_trait]` object behind
//!    the panic guard, as the host holds plugins) against a direct `dyn` call of the same trait.
//!
//! Run: `cargo run --release -p ovhost --bin host_bench`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};
use ovhost::plugins::Registry;
use ovhost::runtime::{Runtime, RuntimeConfig};
use ovhost_plugin_api::*;
use serde_json::json;

const FRAMES: usize = 240;
const CALLS: u64 = 5_000_000;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn frame_overhead(with_client: bool) -> serde_json::Value {
    let mut registry = Registry::default();
    registry.add_builtins();
    let config = RuntimeConfig {
        width: 1920,
        height: 1080,
        fps: 60,
        renderer: "testpattern".into(),
        camera: "orbit".into(),
        settings_path: None,
        strict: true,
        asset_root: None,
        initial_stage: None,
        default_dialect: String::new(),
        viewers: Default::default(),
        capture: Default::default(),
        camera_policy: Default::default(),
        timeline_autoplay: true,
        stage_limits: Default::default(),
        video: Default::default(),
        continuous_frames: true,
    };
    let runtime = Runtime::build(&config, Arc::new(registry)).expect("runtime");
    let (handle, mut render_loop, _inbound) = runtime.into_parts().expect("plugins");
    let _channels = if with_client {
        let channels = handle.hub.connect();
        handle.hub.set_codec(channels.id, Some(FrameFormat::H264));
        Some(channels)
    } else {
        None
    };
    let mut overhead = Vec::with_capacity(FRAMES);
    let mut render = Vec::with_capacity(FRAMES);
    let mut convert = Vec::with_capacity(FRAMES);
    for i in 0..FRAMES + 10 {
        render_loop.tick(i as u64 * 16_667);
        if let Some(channels) = &_channels {
            let _ = channels; // packets accumulate up to the queue bound and are dropped after
        }
        if i >= 10 {
            let tick = render_loop.last_tick_ns;
            overhead.push(tick.saturating_sub(render_loop.last_render_ns + render_loop.out.last_convert_ns));
            render.push(render_loop.last_render_ns);
            convert.push(render_loop.out.last_convert_ns);
        }
    }
    for v in [&mut overhead, &mut render, &mut convert] {
        v.sort_unstable();
    }
    json!({
        "bench": "host_frame_overhead",
        "width": 1920, "height": 1080, "renderer": "testpattern",
        "client": if with_client { "one h264 web client" } else { "none" },
        "frames": FRAMES,
        "overhead_us_p50": percentile(&overhead, 0.5) as f64 / 1e3,
        "overhead_us_p99": percentile(&overhead, 0.99) as f64 / 1e3,
        "render_ms_p50": percentile(&render, 0.5) as f64 / 1e6,
        "convert_ms_p50": percentile(&convert, 0.5) as f64 / 1e6,
        "target_overhead_ms": 0.5,
    })
}

// Minimal implementations so the measurement is the call boundary itself.
#[derive(Default)]
struct NoopRenderer;
impl RendererBackend for NoopRenderer {
    fn resize(&mut self, _w: u32, _h: u32) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn open_stage(&mut self, _s: SceneRef<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn close_stage(&mut self) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn render(&mut self, _r: RenderRequestRef) -> RResult<Frame<'_>, PluginError> {
        RResult::RErr(PluginError::unsupported("noop"))
    }
    fn pick(&mut self, x: u32, y: u32) -> RResult<u32, PluginError> {
        RResult::ROk(x ^ y)
    }
    fn set_selection(&mut self, _ids: RSlice<'_, u32>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn render_settings(&self) -> RResult<RString, PluginError> {
        RResult::ROk(RString::new())
    }
    fn set_render_setting(&mut self, _k: RStr<'_>, _v: RStr<'_>) -> RResult<RString, PluginError> {
        RResult::ROk(RString::new())
    }
    fn aovs(&self) -> RResult<RVec<RString>, PluginError> {
        RResult::ROk(RVec::new())
    }
    fn set_aov(&mut self, _n: RStr<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
}

#[derive(Default)]
struct NoopConverter(u64);
impl FrameConverter for NoopConverter {
    fn configure(&mut self, _o: RStr<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        self.0 += 1;
        RResult::ROk(())
    }
    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        RResult::ROk(Frame::host(input.format, input.width, input.height, input.pitch_bytes, &NOOP_PIXELS))
    }
}

static NOOP_PIXELS: [u8; 16] = [0; 16];

#[derive(Default)]
struct NoopCamera(f32);
impl CameraController for NoopCamera {
    fn set_viewport(&mut self, _w: u32, _h: u32) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn input(&mut self, e: &InputEvent) -> RResult<bool, PluginError> {
        self.0 += e.dx;
        RResult::ROk(true)
    }
    fn advance(&mut self, _dt: u64) -> RResult<CameraView, PluginError> {
        RResult::ROk(CameraView::default())
    }
    fn set_view(&mut self, _v: &CameraView) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn fit(&mut self, _b: &Bounds, _u: UpAxis) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn focus(&mut self, _b: &Bounds) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn cancel(&mut self) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn state(&self) -> RResult<RString, PluginError> {
        RResult::ROk(RString::new())
    }
}

#[derive(Default)]
struct NoopHandler(usize);
impl MessageHandler for NoopHandler {
    fn handle(&mut self, ctx: HostContextMut<'_>, event_type: RStr<'_>, _p: RStr<'_>) -> RResult<(), PluginError> {
        self.0 += event_type.len() + ctx.client_id() as usize;
        RResult::ROk(())
    }
}

struct NullCtx;
impl HostContext for NullCtx {
    fn client_id(&self) -> u64 {
        1
    }
    fn reply(&mut self, _e: &str, _p: &str) {}
    fn broadcast(&mut self, _e: &str, _p: &str) {}
    fn call(&mut self, _s: &str, _a: &str) -> Result<String, PluginError> {
        Ok(String::new())
    }
}

fn ns_per_call(mut f: impl FnMut(u64)) -> f64 {
    for i in 0..CALLS / 10 {
        f(i);
    }
    let started = Instant::now();
    for i in 0..CALLS {
        f(i);
    }
    started.elapsed().as_nanos() as f64 / CALLS as f64
}

fn report(kind: &str, call: &str, abi_ns: f64, direct_ns: f64) {
    println!(
        "{}",
        json!({
            "bench": "abi_call_cost", "kind": kind, "call": call,
            "abi_ns": (abi_ns * 100.0).round() / 100.0,
            "direct_ns": (direct_ns * 100.0).round() / 100.0,
            "ratio": ((abi_ns / direct_ns.max(1e-3)) * 100.0).round() / 100.0,
            "target_ratio": 2.0,
        })
    );
}

fn abi_costs() {
    let mut abi = renderer_box(NoopRenderer);
    let mut direct: Box<dyn RendererBackend> = Box::new(NoopRenderer);
    let a = ns_per_call(|i| {
        black_box(black_box(&mut abi).pick(black_box(i as u32), 3));
    });
    let d = ns_per_call(|i| {
        black_box(black_box(&mut *direct).pick(black_box(i as u32), 3));
    });
    report("renderer", "pick", a, d);

    let pixels = [0u8; 16];
    let frame = Frame::host(FrameFormat::RGBA8, 2, 2, 8, &pixels);
    let mut abi = converter_box(NoopConverter::default());
    let mut direct: Box<dyn FrameConverter> = Box::new(NoopConverter::default());
    let a = ns_per_call(|_| {
        black_box(black_box(&mut abi).convert(black_box(&frame)));
    });
    let d = ns_per_call(|_| {
        black_box(black_box(&mut *direct).convert(black_box(&frame)));
    });
    report("converter", "convert", a, d);

    let event = InputEvent::new(InputKind::POINTER_MOVE);
    let mut abi = camera_box(NoopCamera::default());
    let mut direct: Box<dyn CameraController> = Box::new(NoopCamera::default());
    let a = ns_per_call(|_| {
        black_box(black_box(&mut abi).input(black_box(&event)));
    });
    let d = ns_per_call(|_| {
        black_box(black_box(&mut *direct).input(black_box(&event)));
    });
    report("camera", "input", a, d);

    let mut abi = handler_box(NoopHandler::default());
    let mut direct: Box<dyn MessageHandler> = Box::new(NoopHandler::default());
    let mut ctx = NullCtx;
    let a = ns_per_call(|_| {
        black_box(black_box(&mut abi).handle(HostContextMut::new(&mut ctx), "ping".into(), "{}".into()));
    });
    let mut ctx = NullCtx;
    let d = ns_per_call(|_| {
        black_box(black_box(&mut *direct).handle(HostContextMut::new(&mut ctx), "ping".into(), "{}".into()));
    });
    report("handler", "handle", a, d);

    // The same boundary without the panic guard, to show what the guard itself costs.
    let mut unguarded = MessageHandler_TO::from_value(NoopHandler::default(), TD_Opaque);
    let mut ctx = NullCtx;
    let u = ns_per_call(|_| {
        black_box(black_box(&mut unguarded).handle(HostContextMut::new(&mut ctx), "ping".into(), "{}".into()));
    });
    report("handler-unguarded", "handle", u, d);
    let mut unguarded = RendererBackend_TO::from_value(NoopRenderer, TD_Opaque);
    let u = ns_per_call(|i| {
        black_box(black_box(&mut unguarded).pick(black_box(i as u32), 3));
    });
    let mut direct: Box<dyn RendererBackend> = Box::new(NoopRenderer);
    let d = ns_per_call(|i| {
        black_box(black_box(&mut *direct).pick(black_box(i as u32), 3));
    });
    report("renderer-unguarded", "pick", u, d);
}

fn main() {
    println!("{}", frame_overhead(false));
    println!("{}", frame_overhead(true));
    abi_costs();
}

//! Shared helpers: where the test double lives, a scene whose sublayer exists, and the double's
//! inspection hooks (loaded from the same file, so they see the same state as the plugin).
#![allow(dead_code)]

use std::path::PathBuf;

use ovhost_plugin_api::abi_stable::std_types::{RString, RVec};
use ovhost_plugin_api::{CameraView, MemoryLocation, RenderRequest, RendererBackend, StageScene};
use ovhost_plugin_ovrtx::Ovrtx;

/// `target/debug/libovrtx_double.so`, or a failure saying how to build it.
pub fn double_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = target.join("debug").join("libovrtx_double.so");
    assert!(
        path.is_file(),
        "the ovrtx test double is not built at {}; run `cargo build -p ovhost-fixture-ovrtx-double` first",
        path.display()
    );
    path
}

pub fn config(extra: &str) -> String {
    let path = double_path();
    let sep = if extra.is_empty() { "" } else { "," };
    format!(r#"{{"library_path": {:?}, "output_device": "cpu"{sep}{extra}}}"#, path.display().to_string())
}

pub fn create(extra: &str) -> Ovrtx {
    use ovhost_plugin_api::FromConfig;
    Ovrtx::from_config(&config(extra)).expect("renderer over the double")
}

/// A scene whose resolved file exists (the double checks sublayers).
pub fn scene(name: &str) -> StageScene {
    let file = std::env::temp_dir().join(format!("ovrtx-double-{name}-{}.usda", std::process::id()));
    std::fs::write(&file, "#usda 1.0\ndef Xform \"World\"\n{\n}\n").expect("write scene");
    let mut s = StageScene::empty();
    s.resolved_path = RString::from(file.display().to_string());
    s.prim_paths =
        RVec::from(vec![RString::from("/World"), RString::from("/World/Left"), RString::from("/World/Right")]);
    s
}

pub fn request(eye: [f64; 3]) -> RenderRequest {
    RenderRequest {
        camera: CameraView { eye, ..CameraView::default() },
        frame_number: 7,
        time_us: 1000,
        time_code: f64::NAN,
    }
}

/// A rendered frame's descriptor, checked, after the frame's borrow of the renderer ended.
pub struct Rendered {
    pub width: u32,
    pub height: u32,
    pub location: MemoryLocation,
}

pub fn render(r: &mut Ovrtx, eye: [f64; 3]) -> (Rendered, Vec<u8>) {
    request(eye).with_ref(|q| {
        let frame = r.render(q).into_result().expect("render");
        frame.validate().expect("a consistent descriptor");
        let bytes = frame.host_bytes().expect("host frame").to_vec();
        (Rendered { width: frame.width, height: frame.height, location: frame.location }, bytes)
    })
}

fn hooks() -> &'static libloading::Library {
    static LIB: std::sync::OnceLock<&'static libloading::Library> = std::sync::OnceLock::new();
    // SAFETY: the double has no load-time side effects; leaked like the plugin's handle.
    LIB.get_or_init(|| Box::leak(Box::new(unsafe { libloading::Library::new(double_path()) }.expect("load double"))))
}

#[repr(C)]
struct View {
    ptr: *const u8,
    len: usize,
}

/// The double's call log for this renderer.
pub fn trace(r: &Ovrtx) -> Vec<String> {
    // SAFETY: test hook with signature `ovx_string_t (void*)`.
    let f = unsafe { hooks().get::<unsafe extern "C" fn(usize) -> View>(b"ovrtx_double_trace\0") }.expect("hook");
    // SAFETY: the view is valid until the next hook call on this thread.
    let v = unsafe { f(r.native_handle()) };
    // SAFETY: as above.
    let text = unsafe { std::slice::from_raw_parts(v.ptr, v.len) };
    String::from_utf8_lossy(text).lines().map(str::to_string).collect()
}

/// Live step results + mappings the double holds for this renderer.
pub fn live_handles(r: &Ovrtx) -> usize {
    // SAFETY: test hook with signature `size_t (void*)`.
    let f =
        unsafe { hooks().get::<unsafe extern "C" fn(usize) -> usize>(b"ovrtx_double_live_handles\0") }.expect("hook");
    // SAFETY: plain call.
    unsafe { f(r.native_handle()) }
}

pub fn set_double_version(major: u32, minor: u32, patch: u32) {
    // SAFETY: test hook with signature `void (u32, u32, u32)`.
    let f = unsafe { hooks().get::<unsafe extern "C" fn(u32, u32, u32)>(b"ovrtx_double_set_version\0") }.expect("hook");
    // SAFETY: plain call.
    unsafe { f(major, minor, patch) }
}

//! `OVRTX_LIBRARY_PATH` pointing at the double's directory is enough to create the renderer.

mod common;

use ovhost_plugin_api::{FromConfig, RendererBackend};
use ovhost_plugin_ovrtx::Ovrtx;

#[test]
fn ovrtx_library_path_env_finds_the_library() {
    let path = common::double_path();
    // The double's file is named libovrtx_double.so, so point at the file itself.
    // SAFETY: the only test in this binary; no other thread reads the environment meanwhile.
    unsafe { std::env::set_var("OVRTX_LIBRARY_PATH", &path) };
    let mut r = Ovrtx::from_config(r#"{"output_device": "cpu"}"#).expect("found through OVRTX_LIBRARY_PATH");
    r.resize(4, 4).into_result().unwrap();
    r.open_stage(common::scene("env").as_scene()).into_result().unwrap();
    let (frame, _) = common::render(&mut r, [1.0, 2.0, 3.0]);
    assert_eq!(frame.width, 4);
}

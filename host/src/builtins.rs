//! The default plugin set: the built-in plugin crates linked into this binary. A crate that is
//! listed in Cargo.toml but never named is not linked, and its registrations would vanish
//! silently, so each is named here; `tests/builtins.rs` asserts the exact set of ids.

use ovhost_plugin_cameras as _;
use ovhost_plugin_convert as _;
use ovhost_plugin_cuda as _;
use ovhost_plugin_h264 as _;
use ovhost_plugin_kit_compat as _;
use ovhost_plugin_ovrtx as _;
use ovhost_plugin_raster as _;
use ovhost_plugin_testpattern as _;
use ovhost_plugin_viewer_protocol as _;

/// Renderer ids every stock host registers (sorted).
pub const RENDERERS: &[&str] = &["ovrtx", "raster", "testpattern"];
/// Converter ids (sorted).
pub const CONVERTERS: &[&str] = &[
    "cuda-download-bgra",
    "cuda-download-rgba",
    "i420-to-h264",
    "rgba-to-bgra",
    "rgba-to-bgra-cuda",
    "rgba-to-bgra-cuda-upload",
    "rgba-to-h264",
    "rgba-to-jpeg",
];
/// Camera scheme ids (sorted).
pub const CAMERAS: &[&str] = &["fly", "kit", "orbit"];
/// Message handler ids (sorted).
pub const HANDLERS: &[&str] = &["kit-usd-viewer", "viewer-protocol"];

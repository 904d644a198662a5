//! Creation without the library, and with a library of the wrong version: clear errors, no panic.

mod common;

use ovhost_plugin_api::{ErrorKind, FromConfig};
use ovhost_plugin_ovrtx::Ovrtx;

#[test]
fn missing_library_is_unavailable_with_instructions() {
    let e = Ovrtx::from_config(r#"{"library_path": "/nonexistent/ovrtx/bin"}"#).err().expect("must fail");
    assert_eq!(e.kind, ErrorKind::UNAVAILABLE);
    assert!(e.message.starts_with("ovrtx library not found"), "{e}");
    assert!(e.message.contains("/nonexistent/ovrtx/bin"), "{e}");
    assert!(e.message.contains("set OVRTX_LIBRARY_PATH"), "{e}");
}

#[test]
fn version_mismatch_is_refused_naming_both_versions() {
    // The only test in this binary that changes the double's version.
    common::set_double_version(0, 4, 1);
    let e = Ovrtx::from_config(&common::config("")).err().expect("must fail");
    common::set_double_version(0, 5, 1);
    assert_eq!(e.kind, ErrorKind::UNAVAILABLE);
    assert!(e.message.contains("version 0.4.1"), "{e}");
    assert!(e.message.contains("written for 0.5.x"), "{e}");
    let ok = Ovrtx::from_config(&common::config("")).expect("0.5.1 is accepted");
    assert_eq!(ok.library_version(), (0, 5, 1));
}

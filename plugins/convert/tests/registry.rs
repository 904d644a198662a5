//! The crate registers exactly its two converters with the declared specs, and bad input frames
//! are refused with `invalid_input` through the boxed (guarded) converter.

use ovhost_plugin_api::{ErrorKind, Frame, FrameFormat, FrameSpec, MemoryLocation};
use ovhost_plugin_convert::{register, registry_probe};

#[test]
fn registers_bgra_and_jpeg() {
    let entries = registry_probe::converter_entries(register).expect("register succeeds");
    let ids: Vec<(String, FrameSpec, FrameSpec)> =
        entries.iter().map(|e| (e.id().to_string(), e.input(), e.output())).collect();
    assert_eq!(
        ids,
        vec![
            ("rgba-to-bgra".to_string(), FrameSpec::host(FrameFormat::RGBA8), FrameSpec::host(FrameFormat::BGRA8)),
            ("rgba-to-jpeg".to_string(), FrameSpec::host(FrameFormat::RGBA8), FrameSpec::host(FrameFormat::JPEG)),
        ]
    );
}

#[test]
fn refuses_malformed_frames() {
    for id in ["rgba-to-bgra", "rgba-to-jpeg"] {
        let mut conv = registry_probe::create_converter(register, id, "{}").expect("create");
        let bytes = vec![0u8; 16 * 4];

        let wrong_format = Frame::host(FrameFormat::BGRA8, 4, 4, 16, &bytes);
        let err = conv.convert(&wrong_format).into_result().expect_err("BGRA input refused");
        assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{id}: {err}");

        let short_pitch = Frame::host(FrameFormat::RGBA8, 4, 4, 12, &bytes);
        let err = conv.convert(&short_pitch).into_result().expect_err("short pitch refused");
        assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{id}: {err}");

        let too_short = Frame::host(FrameFormat::RGBA8, 4, 5, 16, &bytes);
        let err = conv.convert(&too_short).into_result().expect_err("short buffer refused");
        assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{id}: {err}");

        // SAFETY: never read: a null pointer is refused before any access.
        let null =
            unsafe { Frame::from_raw_parts(FrameFormat::RGBA8, MemoryLocation::HOST, 4, 4, 16, std::ptr::null(), 64) };
        let err = conv.convert(&null).into_result().expect_err("null refused");
        assert_eq!(err.kind, ErrorKind::INVALID_INPUT, "{id}: {err}");
    }
}

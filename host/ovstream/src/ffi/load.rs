//! Opening a shared library by absolute path (so `$ORIGIN` resolves the bundle) and leaking it:
//! ovstream must never be unloaded (GStreamer threads outlive teardown). Load failures are turned
//! into errors that name the missing piece.

use std::path::Path;

use crate::OvstreamError;

/// Opens `path` with `RTLD_LAZY | RTLD_LOCAL` and leaks the handle.
pub fn open_leaked(library: &'static str, path: &Path) -> Result<&'static libloading::Library, OvstreamError> {
    // SAFETY: loading runs the library's initializers. ovstream's libraries are designed to be
    // dlopen'ed this way (that is what the wheel's ctypes layer does).
    let lib =
        unsafe { libloading::Library::new(path) }.map_err(|e| classify_load_error(library, path, &e.to_string()))?;
    Ok(Box::leak(Box::new(lib)))
}

/// Maps a `dlopen` message to a typed error: a missing `libcuda.so.1` means no NVIDIA driver.
pub fn classify_load_error(library: &'static str, path: &Path, detail: &str) -> OvstreamError {
    if detail.contains("libcuda.so") {
        return OvstreamError::DriverMissing { library, path: path.to_path_buf(), detail: detail.to_string() };
    }
    let hint = if detail.contains("libatomic.so") {
        " (install the system package libatomic1)"
    } else if detail.contains("cannot open shared object file") {
        " (a bundled library next to it is missing: re-run scripts/ovstream/fetch.sh)"
    } else {
        ""
    };
    OvstreamError::LoadFailed { library, path: path.to_path_buf(), detail: detail.to_string(), hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_libcuda_is_reported_as_a_missing_driver() {
        let err = classify_load_error(
            "libovstream.so",
            Path::new("/x/libovstream.so"),
            "libcuda.so.1: cannot open shared object file: No such file or directory",
        );
        let text = err.to_string();
        assert!(matches!(err, OvstreamError::DriverMissing { .. }));
        assert!(text.contains("NVIDIA driver (libcuda.so.1)"), "{text}");
        assert!(text.contains("not installed on this machine"), "{text}");
    }

    #[test]
    fn missing_libatomic_names_the_package() {
        let err =
            classify_load_error("libovstream.so", Path::new("/x"), "libatomic.so.1: cannot open shared object file");
        assert!(err.to_string().contains("libatomic1"), "{err}");
    }
}

//! Finding the ovstream shared libraries on disk (reference/ovstream.md §1.4).
//!
//! Order for the server library: `OVSTREAM_LIB_PATH` entries (a file as-is, a directory if it
//! holds the library; a hard error if set and nothing resolves), then `third_party/ovstream/ovstream`
//! under the project root found by walking up from the executable and from the current directory.
//! Client libraries reduce each `OVSTREAM_LIB_PATH` entry to a directory and try
//! `libovstream_client.so`, then `libovstream_shm_client.so`.

use std::path::{Path, PathBuf};

use crate::OvstreamError;

pub const SERVER_LIB: &str = "libovstream.so";
pub const CLIENT_LIB: &str = "libovstream_client.so";
pub const SHM_CLIENT_LIB: &str = "libovstream_shm_client.so";
pub const CUDART_LIB: &str = "libcudart.so.12";
/// The bundle's location relative to the project root (what `scripts/ovstream/fetch.sh` writes).
pub const BUNDLE_DIR: &str = "third_party/ovstream/ovstream";
pub const LIB_PATH_ENV: &str = "OVSTREAM_LIB_PATH";

/// Resolves `library` (a file name inside the bundle) using `lib_path` (the value of
/// `OVSTREAM_LIB_PATH`, if set) and the default bundle directories.
pub fn find_library(library: &'static str, lib_path: Option<&str>) -> Result<PathBuf, OvstreamError> {
    find_library_in(library, lib_path, &default_bundle_dirs())
}

/// [`find_library`] with explicit fallback directories (for tests).
pub fn find_library_in(
    library: &'static str,
    lib_path: Option<&str>,
    fallback_dirs: &[PathBuf],
) -> Result<PathBuf, OvstreamError> {
    if let Some(value) = lib_path.filter(|v| !v.trim().is_empty()) {
        for entry in value.split(':').filter(|e| !e.is_empty()) {
            let path = Path::new(entry);
            if path.is_file() {
                // A file entry is used as-is for the server library; for other libraries
                // (clients, cudart) it is reduced to its directory, since people commonly point
                // the variable at the server .so.
                if library == SERVER_LIB {
                    return Ok(path.to_path_buf());
                }
                if let Some(candidate) = path.parent().map(|d| d.join(library)).filter(|c| c.is_file()) {
                    return Ok(candidate);
                }
            } else if path.is_dir() {
                let candidate = path.join(library);
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        return Err(OvstreamError::BadLibPath { library, value: value.to_string() });
    }
    for dir in fallback_dirs {
        let candidate = dir.join(library);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let searched = fallback_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(OvstreamError::LibraryNotFound {
        library,
        searched: if searched.is_empty() { "nowhere".into() } else { searched },
    })
}

/// Finds the unified client library, falling back to the SHM-only one.
pub fn find_client_library(lib_path: Option<&str>) -> Result<PathBuf, OvstreamError> {
    find_library(CLIENT_LIB, lib_path).or_else(|_| find_library(SHM_CLIENT_LIB, lib_path))
}

/// `<root>/third_party/ovstream/ovstream` for every ancestor of the executable and of the current
/// directory that has one (nearest first, duplicates removed).
pub fn default_bundle_dirs() -> Vec<PathBuf> {
    let mut starts = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    for start in starts {
        for ancestor in start.ancestors() {
            let dir = ancestor.join(BUNDLE_DIR);
            if dir.is_dir() && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    if dirs.is_empty() {
        // Not found anywhere: still report where the nearest project root would have it.
        if let Ok(cwd) = std::env::current_dir() {
            dirs.push(cwd.join(BUNDLE_DIR));
        }
    }
    dirs
}

/// `OVSTREAM_LIB_PATH` from the environment.
pub fn lib_path_from_env() -> Option<String> {
    std::env::var(LIB_PATH_ENV).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ovstream-locate-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn lib_path_accepts_a_file_or_a_directory_and_is_a_hard_error_otherwise() {
        let dir = temp_dir("a");
        let server = dir.join(SERVER_LIB);
        std::fs::write(&server, b"").expect("write");
        let fallback = vec![temp_dir("fallback")];
        std::fs::write(fallback[0].join(SERVER_LIB), b"").expect("write");

        let by_dir = find_library_in(SERVER_LIB, Some(dir.to_str().expect("utf8")), &fallback).expect("dir");
        assert_eq!(by_dir, server);
        let by_file = find_library_in(SERVER_LIB, Some(server.to_str().expect("utf8")), &fallback).expect("file");
        assert_eq!(by_file, server);
        let multi = format!("/nonexistent::{}", dir.display());
        assert_eq!(find_library_in(SERVER_LIB, Some(&multi), &fallback).expect("second entry"), server);

        let err = find_library_in(SERVER_LIB, Some("/nonexistent/dir"), &fallback).expect_err("hard error");
        assert!(matches!(err, OvstreamError::BadLibPath { .. }), "{err}");
        assert!(err.to_string().contains("OVSTREAM_LIB_PATH"), "{err}");
    }

    #[test]
    fn client_library_resolves_next_to_a_server_file_entry() {
        let dir = temp_dir("b");
        let server = dir.join(SERVER_LIB);
        std::fs::write(&server, b"").expect("write");
        std::fs::write(dir.join(SHM_CLIENT_LIB), b"").expect("write");
        let found = find_library_in(SHM_CLIENT_LIB, Some(server.to_str().expect("utf8")), &[]).expect("client");
        assert_eq!(found, dir.join(SHM_CLIENT_LIB));
        let err = find_library_in(CLIENT_LIB, Some(server.to_str().expect("utf8")), &[]).expect_err("absent");
        assert!(matches!(err, OvstreamError::BadLibPath { .. }));
    }

    #[test]
    fn missing_everywhere_names_the_fix() {
        let err = find_library_in(SERVER_LIB, None, &[PathBuf::from("/nonexistent")]).expect_err("missing");
        let text = err.to_string();
        assert!(text.contains("libovstream.so") && text.contains("scripts/ovstream/fetch.sh"), "{text}");
    }
}

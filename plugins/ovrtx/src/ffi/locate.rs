//! Finding `libovrtx-dynamic.so` (`reference/ovrtx.md` §1.4). An explicit location (the config's
//! `library_path`, else `OVRTX_LIBRARY_PATH`, else `OVHOST_OVRTX_LIB`; a file or a directory) is
//! used alone: when it holds no library the search fails rather than silently picking another
//! install. Otherwise the defaults are tried in order: `$OVRTX_BIN_PATH`, the `bin/` of an
//! installed `ovrtx` Python package, each `LD_LIBRARY_PATH` entry, each `PATH` entry.

use std::path::{Path, PathBuf};

use ovhost_plugin_api::PluginError;

/// The library file to load (Linux).
pub const LIBRARY_FILE: &str = "libovrtx-dynamic.so";
/// Environment variables naming an explicit library file or directory, in precedence order.
pub const ENV_LIBRARY_PATH: &str = "OVRTX_LIBRARY_PATH";
pub const ENV_OVHOST_LIB: &str = "OVHOST_OVRTX_LIB";
/// Community-documented variable pointing at the package's `bin/`.
pub const ENV_BIN_PATH: &str = "OVRTX_BIN_PATH";

/// Everything the search looks at, so it can be tested without touching the process environment.
#[derive(Debug, Default, Clone)]
pub struct SearchInputs {
    /// `library_path` from the plugin config.
    pub config_path: Option<PathBuf>,
    pub env_library_path: Option<String>,
    pub env_ovhost_lib: Option<String>,
    pub env_bin_path: Option<String>,
    /// The directory of the `ovrtx` Python package, when one is installed.
    pub python_package_dir: Option<PathBuf>,
    pub ld_library_path: Option<String>,
    pub path: Option<String>,
}

impl SearchInputs {
    /// Reads the real environment; `python_package_dir` is asked of `python3` only when no
    /// explicit location is set.
    pub fn from_env(config_path: Option<PathBuf>) -> Self {
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
        let mut inputs = Self {
            config_path,
            env_library_path: env(ENV_LIBRARY_PATH),
            env_ovhost_lib: env(ENV_OVHOST_LIB),
            env_bin_path: env(ENV_BIN_PATH),
            python_package_dir: None,
            ld_library_path: env("LD_LIBRARY_PATH"),
            path: env("PATH"),
        };
        if inputs.explicit().is_none() {
            inputs.python_package_dir = python_package_dir();
        }
        inputs
    }

    /// The explicit location and where it came from.
    fn explicit(&self) -> Option<(PathBuf, &'static str)> {
        if let Some(p) = &self.config_path {
            return Some((p.clone(), "the config's library_path"));
        }
        if let Some(p) = &self.env_library_path {
            return Some((PathBuf::from(p), ENV_LIBRARY_PATH));
        }
        self.env_ovhost_lib.as_ref().map(|p| (PathBuf::from(p), ENV_OVHOST_LIB))
    }
}

/// Asks `python3` where the `ovrtx` package lives (no import side effects in 0.5 unless
/// `OVRTX_PXR_SCHEMA_AUTO_REGISTER=1`).
fn python_package_dir() -> Option<PathBuf> {
    let output = std::process::Command::new("python3")
        .args(["-c", "import ovrtx,os;print(os.path.dirname(ovrtx.__file__))"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let dir = text.trim();
    (output.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// `path` itself if it is a file; else `path/libovrtx-dynamic.so` or `path/bin/libovrtx-dynamic.so`.
fn library_in(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    [path.join(LIBRARY_FILE), path.join("bin").join(LIBRARY_FILE)].into_iter().find(|p| p.is_file())
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

const HOW_TO: &str = "set OVRTX_LIBRARY_PATH (or the config's \"library_path\") to libovrtx-dynamic.so or \
     the bin/ directory of an ovrtx 0.5 C SDK archive (GitHub releases of NVIDIA-Omniverse/ovrtx) or of an \
     installed ovrtx Python package";

/// Finds the library file (absolute path) or explains where it looked.
pub fn find_library(inputs: &SearchInputs) -> Result<PathBuf, PluginError> {
    if let Some((path, source)) = inputs.explicit() {
        return library_in(&path).map(absolute).ok_or_else(|| {
            PluginError::unavailable(format!(
                "ovrtx library not found: {source} is {} but no {LIBRARY_FILE} is there; {HOW_TO}",
                path.display()
            ))
        });
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(bin) = &inputs.env_bin_path {
        candidates.push(PathBuf::from(bin));
    }
    if let Some(dir) = &inputs.python_package_dir {
        candidates.push(dir.join("bin"));
    }
    for list in [&inputs.ld_library_path, &inputs.path].into_iter().flatten() {
        candidates.extend(std::env::split_paths(list).filter(|p| !p.as_os_str().is_empty()));
    }
    for dir in &candidates {
        let file = dir.join(LIBRARY_FILE);
        if file.is_file() {
            return Ok(absolute(file));
        }
    }
    let searched = if candidates.is_empty() {
        "no search directories were set".to_string()
    } else {
        format!("searched {}", candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
    };
    Err(PluginError::unavailable(format!("ovrtx library not found ({searched}); {HOW_TO}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ovhost_plugin_api::ErrorKind;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ovrtx-locate-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bin")).expect("temp dir");
        dir
    }

    #[test]
    fn empty_environment_is_unavailable_with_instructions() {
        let e = find_library(&SearchInputs::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UNAVAILABLE);
        assert!(e.message.starts_with("ovrtx library not found"), "{e}");
        assert!(e.message.contains("OVRTX_LIBRARY_PATH"), "{e}");
    }

    #[test]
    fn explicit_location_accepts_a_file_a_dir_or_a_package_root() {
        let root = temp_dir("explicit");
        let lib = root.join("bin").join(LIBRARY_FILE);
        std::fs::write(&lib, b"").expect("write");
        for given in [lib.clone(), root.join("bin"), root.clone()] {
            let inputs = SearchInputs { env_library_path: Some(given.display().to_string()), ..Default::default() };
            assert_eq!(find_library(&inputs).unwrap(), lib);
        }
    }

    #[test]
    fn explicit_location_without_a_library_does_not_fall_back() {
        let root = temp_dir("nofallback");
        let other = temp_dir("nofallback-other");
        std::fs::write(other.join(LIBRARY_FILE), b"").expect("write");
        let inputs = SearchInputs {
            config_path: Some(root.clone()),
            ld_library_path: Some(other.display().to_string()),
            ..Default::default()
        };
        let e = find_library(&inputs).unwrap_err();
        assert!(e.message.contains("library_path"), "{e}");
        assert!(e.message.contains(&root.display().to_string()), "{e}");
    }

    #[test]
    fn config_wins_over_environment_and_defaults_are_searched_in_order() {
        let a = temp_dir("order-a");
        let b = temp_dir("order-b");
        std::fs::write(a.join(LIBRARY_FILE), b"").expect("write");
        std::fs::write(b.join(LIBRARY_FILE), b"").expect("write");
        let inputs = SearchInputs {
            config_path: Some(b.clone()),
            env_library_path: Some(a.display().to_string()),
            ..Default::default()
        };
        assert_eq!(find_library(&inputs).unwrap(), b.join(LIBRARY_FILE));
        std::fs::write(b.join("bin").join(LIBRARY_FILE), b"").expect("write");
        let inputs = SearchInputs {
            python_package_dir: Some(b.clone()),
            ld_library_path: Some(format!("/nonexistent:{}", a.display())),
            ..Default::default()
        };
        assert_eq!(find_library(&inputs).unwrap(), b.join("bin").join(LIBRARY_FILE));
        let inputs =
            SearchInputs { ld_library_path: Some(format!("/nonexistent:{}", a.display())), ..Default::default() };
        assert_eq!(find_library(&inputs).unwrap(), a.join(LIBRARY_FILE));
    }
}

//! Asset-root confinement: turns a client URL into a file path inside the asset root, or a clear
//! refusal, and lists the USD files a client may open.
//!
//! Accepted: plain relative paths (`robots/arm.usd`), absolute paths already inside the root, and
//! `file:` URLs (`file:robots/arm.usd`, `file:///srv/assets/arm.usd`, `file://localhost/...`).
//! Percent-escapes are decoded, except encoded separators (`%2F`, `%5C`), which are refused.
//! Symlinks are followed and the final target must still lie inside the root.

use crate::error::StageError;
use std::path::{Component, Path, PathBuf};

/// File extensions the service opens.
pub const USD_EXTENSIONS: [&str; 4] = ["usd", "usda", "usdc", "usdz"];

/// Most files [`list_scenes`] reports, so a huge asset tree cannot stall a request.
const MAX_LISTED_SCENES: usize = 10_000;

/// The canonical asset root; all resolution happens against it.
#[derive(Clone, Debug)]
pub struct AssetRoot {
    root: PathBuf,
}

impl AssetRoot {
    /// Canonicalizes `path`, which must be an existing directory.
    pub fn new(path: &Path) -> Result<Self, StageError> {
        let bad = |reason: String| StageError::BadAssetRoot { path: path.to_owned(), reason };
        let root = path.canonicalize().map_err(|e| bad(e.to_string()))?;
        if !root.is_dir() {
            return Err(bad("it is not a directory".into()));
        }
        Ok(Self { root })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Resolves a client URL to an existing USD file inside the root.
    pub fn resolve(&self, url: &str) -> Result<PathBuf, StageError> {
        let decoded = decode(url)?;
        let candidate = self.lexical_join(url, &decoded)?;
        let ext_ok = candidate
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| USD_EXTENSIONS.iter().any(|u| e.eq_ignore_ascii_case(u)));
        if !ext_ok {
            return Err(StageError::refused(url, "only USD files (.usd, .usda, .usdc, .usdz) can be opened"));
        }
        let real = match candidate.canonicalize() {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StageError::NotFound { url: url.to_owned() });
            }
            Err(e) => return Err(StageError::refused(url, format!("the file cannot be read ({e})"))),
        };
        if !real.starts_with(&self.root) {
            return Err(StageError::refused(url, "it is a link that leads outside the asset root"));
        }
        if !real.is_file() {
            return Err(StageError::refused(url, "it is not a regular file"));
        }
        Ok(real)
    }

    /// Joins a decoded path onto the root without touching the file system, refusing escapes.
    fn lexical_join(&self, url: &str, decoded: &str) -> Result<PathBuf, StageError> {
        let path = Path::new(decoded);
        let mut out = self.root.clone();
        let relative = if path.is_absolute() {
            // Absolute paths must name something inside the root (lexically; symlinks are checked later).
            let rest = path
                .strip_prefix(&self.root)
                .map_err(|_| StageError::refused(url, "absolute paths outside the asset root are not allowed"))?;
            rest.to_owned()
        } else {
            path.to_owned()
        };
        for component in relative.components() {
            match component {
                Component::Normal(part) => out.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    return Err(StageError::refused(url, "'..' segments are not allowed"));
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(StageError::refused(url, "absolute paths outside the asset root are not allowed"));
                }
            }
        }
        if out == self.root {
            return Err(StageError::refused(url, "the URL names no file"));
        }
        Ok(out)
    }

    /// USD files under the root, as sorted relative names with `/` separators.
    pub fn list_scenes(&self) -> Vec<String> {
        let mut scenes: Vec<String> = walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .max_depth(16)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| {
                e.path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| USD_EXTENSIONS.iter().any(|u| x.eq_ignore_ascii_case(u)))
            })
            .filter_map(|e| {
                let rel = e.path().strip_prefix(&self.root).ok()?;
                let parts: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                Some(parts.join("/"))
            })
            .take(MAX_LISTED_SCENES)
            .collect();
        scenes.sort();
        scenes
    }
}

/// Strips an optional `file:` scheme and percent-decodes, refusing other schemes and encoded
/// separators.
fn decode(url: &str) -> Result<String, StageError> {
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(StageError::refused(url, "the URL is empty"));
    }
    let body = match scheme_of(trimmed) {
        None => trimmed,
        Some(scheme) if scheme.eq_ignore_ascii_case("file") => {
            let rest = &trimmed[scheme.len() + 1..];
            match rest.strip_prefix("//") {
                // file://host/path: only an empty host or localhost is local.
                Some(authority_and_path) => {
                    let slash = authority_and_path.find('/').unwrap_or(authority_and_path.len());
                    let host = &authority_and_path[..slash];
                    if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                        return Err(StageError::refused(
                            url,
                            format!("remote file URLs (host '{host}') are not allowed"),
                        ));
                    }
                    &authority_and_path[slash..]
                }
                None => rest,
            }
        }
        Some(scheme) => {
            return Err(StageError::refused(
                url,
                format!("the '{scheme}:' scheme is not allowed; use a path or a file: URL"),
            ));
        }
    };
    let lower = body.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return Err(StageError::refused(url, "percent-encoded path separators are not allowed"));
    }
    let decoded = percent_encoding::percent_decode_str(body)
        .decode_utf8()
        .map_err(|_| StageError::refused(url, "the URL is not valid UTF-8 after percent-decoding"))?;
    if decoded.contains('\0') {
        return Err(StageError::refused(url, "the URL contains a NUL byte"));
    }
    if decoded.contains('\\') {
        return Err(StageError::refused(url, "backslashes are not allowed; use '/' as the separator"));
    }
    Ok(decoded.into_owned())
}

/// The URL scheme, if the text starts with `scheme:` (RFC 3986 letters, digits, `+-.`).
fn scheme_of(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))).then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A populated asset root; `tag` keeps parallel tests out of each other's directories.
    fn root(tag: &str) -> (tempdir_lite::Dir, AssetRoot) {
        let dir = tempdir_lite::Dir::new(tag);
        std::fs::create_dir_all(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/a b.usda"), "#usda 1.0\n").expect("write");
        std::fs::write(dir.path().join("top.usda"), "#usda 1.0\n").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "x").expect("write");
        let root = AssetRoot::new(dir.path()).expect("root");
        (dir, root)
    }

    /// A minimal self-deleting temp dir so the unit tests need no extra crate.
    mod tempdir_lite {
        use std::path::{Path, PathBuf};
        pub struct Dir(PathBuf);
        impl Dir {
            pub fn new(tag: &str) -> Self {
                let p = std::env::temp_dir().join(format!("ovhost-stage-{tag}-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&p);
                std::fs::create_dir_all(&p).expect("temp dir");
                Self(p)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn accepts_relative_file_urls_and_inside_absolute_paths() {
        let (_d, r) = root("accepts_rela");
        let expect = r.path().join("sub/a b.usda");
        assert_eq!(r.resolve("sub/a b.usda").expect("plain"), expect);
        assert_eq!(r.resolve("sub/a%20b.usda").expect("escaped"), expect);
        assert_eq!(r.resolve("file:sub/a%20b.usda").expect("file:"), expect);
        assert_eq!(r.resolve("./sub/./a b.usda").expect("dots"), expect);
        let abs = format!("file://{}", expect.display()).replace(' ', "%20");
        assert_eq!(r.resolve(&abs).expect("file:///"), expect);
        let local = format!("file://localhost{}", expect.display()).replace(' ', "%20");
        assert_eq!(r.resolve(&local).expect("localhost"), expect);
    }

    #[test]
    fn refuses_escapes_schemes_and_encoded_separators() {
        let (_d, r) = root("refuses_esca");
        for url in [
            "../top.usda",
            "sub/../../etc/passwd.usda",
            "%2e%2e/x.usda",
            "/etc/passwd",
            "file:///etc/hosts.usda",
            "file://evil.example/x.usda",
            "http://example.com/x.usda",
            "omniverse://server/x.usda",
            "sub%2Fa.usda",
            "sub%5ca.usda",
            "sub\\a.usda",
            "notes.txt",
            "",
        ] {
            match r.resolve(url) {
                Err(StageError::Refused { reason, .. }) => assert!(!reason.is_empty()),
                other => panic!("{url:?} should be refused, got {other:?}"),
            }
        }
        assert!(matches!(r.resolve("missing.usda"), Err(StageError::NotFound { .. })));
    }

    #[test]
    fn refuses_symlinks_leading_outside() {
        let (d, r) = root("refuses_syml");
        let outside = tempdir_lite::Dir::new("symlink-outside");
        std::fs::write(outside.path().join("x.usda"), "#usda 1.0\n").expect("write");
        std::os::unix::fs::symlink(outside.path().join("x.usda"), d.path().join("link.usda")).expect("symlink");
        assert!(matches!(r.resolve("link.usda"), Err(StageError::Refused { .. })));
    }

    #[test]
    fn lists_relative_usd_names_only() {
        let (_d, r) = root("lists_relati");
        assert_eq!(r.list_scenes(), vec!["sub/a b.usda".to_owned(), "top.usda".to_owned()]);
    }
}

//! The resolver every layer, reference, payload and clip of an opened stage goes through: the
//! library's default resolution (anchoring, search, usdz packages), then a check that the file
//! found is a regular file inside the asset root (symlinks followed first). Anything else is
//! refused the same way the root layer is: it does not resolve, the stage opens without it, and
//! the refusal is reported with the open's result (`warnings`).

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use openusd::ar::{self, Asset, DefaultResolver, ResolvedPath, Resolver};

/// Environment variable through which the worker learns its asset root.
pub const ASSET_ROOT_ENV: &str = "OVHOST_STAGE_ASSET_ROOT";

pub struct ConfinedResolver {
    inner: DefaultResolver,
    /// Canonical asset root.
    root: PathBuf,
    /// Refusals so far, one sentence each (shared with the caller, which reads them after the open).
    refused: Rc<RefCell<Vec<String>>>,
    /// Files the worker itself wrote for this open (the variant session layer), allowed as is.
    own_files: Vec<PathBuf>,
}

impl ConfinedResolver {
    pub fn new(root: &Path, refused: Rc<RefCell<Vec<String>>>) -> io::Result<Self> {
        Ok(Self { inner: DefaultResolver::new(), root: root.canonicalize()?, refused, own_files: Vec::new() })
    }

    /// Allows a file the worker wrote itself (the session layer holding variant selections).
    pub fn allow_own_file(&mut self, path: &Path) {
        if let Ok(canonical) = path.canonicalize() {
            self.own_files.push(canonical);
        }
    }

    /// `Ok` with the canonical file when `resolved` (or its usdz package) is a regular file inside
    /// the root; the sentence saying why not otherwise.
    fn check(&self, resolved: &Path) -> Result<(), String> {
        let text = resolved.to_string_lossy();
        // `pkg.usdz[inner/layer.usd]`: the package file is what is read from disk.
        let outer = match text.find('[') {
            Some(i) if text.ends_with(']') => PathBuf::from(&text[..i]),
            _ => resolved.to_path_buf(),
        };
        let canonical = outer.canonicalize().map_err(|e| format!("'{}' cannot be read: {e}", outer.display()))?;
        if self.own_files.contains(&canonical) {
            return Ok(());
        }
        if !canonical.starts_with(&self.root) {
            return Err(format!("'{}' is outside the asset root", outer.display()));
        }
        let meta = std::fs::metadata(&canonical).map_err(|e| format!("'{}' cannot be read: {e}", outer.display()))?;
        if !meta.is_file() {
            return Err(format!("'{}' is not a regular file", outer.display()));
        }
        Ok(())
    }

    fn refuse(&self, asset_path: &str, why: String) {
        let sentence = format!("refused dependency '{asset_path}': {why}");
        let mut refused = self.refused.borrow_mut();
        if !refused.contains(&sentence) && refused.len() < 100 {
            refused.push(sentence);
        }
    }
}

impl Resolver for ConfinedResolver {
    fn create_identifier(&self, asset_path: &str, anchor: Option<&ResolvedPath>) -> String {
        self.inner.create_identifier(asset_path, anchor)
    }

    fn resolve(&self, asset_path: &str) -> Option<ResolvedPath> {
        let resolved = self.inner.resolve(asset_path)?;
        match self.check(&resolved) {
            Ok(()) => Some(resolved),
            Err(why) => {
                self.refuse(asset_path, why);
                None
            }
        }
    }

    fn resolve_for_new_asset(&self, _asset_path: &str) -> Option<ResolvedPath> {
        None // the worker never writes assets
    }

    fn open_asset(&self, resolved_path: &ResolvedPath) -> io::Result<Box<dyn Asset>> {
        if let Err(why) = self.check(resolved_path) {
            self.refuse(&resolved_path.to_string_lossy(), why.clone());
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
        }
        self.inner.open_asset(resolved_path)
    }

    fn get_extension<'a>(&self, asset_path: &'a str) -> &'a str {
        self.inner.get_extension(asset_path)
    }

    fn get_asset_info(&self, asset_path: &str, resolved_path: &ResolvedPath) -> ar::AssetInfo {
        self.inner.get_asset_info(asset_path, resolved_path)
    }

    fn identity(&self) -> String {
        format!("ovhost-confined:{}", self.root.display())
    }
}

//! Loads external plugin libraries (`libovhost_plugin_<name>.so`) with abi_stable.
//!
//! Each file is loaded with `lib_header_from_path(..).init_root_module()`. (Not
//! `RootModule::load_from_file`, which caches one library per root-module type and would hand back
//! the first plugin for every later file.) Libraries are never unloaded.
//!
//! Older patch releases: abi_stable's own check accepts a plugin built against the same or a
//! *newer* 0.2.x (its prefix types may have more fields than the host's), not an older one (the
//! host's root module, entries and vtables have fields the plugin's lack). A host upgrade must
//! not break plugins, so for a plugin of the same minor version and an older patch the host runs
//! abi_stable's layout checker in the other direction (the plugin's layout as the interface, the
//! host's as the implementation: every field the plugin has must match, the host may have more)
//! and then loads it; what the plugin lacks reads as absent through the prefix accessors.

use std::path::{Path, PathBuf};

use abi_stable::StableAbi;
use abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use abi_stable::library::{LibHeader, LibraryError, RootModule, lib_header_from_path};
use abi_stable::sabi_types::VersionNumber;
use abi_stable::std_types::RBoxError;
use abi_stable::type_layout::TypeLayout;
use ovhost_plugin_api::{API_VERSION, PluginModRef};

use super::error::{LoadErrorKind, PluginLoadError};

/// The file-name rule for plugin libraries.
pub const FILE_PREFIX: &str = "libovhost_plugin_";
pub const FILE_SUFFIX: &str = ".so";

/// Lists plugin files in `dir` (sorted, so load order is stable). Other files are ignored.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, PluginLoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        PluginLoadError::file(
            LoadErrorKind::FileNotFound,
            dir,
            format!("cannot read plugin directory {}: {e}", dir.display()),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(FILE_PREFIX) && n.ends_with(FILE_SUFFIX))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Opens one plugin library and returns its root module.
pub fn load(path: &Path) -> Result<PluginModRef, PluginLoadError> {
    if !path.is_file() {
        return Err(PluginLoadError::file(
            LoadErrorKind::FileNotFound,
            path,
            format!("plugin file {} does not exist", path.display()),
        ));
    }
    let header = lib_header_from_path(path).map_err(|e| classify(path, &e))?;
    let library_api = header.version_strings().version.to_string();
    let checked = match header.init_root_module::<PluginModRef>() {
        Err(e @ LibraryError::AbiInstability(_)) if built_against_older_patch(header) => match header.layout() {
            Some(plugin_layout) => load_older_patch(header, plugin_layout),
            None => Err(e),
        },
        other => other,
    };
    checked.map_err(|e| {
        let mut error = classify(path, &e);
        if error.kind == LoadErrorKind::IncompatibleApiVersion {
            error.message = incompatible_message(path, &library_api);
        }
        error
    })
}

/// Same major and minor plugin API version as the host, older patch.
fn built_against_older_patch(header: &LibHeader) -> bool {
    let (Ok(host), Ok(plugin)) = (
        VersionNumber::new(<PluginModRef as RootModule>::VERSION_STRINGS),
        VersionNumber::new(header.version_strings()),
    ) else {
        return false;
    };
    host.major == plugin.major && host.minor == plugin.minor && plugin.patch < host.patch
}

/// Loads a plugin built against an older patch of this API after checking, field by field, that
/// everything it has matches the host's layout (the host may have appended more).
fn load_older_patch(header: &LibHeader, plugin_layout: &'static TypeLayout) -> Result<PluginModRef, LibraryError> {
    check_layout_compatibility(plugin_layout, <PluginModRef as StableAbi>::LAYOUT)
        .map_err(|e| LibraryError::AbiInstability(RBoxError::new(e)))?;
    // SAFETY: the layouts were checked just above, in the direction that fits an older patch of
    // the same minor version: every type the plugin declares matches the host's, and where the
    // host's prefix types (root module, entries, vtables) have appended fields, the accessors
    // answer `None` / the trait methods' default bodies for this plugin.
    unsafe { header.init_root_module_with_unchecked_layout::<PluginModRef>() }
}

fn incompatible_message(path: &Path, library_api: &str) -> String {
    format!(
        "{} was built against plugin API {library_api}, but this host provides plugin API {API_VERSION}; \
         rebuild the plugin against ovhost-plugin-api {API_VERSION}",
        path.display()
    )
}

/// Maps abi_stable's error onto our kinds with a short message (its own text for layout errors
/// is tens of kilobytes long).
fn classify(path: &Path, error: &LibraryError) -> PluginLoadError {
    let file = path.display();
    match error {
        LibraryError::OpenError { err, .. } => {
            let text = err.to_string();
            if text.contains("undefined symbol") {
                PluginLoadError::file(
                    LoadErrorKind::MissingSymbol,
                    path,
                    format!(
                        "{file} needs a symbol that is not available: {text}; rebuild it against this host's dependencies"
                    ),
                )
            } else {
                PluginLoadError::file(
                    LoadErrorKind::OpenFailed,
                    path,
                    format!("{file} could not be opened as a shared library: {text}"),
                )
            }
        }
        LibraryError::GetSymbolError { symbol, .. } => PluginLoadError::file(
            LoadErrorKind::NotAPlugin,
            path,
            format!(
                "{file} is not an ovhost plugin: it has no `{}` root module symbol; \
                 plugins must call ovhost_plugin_api::export_plugin!",
                String::from_utf8_lossy(symbol).trim_end_matches('\0')
            ),
        ),
        LibraryError::IncompatibleVersionNumber { expected_version, actual_version, .. } => PluginLoadError::file(
            LoadErrorKind::IncompatibleApiVersion,
            path,
            format!(
                "{file} was built against plugin API {actual_version}, but this host provides plugin API \
                 {expected_version}; rebuild the plugin against ovhost-plugin-api {API_VERSION}"
            ),
        ),
        LibraryError::AbiInstability(details) => {
            let text = details.to_string();
            // The whole report is tens of kilobytes: kept for whoever asks for debug logs.
            tracing::debug!(file = %file, "abi_stable layout check failed:\n{text}");
            let kind = if text.contains("incompatible package versions") || text.contains("version") {
                LoadErrorKind::IncompatibleApiVersion
            } else {
                LoadErrorKind::NotAPlugin
            };
            let summary = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
            PluginLoadError::file(
                kind,
                path,
                format!(
                    "{file} has a plugin root module whose layout does not match this host's ({summary}); \
                     rebuild the plugin against ovhost-plugin-api {API_VERSION}"
                ),
            )
        }
        LibraryError::InvalidAbiHeader(_) | LibraryError::InvalidCAbi { .. } => PluginLoadError::file(
            LoadErrorKind::IncompatibleApiVersion,
            path,
            format!(
                "{file} was built with an incompatible abi_stable version; rebuild it against ovhost-plugin-api {API_VERSION}"
            ),
        ),
        LibraryError::RootModule { err, .. } => PluginLoadError::file(
            LoadErrorKind::ConstructorError,
            path,
            format!("{file}: the plugin's root module failed to initialize: {err}"),
        ),
        LibraryError::ParseVersionError(e) => PluginLoadError::file(
            LoadErrorKind::IncompatibleApiVersion,
            path,
            format!(
                "{file} declares an unreadable plugin API version ({e}); rebuild it against ovhost-plugin-api {API_VERSION}"
            ),
        ),
        LibraryError::Many(errors) => errors.iter().next().map(|e| classify(path, e)).unwrap_or_else(|| {
            PluginLoadError::file(LoadErrorKind::NotAPlugin, path, format!("{file} could not be loaded"))
        }),
    }
}

/// The root-module symbol name plugins export, for messages and docs.
pub fn root_symbol() -> String {
    PluginModRef::NAME.to_string()
}

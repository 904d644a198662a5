//! The root module every plugin library exports, and the macros that declare it.

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr, RString},
};

use crate::PluginError;
use crate::registry::RegistrarMut;

/// Name, version and description of a plugin library.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct PluginInfo {
    pub name: RString,
    /// The plugin's own version (its crate version).
    pub version: RString,
    /// The plugin API version the plugin was built against.
    pub api_version: RString,
    pub description: RString,
}

/// The root module. Fields after `register` are appended in 0.2.x releases; the host reads them
/// through accessors that answer `None` for a plugin built before the field existed.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(option))]
pub struct PluginMod {
    pub info: extern "C" fn() -> PluginInfo,
    /// Adds the library's objects to the registry. Errors and panics here are load failures.
    #[sabi(last_prefix_field)]
    pub register: extern "C" fn(RegistrarMut<'_>) -> RResult<(), PluginError>,
    /// Since 0.2.1: called once when the host stops, after every object of the library was
    /// dropped (flush files, release a device context). Absent (`None`) in 0.2.0 plugins.
    pub shutdown: extern "C" fn(),
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "ovhost_plugin";
    const NAME: &'static str = "ovhost_plugin";
    // The plugin-api crate version: abi_stable rejects libraries built against an incompatible one.
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

impl PluginInfo {
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            api_version: crate::API_VERSION.into(),
            description: description.into(),
        }
    }
}

/// The `shutdown` entry of plugins that declare none.
pub extern "C" fn no_shutdown() {}

/// The default `shutdown:` of [`export_plugin!`]: nothing to do.
pub fn noop() {}

/// Runs a plugin's shutdown function under the panic guard. Used by the macros below.
pub fn run_shutdown(shutdown: fn()) {
    if let RResult::RErr(e) = crate::guard(|| {
        shutdown();
        RResult::ROk(())
    }) {
        // Nothing may unwind into the host; the host is exiting anyway.
        let _ = e;
    }
}

/// Runs a plugin's register function under the panic guard. Used by the macros below.
pub fn run_register(
    registrar: RegistrarMut<'_>,
    register: fn(&mut crate::Registry<'_>) -> Result<(), PluginError>,
) -> RResult<(), PluginError> {
    let mut registry = crate::Registry::new(registrar);
    crate::guard(|| register(&mut registry).into())
}

/// Text form of an `RStr` for the macros.
pub fn rstr(s: &'static str) -> RStr<'static> {
    RStr::from_str(s)
}

/// Declares the root module of a plugin built as a `cdylib` named `libovhost_plugin_<name>.so`.
/// `shutdown: path` (a `fn()`) is optional.
///
/// ```ignore
/// ovhost_plugin_api::export_plugin! {
///     name: "bookmarks",
///     description: "Save and recall named camera views",
///     register: register,
/// }
/// fn register(r: &mut ovhost_plugin_api::Registry<'_>) -> Result<(), ovhost_plugin_api::PluginError> {
///     r.handler::<Bookmarks>("bookmarks", "...", &["saveBookmarkRequest"], vec![]);
///     Ok(())
/// }
/// ```
#[macro_export]
macro_rules! export_plugin {
    (name: $name:expr, description: $description:expr, register: $register:path $(,)?) => {
        $crate::export_plugin! { name: $name, description: $description, register: $register, shutdown: $crate::module::noop }
    };
    (name: $name:expr, description: $description:expr, register: $register:path, shutdown: $shutdown:path $(,)?) => {
        extern "C" fn __ovhost_plugin_shutdown() {
            $crate::module::run_shutdown($shutdown)
        }
        extern "C" fn __ovhost_plugin_info() -> $crate::PluginInfo {
            $crate::PluginInfo::new($name, env!("CARGO_PKG_VERSION"), $description)
        }
        extern "C" fn __ovhost_plugin_register(
            registrar: $crate::RegistrarMut<'_>,
        ) -> $crate::abi_stable::std_types::RResult<(), $crate::PluginError> {
            $crate::module::run_register(registrar, $register)
        }
        #[$crate::abi_stable::export_root_module]
        pub fn __ovhost_plugin_root_module() -> $crate::PluginModRef {
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::PluginMod {
                info: __ovhost_plugin_info,
                register: __ovhost_plugin_register,
                shutdown: __ovhost_plugin_shutdown,
            }
            .leak_into_prefix()
        }
    };
}

/// Declares a built-in plugin: the same root module, registered statically with `inventory`
/// instead of being exported from a library. Built-ins use exactly the public API.
#[cfg(feature = "builtin")]
#[macro_export]
macro_rules! builtin_plugin {
    (name: $name:expr, description: $description:expr, register: $register:path $(,)?) => {
        const _: () = {
            extern "C" fn __ovhost_builtin_info() -> $crate::PluginInfo {
                $crate::PluginInfo::new($name, env!("CARGO_PKG_VERSION"), $description)
            }
            extern "C" fn __ovhost_builtin_register(
                registrar: $crate::RegistrarMut<'_>,
            ) -> $crate::abi_stable::std_types::RResult<(), $crate::PluginError> {
                $crate::module::run_register(registrar, $register)
            }
            fn __ovhost_builtin_module() -> $crate::PluginModRef {
                use $crate::abi_stable::prefix_type::PrefixTypeTrait;
                $crate::PluginMod {
                    info: __ovhost_builtin_info,
                    register: __ovhost_builtin_register,
                    shutdown: $crate::module::no_shutdown,
                }
                .leak_into_prefix()
            }
            $crate::inventory::submit! {
                $crate::BuiltinPlugin { crate_name: env!("CARGO_PKG_NAME"), module: __ovhost_builtin_module }
            }
        };
    };
}

/// A statically linked plugin (see [`builtin_plugin!`]).
#[cfg(feature = "builtin")]
pub struct BuiltinPlugin {
    /// The crate that declared it, for error messages ("registered by crate X").
    pub crate_name: &'static str,
    pub module: fn() -> PluginModRef,
}

#[cfg(feature = "builtin")]
inventory::collect!(BuiltinPlugin);

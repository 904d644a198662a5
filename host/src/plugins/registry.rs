//! The plugin registry: every renderer, converter, camera and handler entry the host can create,
//! where each came from, and every load failure. Built-ins (linked in, found through `inventory`)
//! and external files go through the same `register` path and yield the same entries.

use std::collections::BTreeMap;
use std::path::Path;

use abi_stable::std_types::RResult;
use ovhost_plugin_api::{
    BuiltinPlugin, CameraEntryRef, ConverterEntryRef, HandlerEntryRef, PluginModRef, Recorded, RendererEntryRef,
    registrar_mut,
};
use serde::Serialize;
use serde_json::json;

use super::error::{LoadErrorKind, PluginLoadError};
use super::loader;

/// An entry plus where it came from.
#[derive(Clone)]
pub struct Registered<E> {
    pub entry: E,
    pub plugin: String,
    pub source: String,
}

/// One successfully registered plugin library.
#[derive(Debug, Clone, Serialize)]
pub struct PluginRecord {
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub description: String,
    /// `builtin:<crate>` or the library path.
    pub source: String,
    pub builtin: bool,
    /// Whether the library exports a `shutdown` entry (0.2.1 and later; absent in 0.2.0).
    pub shutdown_hook: bool,
    pub objects: Vec<ObjectRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectRecord {
    pub kind: &'static str,
    pub id: String,
    pub description: String,
}

#[derive(Default)]
pub struct Registry {
    pub renderers: BTreeMap<String, Registered<RendererEntryRef>>,
    pub converters: BTreeMap<String, Registered<ConverterEntryRef>>,
    pub cameras: BTreeMap<String, Registered<CameraEntryRef>>,
    pub handlers: BTreeMap<String, Registered<HandlerEntryRef>>,
    /// (dialect, `event_type`) → handler id; the dialect is what the handler's entry declares
    /// (`""` = the default dialect).
    pub event_types: BTreeMap<(String, String), String>,
    pub plugins: Vec<PluginRecord>,
    pub errors: Vec<PluginLoadError>,
    /// Each loaded library's `shutdown` entry, by plugin name (see [`Registry::shut_down`]).
    shutdown_hooks: Vec<(String, extern "C" fn())>,
}

impl Registry {
    /// Registers every built-in plugin linked into this binary, in crate-name order.
    pub fn add_builtins(&mut self) {
        let mut builtins: Vec<&BuiltinPlugin> = inventory::iter::<BuiltinPlugin>.into_iter().collect();
        builtins.sort_by_key(|b| b.crate_name);
        for builtin in builtins {
            let source = format!("builtin:{}", builtin.crate_name);
            self.add_module((builtin.module)(), source, true);
        }
    }

    /// Loads every `libovhost_plugin_*.so` in `dir`.
    pub fn add_dir(&mut self, dir: &Path) {
        match loader::discover(dir) {
            Ok(files) => {
                if files.is_empty() {
                    tracing::info!(dir = %dir.display(), "no plugin files (libovhost_plugin_*.so) in plugin directory");
                }
                for file in files {
                    self.add_file(&file);
                }
            }
            Err(e) => self.errors.push(e),
        }
    }

    /// Loads one plugin library file.
    pub fn add_file(&mut self, path: &Path) {
        match loader::load(path) {
            Ok(module) => self.add_module(module, path.display().to_string(), false),
            Err(e) => self.errors.push(e),
        }
    }

    fn add_module(&mut self, module: PluginModRef, source: String, builtin: bool) {
        let info = (module.info())();
        let name = info.name.to_string();
        let mut staging = Recorded::default();
        let result = (module.register())(registrar_mut(&mut staging));
        if let RResult::RErr(e) = result {
            let (kind, what) = if e.is_panic() {
                (LoadErrorKind::ConstructorPanic, "panicked")
            } else {
                (LoadErrorKind::ConstructorError, "failed")
            };
            self.errors.push(PluginLoadError::new(
                kind,
                source.clone(),
                Some(name.clone()),
                format!(
                    "plugin '{name}' {} (from {source}): register {what}: {}; the plugin was not loaded",
                    info.version, e.message
                ),
            ));
            return;
        }
        let mut record = PluginRecord {
            name: name.clone(),
            version: info.version.to_string(),
            api_version: info.api_version.to_string(),
            description: info.description.to_string(),
            source: source.clone(),
            builtin,
            shutdown_hook: module.shutdown().is_some(),
            objects: Vec::new(),
        };
        if let Some(hook) = module.shutdown() {
            self.shutdown_hooks.push((name.clone(), hook));
        }
        for entry in staging.renderers {
            let (id, description) = (entry.id().to_string(), entry.description().to_string());
            if self.insert_unique("renderer", &id, &name, &source, |r| &mut r.renderers, entry) {
                record.objects.push(ObjectRecord { kind: "renderer", id, description });
            }
        }
        for entry in staging.converters {
            let (id, description) = (entry.id().to_string(), entry.description().to_string());
            if self.insert_unique("converter", &id, &name, &source, |r| &mut r.converters, entry) {
                record.objects.push(ObjectRecord { kind: "converter", id, description });
            }
        }
        for entry in staging.cameras {
            let (id, description) = (entry.id().to_string(), entry.description().to_string());
            if self.insert_unique("camera", &id, &name, &source, |r| &mut r.cameras, entry) {
                record.objects.push(ObjectRecord { kind: "camera", id, description });
            }
        }
        for entry in staging.handlers {
            let (id, description) = (entry.id().to_string(), entry.description().to_string());
            if let Some(clash) = self.event_type_clash(&entry) {
                self.errors.push(clash_error(&id, &name, &source, &clash, self));
                continue;
            }
            let event_types: Vec<String> = entry.event_types().iter().map(|e| e.to_string()).collect();
            let dialect = entry.dialect().to_string();
            if self.insert_unique("handler", &id, &name, &source, |r| &mut r.handlers, entry) {
                for event_type in event_types {
                    self.event_types.insert((dialect.clone(), event_type), id.clone());
                }
                record.objects.push(ObjectRecord { kind: "handler", id, description });
            }
        }
        tracing::info!(plugin = %name, version = %record.version, %source, objects = record.objects.len(), "plugin registered");
        self.plugins.push(record);
    }

    fn insert_unique<E>(
        &mut self,
        kind: &str,
        id: &str,
        plugin: &str,
        source: &str,
        map: impl Fn(&mut Self) -> &mut BTreeMap<String, Registered<E>>,
        entry: E,
    ) -> bool {
        if let Some(existing) = map(self).get(id) {
            let message = format!(
                "{kind} id '{id}' is registered twice: by plugin '{}' ({}) and by plugin '{plugin}' ({source}); \
                 the second registration was ignored — rename one of them",
                existing.plugin, existing.source
            );
            self.errors.push(PluginLoadError::new(
                LoadErrorKind::DuplicateId,
                source,
                Some(plugin.to_string()),
                message,
            ));
            return false;
        }
        map(self).insert(id.to_string(), Registered { entry, plugin: plugin.to_string(), source: source.to_string() });
        true
    }

    fn event_type_clash(&self, entry: &HandlerEntryRef) -> Option<(String, String)> {
        let dialect = entry.dialect().to_string();
        entry.event_types().iter().find_map(|e| {
            self.event_types.get(&(dialect.clone(), e.to_string())).map(|owner| (e.to_string(), owner.clone()))
        })
    }

    /// Calls every library's `shutdown` entry once; the host calls this after the render thread
    /// (which owned every plugin object) has ended. Libraries built against 0.2.0 have none.
    pub fn shut_down(&self) {
        for (name, hook) in &self.shutdown_hooks {
            tracing::debug!(plugin = %name, "plugin shutdown");
            hook();
        }
    }

    /// Logs every load failure once.
    pub fn log_errors(&self) {
        for error in &self.errors {
            tracing::error!(kind = ?error.kind, source = %error.origin, "plugin load failed: {}", error.message);
        }
    }

    /// The `/api/plugins` document (without runtime status, which the runtime adds). Handler
    /// examples are included so clients and the example-replay test can use them.
    pub fn to_json(&self) -> serde_json::Value {
        let examples: serde_json::Map<String, serde_json::Value> = self
            .handlers
            .iter()
            .map(|(id, r)| {
                let list: Vec<serde_json::Value> = r
                    .entry
                    .examples()
                    .iter()
                    .map(|e| {
                        json!({
                            "request": serde_json::from_str::<serde_json::Value>(e.request.as_str()).unwrap_or(serde_json::Value::Null),
                            "responses": e.responses.iter().map(|r| serde_json::from_str::<serde_json::Value>(r.as_str()).unwrap_or(serde_json::Value::Null)).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                (id.clone(), serde_json::Value::Array(list))
            })
            .collect();
        json!({
            "api_version": ovhost_plugin_api::API_VERSION,
            "plugins": self.plugins,
            "errors": self.errors,
            "examples": examples,
        })
    }
}

fn clash_error(id: &str, plugin: &str, source: &str, clash: &(String, String), registry: &Registry) -> PluginLoadError {
    let (event_type, owner) = clash;
    let owner_source = registry
        .handlers
        .get(owner)
        .map(|r| format!("plugin '{}' ({})", r.plugin, r.source))
        .unwrap_or_else(|| "another handler".into());
    PluginLoadError::new(
        LoadErrorKind::DuplicateId,
        source,
        Some(plugin.to_string()),
        format!(
            "event_type '{event_type}' is handled twice: by handler '{owner}' of {owner_source} and by handler '{id}' \
             of plugin '{plugin}' ({source}); handler '{id}' was ignored"
        ),
    )
}

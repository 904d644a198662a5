//! A recording registrar for tests and benchmarks: runs a plugin's `register` function outside
//! the host and returns the converter entries it added, so callers create converters through the
//! same factory (and panic guard) the host uses.

use ovhost_plugin_api::{
    CameraEntry, ConverterBox, ConverterEntry, HandlerEntry, PluginError, Registrar, Registry, RendererEntry,
    registrar_mut,
};

#[derive(Default)]
struct Recorder {
    converters: Vec<ConverterEntry>,
}

impl Registrar for Recorder {
    fn add_renderer(&mut self, _entry: RendererEntry) {}
    fn add_converter(&mut self, entry: ConverterEntry) {
        self.converters.push(entry);
    }
    fn add_camera(&mut self, _entry: CameraEntry) {}
    fn add_handler(&mut self, _entry: HandlerEntry) {}
}

/// The converter entries `register` adds, in registration order.
pub fn converter_entries(
    register: fn(&mut Registry<'_>) -> Result<(), PluginError>,
) -> Result<Vec<ConverterEntry>, PluginError> {
    let mut recorder = Recorder::default();
    {
        let mut registry = Registry::new(registrar_mut(&mut recorder));
        register(&mut registry)?;
    }
    Ok(recorder.converters)
}

/// Creates the converter registered under `id` with `config_json`, through its factory.
pub fn create_converter(
    register: fn(&mut Registry<'_>) -> Result<(), PluginError>,
    id: &str,
    config_json: &str,
) -> Result<ConverterBox, PluginError> {
    let entries = converter_entries(register)?;
    let entry = entries
        .iter()
        .find(|e| e.id.as_str() == id)
        .ok_or_else(|| PluginError::not_found(format!("no converter registered under id {id:?}")))?;
    (entry.create)(config_json.into()).into_result()
}

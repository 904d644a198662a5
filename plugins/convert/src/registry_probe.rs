//! A recording registrar for tests and benchmarks: runs a plugin's `register` function outside
//! the host and returns the converter entries it added, so callers create converters through the
//! same factory (and panic guard) the host uses.

use ovhost_plugin_api::{ConverterBox, ConverterEntryRef, PluginError, Recorded, Registry};

/// The converter entries `register` adds, in registration order.
pub fn converter_entries(
    register: fn(&mut Registry<'_>) -> Result<(), PluginError>,
) -> Result<Vec<ConverterEntryRef>, PluginError> {
    Ok(Recorded::of(register)?.converters)
}

/// Creates the converter registered under `id` with `config_json`, through its factory.
pub fn create_converter(
    register: fn(&mut Registry<'_>) -> Result<(), PluginError>,
    id: &str,
    config_json: &str,
) -> Result<ConverterBox, PluginError> {
    Recorded::of(register)?.converter(id, config_json)
}

//! Hierarchy messages: `getChildrenRequest` → `getChildrenResult` (typed rows, optional Kit-style
//! filters), `getPropertiesRequest` → `getPropertiesResponse`, `getVariantsRequest` →
//! `getVariantsResponse`, `setVariantRequest` → recomposition (answered on `stageOpened`).

use ovhost_plugin_api::PluginError;
use serde_json::{Value, json};

use crate::fields;
use crate::filters::{ChildFilter, host_rows, listing};
use crate::host::Host;
use crate::state::{OpenStage, SessionState, request_key};

/// `getChildrenResult {prim_path, children}` for `prim_path`, filtered, as JSON text (rows stay
/// typed: no per-row JSON tree is built, which keeps 10,000-child listings cheap).
pub fn children_result(host: &mut Host<'_, '_>, prim_path: &str, filter: &ChildFilter) -> Result<String, PluginError> {
    let result = host.call_text("stage.children", json!({ "prim_path": prim_path }))?;
    let mut rows = host_rows(&result)?;
    rows.retain(|row| filter.keeps(row));
    listing(prim_path, &rows)
}

/// The unfiltered children of the stage's root prim (JSON text).
pub fn root_children(host: &mut Host<'_, '_>, stage: &OpenStage) -> Result<String, PluginError> {
    children_result(host, &stage.root_prim_path, &ChildFilter::default())
}

/// `getChildrenRequest {prim_path, filters?}`.
pub fn children(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let filter = ChildFilter::strict(payload)?;
    let result = children_result(host, prim_path, &filter)?;
    host.reply_text("getChildrenResult", &result);
    Ok(())
}

/// `getPropertiesRequest {prim_path, max_bytes?}`.
pub fn properties(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let mut args = json!({ "prim_path": prim_path });
    if let Some(max_bytes) = fields::optional_count(payload, "max_bytes")? {
        args["max_bytes"] = Value::from(max_bytes);
    }
    let mut result = host.call("stage.properties", args)?;
    result["prim_path"] = Value::from(prim_path);
    host.reply("getPropertiesResponse", &result);
    Ok(())
}

/// `getVariantsResponse {prim_path, variants}` for one prim.
pub fn variants_of(host: &mut Host<'_, '_>, prim_path: &str) -> Result<Value, PluginError> {
    let result = host.call("stage.variants", json!({ "prim_path": prim_path }))?;
    Ok(json!({ "prim_path": prim_path, "variants": result.get("variants").cloned().unwrap_or_else(|| json!({})) }))
}

/// `getVariantsRequest {prim_path}`.
pub fn variants(host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let result = variants_of(host, prim_path)?;
    host.reply("getVariantsResponse", &result);
    Ok(())
}

/// `setVariantRequest {prim_path, variant_set, variant_selection}`: starts the recomposition; the
/// fresh `getVariantsResponse` and root `getChildrenResult` go out when it commits.
pub fn set_variant(state: &mut SessionState, host: &mut Host<'_, '_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let variant_set = fields::string(payload, "variant_set")?;
    let variant_selection = fields::string(payload, "variant_selection")?;
    let result = host.call(
        "stage.set_variant",
        json!({ "prim_path": prim_path, "variant_set": variant_set, "variant_selection": variant_selection }),
    )?;
    let request_id = result.get("request_id").cloned().unwrap_or(Value::Null);
    state.pending_variants.insert(request_key(&request_id), prim_path.to_string());
    Ok(())
}

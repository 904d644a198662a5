//! Hierarchy messages: `getChildrenRequest` → `getChildrenResult` (typed rows, optional Kit-style
//! filters), `getPropertiesRequest` → `getPropertiesResponse`, `getVariantsRequest` →
//! `getVariantsResponse`, `setVariantRequest` → recomposition (answered on `stageOpened`).

use ovhost_plugin_api::services::{
    Children, PrimArgs, PropertiesArgs, SetVariantArgs, StageChildren, StageProperties, StageSetVariant, StageVariants,
    Variants,
};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::Value;

use crate::fields;
use crate::filters::ChildFilter;
use crate::state::{OpenStage, SessionState};

/// `getChildrenResult {prim_path, children}` for `prim_path`, filtered. The host's typed answer is
/// the reply as it is (rows stay typed: no per-row JSON tree is built, which keeps 10,000-child
/// listings cheap).
pub fn children_result(
    ctx: &mut HostContextMut<'_>,
    prim_path: &str,
    filter: &ChildFilter,
) -> Result<Children, PluginError> {
    let mut listing = ctx.call::<StageChildren>(&PrimArgs { prim_path: prim_path.into() })?;
    listing.children.retain(|row| filter.keeps(row));
    listing.prim_path = prim_path.into();
    Ok(listing)
}

/// The unfiltered children of the stage's root prim.
pub fn root_children(ctx: &mut HostContextMut<'_>, stage: &OpenStage) -> Result<Children, PluginError> {
    children_result(ctx, &stage.root_prim_path, &ChildFilter::default())
}

/// `getChildrenRequest {prim_path, filters?}`.
pub fn children(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let filter = ChildFilter::strict(payload)?;
    let listing = children_result(ctx, prim_path, &filter)?;
    ctx.reply_json("getChildrenResult", &listing);
    Ok(())
}

/// `getPropertiesRequest {prim_path, max_bytes?}` → `getPropertiesResponse {prim_path,
/// properties, truncated, omitted_count}` (properties in authored order).
pub fn properties(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let max_bytes = fields::optional_count(payload, "max_bytes")?;
    let mut answer = ctx.call::<StageProperties>(&PropertiesArgs { prim_path: prim_path.into(), max_bytes })?;
    answer.prim_path = prim_path.into();
    ctx.reply_json("getPropertiesResponse", &answer);
    Ok(())
}

/// `getVariantsResponse {prim_path, variants}` for one prim.
pub fn variants_of(ctx: &mut HostContextMut<'_>, prim_path: &str) -> Result<Variants, PluginError> {
    let mut answer = ctx.call::<StageVariants>(&PrimArgs { prim_path: prim_path.into() })?;
    answer.prim_path = prim_path.into();
    Ok(answer)
}

/// `getVariantsRequest {prim_path}`.
pub fn variants(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let result = variants_of(ctx, prim_path)?;
    ctx.reply_json("getVariantsResponse", &result);
    Ok(())
}

/// `setVariantRequest {prim_path, variant_set, variant_selection}`: starts the recomposition; the
/// fresh `getVariantsResponse` and root `getChildrenResult` go out when it commits.
pub fn set_variant(state: &mut SessionState, ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let prim_path = fields::prim_path(payload, "prim_path")?;
    let variant_set = fields::string(payload, "variant_set")?;
    let variant_selection = fields::string(payload, "variant_selection")?;
    let answer = ctx.call::<StageSetVariant>(&SetVariantArgs {
        prim_path: prim_path.into(),
        variant_set: variant_set.into(),
        variant_selection: variant_selection.into(),
    })?;
    state.pending_variants.insert(answer.request_id, prim_path.to_string());
    Ok(())
}

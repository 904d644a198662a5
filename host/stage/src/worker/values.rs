//! Inspector data: a prim's properties mapped to JSON (viewer-protocol.md §7.1) with a size cap,
//! and its variant sets.
//!
//! Mapping: scalars as-is; vectors → lists; matrices → row lists; quaternions →
//! `{real, imaginary}`; asset paths → the authored path (never a server path); arrays →
//! `{length, preview, truncated}`; relationships → target path strings; anything else → string.

use crate::types::{Properties, VariantSet};
use openusd::{sdf, usd};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// Elements shown in an array's `preview`.
const ARRAY_PREVIEW_LEN: usize = 8;

/// The prim's properties, `typeName` first, cut off before `max_bytes` of JSON.
pub fn properties(prim: &usd::Prim, max_bytes: usize) -> anyhow::Result<Properties> {
    let type_name = prim.type_name()?.map(|t| t.as_str().to_owned()).unwrap_or_default();
    let mut entries: Vec<(String, Json)> = vec![("typeName".into(), Json::String(type_name))];
    let relationships: Vec<String> =
        prim.relationships()?.iter().filter_map(|r| r.path().split_property().map(|(_, n)| n.to_owned())).collect();
    let names = prim.property_names()?;
    let mut used = entry_size("typeName", &entries[0].1);
    let mut truncated = false;
    let mut omitted_count = 0usize;
    for name in &names {
        let name = name.as_str();
        if truncated {
            omitted_count += 1;
            continue;
        }
        let value = if relationships.iter().any(|r| r == name) {
            let targets: Vec<String> =
                prim.relationship(name).targets()?.iter().map(|p| p.as_str().to_owned()).collect();
            match targets.len() {
                0 => Json::String(String::new()),
                1 => Json::String(targets[0].clone()),
                _ => Json::from(targets),
            }
        } else {
            match prim.attribute(name).get::<sdf::Value>() {
                Ok(Some(v)) => to_json(&v),
                Ok(None) => Json::Null,
                Err(e) => Json::String(format!("<unreadable: {e}>")),
            }
        };
        let size = entry_size(name, &value);
        if used + size > max_bytes {
            truncated = true;
            omitted_count += 1;
            continue;
        }
        used += size;
        entries.push((name.to_owned(), value));
    }
    Ok(Properties { prim_path: prim.path().as_str().to_owned(), properties: entries, truncated, omitted_count })
}

fn entry_size(name: &str, value: &Json) -> usize {
    name.len() + 4 + serde_json::to_string(value).map_or(0, |s| s.len())
}

/// Maps one USD value to JSON.
pub fn to_json(value: &sdf::Value) -> Json {
    use sdf::Value as V;
    match value {
        V::Bool(v) => json!(v),
        V::Uchar(v) => json!(v),
        V::Int(v) => json!(v),
        V::Uint(v) => json!(v),
        V::Int64(v) => json!(v),
        V::Uint64(v) => json!(v),
        V::Half(v) => num(f64::from(v.to_f32())),
        V::Float(v) => num(f64::from(*v)),
        V::Double(v) => num(*v),
        V::String(v) => json!(v),
        V::Token(v) => json!(v.as_str()),
        V::AssetPath(v) => json!(v.asset_path()),
        V::Quath(q) => quat(f64::from(q.w.to_f32()), [q.x, q.y, q.z].map(|c| f64::from(c.to_f32()))),
        V::Quatf(q) => quat(f64::from(q.w), [q.x, q.y, q.z].map(f64::from)),
        V::Quatd(q) => quat(q.w, [q.x, q.y, q.z]),
        V::Vec2f(v) => nums(&[v.x, v.y].map(f64::from)),
        V::Vec2d(v) => nums(&[v.x, v.y]),
        V::Vec2h(v) => nums(&[v.x, v.y].map(|c| f64::from(c.to_f32()))),
        V::Vec2i(v) => json!([v.x, v.y]),
        V::Vec3f(v) => nums(&[v.x, v.y, v.z].map(f64::from)),
        V::Vec3d(v) => nums(&[v.x, v.y, v.z]),
        V::Vec3h(v) => nums(&[v.x, v.y, v.z].map(|c| f64::from(c.to_f32()))),
        V::Vec3i(v) => json!([v.x, v.y, v.z]),
        V::Vec4f(v) => nums(&[v.x, v.y, v.z, v.w].map(f64::from)),
        V::Vec4d(v) => nums(&[v.x, v.y, v.z, v.w]),
        V::Vec4h(v) => nums(&[v.x, v.y, v.z, v.w].map(|c| f64::from(c.to_f32()))),
        V::Vec4i(v) => json!([v.x, v.y, v.z, v.w]),
        V::Matrix2d(m) => rows(&m.0, 2),
        V::Matrix3d(m) => rows(&m.0, 3),
        V::Matrix4d(m) => rows(&m.0, 4),
        V::TimeCode(t) => num(t.value()),
        V::Dictionary(d) => {
            let sorted: BTreeMap<&String, Json> = d.iter().map(|(k, v)| (k, to_json(v))).collect();
            json!(sorted)
        }
        V::BoolVec(v) => array(v, |x| json!(x)),
        V::UcharVec(v) => array(v, |x| json!(x)),
        V::IntVec(v) => array(v, |x| json!(x)),
        V::UintVec(v) => array(v, |x| json!(x)),
        V::Int64Vec(v) => array(v, |x| json!(x)),
        V::Uint64Vec(v) => array(v, |x| json!(x)),
        V::HalfVec(v) => array(v, |x| num(f64::from(x.to_f32()))),
        V::FloatVec(v) => array(v, |x| num(f64::from(*x))),
        V::DoubleVec(v) => array(v, |x| num(*x)),
        V::StringVec(v) => array(v, |x| json!(x)),
        V::TokenVec(v) => array(v, |x| json!(x.as_str())),
        V::AssetPathVec(v) => array(v, |x| json!(x.asset_path())),
        V::Vec2fVec(v) => array(v, |x| to_json(&V::Vec2f(*x))),
        V::Vec2dVec(v) => array(v, |x| to_json(&V::Vec2d(*x))),
        V::Vec2iVec(v) => array(v, |x| to_json(&V::Vec2i(*x))),
        V::Vec3fVec(v) => array(v, |x| to_json(&V::Vec3f(*x))),
        V::Vec3dVec(v) => array(v, |x| to_json(&V::Vec3d(*x))),
        V::Vec3hVec(v) => array(v, |x| to_json(&V::Vec3h(*x))),
        V::Vec3iVec(v) => array(v, |x| to_json(&V::Vec3i(*x))),
        V::Vec4fVec(v) => array(v, |x| to_json(&V::Vec4f(*x))),
        V::Vec4dVec(v) => array(v, |x| to_json(&V::Vec4d(*x))),
        V::QuathVec(v) => array(v, |x| to_json(&V::Quath(*x))),
        V::QuatfVec(v) => array(v, |x| to_json(&V::Quatf(*x))),
        V::QuatdVec(v) => array(v, |x| to_json(&V::Quatd(*x))),
        V::Matrix4dVec(v) => array(v, |x| rows(&x.0, 4)),
        V::PathVec(v) => array(v, |x| json!(x.as_str())),
        V::None | V::ValueBlock => Json::Null,
        other => {
            let mut text = format!("{other:?}");
            text.truncate(200);
            Json::String(text)
        }
    }
}

/// JSON has no NaN/inf: those become strings.
fn num(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or_else(|| Json::String(v.to_string()), Json::Number)
}

fn nums(v: &[f64]) -> Json {
    Json::Array(v.iter().map(|x| num(*x)).collect())
}

fn quat(real: f64, imaginary: [f64; 3]) -> Json {
    json!({ "real": num(real), "imaginary": nums(&imaginary) })
}

fn rows(m: &[f64], n: usize) -> Json {
    Json::Array(m.chunks(n).map(nums).collect())
}

fn array<T>(items: &[T], f: impl Fn(&T) -> Json) -> Json {
    let preview: Vec<Json> = items.iter().take(ARRAY_PREVIEW_LEN).map(f).collect();
    json!({ "length": items.len(), "preview": preview, "truncated": items.len() > ARRAY_PREVIEW_LEN })
}

/// The prim's variant sets with their options (union over all contributing specs, sorted as pxr
/// reports them) and current selections.
pub fn variants(stage: &usd::Stage, prim: &usd::Prim) -> anyhow::Result<BTreeMap<String, VariantSet>> {
    let mut sets: BTreeMap<String, VariantSet> = BTreeMap::new();
    for (layer_id, spec_path) in prim.prim_stack()? {
        let Some(layer) = stage.layer(&layer_id) else { continue };
        let data = layer.data();
        let Ok(Some(names)) = data.try_field(&spec_path, "variantSetChildren") else { continue };
        let sdf::Value::TokenVec(names) = names.into_owned() else { continue };
        for set in names {
            let entry = sets
                .entry(set.as_str().to_owned())
                .or_insert_with(|| VariantSet { options: Vec::new(), selection: String::new() });
            let set_path = spec_path.append_variant_selection(set.as_str(), "");
            if let Ok(Some(children)) = data.try_field(&set_path, "variantChildren")
                && let sdf::Value::TokenVec(options) = children.into_owned()
            {
                for option in options {
                    if !entry.options.iter().any(|o| o == option.as_str()) {
                        entry.options.push(option.as_str().to_owned());
                    }
                }
            }
        }
    }
    // pxr's UsdVariantSet::GetVariantNames reports options sorted.
    for set in sets.values_mut() {
        set.options.sort();
    }
    for (set, selection) in prim.variant_sets().get_all_variant_selections()? {
        if let Some(entry) = sets.get_mut(&set) {
            entry.selection = selection;
        }
    }
    Ok(sets)
}

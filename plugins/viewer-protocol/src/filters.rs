//! Child rows: the host's `stage.children` rows `{name, path, type, children: bool}` read as typed
//! (borrowed) rows, the child filters of `getChildrenRequest {filters}` (Kit's tokens), and the row
//! shapes of both dialects. Rows stay typed end to end so a 10,000-child listing is cheap.

use std::borrow::Cow;

use ovhost_plugin_api::PluginError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The host row types a filter token selects (`type` ∈ geom, camera, light, scope, xform, other).
fn token_type(token: &str) -> Option<&'static str> {
    match token.to_ascii_lowercase().as_str() {
        "usdgeom" | "mesh" | "geom" => Some("geom"),
        "xform" => Some("xform"),
        "scope" => Some("scope"),
        "camera" => Some("camera"),
        "light" => Some("light"),
        _ => None,
    }
}

/// The accepted filter tokens, for error messages.
pub const TOKENS: &str = "USDGeom, mesh, xform, scope, camera, light";

fn other_kind<'a>() -> Cow<'a, str> {
    Cow::Borrowed("other")
}

/// One child as the host lists it; serialized unchanged it is also the R-dialect row.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Row<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub path: Cow<'a, str>,
    #[serde(rename = "type", borrow, default = "other_kind")]
    pub kind: Cow<'a, str>,
    /// Whether the prim has children of its own.
    #[serde(default)]
    pub children: bool,
}

/// A Kit row: `children: []` marks "has children"; leaves have no `children` key.
#[derive(Debug, Serialize)]
pub struct KitRow<'r> {
    pub name: &'r str,
    pub path: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<[u8; 0]>,
}

impl<'r> From<&'r Row<'_>> for KitRow<'r> {
    fn from(row: &'r Row<'_>) -> Self {
        Self { name: &row.name, path: &row.path, children: row.children.then_some([]) }
    }
}

#[derive(Deserialize)]
struct HostChildren<'a> {
    #[serde(borrow)]
    children: Vec<Row<'a>>,
}

/// Reads the rows of a `stage.children` result (JSON text).
pub fn host_rows(result_json: &str) -> Result<Vec<Row<'_>>, PluginError> {
    serde_json::from_str::<HostChildren<'_>>(result_json)
        .map(|r| r.children)
        .map_err(|e| PluginError::internal(format!("stage.children returned rows this plugin cannot read: {e}")))
}

/// `{prim_path, children}` as JSON text, for either row shape.
pub fn listing<T: Serialize>(prim_path: &str, children: &[T]) -> Result<String, PluginError> {
    #[derive(Serialize)]
    struct Listing<'p, 'c, T> {
        prim_path: &'p str,
        children: &'c [T],
    }
    serde_json::to_string(&Listing { prim_path, children })
        .map_err(|e| PluginError::internal(format!("cannot encode the child listing: {e}")))
}

/// A parsed filter: `None` keeps every child; otherwise a child is kept if its type is listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChildFilter {
    types: Option<Vec<&'static str>>,
}

impl ChildFilter {
    /// Strict parsing (R dialect): absent, null or `[]` keeps everything; an unknown token is an
    /// error naming the accepted ones.
    pub fn strict(payload: &Value) -> Result<Self, PluginError> {
        let Some(tokens) = Self::tokens(payload)? else { return Ok(Self::default()) };
        let types = tokens
            .iter()
            .map(|t| {
                token_type(t).ok_or_else(|| {
                    PluginError::invalid_input(format!("payload.filters: unknown filter '{t}'; use one of {TOKENS}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { types: if types.is_empty() { None } else { Some(types) } })
    }

    /// Kit's parsing: unknown tokens are ignored, so a list of only unknown tokens matches
    /// nothing (as Kit does). An empty list keeps everything (Kit would return no children, which
    /// no client wants; web-viewer-sample always sends `["USDGeom"]`).
    pub fn kit(payload: &Value) -> Result<Self, PluginError> {
        let Some(tokens) = Self::tokens(payload)? else { return Ok(Self::default()) };
        if tokens.is_empty() {
            return Ok(Self::default());
        }
        Ok(Self { types: Some(tokens.iter().filter_map(|t| token_type(t)).collect()) })
    }

    fn tokens(payload: &Value) -> Result<Option<Vec<String>>, PluginError> {
        match payload.get("filters") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| PluginError::invalid_input("payload.filters must be an array of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(PluginError::invalid_input("payload.filters must be an array of strings")),
        }
    }

    /// Whether a row passes.
    pub fn keeps(&self, row: &Row<'_>) -> bool {
        match &self.types {
            None => true,
            Some(types) => types.contains(&row.kind.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const HOST: &str = r#"{"prim_path":"/World","children":[
        {"name":"Ground","path":"/World/Ground","type":"geom","children":false},
        {"name":"Props","path":"/World/Props","type":"xform","children":true},
        {"name":"Sun","path":"/World/Sun","type":"light","children":false}]}"#;

    fn kept(filter: &ChildFilter) -> Vec<String> {
        host_rows(HOST).unwrap().iter().filter(|r| filter.keeps(r)).map(|r| r.name.to_string()).collect()
    }

    #[test]
    fn strict_filters_keep_matching_types() {
        assert_eq!(kept(&ChildFilter::strict(&json!({})).unwrap()), ["Ground", "Props", "Sun"]);
        assert_eq!(kept(&ChildFilter::strict(&json!({"filters": []})).unwrap()), ["Ground", "Props", "Sun"]);
        assert_eq!(kept(&ChildFilter::strict(&json!({"filters": ["USDGeom"]})).unwrap()), ["Ground"]);
        assert_eq!(kept(&ChildFilter::strict(&json!({"filters": ["mesh", "xform"]})).unwrap()), ["Ground", "Props"]);
        let e = ChildFilter::strict(&json!({"filters": ["teapot"]})).unwrap_err();
        assert!(e.message.contains("unknown filter 'teapot'"), "{e}");
        assert!(ChildFilter::strict(&json!({"filters": "USDGeom"})).is_err());
    }

    #[test]
    fn kit_filters_ignore_unknown_tokens() {
        assert_eq!(kept(&ChildFilter::kit(&json!({"filters": ["teapot"]})).unwrap()), Vec::<String>::new());
        assert_eq!(kept(&ChildFilter::kit(&json!({"filters": ["teapot", "USDGeom"]})).unwrap()), ["Ground"]);
        assert_eq!(kept(&ChildFilter::kit(&json!({"filters": null})).unwrap()), ["Ground", "Props", "Sun"]);
        assert_eq!(kept(&ChildFilter::kit(&json!({"filters": []})).unwrap()), ["Ground", "Props", "Sun"]);
    }

    #[test]
    fn row_shapes_per_dialect() {
        let rows = host_rows(HOST).unwrap();
        let r: Value = serde_json::from_str(&listing("/World", &rows[..2]).unwrap()).unwrap();
        assert_eq!(
            r,
            json!({"prim_path": "/World", "children": [
                {"name": "Ground", "path": "/World/Ground", "type": "geom", "children": false},
                {"name": "Props", "path": "/World/Props", "type": "xform", "children": true}]})
        );
        let kit: Vec<KitRow<'_>> = rows.iter().map(KitRow::from).collect();
        let k: Value = serde_json::from_str(&listing("/World", &kit[..2]).unwrap()).unwrap();
        assert_eq!(
            k["children"],
            json!([{"name": "Ground", "path": "/World/Ground"}, {"name": "Props", "path": "/World/Props", "children": []}])
        );
    }

    #[test]
    fn escaped_names_and_missing_types_are_read() {
        let rows = host_rows(r#"{"children":[{"name":"a\"b","path":"/a\"b"}]}"#).unwrap();
        assert_eq!((rows[0].name.as_ref(), rows[0].kind.as_ref(), rows[0].children), ("a\"b", "other", false));
        assert!(host_rows("{}").is_err());
    }
}

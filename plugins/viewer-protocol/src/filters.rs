//! Child rows: the host's typed `stage.children` rows ([`ChildRow`] `{name, path, type,
//! children: bool}`), the child filters of `getChildrenRequest {filters}` (Kit's tokens), and the
//! row shapes of both dialects. Rows stay typed end to end (no per-row JSON tree), so a
//! 10,000-child listing is cheap.

use ovhost_plugin_api::PluginError;
use ovhost_plugin_api::services::ChildRow;
use serde::Serialize;
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

/// A Kit row: `children: []` marks "has children"; leaves have no `children` key.
#[derive(Debug, Serialize)]
pub struct KitRow<'r> {
    pub name: &'r str,
    pub path: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<[u8; 0]>,
}

impl<'r> From<&'r ChildRow> for KitRow<'r> {
    fn from(row: &'r ChildRow) -> Self {
        Self { name: &row.name, path: &row.path, children: row.children.then_some([]) }
    }
}

/// `{prim_path, children}` with either row shape (the host's [`ChildRow`] is the R-dialect row
/// unchanged; [`KitRow`] is Kit's).
#[derive(Debug, Serialize)]
pub struct Listing<'p, T> {
    pub prim_path: &'p str,
    pub children: Vec<T>,
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
    pub fn keeps(&self, row: &ChildRow) -> bool {
        match &self.types {
            None => true,
            Some(types) => types.contains(&row.type_class.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ovhost_plugin_api::services::Children;
    use serde_json::json;

    const HOST: &str = r#"{"prim_path":"/World","children":[
        {"name":"Ground","path":"/World/Ground","type":"geom","children":false},
        {"name":"Props","path":"/World/Props","type":"xform","children":true},
        {"name":"Sun","path":"/World/Sun","type":"light","children":false}]}"#;

    fn host_rows(text: &str) -> Vec<ChildRow> {
        serde_json::from_str::<Children>(text).unwrap().children
    }

    fn kept(filter: &ChildFilter) -> Vec<String> {
        host_rows(HOST).iter().filter(|r| filter.keeps(r)).map(|r| r.name.clone()).collect()
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
        let mut answer: Children = serde_json::from_str(HOST).unwrap();
        answer.children.truncate(2);
        // The R-dialect listing is the host's answer, byte for byte as before.
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"prim_path":"/World","children":[{"name":"Ground","path":"/World/Ground","type":"geom","children":false},{"name":"Props","path":"/World/Props","type":"xform","children":true}]}"#
        );
        let kit = Listing { prim_path: "/World", children: answer.children.iter().map(KitRow::from).collect() };
        assert_eq!(
            serde_json::to_string(&kit).unwrap(),
            r#"{"prim_path":"/World","children":[{"name":"Ground","path":"/World/Ground"},{"name":"Props","path":"/World/Props","children":[]}]}"#
        );
        let empty = Listing::<KitRow<'_>> { prim_path: "/Nope", children: Vec::new() };
        assert_eq!(serde_json::to_value(&empty).unwrap(), json!({"prim_path": "/Nope", "children": []}));
    }

    #[test]
    fn escaped_names_are_read() {
        let rows = host_rows(
            r#"{"prim_path":"/","children":[{"name":"a\"b","path":"/a\"b","type":"other","children":false}]}"#,
        );
        assert_eq!((rows[0].name.as_str(), rows[0].type_class.as_str(), rows[0].children), ("a\"b", "other", false));
        assert!(serde_json::from_str::<Children>("{}").is_err());
    }
}

//! Payload field extraction with errors a client developer can act on
//! (`payload.prim_path must be a string`), and host event payloads read into their typed form.
//! Shared by both dialects.

use ovhost_plugin_api::PluginError;
use serde_json::Value;

/// A host event's payload as its typed struct (`services::StageOpenedPayload`, ...).
pub use ovhost_plugin_api::json::kind_name as kind;
pub use ovhost_plugin_api::services::parse_event as event;

/// A required string field.
pub fn string<'v>(payload: &'v Value, key: &str) -> Result<&'v str, PluginError> {
    match payload.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(PluginError::invalid_input(format!("payload.{key} must be a string, got {}", kind(other)))),
        None => Err(PluginError::invalid_input(format!("payload.{key} must be a string (it is missing)"))),
    }
}

/// An optional string field: absent or null is `None`; any other non-string is an error.
pub fn optional_string<'v>(payload: &'v Value, key: &str) -> Result<Option<&'v str>, PluginError> {
    match payload.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string(payload, key).map(Some),
    }
}

/// A required boolean field.
pub fn boolean(payload: &Value, key: &str) -> Result<bool, PluginError> {
    match payload.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => {
            Err(PluginError::invalid_input(format!("payload.{key} must be true or false, got {}", kind(other))))
        }
        None => Err(PluginError::invalid_input(format!("payload.{key} must be true or false (it is missing)"))),
    }
}

/// An optional non-negative integer field.
pub fn optional_count(payload: &Value, key: &str) -> Result<Option<u64>, PluginError> {
    match payload.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            PluginError::invalid_input(format!("payload.{key} must be a non-negative integer, got {v}"))
        }),
    }
}

/// A required number field.
pub fn number(payload: &Value, key: &str) -> Result<f64, PluginError> {
    match payload.get(key) {
        Some(v) => v
            .as_f64()
            .ok_or_else(|| PluginError::invalid_input(format!("payload.{key} must be a number, got {}", kind(v)))),
        None => Err(PluginError::invalid_input(format!("payload.{key} must be a number (it is missing)"))),
    }
}

/// A required absolute prim path (`/World/Props`), checked for syntax: it starts with `/`, has no
/// empty, `.` or `..` segments.
pub fn prim_path<'v>(payload: &'v Value, key: &str) -> Result<&'v str, PluginError> {
    let path = string(payload, key)?;
    check_prim_path(path).map_err(|why| PluginError::invalid_input(format!("payload.{key} {why}")))?;
    Ok(path)
}

/// An optional prim path (absent or null is `None`).
pub fn optional_prim_path<'v>(payload: &'v Value, key: &str) -> Result<Option<&'v str>, PluginError> {
    match payload.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => prim_path(payload, key).map(Some),
    }
}

/// A required array of prim path strings (`[]` allowed).
pub fn prim_paths(payload: &Value, key: &str) -> Result<Vec<String>, PluginError> {
    let items = match payload.get(key) {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(PluginError::invalid_input(format!(
                "payload.{key} must be an array of prim path strings, got {}",
                kind(other)
            )));
        }
        None => {
            return Err(PluginError::invalid_input(format!(
                "payload.{key} must be an array of prim path strings (it is missing; send [] for none)"
            )));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = item.as_str().ok_or_else(|| {
                PluginError::invalid_input(format!("payload.{key}[{i}] must be a prim path string, got {}", kind(item)))
            })?;
            check_prim_path(path).map_err(|why| PluginError::invalid_input(format!("payload.{key}[{i}] {why}")))?;
            Ok(path.to_string())
        })
        .collect()
}

/// Longest client string quoted back in an error message, in characters.
pub const SHOWN_CHARS: usize = 128;

/// A client-supplied string as quoted in errors: cut to [`SHOWN_CHARS`] characters with `…`.
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
        None => text.to_string(),
    }
}

/// A required array of prim paths that can be selected or made pickable: as [`prim_paths`], and
/// not the pseudo-root `/` (which is no prim).
pub fn selectable_prim_paths(payload: &Value, key: &str) -> Result<Vec<String>, PluginError> {
    let paths = prim_paths(payload, key)?;
    if let Some(i) = paths.iter().position(|p| p == "/") {
        return Err(PluginError::invalid_input(format!(
            "payload.{key}[{i}] is the pseudo-root '/', which is not a prim; name prims such as /World"
        )));
    }
    Ok(paths)
}

fn check_prim_path(path: &str) -> Result<(), String> {
    if path == "/" {
        return Ok(());
    }
    if !path.starts_with('/') {
        return Err(format!("must be an absolute prim path such as /World, got '{}'", shown(path)));
    }
    if path[1..].split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
        return Err(format!("'{}' is not a valid prim path (empty, '.' or '..' segment)", shown(path)));
    }
    if let Some(dot) = path.find('.') {
        // `/World.size`, `/World.rel[/Target]`: a property of a prim, not a prim.
        return Err(format!(
            "'{}' is a property path, not a prim path; name the prim '{}'",
            shown(path),
            shown(&path[..dot])
        ));
    }
    if let Some(bad) = path.chars().find(|c| c.is_whitespace() || c.is_control() || "[]{}<>:@\\".contains(*c)) {
        return Err(format!("'{}' is not a valid prim path (it contains {bad:?})", shown(path)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn prim_paths_are_checked() {
        assert_eq!(prim_path(&json!({"p": "/World/A"}), "p").unwrap(), "/World/A");
        assert_eq!(prim_path(&json!({"p": "/"}), "p").unwrap(), "/");
        for bad in ["World", "/World/../x", "/World//x", "/World/", "/./x", "", "/World.size", "/World{v=a}", "/a b"] {
            let e = prim_path(&json!({ "p": bad }), "p").unwrap_err();
            assert!(e.message.starts_with("payload.p "), "{e}");
        }
        let e = prim_path(&json!({"p": 3}), "p").unwrap_err();
        assert_eq!(e.message.as_str(), "payload.p must be a string, got a number");
        let e = prim_path(&json!({}), "p").unwrap_err();
        assert!(e.message.contains("missing"));
    }

    #[test]
    fn property_paths_and_the_pseudo_root_are_not_selectable() {
        let e = prim_path(&json!({"p": "/World.size"}), "p").unwrap_err();
        assert!(e.message.contains("property path") && e.message.contains("'/World'"), "{e}");
        assert!(selectable_prim_paths(&json!({"paths": ["/World"]}), "paths").is_ok());
        let e = selectable_prim_paths(&json!({"paths": ["/World", "/"]}), "paths").unwrap_err();
        assert!(e.message.starts_with("payload.paths[1] is the pseudo-root"), "{e}");
    }

    #[test]
    fn echoed_strings_are_cut() {
        let long = format!("/{}", "x".repeat(60_000));
        let e = prim_path(&json!({ "p": long.replace('/', "") }), "p").unwrap_err();
        assert!(e.message.len() < 400, "{} bytes", e.message.len());
        assert!(e.message.contains("… (60000 bytes)"), "{e}");
        assert_eq!(shown("short"), "short");
    }

    #[test]
    fn path_arrays_name_the_bad_element() {
        assert_eq!(prim_paths(&json!({"paths": []}), "paths").unwrap(), Vec::<String>::new());
        let e = prim_paths(&json!({"paths": ["/a", 4]}), "paths").unwrap_err();
        assert_eq!(e.message.as_str(), "payload.paths[1] must be a prim path string, got a number");
        let e = prim_paths(&json!({"paths": "/a"}), "paths").unwrap_err();
        assert!(e.message.contains("must be an array"), "{e}");
    }

    #[test]
    fn optional_fields_accept_absence_and_null_only() {
        assert_eq!(optional_string(&json!({}), "k").unwrap(), None);
        assert_eq!(optional_string(&json!({"k": null}), "k").unwrap(), None);
        assert!(optional_string(&json!({"k": 1}), "k").is_err());
        assert_eq!(optional_count(&json!({"k": 10}), "k").unwrap(), Some(10));
        assert!(optional_count(&json!({"k": -1}), "k").is_err());
        assert!(boolean(&json!({"k": "yes"}), "k").is_err());
        assert_eq!(number(&json!({"k": 2}), "k").unwrap(), 2.0);
    }

    #[test]
    fn host_event_payloads_are_typed_or_an_error() {
        use ovhost_plugin_api::services::{SelectionChanged, StageOpened};
        let selection = event::<SelectionChanged>(&json!({"prims": ["/a"], "source": "viewport"})).unwrap();
        assert_eq!(selection.prims, ["/a"]);
        let e = event::<StageOpened>(&json!({"request_id": "seven", "reason": "open", "stage": null})).unwrap_err();
        assert!(e.message.contains("host event 'stageOpened'"), "{e}");
        assert!(event::<SelectionChanged>(&json!(null)).is_err());
    }
}

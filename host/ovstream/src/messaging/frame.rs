//! The browser library's wire frame `{messageRecipient, messageType, data}`: unwrapping it on the
//! way in (data as a string or an object) and producing it on the way out.

use serde_json::Value;

/// Unwraps one inbound text into an app message: if it is the browser library's frame, its
/// `data` (a string, or an object re-serialized); otherwise the text itself. Returns `None` for
/// anything that is not a JSON object with a string `event_type` after unwrapping (library or
/// control traffic, which the host ignores).
pub fn unwrap_browser_frame(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    let is_frame = !object.contains_key("event_type")
        && object.contains_key("data")
        && (object.contains_key("messageRecipient") || object.contains_key("messageType"));
    let (inner_text, inner) = if is_frame {
        match object.get("data")? {
            Value::String(s) => (s.clone(), serde_json::from_str::<Value>(s).ok()?),
            data @ Value::Object(_) => (serde_json::to_string(data).ok()?, data.clone()),
            _ => return None,
        }
    } else {
        (text.to_string(), value.clone())
    };
    inner.get("event_type")?.as_str()?;
    Some(inner_text)
}

/// Wraps a serialized app message the way `ovstream_send_app_message` does:
/// `{"messageType":"json","messageRecipient":"app","data":"<message>"}` (used where the SDK does
/// not wrap for us: SHM/CUDASHM).
pub fn wrap_app_frame(message: &str) -> String {
    format!(
        "{{\"messageType\":\"json\",\"messageRecipient\":\"app\",\"data\":{}}}",
        super::chunking::json_string(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_string_data() {
        let inner = r#"{"event_type":"openStageRequest","payload":{"url":"a.usd"}}"#;
        let framed = serde_json::json!({"messageRecipient":"app","messageType":"json","data": inner}).to_string();
        assert_eq!(unwrap_browser_frame(&framed).as_deref(), Some(inner));
    }

    #[test]
    fn unwraps_object_data() {
        let framed = r#"{"messageRecipient":"kit","messageType":"json","data":{"event_type":"x","payload":{"a":1}}}"#;
        let out = unwrap_browser_frame(framed).expect("unwrapped");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["event_type"], "x");
        assert_eq!(v["payload"]["a"], 1);
    }

    #[test]
    fn bare_envelopes_pass_and_control_traffic_is_ignored() {
        let bare = r#"{"event_type":"hello","payload":{}}"#;
        assert_eq!(unwrap_browser_frame(bare).as_deref(), Some(bare));
        assert_eq!(
            unwrap_browser_frame(r#"{"messageRecipient":"stream","messageType":"config","data":{"w":1}}"#),
            None
        );
        assert_eq!(unwrap_browser_frame(r#"{"messageRecipient":"app","data":"not json"}"#), None);
        assert_eq!(unwrap_browser_frame("plain text"), None);
        assert_eq!(unwrap_browser_frame(r#"{"event_type":5}"#), None);
        assert_eq!(unwrap_browser_frame("[1,2]"), None);
    }

    #[test]
    fn wrap_matches_the_sdk_envelope_and_round_trips() {
        let msg = r#"{"event_type":"a","id":"1","payload":"q\"x"}"#;
        let wrapped = wrap_app_frame(msg);
        assert!(
            wrapped.starts_with(r#"{"messageType":"json","messageRecipient":"app","data":"{\"event_type\""#),
            "{wrapped}"
        );
        assert_eq!(wrapped.len(), super::super::embedded_size(msg));
        assert_eq!(unwrap_browser_frame(&wrapped).as_deref(), Some(msg));
    }
}

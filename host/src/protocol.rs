//! The app envelope `{event_type, payload}` on the wire: parsing, limits and error replies.
//! No I/O here; the WebSocket and ovstream transports call into it.

use ovhost_plugin_api::{InputEvent, InputKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Largest inbound app message accepted, in bytes (the ovstream data-channel cap).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// `event_type` the host handles itself for input events (never routed to handlers).
pub const INPUT_EVENT_TYPE: &str = "input";
/// The host's own handshake.
pub const HELLO_EVENT_TYPE: &str = "hello";
/// A viewer whose decoder lost sync asks for a keyframe (answered by the host, not a handler).
pub const KEYFRAME_REQUEST_EVENT_TYPE: &str = "requestKeyframe";
/// Error push.
pub const VIEWER_ERROR: &str = "viewerError";

/// Error codes carried in `viewerError.code`.
pub mod codes {
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const INVALID_ENVELOPE: &str = "invalid_envelope";
    pub const MESSAGE_TOO_LARGE: &str = "message_too_large";
    pub const UNKNOWN_EVENT_TYPE: &str = "unknown_event_type";
    pub const BUSY: &str = "busy";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const HANDLER_FAILED: &str = "handler_failed";
    pub const PLUGIN_DISABLED: &str = "plugin_disabled";
    pub const INVALID_INPUT: &str = "invalid_input";
    pub const UNAUTHORIZED: &str = "unauthorized";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_type: String,
    #[serde(default = "empty_object")]
    pub payload: Value,
    /// Size of the text it was parsed from (0 when the host made it): what it costs in the
    /// render thread's inbound queue.
    #[serde(skip)]
    pub wire_bytes: usize,
}

fn empty_object() -> Value {
    json!({})
}

/// A parse failure with the error reply to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub code: &'static str,
    pub message: String,
}

/// Parses an inbound text message: size limit, JSON, envelope shape. Unwraps the NVIDIA browser
/// library's `{messageRecipient, messageType, data}` frame (data as string or object).
pub fn parse_inbound(text: &str) -> Result<Envelope, ParseError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ParseError {
            code: codes::MESSAGE_TOO_LARGE,
            message: format!("message of {} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit", text.len()),
        });
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ParseError { code: codes::MALFORMED_JSON, message: format!("message is not valid JSON: {e}") })?;
    let value = unwrap_library_frame(value)?;
    let Value::Object(mut object) = value else {
        return Err(invalid("message must be a JSON object {event_type, payload}"));
    };
    let event_type = match object.remove("event_type") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(_) => return Err(invalid("event_type must be a non-empty string")),
        None => return Err(invalid("message has no event_type")),
    };
    let payload = match object.remove("payload") {
        None | Some(Value::Null) => empty_object(),
        Some(p @ Value::Object(_)) => p,
        Some(_) => return Err(invalid(&format!("payload of '{event_type}' must be a JSON object"))),
    };
    Ok(Envelope { event_type, payload, wire_bytes: text.len() })
}

fn unwrap_library_frame(value: Value) -> Result<Value, ParseError> {
    let is_frame = value.get("messageRecipient").is_some() && value.get("data").is_some();
    if !is_frame {
        return Ok(value);
    }
    match value.get("data") {
        Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| ParseError {
            code: codes::MALFORMED_JSON,
            message: format!("library frame's data is not valid JSON: {e}"),
        }),
        Some(other) => Ok(other.clone()),
        None => Err(invalid("library frame has no data")),
    }
}

fn invalid(message: &str) -> ParseError {
    ParseError { code: codes::INVALID_ENVELOPE, message: message.to_string() }
}

/// `text` cut to at most `max` characters (on a character boundary), with `…` when cut: for
/// client-supplied strings echoed in replies and logs.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Serializes an outbound envelope.
pub fn encode(event_type: &str, payload: &Value) -> String {
    json!({ "event_type": event_type, "payload": payload }).to_string()
}

/// A `viewerError` envelope.
pub fn viewer_error(code: &str, message: &str, context: Option<Value>) -> String {
    let payload =
        ovhost_protocol::ViewerErrorPayload { code: code.into(), message: message.into(), context, detail: None };
    encode(VIEWER_ERROR, &serde_json::to_value(payload).unwrap_or(Value::Null))
}

/// A browser input event as sent over `/ws` with `event_type: "input"`.
///
/// `{type: "pointermove"|"pointerdown"|"pointerup"|"wheel"|"keydown"|"keyup"|"cancel",
///   x, y, dx?, dy?, button?, buttons?, deltaY?, notches?, key?, shift?, ctrl?, alt?, meta?}`
/// `button`/`buttons` use DOM numbering; `x`/`y` are stream pixels; `notches` (or `deltaY` in
/// DOM pixels, 100 per notch, positive = towards the user) gives the wheel amount.
#[derive(Debug, Clone, Deserialize)]
pub struct BrowserInput {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub x: f32,
    #[serde(default)]
    pub y: f32,
    #[serde(default)]
    pub dx: f32,
    #[serde(default)]
    pub dy: f32,
    #[serde(default)]
    pub button: u32,
    #[serde(default)]
    pub buttons: u32,
    #[serde(default, rename = "deltaY")]
    pub delta_y: Option<f32>,
    #[serde(default)]
    pub notches: Option<f32>,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub shift: bool,
    #[serde(default)]
    pub ctrl: bool,
    #[serde(default)]
    pub alt: bool,
    #[serde(default)]
    pub meta: bool,
}

/// Normalizes an `input` payload (one event, or `{events: [...]}`) into host input events.
/// Non-finite coordinates are rejected.
pub fn parse_input(payload: &Value, time_us: u64) -> Result<Vec<InputEvent>, ParseError> {
    let items: Vec<Value> = match payload.get("events") {
        Some(Value::Array(events)) => events.clone(),
        Some(_) => return Err(invalid("input.events must be an array")),
        None => vec![payload.clone()],
    };
    items
        .into_iter()
        .map(|item| {
            let raw: BrowserInput = serde_json::from_value(item)
                .map_err(|e| ParseError { code: codes::INVALID_INPUT, message: format!("bad input event: {e}") })?;
            normalize_browser_input(&raw, time_us)
        })
        .collect()
}

fn normalize_browser_input(raw: &BrowserInput, time_us: u64) -> Result<InputEvent, ParseError> {
    let kind = match raw.kind.as_str() {
        "pointermove" | "mousemove" => InputKind::POINTER_MOVE,
        "pointerdown" | "mousedown" => InputKind::POINTER_DOWN,
        "pointerup" | "mouseup" => InputKind::POINTER_UP,
        "wheel" => InputKind::WHEEL,
        "keydown" => InputKind::KEY_DOWN,
        "keyup" => InputKind::KEY_UP,
        "cancel" | "blur" => InputKind::CANCEL,
        other => {
            return Err(ParseError { code: codes::INVALID_INPUT, message: format!("unknown input type '{other}'") });
        }
    };
    let numbers = [raw.x, raw.y, raw.dx, raw.dy, raw.delta_y.unwrap_or(0.0), raw.notches.unwrap_or(0.0)];
    if numbers.iter().any(|v| !v.is_finite()) {
        return Err(ParseError { code: codes::INVALID_INPUT, message: "input event has a non-finite number".into() });
    }
    if raw.button > 4 {
        return Err(ParseError { code: codes::INVALID_INPUT, message: format!("unknown button {}", raw.button) });
    }
    let mut event = InputEvent::new(kind);
    event.button = raw.button;
    event.buttons = dom_buttons_to_bits(raw.buttons);
    event.x = raw.x;
    event.y = raw.y;
    event.dx = raw.dx;
    event.dy = raw.dy;
    event.wheel_notches = raw.notches.unwrap_or_else(|| -raw.delta_y.unwrap_or(0.0) / 100.0);
    event.key = raw.key.to_lowercase().into();
    event.modifiers = (u32::from(raw.shift) * ovhost_plugin_api::MOD_SHIFT)
        | (u32::from(raw.ctrl) * ovhost_plugin_api::MOD_CTRL)
        | (u32::from(raw.alt) * ovhost_plugin_api::MOD_ALT)
        | (u32::from(raw.meta) * ovhost_plugin_api::MOD_META);
    event.time_us = time_us;
    Ok(event)
}

/// DOM `buttons` bits are 1 = left, 2 = right, 4 = middle; ours are 1 = left, 2 = middle, 4 = right.
fn dom_buttons_to_bits(dom: u32) -> u32 {
    use ovhost_plugin_api::{BUTTONS_LEFT, BUTTONS_MIDDLE, BUTTONS_RIGHT};
    (if dom & 1 != 0 { BUTTONS_LEFT } else { 0 })
        | (if dom & 2 != 0 { BUTTONS_RIGHT } else { 0 })
        | (if dom & 4 != 0 { BUTTONS_MIDDLE } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_library_wrapped_envelopes() {
        let plain = parse_inbound(r#"{"event_type":"hello","payload":{"a":1}}"#).unwrap();
        assert_eq!(plain.event_type, "hello");
        assert_eq!(plain.payload["a"], 1);
        let wrapped = parse_inbound(
            r#"{"messageRecipient":"app","messageType":"json","data":"{\"event_type\":\"x\",\"payload\":{}}"}"#,
        )
        .unwrap();
        assert_eq!(wrapped.event_type, "x");
        let object_data =
            parse_inbound(r#"{"messageRecipient":"kit","messageType":"json","data":{"event_type":"y"}}"#).unwrap();
        assert_eq!(object_data.event_type, "y");
        assert_eq!(object_data.payload, json!({}));
    }

    #[test]
    fn rejects_bad_messages_with_codes() {
        assert_eq!(parse_inbound("{nope").unwrap_err().code, codes::MALFORMED_JSON);
        assert_eq!(parse_inbound("[1,2]").unwrap_err().code, codes::INVALID_ENVELOPE);
        assert_eq!(parse_inbound(r#"{"payload":{}}"#).unwrap_err().code, codes::INVALID_ENVELOPE);
        assert_eq!(parse_inbound(r#"{"event_type":3}"#).unwrap_err().code, codes::INVALID_ENVELOPE);
        assert_eq!(parse_inbound(r#"{"event_type":"a","payload":[1]}"#).unwrap_err().code, codes::INVALID_ENVELOPE);
        let big = format!(r#"{{"event_type":"a","payload":{{"s":"{}"}}}}"#, "x".repeat(MAX_MESSAGE_BYTES));
        assert_eq!(parse_inbound(&big).unwrap_err().code, codes::MESSAGE_TOO_LARGE);
    }

    #[test]
    fn normalizes_browser_input() {
        let events = parse_input(
            &json!({"events": [
                {"type": "pointerdown", "x": 10, "y": 20, "button": 2, "buttons": 2},
                {"type": "wheel", "x": 1, "y": 1, "deltaY": -200},
                {"type": "keydown", "key": "W", "shift": true}
            ]}),
            5,
        )
        .unwrap();
        assert_eq!(events[0].kind, InputKind::POINTER_DOWN);
        assert_eq!(events[0].button, 2);
        assert_eq!(events[0].buttons, ovhost_plugin_api::BUTTONS_RIGHT);
        assert_eq!(events[1].wheel_notches, 2.0);
        assert_eq!(events[2].key.as_str(), "w");
        assert_eq!(events[2].modifiers, ovhost_plugin_api::MOD_SHIFT);
        assert!(parse_input(&json!({"type": "teleport"}), 0).is_err());
        assert!(parse_input(&json!({"type": "pointermove", "x": 1, "y": 2, "button": 9}), 0).is_err());
    }
}

//! Outbound half of the `ovstream_utils.messaging` convention: `{event_type, id, payload}` as one
//! message, or `{event_type, id, part, numParts, payload:"<chunk>"}` parts when the SDK's app
//! envelope around it would exceed the part budget. Byte-compatible with the wheel's Python
//! module (compact JSON, raw UTF-8, same costs and budgets).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::MessagingError;

/// StreamSDK's custom-message limit, which the wrapped envelope must fit.
pub const TRANSPORT_LIMIT_BYTES: usize = 65535;
/// The browser client's (and the Python module's) part size.
pub const DEFAULT_PART_SIZE_BYTES: usize = 16 * 1024;
/// `{"messageType":"json","messageRecipient":"app","data":""}`.
const ENVELOPE_OVERHEAD_BYTES: usize = 57;
/// Room for the two part counters (2 × ten digits).
const PART_COUNTER_RESERVE_BYTES: usize = 20;

/// A JSON string literal (with quotes), escaped like Python's `json.dumps(ensure_ascii=False)`.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// Wire bytes of the SDK's app envelope carrying the serialized message `message`.
pub fn embedded_size(message: &str) -> usize {
    json_string(message).len() - 2 + ENVELOPE_OVERHEAD_BYTES
}

/// Upper bound on the wire bytes one character costs after both escaping passes.
fn wire_cost(ch: char) -> usize {
    match ch {
        '"' | '\\' => 4,
        c if (c as u32) < 0x20 => 7,
        c => c.len_utf8(),
    }
}

fn split(text: &str, chunk_budget: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut cost = 0;
    for (index, ch) in text.char_indices() {
        let ch_cost = wire_cost(ch);
        if cost + ch_cost > chunk_budget && index > start {
            chunks.push(&text[start..index]);
            start = index;
            cost = 0;
        }
        cost += ch_cost;
    }
    chunks.push(&text[start..]);
    chunks
}

fn single(event_type: &str, id: &str, payload_json: &str) -> String {
    format!("{{\"event_type\":{},\"id\":{},\"payload\":{}}}", json_string(event_type), json_string(id), payload_json)
}

fn part(event_type: &str, id: &str, index: usize, count: usize, chunk: &str) -> String {
    format!(
        "{{\"event_type\":{},\"id\":{},\"part\":{index},\"numParts\":{count},\"payload\":{}}}",
        json_string(event_type),
        json_string(id),
        json_string(chunk)
    )
}

/// Encodes one message. `payload_json` is the payload's JSON text (compact for byte-identical
/// output with the Python module). `part_size` is the wire-byte budget per transport message
/// (`None` = never split). Returns the messages to send, in order.
pub fn encode_parts(
    event_type: &str,
    id: &str,
    payload_json: &str,
    part_size: Option<usize>,
) -> Result<Vec<String>, MessagingError> {
    let whole = single(event_type, id, payload_json);
    let whole_size = embedded_size(&whole);
    let Some(part_size) = part_size else {
        if whole_size > TRANSPORT_LIMIT_BYTES {
            return Err(MessagingError::TooLarge { size_bytes: whole_size, limit_bytes: TRANSPORT_LIMIT_BYTES });
        }
        return Ok(vec![whole]);
    };
    let budget = part_size.min(TRANSPORT_LIMIT_BYTES);
    if whole_size <= budget {
        return Ok(vec![whole]);
    }
    let skeleton = format!(
        "{{\"event_type\":{},\"id\":{},\"part\":0,\"numParts\":0,\"payload\":\"\"}}",
        json_string(event_type),
        json_string(id)
    );
    let chunk_budget = budget
        .checked_sub(embedded_size(&skeleton) + PART_COUNTER_RESERVE_BYTES)
        .filter(|b| *b > 0)
        .ok_or_else(|| MessagingError::NoRoom(event_type.to_string()))?;
    let chunks = split(payload_json, chunk_budget);
    let messages = if chunks.len() > 1 {
        let count = chunks.len();
        chunks.iter().enumerate().map(|(i, chunk)| part(event_type, id, i + 1, count, chunk)).collect()
    } else {
        vec![whole]
    };
    if let Some(big) = messages.iter().map(|m| embedded_size(m)).find(|s| *s > TRANSPORT_LIMIT_BYTES) {
        return Err(MessagingError::TooLarge { size_bytes: big, limit_bytes: TRANSPORT_LIMIT_BYTES });
    }
    Ok(messages)
}

#[derive(Deserialize)]
struct OutboundEnvelope<'a> {
    event_type: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

/// Encodes an app envelope `{event_type, payload, id?}` (the host's JSON text). A missing or
/// empty `id` gets a fresh UUIDv4; other top-level fields are not carried.
pub fn encode_envelope(envelope_json: &str, part_size: Option<usize>) -> Result<Vec<String>, MessagingError> {
    let envelope: OutboundEnvelope<'_> =
        serde_json::from_str(envelope_json).map_err(|e| MessagingError::BadEnvelope(e.to_string()))?;
    if envelope.event_type.is_empty() {
        return Err(MessagingError::BadEnvelope("event_type is empty".into()));
    }
    let id = envelope.id.filter(|id| !id.is_empty()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let payload = envelope.payload.map_or("null", RawValue::get);
    encode_parts(&envelope.event_type, &id, payload, part_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_message_is_one_canonical_single() {
        let out = encode_parts("scene:changed", "abc", r#"{"stage":"a.usd"}"#, Some(DEFAULT_PART_SIZE_BYTES))
            .expect("encode");
        assert_eq!(out, vec![r#"{"event_type":"scene:changed","id":"abc","payload":{"stage":"a.usd"}}"#.to_string()]);
    }

    #[test]
    fn large_message_splits_within_budget_and_concatenates_back() {
        let text: String = (0..40_000).map(|i| ['a', 'é', '"', '\n', '中', '\\'][i % 6]).collect();
        let payload = serde_json::to_string(&serde_json::json!({ "text": text })).expect("json");
        let out = encode_parts("big", "id-1", &payload, Some(DEFAULT_PART_SIZE_BYTES)).expect("encode");
        assert!(out.len() > 2, "expected several parts, got {}", out.len());
        let mut joined = String::new();
        for (i, m) in out.iter().enumerate() {
            assert!(embedded_size(m) <= DEFAULT_PART_SIZE_BYTES, "part {i} is {} bytes", embedded_size(m));
            let v: serde_json::Value = serde_json::from_str(m).expect("part json");
            assert_eq!(v["part"], i + 1);
            assert_eq!(v["numParts"], out.len());
            joined.push_str(v["payload"].as_str().expect("chunk"));
        }
        assert_eq!(joined, payload);
    }

    #[test]
    fn disabled_splitting_refuses_oversized_messages() {
        let payload = serde_json::to_string(&"x".repeat(70_000)).expect("json");
        let err = encode_parts("big", "id", &payload, None).expect_err("too large");
        assert!(matches!(err, MessagingError::TooLarge { .. }));
    }

    #[test]
    fn envelope_without_id_gets_a_uuid_and_keeps_payload_text() {
        let out =
            encode_envelope(r#"{"event_type":"hello","payload":{"b":1,"a":[1,2]}}"#, Some(DEFAULT_PART_SIZE_BYTES))
                .expect("encode");
        let v: serde_json::Value = serde_json::from_str(&out[0]).expect("json");
        assert_eq!(v["id"].as_str().map(str::len), Some(36));
        assert!(out[0].ends_with(r#""payload":{"b":1,"a":[1,2]}}"#), "{}", out[0]);
        assert!(encode_envelope(r#"{"payload":1}"#, None).is_err());
    }
}

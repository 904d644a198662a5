//! Replays message-handler examples (`/api/plugins` → `examples`) over a live `/ws` connection,
//! matching each reply to the request it answers rather than to whatever arrives next.
//!
//! For each example: the request is sent; its listed responses must then arrive in order, each
//! of its `event_type`, matching by [`crate::json_subset`] (type placeholders such as
//! `"<number>"` included) and, when the request carries a `request_id` and the reply one too, with
//! the same id. A `viewerError`, or a message of a listed type that does not match, fails the
//! example at once (it is this request's answer, and the wrong one). Once every response came, a
//! fence (an unknown `event_type`, answered by the host's router with `unknown_event_type` after
//! everything the request caused) is sent; a second reply of a listed type or any other
//! `viewerError` before the fence's answer fails too: every request gets exactly its replies.
//! Pushes of other types (progress, camera lists, presence) are allowed in between. Every reply
//! is also checked against its declared payload type (`ovhost_protocol::ServerMessages`), and an
//! example whose expected payload is empty (`{}`, which matches anything) is refused.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{Ws, json_subset};

/// What a replay matched: each example's request and the replies that answered it.
#[derive(Debug, Default)]
pub struct Replayed {
    pub exchanges: Vec<(Value, Vec<Value>)>,
}

impl Replayed {
    /// How many replies were matched in all.
    pub fn replies(&self) -> usize {
        self.exchanges.iter().map(|(_, replies)| replies.len()).sum()
    }
}

/// Replays `examples` (the JSON of one handler's `examples` list) on `ws`; `label` names the
/// handler in failures. Each reply must come within `timeout` of its request.
pub fn replay_examples(ws: &mut Ws, label: &str, examples: &[Value], timeout: Duration) -> Result<Replayed, String> {
    let mut replayed = Replayed::default();
    // Whatever the connection had pending (a hello's initial state) is not an answer to anything.
    fence(ws, label, "start", &[], timeout)?;
    for (index, example) in examples.iter().enumerate() {
        let request = &example["request"];
        let expected = example["responses"]
            .as_array()
            .ok_or_else(|| format!("{label}: example {index} has no responses list: {example}"))?;
        for response in expected {
            if response["payload"].as_object().is_some_and(serde_json::Map::is_empty) {
                return Err(format!(
                    "{label}: example {index} expects {response}: an empty payload matches anything; name the reply's fields (type placeholders such as \"<number>\" are allowed)"
                ));
            }
        }
        ws.send_text(&request.to_string());
        let replies = answers(ws, label, request, expected, timeout)?;
        fence(ws, label, &format!("{index}"), expected, timeout)
            .map_err(|e| format!("{e}\n  (after the replies to {request})"))?;
        replayed.exchanges.push((request.clone(), replies));
    }
    Ok(replayed)
}

/// Reads until every response in `expected` has come, in order.
fn answers(
    ws: &mut Ws,
    label: &str,
    request: &Value,
    expected: &[Value],
    timeout: Duration,
) -> Result<Vec<Value>, String> {
    let request_id = request["payload"].get("request_id").filter(|v| !v.is_null());
    let mut replies = Vec::new();
    let mut deadline = Instant::now() + timeout;
    while replies.len() < expected.len() {
        let want = &expected[replies.len()];
        let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) else {
            return Err(format!(
                "{label}: no '{}' reply to {request} within {timeout:?} (got {} of {} replies)",
                want["event_type"].as_str().unwrap_or("?"),
                replies.len(),
                expected.len()
            ));
        };
        let event_type = message["event_type"].as_str().unwrap_or_default();
        if event_type == "viewerError" {
            return Err(format!("{label}: {request} was answered with an error: {message}"));
        }
        let correlated = match (request_id, message["payload"].get("request_id")) {
            (Some(sent), Some(got)) => sent == got,
            _ => true,
        };
        if event_type == want["event_type"] && correlated && json_subset(want, &message) {
            check_declared_type(label, &message)?;
            replies.push(message);
            deadline = Instant::now() + timeout;
        } else if expected[replies.len()..].iter().any(|e| e["event_type"] == event_type) {
            return Err(format!(
                "{label}: the '{event_type}' reply to {request} is not the expected one\n  expected {want}\n  got      {message}"
            ));
        }
    }
    Ok(replies)
}

/// Sends an unknown `event_type` and reads until its `unknown_event_type` error: everything in
/// between was caused by earlier requests. A message of a type in `expected` is a second reply.
fn fence(ws: &mut Ws, label: &str, tag: &str, expected: &[Value], timeout: Duration) -> Result<(), String> {
    let fence = format!("replayFence{tag}");
    ws.send(&fence, serde_json::json!({}));
    let deadline = Instant::now() + timeout;
    loop {
        let Some(message) = ws.recv(deadline.saturating_duration_since(Instant::now())) else {
            return Err(format!("{label}: the host did not answer the fence '{fence}' within {timeout:?}"));
        };
        let event_type = message["event_type"].as_str().unwrap_or_default();
        if event_type == "viewerError" {
            if message["payload"]["context"]["event_type"] == fence.as_str() {
                assert_eq!(message["payload"]["code"], "unknown_event_type", "{message}");
                return Ok(());
            }
            return Err(format!("{label}: an error after the replies: {message}"));
        }
        if expected.iter().any(|e| e["event_type"] == event_type) {
            return Err(format!(
                "{label}: a second '{event_type}' reply (each request gets exactly its replies): {message}"
            ));
        }
    }
}

fn check_declared_type(label: &str, message: &Value) -> Result<(), String> {
    let event_type = message["event_type"].as_str().unwrap_or_default();
    match ovhost_protocol::ServerMessages::check(event_type, &message["payload"]) {
        Some(Err(why)) => Err(format!("{label}: '{event_type}' does not match its declared type: {why}\n  {message}")),
        _ => Ok(()),
    }
}

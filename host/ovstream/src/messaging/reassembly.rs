//! Inbound half of the `ovstream_utils.messaging` convention: validates part messages, buffers
//! chunks per message id (interleaved transfers are independent), and yields the reassembled app
//! message `{event_type, id, payload}` once every part arrived. Bounded by a byte cap (oldest
//! other transfers evicted first, as in the Python module) and by an age limit for transfers
//! that stop arriving. Time is an input, so tests drive it without sleeping.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::chunking::json_string;

/// Bookkeeping cost per buffered part on top of its bytes.
const PART_OVERHEAD_BYTES: usize = 64;

#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Bytes held across all incomplete transfers (default 16 MiB, the Python default).
    pub cap_bytes: usize,
    /// An incomplete transfer with no new part for this long is dropped (default 30 s).
    pub max_idle: Duration,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        Self { cap_bytes: 16 * 1024 * 1024, max_idle: Duration::from_secs(30) }
    }
}

/// What one inbound app message produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// A complete app message (`{event_type, ...}` JSON text) ready to dispatch.
    Complete(String),
    /// A part was buffered; the message is not complete yet.
    Pending,
    /// The text was dropped; the reason is a sentence for a log line.
    Dropped(String),
}

#[derive(Debug)]
struct Transfer {
    num_parts: u64,
    parts: HashMap<u64, String>,
    size_bytes: usize,
    arrival: u64,
    last_part_at: Instant,
}

#[derive(Debug, Default)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    transfers: HashMap<String, Transfer>,
    held_bytes: usize,
    next_arrival: u64,
}

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Self {
        Self { limits, ..Self::default() }
    }

    /// Bytes currently held for incomplete transfers.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Number of incomplete transfers.
    pub fn pending_transfers(&self) -> usize {
        self.transfers.len()
    }

    /// Accepts one app message text (already unwrapped from the browser frame).
    pub fn accept(&mut self, text: &str, now: Instant) -> Inbound {
        self.expire(now);
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return Inbound::Dropped("app message is not a JSON object".into());
        };
        let Some(event_type) = message.get("event_type").and_then(Value::as_str) else {
            return Inbound::Dropped("app message has no string event_type".into());
        };
        if !message.contains_key("part") && !message.contains_key("numParts") {
            return Inbound::Complete(text.to_string());
        }
        let id = message.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        // Integers only (booleans and floats are rejected, as in the Python module).
        let part = message.get("part").and_then(Value::as_u64);
        let num_parts = message.get("numParts").and_then(Value::as_u64);
        let (Some(id), Some(part), Some(num_parts)) = (id, part, num_parts) else {
            return Inbound::Dropped(format!("{event_type}: part has invalid id/part/numParts fields"));
        };
        if part < 1 || num_parts < 1 || part > num_parts {
            return Inbound::Dropped(format!("{event_type}: part {part} of {num_parts} is out of range"));
        }
        if num_parts == 1 {
            // A one-of-one part carries the final payload value.
            return Inbound::Complete(text.to_string());
        }
        let Some(chunk) = message.get("payload").and_then(Value::as_str) else {
            return Inbound::Dropped(format!("{event_type}: multi-part chunk is not a string"));
        };
        match self.buffer(id, part, num_parts, chunk, now) {
            None => Inbound::Pending,
            Some(Err(reason)) => Inbound::Dropped(reason),
            Some(Ok(payload)) => {
                if serde_json::from_str::<&serde_json::value::RawValue>(&payload).is_err() {
                    return Inbound::Dropped(format!("{event_type}: reassembled payload of message {id} is not JSON"));
                }
                Inbound::Complete(format!(
                    "{{\"event_type\":{},\"id\":{},\"payload\":{payload}}}",
                    json_string(event_type),
                    json_string(id)
                ))
            }
        }
    }

    /// Buffers a chunk; `Some(Ok(text))` when complete, `Some(Err)` when dropped, `None` pending.
    fn buffer(
        &mut self,
        id: &str,
        part: u64,
        num_parts: u64,
        chunk: &str,
        now: Instant,
    ) -> Option<Result<String, String>> {
        let chunk_bytes = chunk.len() + PART_OVERHEAD_BYTES;
        let restart = self.transfers.get(id).is_some_and(|t| t.num_parts != num_parts);
        if restart {
            tracing::warn!(id, "app message changed numParts mid-transfer; restarting it");
            self.remove(id);
        }
        if !self.transfers.contains_key(id) {
            self.next_arrival += 1;
            self.held_bytes += id.len();
            self.transfers.insert(
                id.to_string(),
                Transfer {
                    num_parts,
                    parts: HashMap::new(),
                    size_bytes: id.len(),
                    arrival: self.next_arrival,
                    last_part_at: now,
                },
            );
        }
        let transfer = self.transfers.get_mut(id)?;
        if let Some(previous) = transfer.parts.insert(part, chunk.to_string()) {
            let previous_bytes = previous.len() + PART_OVERHEAD_BYTES;
            transfer.size_bytes -= previous_bytes;
            self.held_bytes -= previous_bytes;
        }
        transfer.size_bytes += chunk_bytes;
        transfer.last_part_at = now;
        self.held_bytes += chunk_bytes;
        let (size, complete) = (transfer.size_bytes, transfer.parts.len() as u64 == num_parts);

        if size > self.limits.cap_bytes {
            self.remove(id);
            return Some(Err(format!("message {id} exceeds the {} byte reassembly cap", self.limits.cap_bytes)));
        }
        if !complete {
            self.evict_over_cap(id);
            return None;
        }
        let mut transfer = self.transfers.remove(id)?;
        self.held_bytes -= transfer.size_bytes;
        let mut text = String::with_capacity(transfer.size_bytes);
        for index in 1..=num_parts {
            text.push_str(&transfer.parts.remove(&index)?);
        }
        Some(Ok(text))
    }

    fn remove(&mut self, id: &str) {
        if let Some(t) = self.transfers.remove(id) {
            self.held_bytes -= t.size_bytes;
        }
    }

    fn evict_over_cap(&mut self, keep: &str) {
        while self.held_bytes > self.limits.cap_bytes {
            let oldest = self
                .transfers
                .iter()
                .filter(|(id, _)| id.as_str() != keep)
                .min_by_key(|(_, t)| t.arrival)
                .map(|(id, _)| id.clone());
            let Some(oldest) = oldest else { return };
            tracing::warn!(id = %oldest, "dropped incomplete app message: reassembly cap exceeded");
            self.remove(&oldest);
        }
    }

    fn expire(&mut self, now: Instant) {
        let max_idle = self.limits.max_idle;
        let stale: Vec<String> = self
            .transfers
            .iter()
            .filter(|(_, t)| now.saturating_duration_since(t.last_part_at) > max_idle)
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            tracing::warn!(%id, "dropped incomplete app message: no part for {max_idle:?}");
            self.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::encode_parts;

    fn parts(id: &str, text_len: usize) -> (String, Vec<String>) {
        let payload = serde_json::to_string(&serde_json::json!({"blob": "ü\"x".repeat(text_len)})).expect("json");
        (payload.clone(), encode_parts("big:thing", id, &payload, Some(4096)).expect("encode"))
    }

    #[test]
    fn interleaved_transfers_reassemble_independently() {
        let now = Instant::now();
        let (pa, a) = parts("a", 3000);
        let (pb, b) = parts("b", 2000);
        assert!(a.len() > 2 && b.len() > 2);
        let mut r = Reassembler::default();
        let mut done = Vec::new();
        let mut ia = a.iter();
        let mut ib = b.iter().rev(); // out of order, interleaved
        loop {
            let (x, y) = (ia.next(), ib.next());
            if x.is_none() && y.is_none() {
                break;
            }
            for m in [x, y].into_iter().flatten() {
                match r.accept(m, now) {
                    Inbound::Complete(t) => done.push(t),
                    Inbound::Pending => {}
                    Inbound::Dropped(why) => panic!("dropped: {why}"),
                }
            }
        }
        assert_eq!(done.len(), 2);
        for t in done {
            let v: Value = serde_json::from_str(&t).expect("json");
            let expected = if v["id"] == "a" { &pa } else { &pb };
            assert_eq!(serde_json::to_string(&v["payload"]).expect("json"), *expected);
            assert_eq!(v["event_type"], "big:thing");
        }
        assert_eq!((r.held_bytes(), r.pending_transfers()), (0, 0));
    }

    #[test]
    fn stale_transfers_expire_and_duplicates_replace() {
        let start = Instant::now();
        let (_, a) = parts("a", 3000);
        let mut r = Reassembler::new(ReassemblyLimits { max_idle: Duration::from_secs(5), ..Default::default() });
        assert_eq!(r.accept(&a[0], start), Inbound::Pending);
        assert_eq!(r.accept(&a[0], start), Inbound::Pending); // duplicate replaces
        let held = r.held_bytes();
        assert_eq!(r.accept(&a[1], start + Duration::from_secs(10)), Inbound::Pending);
        assert_eq!(r.pending_transfers(), 1, "the old transfer expired and a new one began");
        assert!(r.held_bytes() <= held + a[1].len());
    }

    #[test]
    fn cap_drops_oversized_and_evicts_oldest() {
        let now = Instant::now();
        let (_, a) = parts("a", 3000);
        let (_, b) = parts("b", 3000);
        let mut r = Reassembler::new(ReassemblyLimits { cap_bytes: 3000, ..Default::default() });
        assert_eq!(r.accept(&a[0], now), Inbound::Pending);
        assert!(r.held_bytes() > 1500 && r.held_bytes() < 3000, "one part holds {} bytes", r.held_bytes());
        assert_eq!(r.accept(&b[0], now), Inbound::Pending);
        assert_eq!(r.pending_transfers(), 1, "a was evicted for b");
        let mut dropped = false;
        for m in &b[1..] {
            if let Inbound::Dropped(why) = r.accept(m, now) {
                assert!(why.contains("cap"), "{why}");
                dropped = true;
                break;
            }
        }
        assert!(dropped, "a transfer larger than the cap is dropped");
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn invalid_parts_are_dropped_and_singles_pass() {
        let now = Instant::now();
        let mut r = Reassembler::default();
        assert!(matches!(
            r.accept(r#"{"event_type":"x","id":"1","part":true,"numParts":2,"payload":"a"}"#, now),
            Inbound::Dropped(_)
        ));
        assert!(matches!(
            r.accept(r#"{"event_type":"x","id":"1","part":3,"numParts":2,"payload":"a"}"#, now),
            Inbound::Dropped(_)
        ));
        assert!(matches!(
            r.accept(r#"{"event_type":"x","id":"1","part":1.0,"numParts":2,"payload":"a"}"#, now),
            Inbound::Dropped(_)
        ));
        assert!(matches!(
            r.accept(r#"{"event_type":"x","part":1,"numParts":2,"payload":"a"}"#, now),
            Inbound::Dropped(_)
        ));
        assert!(matches!(
            r.accept(r#"{"event_type":"x","id":"1","part":1,"numParts":2,"payload":{}}"#, now),
            Inbound::Dropped(_)
        ));
        let one = r#"{"event_type":"x","id":"1","part":1,"numParts":1,"payload":{"a":1}}"#;
        assert_eq!(r.accept(one, now), Inbound::Complete(one.into()));
        assert!(matches!(r.accept(r#"{"id":"1"}"#, now), Inbound::Dropped(_)));
        // Two-part message whose concatenation is not JSON.
        assert_eq!(
            r.accept(r#"{"event_type":"x","id":"2","part":1,"numParts":2,"payload":"{\"a\""}"#, now),
            Inbound::Pending
        );
        assert!(matches!(
            r.accept(r#"{"event_type":"x","id":"2","part":2,"numParts":2,"payload":"}"}"#, now),
            Inbound::Dropped(_)
        ));
    }
}

//! Parked messages: a message whose handler asked the stage query thread something waits here,
//! with the client's later messages behind it (each client's messages stay in order), until the
//! answer arrives; then the render loop dispatches it again and the service answers from the
//! stage slot's answers. Owned by [`super::render_loop::RenderLoop`]; render thread only.
//!
//! Bounded per client, in messages and in bytes: a message beyond either is answered `busy`.

use std::collections::{HashMap, VecDeque};

use super::hub::ClientId;
use crate::protocol::Envelope;

/// Most messages one client may have waiting behind a parked one (the parked one included).
pub const MAX_WAITING_MESSAGES: usize = 64;
/// Most bytes (as received) of one client's waiting messages.
pub const MAX_WAITING_BYTES: usize = 1 << 20;

#[derive(Default)]
pub struct Deferred {
    clients: HashMap<ClientId, Backlog>,
}

#[derive(Default)]
struct Backlog {
    /// The ticket the first message waits for; `None` while the backlog is being replayed.
    waiting_on: Option<u64>,
    messages: VecDeque<Envelope>,
    bytes: usize,
}

impl Deferred {
    /// Whether `client` has messages waiting (its new messages must queue behind them).
    pub fn holds(&self, client: ClientId) -> bool {
        self.clients.contains_key(&client)
    }

    /// Queues a message behind the client's parked one; `Err` with the reason when over budget.
    pub fn queue(&mut self, client: ClientId, envelope: Envelope) -> Result<(), String> {
        let backlog = self.clients.entry(client).or_default();
        if backlog.messages.len() >= MAX_WAITING_MESSAGES || backlog.bytes + envelope.wire_bytes > MAX_WAITING_BYTES {
            return Err(format!(
                "{} messages ({} bytes) already wait for the stage worker's answer to an earlier one (at most \
                 {MAX_WAITING_MESSAGES} messages, {MAX_WAITING_BYTES} bytes); '{}' was not handled",
                backlog.messages.len(),
                backlog.bytes,
                crate::protocol::truncate_chars(&envelope.event_type, 128),
            ));
        }
        backlog.bytes += envelope.wire_bytes;
        backlog.messages.push_back(envelope);
        Ok(())
    }

    /// Parks a message that waits for `ticket`, ahead of the client's other waiting messages.
    pub fn park(&mut self, client: ClientId, envelope: Envelope, ticket: u64) {
        let backlog = self.clients.entry(client).or_default();
        backlog.bytes += envelope.wire_bytes;
        backlog.messages.push_front(envelope);
        backlog.waiting_on = Some(ticket);
    }

    /// The clients whose parked message waited for `ticket`: they are to be replayed now.
    pub fn ready_for(&mut self, ticket: u64) -> Vec<ClientId> {
        let mut ready: Vec<ClientId> = self
            .clients
            .iter_mut()
            .filter(|(_, b)| b.waiting_on == Some(ticket))
            .map(|(client, b)| {
                b.waiting_on = None;
                *client
            })
            .collect();
        ready.sort_unstable();
        ready
    }

    /// The client's next message to dispatch, unless its first one still waits.
    pub fn next(&mut self, client: ClientId) -> Option<Envelope> {
        let backlog = self.clients.get_mut(&client)?;
        if backlog.waiting_on.is_some() {
            return None;
        }
        let envelope = backlog.messages.pop_front();
        if let Some(e) = &envelope {
            backlog.bytes = backlog.bytes.saturating_sub(e.wire_bytes);
        }
        if backlog.messages.is_empty() {
            self.clients.remove(&client);
        }
        envelope
    }

    /// A client left: its waiting messages are dropped.
    pub fn forget(&mut self, client: ClientId) {
        self.clients.remove(&client);
    }

    /// Messages waiting, all clients together (for diagnostics).
    pub fn len(&self) -> usize {
        self.clients.values().map(|b| b.messages.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(event_type: &str) -> Envelope {
        Envelope { event_type: event_type.into(), payload: serde_json::json!({}), wire_bytes: 100 }
    }

    #[test]
    fn messages_wait_in_order_behind_the_parked_one() {
        let mut deferred = Deferred::default();
        deferred.park(7, message("a"), 1);
        deferred.queue(7, message("b")).unwrap();
        assert!(deferred.holds(7) && !deferred.holds(8));
        assert_eq!(deferred.next(7), None, "the first message still waits");
        assert!(deferred.ready_for(2).is_empty());
        assert_eq!(deferred.ready_for(1), vec![7]);
        assert_eq!(deferred.next(7).unwrap().event_type, "a");
        // "a" parks again on another ticket, ahead of "b".
        deferred.park(7, message("a"), 3);
        assert_eq!(deferred.next(7), None);
        assert_eq!(deferred.ready_for(3), vec![7]);
        assert_eq!(deferred.next(7).unwrap().event_type, "a");
        assert_eq!(deferred.next(7).unwrap().event_type, "b");
        assert!(!deferred.holds(7), "an emptied backlog lets new messages through");
    }

    #[test]
    fn the_backlog_is_bounded() {
        let mut deferred = Deferred::default();
        deferred.park(1, message("first"), 1);
        for _ in 1..MAX_WAITING_MESSAGES {
            deferred.queue(1, message("more")).unwrap();
        }
        let refused = deferred.queue(1, message("one too many")).unwrap_err();
        assert!(refused.contains("one too many") && refused.contains("at most"), "{refused}");
        deferred.forget(1);
        assert!(deferred.is_empty());
    }
}

//! The input router's queue: input events wait here until the next frame, where consecutive
//! pointer moves (same client, same buttons held) are coalesced into one event with summed
//! movement. Each event keeps the client that sent it (clicks are judged per client).

use ovhost_plugin_api::{InputEvent, InputKind};

use super::hub::ClientId;

/// Pending events beyond this are dropped (oldest moves first) so a flood cannot grow memory.
pub const MAX_PENDING_EVENTS: usize = 4096;

#[derive(Default)]
pub struct InputQueue {
    pending: Vec<(ClientId, InputEvent)>,
    /// Highest client input sequence number received (echoed in video frame headers).
    pub last_seq: u32,
    pub dropped: u64,
}

impl InputQueue {
    pub fn push(&mut self, client: ClientId, event: InputEvent) {
        if let (Some((last_client, last)), true) = (self.pending.last_mut(), event.kind == InputKind::POINTER_MOVE)
            && *last_client == client
            && last.kind == InputKind::POINTER_MOVE
            && last.buttons == event.buttons
            && last.modifiers == event.modifiers
        {
            last.dx += event.dx;
            last.dy += event.dy;
            last.x = event.x;
            last.y = event.y;
            last.time_us = event.time_us;
            return;
        }
        if self.pending.len() >= MAX_PENDING_EVENTS {
            self.dropped += 1;
            return;
        }
        self.pending.push((client, event));
    }

    /// Whether events wait for the next frame.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes the coalesced events for this frame.
    pub fn drain(&mut self) -> Vec<(ClientId, InputEvent)> {
        std::mem::take(&mut self.pending)
    }

    /// Drops pending events (stage switch, viewport inactive).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(dx: f32, buttons: u32) -> InputEvent {
        let mut e = InputEvent::new(InputKind::POINTER_MOVE);
        e.dx = dx;
        e.x = dx;
        e.buttons = buttons;
        e
    }

    #[test]
    fn coalesces_moves_with_same_buttons_only() {
        let mut q = InputQueue::default();
        q.push(1, moved(1.0, 1));
        q.push(1, moved(2.0, 1));
        q.push(1, InputEvent::new(InputKind::POINTER_UP));
        q.push(1, moved(4.0, 0));
        q.push(1, moved(8.0, 0));
        q.push(2, moved(16.0, 0));
        let events = q.drain();
        assert_eq!(events.len(), 4, "another client's move is not merged");
        assert_eq!(events[0].1.dx, 3.0);
        assert_eq!(events[0].1.x, 2.0);
        assert_eq!(events[2].1.dx, 12.0);
        assert_eq!(events[3], (2, moved(16.0, 0)));
        assert!(q.drain().is_empty());
    }
}

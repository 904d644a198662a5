//! The C callbacks ovstream calls on its own threads. They only copy their arguments into a
//! bounded queue (dropping and counting when full) or flip an atomic; all parsing happens later
//! on the host thread in `OvstreamSink::poll_events`. Panics never unwind into C.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::config::ClientPolicy;
use crate::ffi::server::Handle;
use crate::ffi::types::{self, OvString, SignalingHeader};

/// What a callback captured, before normalization.
#[derive(Debug)]
pub(crate) enum RawEvent {
    Connection(bool),
    /// Raw message-callback text (may be a browser frame or a bare app message).
    Message(String),
    /// App-message-callback text (the SDK already unwrapped the app frame).
    AppMessage(String),
    Input(Box<types::InputEvent>),
    Unicode(String),
}

/// State shared with the callbacks (`user_data` points here; it outlives `destroy_server`).
#[derive(Debug)]
pub(crate) struct Shared {
    pub queue: Mutex<VecDeque<RawEvent>>,
    pub capacity: usize,
    pub dropped: AtomicU64,
    pub connected: AtomicBool,
    pub policy: ClientPolicy,
    pub rejected_clients: AtomicU64,
}

impl Shared {
    pub fn new(capacity: usize, policy: ClientPolicy) -> Self {
        Self {
            queue: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            policy,
            rejected_clients: AtomicU64::new(0),
        }
    }

    pub fn push(&self, event: RawEvent) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() >= self.capacity {
            drop(queue);
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped_total = n,
                    "ovstream event queue is full; dropping events (is the host polling?)"
                );
            }
            return;
        }
        queue.push_back(event);
    }

    pub fn drain(&self) -> Vec<RawEvent> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.drain(..).collect()
    }
}

/// Runs `f` and swallows a panic (logged): callbacks must never unwind into C.
fn guarded<R>(name: &str, fallback: R, f: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(callback = name, "panic inside an ovstream callback was caught");
            fallback
        }
    }
}

/// # Safety
/// `user` must be the `Shared` registered with the callback, alive until destroy returns.
unsafe fn shared<'a>(user: *mut c_void) -> Option<&'a Shared> {
    // SAFETY: per this function's contract.
    unsafe { user.cast::<Shared>().as_ref() }
}

pub(crate) unsafe extern "C" fn on_connection(_server: Handle, connected: bool, user: *mut c_void) {
    guarded("connection", (), || {
        // SAFETY: `user` is the sink's `Shared`, kept alive past destroy_server.
        if let Some(s) = unsafe { shared(user) } {
            s.connected.store(connected, Ordering::SeqCst);
            s.push(RawEvent::Connection(connected));
        }
    });
}

pub(crate) unsafe extern "C" fn on_message(_server: Handle, text: OvString, user: *mut c_void) {
    guarded("message", (), || {
        // SAFETY: `user` is the sink's `Shared`; `text` is valid for this call and copied.
        if let Some(s) = unsafe { shared(user) } {
            // SAFETY: `text` is an SDK view valid for the duration of this call; copied here.
            let text = unsafe { text.to_string_lossy() };
            s.push(RawEvent::Message(text));
        }
    });
}

pub(crate) unsafe extern "C" fn on_app_message(_server: Handle, text: OvString, user: *mut c_void) {
    guarded("app_message", (), || {
        // SAFETY: `user` is the sink's `Shared`; `text` is valid for this call and copied.
        if let Some(s) = unsafe { shared(user) } {
            // SAFETY: `text` is an SDK view valid for the duration of this call; copied here.
            let text = unsafe { text.to_string_lossy() };
            s.push(RawEvent::AppMessage(text));
        }
    });
}

pub(crate) unsafe extern "C" fn on_unicode(_server: Handle, text: OvString, user: *mut c_void) {
    guarded("unicode", (), || {
        // SAFETY: `user` is the sink's `Shared`; `text` is valid for this call and copied.
        if let Some(s) = unsafe { shared(user) } {
            // SAFETY: `text` is an SDK view valid for the duration of this call; copied here.
            let text = unsafe { text.to_string_lossy() };
            s.push(RawEvent::Unicode(text));
        }
    });
}

pub(crate) unsafe extern "C" fn on_input(_server: Handle, event: *const types::InputEvent, user: *mut c_void) {
    guarded("input", (), || {
        // SAFETY: `user` is the sink's `Shared`; `event` is valid for this call and copied.
        if let (Some(s), Some(e)) = unsafe { (shared(user), event.as_ref()) } {
            s.push(RawEvent::Input(Box::new(*e)));
        }
    });
}

/// Applies the one-client policy at signaling time (WebRTC/native).
pub(crate) unsafe extern "C" fn on_signaling_headers(
    _server: Handle,
    _headers: *const SignalingHeader,
    _count: u32,
    user: *mut c_void,
) -> bool {
    guarded("signaling_headers", true, || {
        // SAFETY: `user` is the sink's `Shared`, kept alive past destroy_server.
        let Some(s) = (unsafe { shared(user) }) else { return true };
        if !s.connected.load(Ordering::SeqCst) {
            return true;
        }
        match s.policy {
            ClientPolicy::RejectNew => {
                s.rejected_clients.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "rejecting a second client: this ovstream server serves one client at a time (client policy reject-new)"
                );
                false
            }
            ClientPolicy::ReplaceOld => {
                tracing::warn!(
                    "a second client is connecting and replaces the connected one (client policy replace-old)"
                );
                true
            }
        }
    })
}

/// ovstream log lines → `tracing` (target `ovstream`).
pub(crate) unsafe extern "C" fn on_log(
    severity: i32,
    message: OvString,
    channel: OvString,
    _timestamp: f64,
    _user: *mut c_void,
) {
    guarded("log", (), || {
        // SAFETY: both views are valid for this call and copied.
        let (message, channel) = unsafe { (message.to_string_lossy(), channel.to_string_lossy()) };
        match severity {
            types::log_level::VERBOSE => tracing::debug!(target: "ovstream", channel, "{message}"),
            types::log_level::INFO => tracing::info!(target: "ovstream", channel, "{message}"),
            types::log_level::WARNING => tracing::warn!(target: "ovstream", channel, "{message}"),
            _ => tracing::error!(target: "ovstream", channel, "{message}"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_is_bounded_and_counts_drops() {
        let s = Shared::new(2, ClientPolicy::RejectNew);
        for _ in 0..5 {
            s.push(RawEvent::Unicode("x".into()));
        }
        assert_eq!(s.drain().len(), 2);
        assert_eq!(s.dropped.load(Ordering::Relaxed), 3);
        assert!(s.drain().is_empty());
    }

    #[test]
    fn second_client_is_rejected_or_admitted_by_policy() {
        let reject = Shared::new(8, ClientPolicy::RejectNew);
        let user = (&reject as *const Shared).cast_mut().cast::<c_void>();
        // SAFETY: `user` points at a live Shared; NULL headers with count 0 are never read.
        unsafe {
            assert!(on_signaling_headers(std::ptr::null_mut(), std::ptr::null(), 0, user));
            on_connection(std::ptr::null_mut(), true, user);
            assert!(!on_signaling_headers(std::ptr::null_mut(), std::ptr::null(), 0, user));
        }
        assert_eq!(reject.rejected_clients.load(Ordering::Relaxed), 1);
        let replace = Shared::new(8, ClientPolicy::ReplaceOld);
        let user = (&replace as *const Shared).cast_mut().cast::<c_void>();
        // SAFETY: as above.
        unsafe {
            on_connection(std::ptr::null_mut(), true, user);
            assert!(on_signaling_headers(std::ptr::null_mut(), std::ptr::null(), 0, user));
        }
    }
}

//! The host context a message handler receives with every call: reply, broadcast, and typed host
//! services.
//!
//! [`HostContextMut`] is a hand-written `#[repr(C)]` pair (the host's object, a static table of
//! `extern "C"` functions) rather than a `#[sabi_trait]` object: a handler call then costs what a
//! plain trait-object call does (the generated trait-object parameter cost ~5 ns per call in 0.1).
//! The table is a prefix type, so functions are appended in 0.2.x like any other field: a plugin
//! that calls a function an older host lacks gets an `unsupported` error, never a crash.
//!
//! Plugin authors use [`HostContextExt`]: `reply_json(&T)`, `broadcast_json(&T)` and
//! `call::<S>(&args)` for a typed [`crate::services::Service`].

use std::marker::PhantomData;

use abi_stable::{
    StableAbi,
    prefix_type::WithMetadata,
    staticref,
    std_types::{RResult, RStr, RString},
};
use serde::Serialize;

use crate::PluginError;
use crate::services::{Event, Service};

/// What the host implements to serve handler calls. Plugins never implement it (tests do, to
/// record what a handler sends).
pub trait HostContext {
    /// The connection the message came from (0 when the host itself raised the event).
    fn client_id(&self) -> u64;
    /// Sends `{event_type, payload}` to the client the message came from.
    fn reply(&mut self, event_type: &str, payload_json: &str);
    /// Sends `{event_type, payload}` to every connected client of the handler's dialect.
    fn broadcast(&mut self, event_type: &str, payload_json: &str);
    /// Calls a named host service with JSON arguments, returning its JSON answer.
    fn call(&mut self, service: &str, args_json: &str) -> Result<String, PluginError>;
}

/// The function table behind a [`HostContextMut`]. Append-only (see `EVOLUTION.md`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostVtableRef)))]
#[sabi(missing_field(option))]
pub struct HostVtable {
    pub client_id: unsafe extern "C" fn(*mut ()) -> u64,
    pub reply: unsafe extern "C" fn(*mut (), RStr<'_>, RStr<'_>),
    pub broadcast: unsafe extern "C" fn(*mut (), RStr<'_>, RStr<'_>),
    #[sabi(last_prefix_field)]
    pub call: unsafe extern "C" fn(*mut (), RStr<'_>, RStr<'_>) -> RResult<RString, PluginError>,
}

/// The host context as handlers receive it: valid for the call it is passed to (the lifetime
/// says so); it cannot be kept.
#[repr(C)]
#[derive(StableAbi)]
pub struct HostContextMut<'a> {
    this: *mut (),
    vtable: HostVtableRef,
    _borrow: PhantomData<&'a mut ()>,
}

unsafe extern "C" fn client_id_of<T: HostContext>(this: *mut ()) -> u64 {
    // SAFETY: `this` is the `&mut T` given to `HostContextMut::new`, alive for the context's
    // lifetime, and only reached through that context.
    let this = unsafe { &*(this as *const T) };
    this.client_id()
}

unsafe extern "C" fn reply_of<T: HostContext>(this: *mut (), event_type: RStr<'_>, payload: RStr<'_>) {
    // SAFETY: as in `client_id_of`; the context is borrowed mutably, so access is exclusive.
    let this = unsafe { &mut *(this as *mut T) };
    this.reply(event_type.as_str(), payload.as_str());
}

unsafe extern "C" fn broadcast_of<T: HostContext>(this: *mut (), event_type: RStr<'_>, payload: RStr<'_>) {
    // SAFETY: as in `reply_of`.
    let this = unsafe { &mut *(this as *mut T) };
    this.broadcast(event_type.as_str(), payload.as_str());
}

unsafe extern "C" fn call_of<T: HostContext>(
    this: *mut (),
    service: RStr<'_>,
    args: RStr<'_>,
) -> RResult<RString, PluginError> {
    // SAFETY: as in `reply_of`.
    let this = unsafe { &mut *(this as *mut T) };
    crate::guard(|| this.call(service.as_str(), args.as_str()).map(RString::from).into())
}

struct VtableFor<T>(PhantomData<T>);

impl<T: HostContext> VtableFor<T> {
    staticref! {
        const TABLE: WithMetadata<HostVtable> = WithMetadata::new(HostVtable {
            client_id: client_id_of::<T>,
            reply: reply_of::<T>,
            broadcast: broadcast_of::<T>,
            call: call_of::<T>,
        })
    }
}

impl<'a> HostContextMut<'a> {
    /// Wraps the host's (or a test's) context object for one call.
    pub fn new<T: HostContext>(target: &'a mut T) -> Self {
        Self {
            this: (target as *mut T).cast(),
            vtable: HostVtableRef(VtableFor::<T>::TABLE.as_prefix()),
            _borrow: PhantomData,
        }
    }

    /// The connection the message came from (0 when the host itself raised the event).
    pub fn client_id(&self) -> u64 {
        // SAFETY: `this` and the table were paired by `new` and are alive for `'a`.
        unsafe { (self.vtable.client_id())(self.this) }
    }

    /// Sends `{event_type, payload}` (payload as JSON text) to the client the message came from.
    pub fn reply(&mut self, event_type: &str, payload_json: &str) {
        // SAFETY: as in `client_id`.
        unsafe { (self.vtable.reply())(self.this, event_type.into(), payload_json.into()) }
    }

    /// Sends `{event_type, payload}` to every client of the handler's dialect.
    pub fn broadcast(&mut self, event_type: &str, payload_json: &str) {
        // SAFETY: as in `client_id`.
        unsafe { (self.vtable.broadcast())(self.this, event_type.into(), payload_json.into()) }
    }

    /// Calls a host service by name with JSON text arguments (prefer [`HostContextExt::call`]).
    pub fn call_raw(&mut self, service: &str, args_json: &str) -> Result<String, PluginError> {
        // SAFETY: as in `client_id`.
        unsafe { (self.vtable.call())(self.this, service.into(), args_json.into()) }.into_result().map(String::from)
    }

    /// Re-borrows the context for a nested call.
    pub fn reborrow(&mut self) -> HostContextMut<'_> {
        HostContextMut { this: self.this, vtable: self.vtable, _borrow: PhantomData }
    }
}

/// Typed helpers for plugin authors.
pub trait HostContextExt {
    /// Replies with `payload` serialized as JSON.
    fn reply_json<T: Serialize + ?Sized>(&mut self, event_type: &str, payload: &T);
    /// Broadcasts `payload` serialized as JSON to the handler's dialect.
    fn broadcast_json<T: Serialize + ?Sized>(&mut self, event_type: &str, payload: &T);
    /// Sends a typed host event's payload (e.g. an event a plugin re-broadcasts).
    fn reply_event<E: Event>(&mut self, payload: &E::Payload);
    /// Calls host service `S` with typed arguments and parses its typed answer. A malformed
    /// answer is an `internal` error, never a panic.
    fn call<S: Service>(&mut self, args: &S::Args) -> Result<S::Answer, PluginError>;
}

impl HostContextExt for HostContextMut<'_> {
    fn reply_json<T: Serialize + ?Sized>(&mut self, event_type: &str, payload: &T) {
        match serde_json::to_string(payload) {
            Ok(text) => self.reply(event_type, &text),
            Err(e) => self.reply(event_type, &serde_json::json!({ "error": e.to_string() }).to_string()),
        }
    }

    fn broadcast_json<T: Serialize + ?Sized>(&mut self, event_type: &str, payload: &T) {
        if let Ok(text) = serde_json::to_string(payload) {
            self.broadcast(event_type, &text);
        }
    }

    fn reply_event<E: Event>(&mut self, payload: &E::Payload) {
        self.reply_json(E::NAME, payload);
    }

    fn call<S: Service>(&mut self, args: &S::Args) -> Result<S::Answer, PluginError> {
        let args = serde_json::to_string(args).map_err(|e| PluginError::invalid_input(e.to_string()))?;
        let answer = self.call_raw(S::NAME, &args)?;
        serde_json::from_str(&answer).map_err(|e| {
            PluginError::internal(format!("host service '{}' answered in an unexpected shape: {e}", S::NAME))
        })
    }
}

//! A thin, JSON-typed view of the host context a handler receives: call a host service with a
//! `serde_json::Value`, reply to the requesting client, broadcast to the dialect's clients.

use ovhost_plugin_api::prelude::*;
use serde_json::Value;

/// The host services and message sinks for one handler call.
pub struct Host<'c, 'a> {
    ctx: &'c mut HostContextMut<'a>,
}

impl<'c, 'a> Host<'c, 'a> {
    pub fn new(ctx: &'c mut HostContextMut<'a>) -> Self {
        Self { ctx }
    }

    /// The connection the message (or host event) concerns; 0 for host-wide events.
    pub fn client_id(&self) -> u64 {
        self.ctx.client_id()
    }

    /// Calls a host service (see docs/PLUGINS.md) and parses its JSON result.
    pub fn call(&mut self, service: &str, args: Value) -> Result<Value, PluginError> {
        let text = self.call_text(service, args)?;
        serde_json::from_str(&text)
            .map_err(|e| PluginError::internal(format!("host service '{service}' returned invalid JSON: {e}")))
    }

    /// Calls a host service and returns its JSON text unparsed (for large results that are
    /// deserialized into typed rows).
    pub fn call_text(&mut self, service: &str, args: Value) -> Result<String, PluginError> {
        Ok(self.ctx.call(service.into(), args.to_string().as_str().into()).into_result()?.into_string())
    }

    /// Sends `{event_type, payload}` to the requesting client (every client for host-wide events).
    pub fn reply(&mut self, event_type: &str, payload: &Value) {
        self.ctx.reply(event_type.into(), payload.to_string().as_str().into());
    }

    /// Sends `{event_type, payload}` to every client of this handler's dialect.
    pub fn broadcast(&mut self, event_type: &str, payload: &Value) {
        self.ctx.broadcast(event_type.into(), payload.to_string().as_str().into());
    }

    /// [`Host::reply`] with a payload that is already JSON text.
    pub fn reply_text(&mut self, event_type: &str, payload_json: &str) {
        self.ctx.reply(event_type.into(), payload_json.into());
    }

    /// [`Host::broadcast`] with a payload that is already JSON text.
    pub fn broadcast_text(&mut self, event_type: &str, payload_json: &str) {
        self.ctx.broadcast(event_type.into(), payload_json.into());
    }
}

//! The message router: owns one instance of every registered message handler and dispatches
//! each inbound `event_type` to the handler that declared it, on the render thread, in arrival
//! order. A handler that panics is disabled and reported; the stream continues.

use std::collections::BTreeMap;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString};
use ovhost_plugin_api::{HandlerBox, HostContext, HostContext_TO, PluginError};
use serde_json::{Value, json};

use super::hub::{ClientHub, ClientId};
use crate::plugins::Registry;
use crate::protocol::{self, codes};

/// Host services callable by handlers through `HostContext::call`.
pub trait Services {
    fn call(&mut self, client: ClientId, service: &str, args: &Value) -> Result<Value, PluginError>;
}

struct Handler {
    id: String,
    plugin: String,
    instance: HandlerBox,
}

/// Why a handler is not running.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DisabledHandler {
    pub id: String,
    pub plugin: String,
    pub reason: String,
}

#[derive(Default)]
pub struct Router {
    handlers: Vec<Handler>,
    /// `event_type` → index into `handlers`.
    routes: BTreeMap<String, usize>,
    pub disabled: Vec<DisabledHandler>,
}

impl Router {
    /// Creates one instance of every registered handler. `config_for(id)` gives its JSON config.
    pub fn new(registry: &Registry, config_for: impl Fn(&str) -> String) -> Self {
        let mut router = Router::default();
        for (id, registered) in &registry.handlers {
            let config = config_for(id);
            match (registered.entry.create)(config.as_str().into()) {
                RResult::ROk(instance) => {
                    let index = router.handlers.len();
                    for event_type in registered.entry.event_types.iter() {
                        router.routes.insert(event_type.to_string(), index);
                    }
                    router.handlers.push(Handler { id: id.clone(), plugin: registered.plugin.clone(), instance });
                }
                RResult::RErr(e) => {
                    tracing::error!(handler = %id, plugin = %registered.plugin, "handler could not be created: {e}");
                    router.disabled.push(DisabledHandler {
                        id: id.clone(),
                        plugin: registered.plugin.clone(),
                        reason: format!("creation failed: {e}"),
                    });
                }
            }
        }
        router
    }

    pub fn handles(&self, event_type: &str) -> bool {
        self.routes.contains_key(event_type)
    }

    /// Dispatches one message. Unknown types and handler failures produce a `viewerError` reply.
    pub fn dispatch(
        &mut self,
        hub: &ClientHub,
        services: &mut dyn Services,
        client: ClientId,
        event_type: &str,
        payload: &Value,
    ) {
        let Some(&index) = self.routes.get(event_type) else {
            hub.send(
                client,
                protocol::viewer_error(
                    codes::UNKNOWN_EVENT_TYPE,
                    &format!("no handler for event_type '{event_type}'"),
                    Some(json!({ "event_type": event_type })),
                ),
            );
            return;
        };
        let payload_text = payload.to_string();
        let result = {
            let handler = &mut self.handlers[index];
            let mut ctx = Ctx { client, hub, services };
            handler.instance.handle(
                HostContext_TO::from_ptr(&mut ctx, TD_Opaque),
                event_type.into(),
                payload_text.as_str().into(),
            )
        };
        if let RResult::RErr(error) = result {
            self.report_failure(hub, client, index, event_type, &error);
        }
    }

    /// Tells every handler about a host event (`clientConnected`, `stageOpened`, ...).
    pub fn notify(
        &mut self,
        hub: &ClientHub,
        services: &mut dyn Services,
        client: ClientId,
        event: &str,
        payload: &Value,
    ) {
        let payload_text = payload.to_string();
        for index in 0..self.handlers.len() {
            if self.is_disabled(index) {
                continue;
            }
            let result = {
                let mut ctx = Ctx { client, hub, services: &mut *services };
                self.handlers[index].instance.on_host_event(
                    HostContext_TO::from_ptr(&mut ctx, TD_Opaque),
                    event.into(),
                    payload_text.as_str().into(),
                )
            };
            if let RResult::RErr(error) = result {
                self.report_failure(hub, client, index, event, &error);
            }
        }
    }

    fn is_disabled(&self, index: usize) -> bool {
        let handler = &self.handlers[index];
        self.disabled.iter().any(|d| d.id == handler.id)
    }

    fn report_failure(
        &mut self,
        hub: &ClientHub,
        client: ClientId,
        index: usize,
        event_type: &str,
        error: &PluginError,
    ) {
        let (id, plugin) = (self.handlers[index].id.clone(), self.handlers[index].plugin.clone());
        if error.is_panic() {
            let reason = format!("panicked while handling '{event_type}': {}", error.message);
            tracing::error!(handler = %id, %plugin, "message handler {reason}; it has been disabled, the stream continues");
            self.routes.retain(|_, i| *i != index);
            self.disabled.push(DisabledHandler { id: id.clone(), plugin: plugin.clone(), reason: reason.clone() });
            hub.broadcast(&protocol::viewer_error(
                codes::PLUGIN_DISABLED,
                &format!("handler '{id}' (plugin '{plugin}') {reason}; it has been disabled"),
                Some(json!({ "handler": id, "plugin": plugin, "event_type": event_type })),
            ));
        } else {
            tracing::debug!(handler = %id, "handler returned an error for '{event_type}': {error}");
            hub.send(
                client,
                protocol::viewer_error(
                    error.kind.name(),
                    &error.message,
                    Some(json!({ "event_type": event_type, "handler": id })),
                ),
            );
        }
    }

    /// `{id, plugin, event_types}` of the running handlers.
    pub fn to_json(&self) -> Value {
        let active: Vec<Value> = self
            .handlers
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.is_disabled(*i))
            .map(|(i, h)| {
                let event_types: Vec<&String> =
                    self.routes.iter().filter(|(_, idx)| **idx == i).map(|(e, _)| e).collect();
                json!({ "id": h.id, "plugin": h.plugin, "event_types": event_types })
            })
            .collect();
        json!({ "active": active, "disabled": self.disabled })
    }
}

/// The host side of `HostContext` for one call.
struct Ctx<'a> {
    client: ClientId,
    hub: &'a ClientHub,
    services: &'a mut dyn Services,
}

impl Ctx<'_> {
    fn envelope(&self, event_type: RStr<'_>, payload_json: RStr<'_>) -> Option<String> {
        match serde_json::from_str::<&serde_json::value::RawValue>(payload_json.as_str()) {
            Ok(raw) => {
                Some(format!("{{\"event_type\":{},\"payload\":{}}}", Value::from(event_type.as_str()), raw.get()))
            }
            Err(e) => {
                tracing::error!("a handler sent '{event_type}' with an invalid JSON payload ({e}); not sent");
                None
            }
        }
    }
}

impl HostContext for Ctx<'_> {
    fn client_id(&self) -> u64 {
        self.client
    }

    fn reply(&mut self, event_type: RStr<'_>, payload_json: RStr<'_>) {
        if let Some(text) = self.envelope(event_type, payload_json) {
            if self.client == 0 {
                self.hub.broadcast(&text);
            } else {
                self.hub.send(self.client, text);
            }
        }
    }

    fn broadcast(&mut self, event_type: RStr<'_>, payload_json: RStr<'_>) {
        if let Some(text) = self.envelope(event_type, payload_json) {
            self.hub.broadcast(&text);
        }
    }

    fn call(&mut self, service: RStr<'_>, args_json: RStr<'_>) -> RResult<RString, PluginError> {
        let args: Value = match serde_json::from_str(args_json.as_str()) {
            Ok(v) => v,
            Err(e) => return RResult::RErr(PluginError::invalid_input(format!("service args are not JSON: {e}"))),
        };
        self.services.call(self.client, service.as_str(), &args).map(|v| RString::from(v.to_string())).into()
    }
}

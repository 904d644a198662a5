//! The message router: owns one instance of every registered message handler and dispatches
//! each inbound `event_type` to the handler that declared it, on the render thread, in arrival
//! order. A handler that panics is disabled and reported; the stream continues.

use std::collections::BTreeMap;

use abi_stable::std_types::RResult;
use ovhost_plugin_api::{HandlerBox, HostContext, HostContextMut, PluginError};
use serde_json::{Value, json};

use super::hub::{ClientHub, ClientId};
use crate::plugins::Registry;
use crate::protocol::{self, codes};

/// Longest handler error message relayed to a client, in characters.
pub const MAX_ERROR_CHARS: usize = 1024;

/// Known dialects from `/api/plugins`' JSON (`handlers.active[].dialect`), for the `/ws`
/// handshake, which runs off the render thread: see [`Router::knows_dialect`].
pub fn known_dialect_in(plugins: &Value, dialect: &str) -> Result<(), String> {
    let dialect = super::hub::normalize_dialect(dialect);
    let mut known: Vec<&str> = plugins["handlers"]["active"]
        .as_array()
        .map(|handlers| handlers.iter().filter_map(|h| h["dialect"].as_str()).filter(|d| !d.is_empty()).collect())
        .unwrap_or_default();
    known.sort_unstable();
    known.dedup();
    if dialect.is_empty() || known.contains(&dialect.as_str()) {
        Ok(())
    } else {
        Err(format!(
            "unknown dialect '{dialect}'; this host serves: default{}",
            known.iter().map(|d| format!(", {d}")).collect::<String>()
        ))
    }
}

/// Host services callable by handlers through `HostContext::call`.
pub trait Services {
    /// Calls service `service` with JSON text arguments; the answer is JSON text (what crosses
    /// the boundary). Unknown services are `not_found`, malformed arguments `invalid_input`.
    fn call_text(&mut self, client: ClientId, service: &str, args_json: &str) -> Result<String, PluginError>;

    /// Why the last call was refused for the client's role, once (then the handler's error is
    /// answered as `not_permitted`).
    fn take_denied(&mut self) -> Option<String> {
        None
    }

    /// Whether the message being dispatched waits for an answer from the stage worker: then
    /// nothing the handler sends or returns reaches anyone (it is dispatched again later).
    fn parked(&self) -> bool {
        false
    }
}

struct Handler {
    id: String,
    plugin: String,
    /// The dialect this handler serves (`""` = default).
    dialect: String,
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
    /// (dialect, `event_type`) → index into `handlers`.
    routes: BTreeMap<(String, String), usize>,
    pub disabled: Vec<DisabledHandler>,
}

impl Router {
    /// Creates one instance of every registered handler. `config_for(id)` gives its JSON config.
    pub fn new(registry: &Registry, config_for: impl Fn(&str) -> String) -> Self {
        let mut router = Router::default();
        for (id, registered) in &registry.handlers {
            let config = config_for(id);
            match (registered.entry.create())(config.as_str().into()) {
                RResult::ROk(instance) => {
                    let index = router.handlers.len();
                    let dialect = registered.entry.dialect().to_string();
                    for event_type in registered.entry.event_types().iter() {
                        router.routes.insert((dialect.clone(), event_type.to_string()), index);
                    }
                    router.handlers.push(Handler {
                        id: id.clone(),
                        plugin: registered.plugin.clone(),
                        dialect,
                        instance,
                    });
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

    /// Whether a client may speak `dialect`: the default one (`""`, `default`) or one a running
    /// handler serves. A client of any other dialect would be answered by the default handlers
    /// but never see their broadcasts (they go to the default dialect's clients), so such names
    /// are refused where a client picks them (`?dialect=`, `hello.dialect`).
    pub fn knows_dialect(&self, dialect: &str) -> bool {
        let dialect = super::hub::normalize_dialect(dialect);
        dialect.is_empty() || self.dialects().contains(&dialect)
    }

    /// The dialects the running handlers serve, besides the default (sorted, once each).
    pub fn dialects(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .handlers
            .iter()
            .enumerate()
            .filter(|(i, h)| !h.dialect.is_empty() && !self.is_disabled(*i))
            .map(|(_, h)| h.dialect.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The handler for `event_type` in `dialect`, falling back to the default dialect.
    fn route(&self, dialect: &str, event_type: &str) -> Option<usize> {
        self.routes
            .get(&(dialect.to_string(), event_type.to_string()))
            .or_else(|| self.routes.get(&(String::new(), event_type.to_string())))
            .copied()
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
        let dialect = hub.dialect(client);
        let Some(index) = self.route(&dialect, event_type) else {
            // The client's string is echoed cut to a sane length.
            let shown = protocol::truncate_chars(event_type, 128);
            hub.send(
                client,
                protocol::viewer_error(
                    codes::UNKNOWN_EVENT_TYPE,
                    &format!("no handler for event_type '{shown}'"),
                    Some(json!({ "event_type": shown })),
                ),
            );
            return;
        };
        let payload_text = payload.to_string();
        let result = {
            let handler = &mut self.handlers[index];
            let mut ctx = Ctx { client, hub, services, scope: handler.dialect.clone(), handler: &handler.id };
            handler.instance.handle(HostContextMut::new(&mut ctx), event_type.into(), payload_text.as_str().into())
        };
        if services.parked() {
            return;
        }
        if let Some(message) = services.take_denied() {
            let role = hub.role(client);
            hub.send(
                client,
                protocol::viewer_error(
                    super::viewers::NOT_PERMITTED,
                    &message,
                    Some(json!({ "event_type": event_type, "role": role })),
                ),
            );
        } else if let RResult::RErr(error) = result {
            self.report_failure(hub, client, index, event_type, &error);
        }
    }

    /// Tells handlers about a host event (`clientConnected`, `stageOpened`, ...). Host-wide
    /// events (client 0) reach every handler, each broadcasting only to its dialect's clients;
    /// a client's events reach the handlers of that client's dialect (or the default dialect's
    /// when its dialect has none).
    pub fn notify(
        &mut self,
        hub: &ClientHub,
        services: &mut dyn Services,
        client: ClientId,
        event: &str,
        payload: &Value,
    ) {
        let payload_text = payload.to_string();
        let target = (client != 0).then(|| {
            let dialect = hub.dialect(client);
            if self.handlers.iter().any(|h| h.dialect == dialect) { dialect } else { String::new() }
        });
        for index in 0..self.handlers.len() {
            if self.is_disabled(index) || target.as_ref().is_some_and(|d| *d != self.handlers[index].dialect) {
                continue;
            }
            let result = {
                let scope = self.handlers[index].dialect.clone();
                let id = self.handlers[index].id.clone();
                let mut ctx = Ctx { client, hub, services: &mut *services, scope, handler: &id };
                self.handlers[index].instance.on_host_event(
                    HostContextMut::new(&mut ctx),
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
            crate::metrics::plugin_failure("handler", true);
            self.routes.retain(|_, i| *i != index);
            tracing::debug!(dialect = %self.handlers[index].dialect, "routes of the disabled handler removed");
            self.disabled.push(DisabledHandler { id: id.clone(), plugin: plugin.clone(), reason: reason.clone() });
            hub.broadcast(&protocol::viewer_error(
                codes::PLUGIN_DISABLED,
                &format!("handler '{id}' (plugin '{plugin}') {reason}; it has been disabled"),
                Some(json!({ "handler": id, "plugin": plugin, "event_type": event_type })),
            ));
        } else {
            tracing::debug!(handler = %id, "handler returned an error for '{event_type}': {error}");
            // A handler may quote the client's input: the message is cut to a sane length.
            hub.send(
                client,
                protocol::viewer_error(
                    error.kind.name(),
                    &protocol::truncate_chars(&error.message, MAX_ERROR_CHARS),
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
                    self.routes.iter().filter(|(_, idx)| **idx == i).map(|((_, e), _)| e).collect();
                json!({ "id": h.id, "plugin": h.plugin, "dialect": h.dialect, "event_types": event_types })
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
    /// Broadcasts reach only clients of this dialect.
    scope: String,
    /// The handler being called (named in errors about what it sends).
    handler: &'a str,
}

impl Ctx<'_> {
    fn envelope(&self, event_type: &str, payload_json: &str) -> Option<String> {
        match serde_json::from_str::<&serde_json::value::RawValue>(payload_json) {
            Ok(raw) => Some(format!("{{\"event_type\":{},\"payload\":{}}}", Value::from(event_type), raw.get())),
            Err(e) => {
                // A plugin's JSON is never trusted: the client gets an error instead of a broken
                // message, and the host carries on.
                let handler = self.handler;
                tracing::warn!(%handler, "handler sent '{event_type}' with a payload that is not JSON ({e}); not sent");
                if self.client != 0 {
                    self.hub.send(
                        self.client,
                        protocol::viewer_error(
                            "internal",
                            &format!("handler '{handler}' sent '{event_type}' with a payload that is not JSON: {e}"),
                            Some(json!({ "handler": handler, "event_type": event_type })),
                        ),
                    );
                }
                None
            }
        }
    }
}

impl HostContext for Ctx<'_> {
    fn client_id(&self) -> u64 {
        self.client
    }

    fn reply(&mut self, event_type: &str, payload_json: &str) {
        if self.services.parked() {
            return;
        }
        if let Some(text) = self.envelope(event_type, payload_json) {
            if self.client == 0 {
                self.hub.broadcast_dialect(&self.scope, &text);
            } else {
                self.hub.send(self.client, text);
            }
        }
    }

    fn broadcast(&mut self, event_type: &str, payload_json: &str) {
        if self.services.parked() {
            return;
        }
        if let Some(text) = self.envelope(event_type, payload_json) {
            self.hub.broadcast_dialect(&self.scope, &text);
        }
    }

    fn call(&mut self, service: &str, args_json: &str) -> Result<String, PluginError> {
        self.services.call_text(self.client, service, args_json)
    }
}

//! Message handlers written against parsed JSON. Most handlers want the payload as a
//! `serde_json::Value`, not text: implement [`JsonHandler`] and register it with
//! [`crate::Registry::json_handler`]; the adapter parses each payload (a malformed one is an
//! `invalid_input` error the host reports to the client) and is boxed behind the same panic guard
//! as every other plugin object.

use abi_stable::std_types::{RResult, RStr};
use serde_json::Value;

use crate::{HostContextMut, MessageHandler, PluginError};

/// Parses a plugin's JSON (a payload, a camera state, a service answer) without trusting its shape:
/// malformed text is an `invalid_input` error, never a panic.
pub fn parse_object(text: &str, what: &str) -> Result<serde_json::Map<String, Value>, PluginError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            Err(PluginError::invalid_input(format!("{what} must be a JSON object, not {}", kind_name(&other))))
        }
        Err(e) => Err(PluginError::invalid_input(format!("{what} is not JSON: {e}"))),
    }
}

/// The JSON type name of a value, for error messages ("a string", "an array", ...).
pub fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A message handler over parsed payloads. Same lifecycle as [`MessageHandler`].
pub trait JsonHandler: Send {
    /// Handles one message of a declared `event_type`.
    fn on_message(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError>;

    /// Handles a host event (`clientHello`, `stageOpened`, ...); ignored by default.
    fn on_event(&mut self, _ctx: &mut HostContextMut<'_>, _event: &str, _payload: &Value) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Adapts a [`JsonHandler`] to the boundary's [`MessageHandler`].
pub struct Json<T>(pub T);

fn parse(payload_json: RStr<'_>) -> Result<Value, PluginError> {
    serde_json::from_str(payload_json.as_str()).map_err(PluginError::from)
}

impl<T: JsonHandler> MessageHandler for Json<T> {
    fn handle(
        &mut self,
        mut ctx: HostContextMut<'_>,
        event_type: RStr<'_>,
        payload_json: RStr<'_>,
    ) -> RResult<(), PluginError> {
        parse(payload_json).and_then(|payload| self.0.on_message(&mut ctx, event_type.as_str(), &payload)).into()
    }

    fn on_host_event(
        &mut self,
        mut ctx: HostContextMut<'_>,
        event: RStr<'_>,
        payload_json: RStr<'_>,
    ) -> RResult<(), PluginError> {
        parse(payload_json).and_then(|payload| self.0.on_event(&mut ctx, event.as_str(), &payload)).into()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{ErrorKind, HostContext, HostContextExt, handler_box};

    #[derive(Default)]
    struct Recorder {
        replies: Vec<(String, String)>,
    }

    impl HostContext for Recorder {
        fn client_id(&self) -> u64 {
            7
        }
        fn reply(&mut self, event_type: &str, payload_json: &str) {
            self.replies.push((event_type.to_string(), payload_json.to_string()));
        }
        fn broadcast(&mut self, _event_type: &str, _payload_json: &str) {}
        fn call(&mut self, _service: &str, _args_json: &str) -> Result<String, PluginError> {
            Ok(String::new())
        }
    }

    struct Greeter;

    impl JsonHandler for Greeter {
        fn on_message(
            &mut self,
            ctx: &mut HostContextMut<'_>,
            event_type: &str,
            payload: &Value,
        ) -> Result<(), PluginError> {
            if event_type == "boom" {
                panic!("boom requested");
            }
            let name = payload["name"].as_str().ok_or_else(|| PluginError::invalid_input("name must be a string"))?;
            let client = ctx.client_id();
            ctx.reply_json("greeted", &json!({ "text": format!("hello {name}"), "client": client }));
            Ok(())
        }
    }

    fn send(
        handler: &mut crate::HandlerBox,
        recorder: &mut Recorder,
        event_type: &str,
        payload: &str,
    ) -> RResult<(), PluginError> {
        handler.handle(HostContextMut::new(recorder), event_type.into(), payload.into())
    }

    #[test]
    fn payloads_arrive_parsed_and_errors_and_panics_stay_on_the_plugin_side() {
        let mut handler = handler_box(Json(Greeter));
        let mut recorder = Recorder::default();
        assert!(send(&mut handler, &mut recorder, "greet", r#"{"name":"Ada"}"#).is_rok());
        assert_eq!(recorder.replies, [("greeted".to_string(), r#"{"client":7,"text":"hello Ada"}"#.to_string())]);

        let malformed = send(&mut handler, &mut recorder, "greet", "{not json").unwrap_err();
        assert_eq!(malformed.kind, ErrorKind::INVALID_INPUT);
        let wrong_type = send(&mut handler, &mut recorder, "greet", r#"{"name":3}"#).unwrap_err();
        assert_eq!(wrong_type.kind, ErrorKind::INVALID_INPUT);

        let panicked = send(&mut handler, &mut recorder, "boom", "{}").unwrap_err();
        assert_eq!(panicked.kind, ErrorKind::PANIC);
        assert!(panicked.message.contains("boom requested"), "{panicked}");
        let after = send(&mut handler, &mut recorder, "greet", r#"{"name":"Ada"}"#).unwrap_err();
        assert_eq!(after.kind, ErrorKind::PANIC, "a panicked object stays disabled");
        assert_eq!(recorder.replies.len(), 1);
    }
}

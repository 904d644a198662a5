//! The timeline: `getTimelineRequest` → `timelineState` (the requester); `timelinePlayRequest`,
//! `timelinePauseRequest`, `timelineSeekRequest {time}`, `timelineSetLoopRequest {loop}`,
//! `timelineSetRateRequest {rate}` → `timeline.control`, whose `timelineChanged` host event
//! reaches every client as `timelineState` (also pushed ten times a second while playing and in
//! the initial state). Payloads are checked strictly: an unknown field, a non-finite time or a
//! negative rate is a `viewerError` and changes nothing.

use ovhost_plugin_api::services::{NoArgs, TimelineChanged, TimelineControl, TimelineSetControl, TimelineStateGet};
use ovhost_plugin_api::{HostContextExt, HostContextMut, PluginError};
use serde_json::Value;

use crate::fields;

/// `timelineState` to the requester.
pub fn get(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    only(payload, &[])?;
    let state = ctx.call::<TimelineStateGet>(&NoArgs {})?;
    ctx.reply_json("timelineState", &state);
    Ok(())
}

/// One of the control requests.
pub fn control(ctx: &mut HostContextMut<'_>, event_type: &str, payload: &Value) -> Result<(), PluginError> {
    let control = match event_type {
        "timelinePlayRequest" => {
            only(payload, &[])?;
            TimelineControl { playing: Some(true), ..Default::default() }
        }
        "timelinePauseRequest" => {
            only(payload, &[])?;
            TimelineControl { playing: Some(false), ..Default::default() }
        }
        "timelineSeekRequest" => {
            only(payload, &["time"])?;
            TimelineControl { time: Some(finite(payload, "time")?), ..Default::default() }
        }
        "timelineSetLoopRequest" => {
            only(payload, &["loop"])?;
            TimelineControl { looping: Some(fields::boolean(payload, "loop")?), ..Default::default() }
        }
        "timelineSetRateRequest" => {
            only(payload, &["rate"])?;
            let rate = finite(payload, "rate")?;
            if rate < 0.0 {
                return Err(PluginError::invalid_input(format!(
                    "payload.rate must be ≥ 0 (0 holds the frame), got {rate}"
                )));
            }
            TimelineControl { rate: Some(rate), ..Default::default() }
        }
        other => return Err(PluginError::unsupported(format!("'{other}' is not a timeline request"))),
    };
    ctx.call::<TimelineSetControl>(&control)?;
    Ok(())
}

/// Host event `timelineChanged` → `timelineState` to every client of this dialect.
pub fn on_changed(ctx: &mut HostContextMut<'_>, payload: &Value) -> Result<(), PluginError> {
    let state = fields::event::<TimelineChanged>(payload)?;
    ctx.broadcast_json("timelineState", &state);
    Ok(())
}

/// The current state, for the initial push.
pub fn state(ctx: &mut HostContextMut<'_>) -> Result<Value, PluginError> {
    let state = ctx.call::<TimelineStateGet>(&NoArgs {})?;
    serde_json::to_value(state).map_err(|e| PluginError::internal(e.to_string()))
}

/// Refuses payloads that are not objects or carry fields other than `allowed`.
fn only(payload: &Value, allowed: &[&str]) -> Result<(), PluginError> {
    match payload {
        Value::Null => Ok(()),
        Value::Object(map) => match map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(unknown) => Err(PluginError::invalid_input(format!(
                "payload.{unknown} is not a field of this request (fields: {})",
                if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
            ))),
            None => Ok(()),
        },
        other => Err(PluginError::invalid_input(format!("payload must be an object, got {}", fields::kind(other)))),
    }
}

/// A required finite number (JSON has no NaN; `"NaN"` and other strings are refused too).
fn finite(payload: &Value, key: &str) -> Result<f64, PluginError> {
    let n = fields::number(payload, key)?;
    if n.is_finite() { Ok(n) } else { Err(PluginError::invalid_input(format!("payload.{key} must be finite"))) }
}

//! Camera bookmarks: a message-handler plugin. Save the current view under a name, list the
//! names, recall one. Views are kept in the host's settings store (`bookmarks` key), so they
//! survive a restart when the host runs with `--settings`.
//!
//! Messages:
//! - `saveBookmarkRequest {name}` → `bookmarksChanged {bookmarks: [names]}`
//! - `recallBookmarkRequest {name}` → `bookmarkRecalled {name, view}` (the camera moves)
//! - `listBookmarksRequest {}` → `bookmarksChanged {bookmarks}`
//! - `deleteBookmarkRequest {name}` → `bookmarksChanged {bookmarks}`

use ovhost_plugin_api::export_plugin;
use ovhost_plugin_api::prelude::*;
use serde_json::{Map, Value, json};

export_plugin! {
    name: "bookmarks",
    description: "Save and recall named camera views",
    register: register,
}

fn register(r: &mut Registry<'_>) -> Result<(), PluginError> {
    r.json_handler::<Bookmarks>(
        "bookmarks",
        "Save, list, recall and delete named camera views",
        &["saveBookmarkRequest", "recallBookmarkRequest", "listBookmarksRequest", "deleteBookmarkRequest"],
        vec![
            HandlerExample::new(
                r#"{"event_type":"saveBookmarkRequest","payload":{"name":"front"}}"#,
                &[r#"{"event_type":"bookmarksChanged","payload":{"bookmarks":["front"]}}"#],
            ),
            HandlerExample::new(
                r#"{"event_type":"recallBookmarkRequest","payload":{"name":"front"}}"#,
                &[r#"{"event_type":"bookmarkRecalled","payload":{"name":"front"}}"#],
            ),
            HandlerExample::new(
                r#"{"event_type":"deleteBookmarkRequest","payload":{"name":"front"}}"#,
                &[r#"{"event_type":"bookmarksChanged","payload":{"bookmarks":[]}}"#],
            ),
        ],
    );
    Ok(())
}

/// The longest bookmark name accepted.
const MAX_NAME_CHARS: usize = 64;

#[derive(Default)]
pub struct Bookmarks;

fn call(ctx: &mut HostContextMut<'_>, service: &str, args: Value) -> Result<Value, PluginError> {
    let text = ctx.call(service.into(), args.to_string().as_str().into()).into_result()?;
    Ok(serde_json::from_str(&text)?)
}

fn stored(ctx: &mut HostContextMut<'_>) -> Result<Map<String, Value>, PluginError> {
    match call(ctx, "settings.get", json!({ "key": "bookmarks" }))? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

fn save(ctx: &mut HostContextMut<'_>, map: Map<String, Value>) -> Result<(), PluginError> {
    call(ctx, "settings.set", json!({ "key": "bookmarks", "value": Value::Object(map) }))?;
    Ok(())
}

fn name_of(payload: &Value) -> Result<String, PluginError> {
    let name = payload
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::invalid_input("payload.name must be a string"))?
        .trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(PluginError::invalid_input(format!("bookmark names are 1 to {MAX_NAME_CHARS} characters")));
    }
    Ok(name.to_string())
}

fn reply_list(ctx: &mut HostContextMut<'_>, map: &Map<String, Value>) {
    let names: Vec<&String> = map.keys().collect();
    ctx.reply("bookmarksChanged".into(), json!({ "bookmarks": names }).to_string().as_str().into());
}

impl Bookmarks {
    fn handle_json(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        let mut map = stored(ctx)?;
        match event_type {
            "saveBookmarkRequest" => {
                let name = name_of(payload)?;
                let view = call(ctx, "camera.view", json!({}))?;
                map.insert(name, view);
                save(ctx, map.clone())?;
                reply_list(ctx, &map);
            }
            "recallBookmarkRequest" => {
                let name = name_of(payload)?;
                let view = map
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| PluginError::not_found(format!("no bookmark named '{name}'")))?;
                let applied = call(ctx, "camera.set_view", view)?;
                ctx.reply(
                    "bookmarkRecalled".into(),
                    json!({ "name": name, "view": applied }).to_string().as_str().into(),
                );
            }
            "deleteBookmarkRequest" => {
                let name = name_of(payload)?;
                if map.remove(&name).is_none() {
                    return Err(PluginError::not_found(format!("no bookmark named '{name}'")));
                }
                save(ctx, map.clone())?;
                reply_list(ctx, &map);
            }
            _ => reply_list(ctx, &map),
        }
        Ok(())
    }
}

impl JsonHandler for Bookmarks {
    fn on_message(
        &mut self,
        ctx: &mut HostContextMut<'_>,
        event_type: &str,
        payload: &Value,
    ) -> Result<(), PluginError> {
        self.handle_json(ctx, event_type, payload)
    }
}

//! Camera bookmarks: a message-handler plugin. Save the current view under a name, list the
//! names, recall one. Views are kept in the host's settings store (`bookmarks` key), so they
//! survive a restart when the host runs with `--settings`.
//!
//! Messages:
//! - `saveBookmarkRequest {name}` → `bookmarksChanged {bookmarks: [names]}`
//! - `recallBookmarkRequest {name}` → `bookmarkRecalled {name, view}` (the camera moves)
//! - `listBookmarksRequest {}` → `bookmarksChanged {bookmarks}`
//! - `deleteBookmarkRequest {name}` → `bookmarksChanged {bookmarks}`

use std::collections::BTreeMap;

use ovhost_plugin_api::export_plugin;
use ovhost_plugin_api::prelude::*;
use ovhost_plugin_api::services::{
    CameraSetView, CameraView, KeyArgs, NoArgs, SettingArgs, SettingsGet, SettingsSet, View, ViewPatch,
};
use serde_json::{Value, json};

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

/// Saved views by name, as kept in the settings store.
type Stored = BTreeMap<String, View>;

fn stored(ctx: &mut HostContextMut<'_>) -> Result<Stored, PluginError> {
    let value = ctx.call::<SettingsGet>(&KeyArgs { key: Some("bookmarks".into()) })?;
    // A settings file edited by hand may hold anything: ignore what is not a map of views.
    Ok(serde_json::from_value(value).unwrap_or_default())
}

fn save(ctx: &mut HostContextMut<'_>, map: &Stored) -> Result<(), PluginError> {
    let value = serde_json::to_value(map).map_err(|e| PluginError::internal(e.to_string()))?;
    ctx.call::<SettingsSet>(&SettingArgs { key: "bookmarks".into(), value })?;
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

fn reply_list(ctx: &mut HostContextMut<'_>, map: &Stored) {
    let names: Vec<&String> = map.keys().collect();
    ctx.reply_json("bookmarksChanged", &json!({ "bookmarks": names }));
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
                let view = ctx.call::<CameraView>(&NoArgs {})?;
                map.insert(name, view);
                save(ctx, &map)?;
                reply_list(ctx, &map);
            }
            "recallBookmarkRequest" => {
                let name = name_of(payload)?;
                let view = map
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| PluginError::not_found(format!("no bookmark named '{name}'")))?;
                let patch = ViewPatch {
                    eye: Some(view.eye),
                    target: Some(view.target),
                    up: Some(view.up),
                    fov_y_deg: Some(view.fov_y_deg),
                    near: Some(view.near),
                    far: Some(view.far),
                };
                let applied = ctx.call::<CameraSetView>(&patch)?;
                ctx.reply_json("bookmarkRecalled", &json!({ "name": name, "view": applied }));
            }
            "deleteBookmarkRequest" => {
                let name = name_of(payload)?;
                if map.remove(&name).is_none() {
                    return Err(PluginError::not_found(format!("no bookmark named '{name}'")));
                }
                save(ctx, &map)?;
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

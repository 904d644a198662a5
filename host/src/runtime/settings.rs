//! The settings store: a JSON object persisted at `--settings` (written atomically: temp file +
//! rename). Without a path it lives in memory only. A corrupt file is reported and set aside, never
//! silently overwritten.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub struct SettingsStore {
    path: Option<PathBuf>,
    values: Map<String, Value>,
}

impl SettingsStore {
    pub fn in_memory() -> Self {
        Self { path: None, values: Map::new() }
    }

    /// Opens (or starts) the settings file at `path`.
    pub fn open(path: &Path) -> Self {
        let values = match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) | Err(_) => {
                    let backup = path.with_extension("corrupt.json");
                    tracing::error!(
                        file = %path.display(),
                        backup = %backup.display(),
                        "settings file is not a JSON object; it was moved aside and defaults are used"
                    );
                    let _ = std::fs::rename(path, &backup);
                    Map::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => {
                tracing::error!(file = %path.display(), "cannot read settings file: {e}; using defaults");
                Map::new()
            }
        };
        Self { path: Some(path.to_path_buf()), values }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn all(&self) -> Value {
        Value::Object(self.values.clone())
    }

    /// Sets a value and persists the whole store.
    pub fn set(&mut self, key: &str, value: Value) -> std::io::Result<()> {
        self.values.insert(key.to_string(), value);
        self.save()
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(&Value::Object(self.values.clone()))?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/settings.json");
        let mut store = SettingsStore::open(&path);
        store.set("camera_scheme", Value::from("fly")).unwrap();
        let reopened = SettingsStore::open(&path);
        assert_eq!(reopened.get("camera_scheme"), Some(&Value::from("fly")));
    }

    #[test]
    fn corrupt_file_is_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = SettingsStore::open(&path);
        assert!(store.get("x").is_none());
        assert!(dir.path().join("settings.corrupt.json").exists());
    }
}

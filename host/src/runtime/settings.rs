//! The settings store: a JSON object persisted at `--settings` (written atomically: temp file +
//! rename). Without a path it lives in memory only. A corrupt file is reported and set aside, never
//! silently overwritten.
//!
//! Reads answer from memory; writes never touch the disk on the caller's (render) thread: each
//! change hands the whole object to the `ovhost-settings` writer thread, which writes only the
//! newest of the snapshots waiting. A failed write is logged and reported by the next `set`.
//! Dropping the store waits for the last write.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use serde_json::{Map, Value};

pub struct SettingsStore {
    values: Map<String, Value>,
    writer: Option<Writer>,
}

/// The writer thread and what it reports.
struct Writer {
    snapshots: Option<Sender<String>>,
    thread: Option<JoinHandle<()>>,
    /// The last write's failure, if it failed.
    failure: Arc<Mutex<Option<String>>>,
}

impl SettingsStore {
    pub fn in_memory() -> Self {
        Self { values: Map::new(), writer: None }
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
        Self { values, writer: Some(Writer::start(path.to_path_buf())) }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn all(&self) -> Value {
        Value::Object(self.values.clone())
    }

    /// Sets a value (in effect at once) and hands the whole store to the writer thread. `Err`
    /// when the previous write failed (this one is still attempted).
    pub fn set(&mut self, key: &str, value: Value) -> std::io::Result<()> {
        self.values.insert(key.to_string(), value);
        let Some(writer) = &self.writer else { return Ok(()) };
        let text = serde_json::to_string_pretty(&Value::Object(self.values.clone()))?;
        let failed = writer.failure.lock().take();
        if let Some(tx) = &writer.snapshots {
            let _ = tx.send(text);
        }
        match failed {
            Some(e) => Err(std::io::Error::other(format!("the last write of the settings file failed: {e}"))),
            None => Ok(()),
        }
    }
}

impl Writer {
    fn start(path: PathBuf) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded::<String>();
        let failure: Arc<Mutex<Option<String>>> = Arc::default();
        let reported = failure.clone();
        let thread = std::thread::Builder::new()
            .name("ovhost-settings".into())
            .spawn(move || write_snapshots(&path, &rx, &reported))
            .map_err(|e| tracing::error!("cannot start the settings writer thread: {e}; settings are not saved"))
            .ok();
        Self { snapshots: Some(tx), thread, failure }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.snapshots = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes each snapshot received, skipping to the newest one waiting.
fn write_snapshots(path: &Path, snapshots: &Receiver<String>, failure: &Mutex<Option<String>>) {
    while let Ok(mut text) = snapshots.recv() {
        while let Ok(newer) = snapshots.try_recv() {
            text = newer;
        }
        if let Err(e) = save(path, &text) {
            tracing::error!(file = %path.display(), "cannot save settings: {e}");
            *failure.lock() = Some(e.to_string());
        }
    }
}

fn save(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
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
        assert_eq!(store.get("camera_scheme"), Some(&Value::from("fly")), "in effect at once");
        drop(store); // waits for the writer
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

    #[test]
    fn a_failed_write_is_reported_by_the_next_set() {
        let dir = tempfile::tempdir().unwrap();
        // The settings file's folder is a file: every write fails.
        std::fs::write(dir.path().join("blocker"), "x").unwrap();
        let mut store = SettingsStore::open(&dir.path().join("blocker/settings.json"));
        store.set("a", Value::from(1)).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let error = loop {
            match store.set("b", Value::from(2)) {
                Err(e) => break e,
                Ok(()) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Ok(()) => panic!("the failed write was never reported"),
            }
        };
        assert!(error.to_string().contains("last write"), "{error}");
        assert_eq!(store.get("b"), Some(&Value::from(2)), "the value is in effect although not saved");
    }
}

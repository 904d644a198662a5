//! What the R-dialect handler remembers between messages: the committed stage (to notice a
//! switch), requests waiting for a host event (stage opens, variant switches), the active AOV and
//! the selection it just echoed. Everything tied to a stage is dropped when the stage changes.

use std::collections::BTreeMap;

use ovhost_plugin_api::services::CameraState;
use serde_json::Value;

/// The parts of the host's `StageInfo` the protocol repeats to clients.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenStage {
    pub url: String,
    pub generation: Value,
    pub root_prim_path: String,
    pub up_axis: String,
    /// Dependencies the host refused while opening (outside the asset root, ...).
    pub warnings: Vec<String>,
}

impl OpenStage {
    /// Reads a `StageInfo` object; `None` for null (no stage).
    pub fn from_info(info: &Value) -> Option<Self> {
        if !info.is_object() {
            return None;
        }
        let text = |key: &str, default: &str| info.get(key).and_then(Value::as_str).unwrap_or(default).to_string();
        Some(Self {
            url: text("url", ""),
            generation: info.get("generation").cloned().unwrap_or(Value::Null),
            root_prim_path: text("root_prim_path", "/"),
            up_axis: text("up_axis", "Y"),
            warnings: info
                .get("warnings")
                .and_then(Value::as_array)
                .map(|w| w.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        })
    }
}

#[derive(Debug, Default)]
pub struct SessionState {
    /// The stage last committed (from `stageOpened` or a service answer).
    pub stage: Option<OpenStage>,
    /// `request_id` → the URL the client asked for, until `stageOpened`/`stageOpenFailed`.
    pub pending_opens: BTreeMap<u64, String>,
    /// `request_id` → the prim whose variant was switched, until the recomposed `stageOpened`.
    pub pending_variants: BTreeMap<u64, String>,
    /// The AOV this handler last switched to (the host does not report the active one).
    pub active_aov: Option<String>,
    /// The canonical selection this handler already broadcast after a `selectPrimsRequest`; the
    /// matching `selectionChanged {source: "request"}` host event is then not sent again.
    pub selection_echo: Option<Vec<String>>,
    /// The camera state this handler already broadcast after a camera request; the host's
    /// matching `cameraChanged` event is then not sent again.
    pub camera_echo: Option<CameraState>,
    /// The authored camera last copied with `set_camera` (cleared when the stage changes).
    pub active_camera: Option<String>,
}

impl SessionState {
    /// Records a committed stage. Returns true when it is a different stage (URL or generation),
    /// in which case stage-bound state is cleared.
    pub fn adopt(&mut self, stage: OpenStage) -> bool {
        let switched = self.stage.as_ref() != Some(&stage);
        if switched {
            self.selection_echo = None;
            self.camera_echo = None;
            self.active_camera = None;
            if self.stage.as_ref().is_some_and(|old| old.url != stage.url) {
                self.pending_variants.clear();
            }
        }
        self.stage = Some(stage);
        switched
    }

    /// Takes the camera echo marker if `camera` is exactly the state already broadcast.
    pub fn take_camera_echo(&mut self, camera: &CameraState) -> bool {
        if self.camera_echo.as_ref() == Some(camera) {
            self.camera_echo = None;
            true
        } else {
            false
        }
    }

    /// Takes the echo marker if `prims` is exactly what was already broadcast.
    pub fn take_echo(&mut self, prims: &[String]) -> bool {
        if self.selection_echo.as_deref() == Some(prims) {
            self.selection_echo = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn stage(url: &str, generation: u64) -> OpenStage {
        OpenStage::from_info(&json!({"url": url, "generation": generation, "root_prim_path": "/World", "up_axis": "Y"}))
            .unwrap()
    }

    #[test]
    fn a_new_generation_or_url_is_a_switch() {
        let mut state = SessionState::default();
        assert!(state.adopt(stage("a.usda", 1)));
        state.selection_echo = Some(vec!["/World".into()]);
        state.pending_variants.insert(7, "/World/X".into());
        assert!(!state.adopt(stage("a.usda", 1)));
        assert!(state.selection_echo.is_some());
        assert!(state.adopt(stage("a.usda", 2)), "a recomposed stage is a switch");
        assert!(state.selection_echo.is_none());
        assert_eq!(state.pending_variants.len(), 1, "a variant switch keeps other pending variant requests");
        assert!(state.adopt(stage("b.usda", 3)));
        assert!(state.pending_variants.is_empty());
    }

    #[test]
    fn echo_is_taken_once_and_only_for_the_same_selection() {
        let mut state = SessionState { selection_echo: Some(vec!["/a".into()]), ..Default::default() };
        assert!(!state.take_echo(&["/b".into()]));
        assert!(state.take_echo(&["/a".into()]));
        assert!(!state.take_echo(&["/a".into()]));
    }

    #[test]
    fn stage_info_null_is_no_stage() {
        assert_eq!(OpenStage::from_info(&Value::Null), None);
    }
}

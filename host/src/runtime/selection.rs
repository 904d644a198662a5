//! The selection component: the canonical selection (prim paths in selection order) and the
//! pickable set that viewport clicks are filtered by. Owned by [`super::core::Core`]; only the
//! render thread touches it. It knows nothing about the stage: callers validate paths first.

use std::collections::BTreeSet;

use ovhost_plugin_api::PluginError;

#[derive(Default)]
pub struct Selection {
    prims: Vec<String>,
    /// Pickable prims; `None` = everything.
    pickable: Option<BTreeSet<String>>,
}

impl Selection {
    pub fn prims(&self) -> &[String] {
        &self.prims
    }

    /// Replaces the selection; true when it changed.
    pub fn replace(&mut self, prims: Vec<String>) -> bool {
        let changed = self.prims != prims;
        self.prims = prims;
        changed
    }

    /// A new stage: clears selection and pickable set; true when something was selected.
    pub fn reset(&mut self) -> bool {
        self.pickable = None;
        let had = !self.prims.is_empty();
        self.prims.clear();
        had
    }

    /// Whether a picked prim may be selected under the pickable set.
    pub fn is_pickable(&self, path: &str) -> bool {
        match &self.pickable {
            None => true,
            Some(set) => set.iter().any(|p| path == p || path.starts_with(&format!("{p}/"))),
        }
    }

    /// `selection.set_pickable`: mode `add` (default), `replace` or `all`. Returns the set's size
    /// (`None`: everything is pickable).
    pub fn set_pickable(&mut self, mode: &str, paths: Vec<String>) -> Result<Option<u64>, PluginError> {
        match mode {
            "all" => self.pickable = None,
            "replace" => self.pickable = Some(paths.into_iter().collect()),
            "add" => self.pickable.get_or_insert_with(Default::default).extend(paths),
            other => {
                return Err(PluginError::invalid_input(format!("mode must be add, replace or all, not '{other}'")));
            }
        }
        Ok(self.pickable.as_ref().map(|p| p.len() as u64))
    }
}

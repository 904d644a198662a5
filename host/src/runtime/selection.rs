//! The selection component: the canonical selection (prim paths in selection order) and the
//! pickable set that viewport clicks are filtered by. Owned by [`super::core::Core`]; only the
//! render thread touches it. It knows nothing about the stage: callers validate paths first.

use std::collections::BTreeSet;

use ovhost_plugin_api::PluginError;

/// Most prim paths the pickable set holds; a request that would grow it beyond is refused.
pub const MAX_PICKABLE: usize = 100_000;

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
        let kept = if mode == "add" { self.pickable.as_ref().map_or(0, BTreeSet::len) } else { 0 };
        if mode != "all" && kept + paths.len() > MAX_PICKABLE {
            return Err(PluginError::invalid_input(format!(
                "the pickable set holds at most {MAX_PICKABLE} paths ({kept} already, {} given); use mode 'all' or fewer, higher prims",
                paths.len()
            )));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pickable_set_is_bounded() {
        let mut selection = Selection::default();
        let paths = |n: usize, tag: &str| (0..n).map(|i| format!("/{tag}{i}")).collect::<Vec<_>>();
        assert_eq!(selection.set_pickable("add", paths(MAX_PICKABLE - 1, "a")).unwrap(), Some(MAX_PICKABLE as u64 - 1));
        let error = selection.set_pickable("add", paths(2, "b")).unwrap_err();
        assert!(error.message.contains("at most"), "{error}");
        assert_eq!(selection.set_pickable("replace", paths(3, "c")).unwrap(), Some(3));
        assert_eq!(selection.set_pickable("all", Vec::new()).unwrap(), None);
        assert!(selection.set_pickable("sideways", Vec::new()).is_err());
    }
}

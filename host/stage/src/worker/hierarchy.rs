//! The parent→children index of the open stage, built once per open so `children` answers in
//! O(children), plus root-prim detection.
//!
//! Prims are those of pxr's default traversal: active, loaded, defined, non-abstract; instance
//! subtrees are not entered (an instance is a leaf, as in `UsdPrim::GetChildren`).

use crate::types::{ChildRow, TypeClass};
use openusd::{sdf, usd};
use std::collections::HashMap;

/// One indexed prim.
struct Node {
    type_name: String,
    children: Vec<String>,
}

pub struct Hierarchy {
    nodes: HashMap<String, Node>,
    root_children: Vec<String>,
}

impl Hierarchy {
    pub fn build(stage: &usd::Stage) -> anyhow::Result<Self> {
        let mut paths = Vec::new();
        stage.traverse(usd::PrimPredicate::DEFAULT, |p| paths.push(p.clone()))?;
        let mut nodes: HashMap<String, Node> = HashMap::with_capacity(paths.len());
        let mut root_children = Vec::new();
        for path in &paths {
            let type_name =
                stage.prim(path.clone()).type_name().ok().flatten().map(|t| t.as_str().to_owned()).unwrap_or_default();
            nodes.insert(path.as_str().to_owned(), Node { type_name, children: Vec::new() });
        }
        // Traversal order is depth-first in composed child order, so children arrive in order.
        for path in &paths {
            let Some(parent) = path.parent() else { continue };
            if parent.is_abs_root() {
                root_children.push(path.as_str().to_owned());
            } else if let Some(node) = nodes.get_mut(parent.as_str()) {
                node.children.push(path.as_str().to_owned());
            }
        }
        Ok(Self { nodes, root_children })
    }

    pub fn prim_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn contains(&self, path: &str) -> bool {
        path == "/" || self.nodes.contains_key(path)
    }

    /// Immediate children of `path` (`/` for the pseudo-root); `None` if the prim is unknown.
    pub fn children(&self, path: &str) -> Option<Vec<ChildRow>> {
        let list = if path == "/" { &self.root_children } else { &self.nodes.get(path)?.children };
        Some(
            list.iter()
                .filter_map(|child| {
                    let node = self.nodes.get(child)?;
                    Some(ChildRow {
                        name: child.rsplit('/').next().unwrap_or(child).to_owned(),
                        path: child.clone(),
                        type_class: TypeClass::of_type_name(&node.type_name),
                        has_children: !node.children.is_empty(),
                    })
                })
                .collect(),
        )
    }

    /// `/World` if present, else the default prim, else the first root prim that is not
    /// viewer-owned (`Session`, `Render`, render-settings types); `/` for an empty stage.
    pub fn root_prim_path(&self, default_prim: Option<&str>) -> String {
        if self.nodes.contains_key("/World") {
            return "/World".into();
        }
        if let Some(name) = default_prim.filter(|n| !n.is_empty()) {
            let path = if name.starts_with('/') { name.to_owned() } else { format!("/{name}") };
            if self.nodes.contains_key(&path) {
                return path;
            }
        }
        self.root_children
            .iter()
            .find(|p| {
                let name = p.trim_start_matches('/');
                let type_name = self.nodes.get(*p).map_or("", |n| n.type_name.as_str());
                !matches!(name, "Session" | "Render")
                    && !matches!(type_name, "RenderSettings" | "RenderProduct" | "RenderVar" | "RenderPass")
            })
            .cloned()
            .unwrap_or_else(|| "/".into())
    }
}

/// Validates a client prim path (absolute, parseable).
pub fn parse_prim_path(path: &str) -> Option<sdf::Path> {
    if !path.starts_with('/') {
        return None;
    }
    sdf::Path::new(path).ok().filter(|p| !p.is_property_path())
}

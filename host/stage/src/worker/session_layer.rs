//! Writes the in-worker session layer that carries client variant selections, so a variant
//! change recomposes the stage with session-layer strength (as `UsdVariantSet::SetSelection` on
//! a session edit target would).

use crate::protocol::VariantSelection;
use openusd::sdf;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// A prim in the override tree: its child overs and its selections.
#[derive(Default)]
struct Over {
    children: BTreeMap<String, Over>,
    selections: BTreeMap<String, String>,
}

/// Renders the selections as a `.usda` session layer; refuses names that are not USD identifiers.
pub fn render(selections: &[VariantSelection]) -> Result<String, String> {
    let mut root = Over::default();
    for sel in selections {
        let path = sdf::Path::new(&sel.prim_path).map_err(|_| format!("'{}' is not a prim path", sel.prim_path))?;
        if !path.is_abs() || path.is_abs_root() || path.is_property_path() || path.contains_prim_variant_selection() {
            return Err(format!("'{}' is not an absolute prim path", sel.prim_path));
        }
        if !sdf::Path::is_valid_identifier(&sel.set) {
            return Err(format!("'{}' is not a valid variant set name", sel.set));
        }
        if sel.selection.is_empty() || !sel.selection.chars().all(|c| c.is_ascii_alphanumeric() || "_-.|".contains(c)) {
            return Err(format!("'{}' is not a valid variant name", sel.selection));
        }
        let mut node = &mut root;
        for name in sel.prim_path.trim_start_matches('/').split('/') {
            node = node.children.entry(name.to_owned()).or_default();
        }
        node.selections.insert(sel.set.clone(), sel.selection.clone());
    }
    let mut out = String::from("#usda 1.0\n(\n    doc = \"ovhost session: client variant selections\"\n)\n\n");
    for (name, child) in &root.children {
        write_over(&mut out, name, child, 0);
    }
    Ok(out)
}

fn write_over(out: &mut String, name: &str, over: &Over, depth: usize) {
    let pad = "    ".repeat(depth);
    let _ = write!(out, "{pad}over \"{name}\"");
    if !over.selections.is_empty() {
        let _ = writeln!(out, " (\n{pad}    variants = {{");
        for (set, sel) in &over.selections {
            let _ = writeln!(out, "{pad}        string {set} = \"{sel}\"");
        }
        let _ = write!(out, "{pad}    }}\n{pad})");
    }
    let _ = writeln!(out, "\n{pad}{{");
    for (child_name, child) in &over.children {
        write_over(out, child_name, child, depth + 1);
    }
    let _ = writeln!(out, "{pad}}}");
}

/// Writes the layer to a per-process temp file and returns its path.
pub fn write(selections: &[VariantSelection]) -> Result<PathBuf, String> {
    let text = render(selections)?;
    let path = std::env::temp_dir().join(format!("ovhost-stage-session-{}.usda", std::process::id()));
    std::fs::write(&path, text).map_err(|e| format!("could not write the session layer {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_overs_and_refuses_bad_names() {
        let sel =
            |p: &str, s: &str, v: &str| VariantSelection { prim_path: p.into(), set: s.into(), selection: v.into() };
        let text = render(&[sel("/World/Thing", "shape", "cube"), sel("/World", "look", "red")]).expect("render");
        assert!(text.contains("over \"World\" (\n    variants = {\n        string look = \"red\""), "{text}");
        assert!(
            text.contains("    over \"Thing\" (\n        variants = {\n            string shape = \"cube\""),
            "{text}"
        );
        assert!(render(&[sel("/World", "bad set", "x")]).is_err());
        assert!(render(&[sel("/World", "s", "x\"y")]).is_err());
        assert!(render(&[sel("World", "s", "x")]).is_err());
    }
}

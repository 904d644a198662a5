//! `TetMesh`: drawn as its surface — `surfaceFaceVertexIndices` when authored, else the faces
//! that belong to exactly one tetrahedron, oriented as pxr's `UsdGeomTetMesh::ComputeSurfaceFaces`
//! orients them (outward for right-handed tets, flipped for `leftHanded`).

use super::{mesh, time};
use openusd::{sdf, usd};
use ovhost_plugin_api::MeshData;
use std::collections::HashMap;

/// The four faces of tet `(a, b, c, d)`, outward for a right-handed tet (pxr's order).
fn faces([a, b, c, d]: [i32; 4]) -> [[i32; 3]; 4] {
    [[b, c, d], [a, d, c], [a, b, d], [a, c, b]]
}

/// The surface triangles of a tet list: faces not shared by two tets.
pub fn surface(tets: &[[i32; 4]]) -> Vec<[i32; 3]> {
    let key = |f: &[i32; 3]| {
        let mut k = *f;
        k.sort_unstable();
        k
    };
    let mut count: HashMap<[i32; 3], u32> = HashMap::new();
    for tet in tets {
        for f in faces(*tet) {
            *count.entry(key(&f)).or_default() += 1;
        }
    }
    tets.iter().flat_map(|t| faces(*t)).filter(|f| count.get(&key(f)) == Some(&1)).collect()
}

pub fn build(prim: &usd::Prim) -> Option<MeshData> {
    let points = mesh::vec3s(time::get(&prim.attribute("points")).ok().flatten()?)?;
    let triangles: Vec<[i32; 3]> = match time::get(&prim.attribute("surfaceFaceVertexIndices")).ok().flatten() {
        Some(sdf::Value::Vec3iVec(v)) if !v.is_empty() => v.iter().map(|f| [f.x, f.y, f.z]).collect(),
        _ => match time::get(&prim.attribute("tetVertexIndices")).ok().flatten() {
            Some(sdf::Value::Vec4iVec(v)) => surface(&v.iter().map(|t| [t.x, t.y, t.z, t.w]).collect::<Vec<_>>()),
            _ => return None,
        },
    };
    let left_handed = matches!(
        time::get(&prim.attribute("orientation")),
        Ok(Some(sdf::Value::Token(t))) if t.as_str() == "leftHanded"
    );
    let n = points.len() as i32;
    let mut indices = Vec::with_capacity(triangles.len() * 3);
    for [a, b, c] in triangles {
        if [a, b, c].iter().all(|i| (0..n).contains(i)) {
            let tri = if left_handed { [a, c, b] } else { [a, b, c] };
            indices.extend(tri.map(|i| i as u32));
        }
    }
    if indices.is_empty() {
        return None;
    }
    let colors = match time::get(&prim.attribute("primvars:displayColor")).ok().flatten().and_then(mesh::vec3s) {
        Some(c) if c.len() == 1 || c.len() == points.len() => c,
        _ => Vec::new(),
    };
    Some(MeshData {
        positions: points.into(),
        normals: Default::default(),
        colors: colors.into(),
        indices: indices.into(),
        instances: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_tets_sharing_a_face_have_six_surface_faces() {
        let tets = [[0, 1, 2, 3], [1, 2, 3, 4]];
        let s = surface(&tets);
        assert_eq!(s.len(), 6);
        assert!(!s.iter().any(|f| {
            let mut k = *f;
            k.sort_unstable();
            k == [1, 2, 3]
        }));
    }
}

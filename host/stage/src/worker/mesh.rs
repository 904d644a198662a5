//! One USD Mesh prim → a triangulated [`MeshData`] with flattened normals and display colors.
//!
//! Faces are fan-triangulated (faces with fewer than 3 vertices or out-of-range indices are
//! skipped). Primvars with `constant`/`uniform`/`vertex`/`varying`/`faceVarying` interpolation,
//! indexed or not, are flattened to per-vertex values; when any used primvar is `uniform` or
//! `faceVarying` the mesh is unwelded (one vertex per face-vertex).

use openusd::{sdf, usd};
use ovhost_plugin_api::MeshData;

/// How a primvar's values map onto the mesh.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Interp {
    Constant,
    Uniform,
    Vertex,
    FaceVarying,
}

/// A primvar read from the stage, with its indices already applied.
struct Primvar {
    values: Vec<[f32; 3]>,
    interp: Interp,
}

/// The raw topology of a mesh.
#[derive(Clone)]
pub struct Topology {
    pub points: Vec<[f32; 3]>,
    pub counts: Vec<i32>,
    pub indices: Vec<i32>,
    pub left_handed: bool,
}

/// Reads points and topology; `None` when the mesh has no usable points.
pub fn read_topology(prim: &usd::Prim) -> Option<Topology> {
    let points = vec3s(super::time::get(&prim.attribute("points")).ok().flatten()?)?;
    if points.is_empty() {
        return None;
    }
    let counts = ints(super::time::get(&prim.attribute("faceVertexCounts")).ok().flatten()).unwrap_or_default();
    let indices = ints(super::time::get(&prim.attribute("faceVertexIndices")).ok().flatten()).unwrap_or_default();
    let left_handed = matches!(
        super::time::get(&prim.attribute("orientation")),
        Ok(Some(sdf::Value::Token(t))) if t.as_str() == "leftHanded"
    );
    Some(Topology { points, counts, indices, left_handed })
}

/// A built mesh with what material assignment needs.
pub struct Built {
    pub mesh: MeshData,
    /// Per-vertex texture coordinates from the `uv_set` primvar (empty when absent).
    pub uvs: Vec<[f32; 2]>,
    /// The source face of each triangle (for `GeomSubset` face lists).
    pub tri_faces: Vec<u32>,
}

/// Builds the renderable mesh (instances are left empty for the caller to fill), also flattening the `primvars:<uv_set>` texture coordinates and recording each
/// triangle's face.
pub fn build_full(prim: &usd::Prim, topo: &Topology, uv_set: Option<&str>) -> Built {
    let faces = valid_faces(topo);
    let normals = read_primvar(prim, &["primvars:normals", "normals"], Interp::Vertex);
    let colors = read_primvar(prim, &["primvars:displayColor"], Interp::Constant);
    let uvs = uv_set.and_then(|name| read_primvar(prim, &[format!("primvars:{name}").as_str()], Interp::Vertex));
    let n_points = topo.points.len();
    let n_face_verts = topo.indices.len();
    let n_faces = topo.counts.len();
    let fits = |pv: &Primvar| match pv.interp {
        Interp::Constant => !pv.values.is_empty(),
        Interp::Uniform => pv.values.len() >= n_faces,
        Interp::Vertex => pv.values.len() >= n_points,
        Interp::FaceVarying => pv.values.len() >= n_face_verts,
    };
    let normals = normals.filter(|p| fits(p) && p.interp != Interp::Constant);
    let colors = colors.filter(fits);
    let uvs = uvs.filter(|p| fits(p) && p.interp != Interp::Constant);
    let unweld = [&normals, &colors, &uvs]
        .iter()
        .any(|p| p.as_ref().is_some_and(|p| matches!(p.interp, Interp::Uniform | Interp::FaceVarying)));

    let mut mesh = MeshData::default();
    let mut uv_out: Vec<[f32; 2]> = Vec::new();
    let tri_total: usize = faces.iter().map(|f| f.count - 2).sum();
    let mut tris: Vec<u32> = Vec::with_capacity(tri_total * 3);
    let mut tri_faces: Vec<u32> = Vec::with_capacity(tri_total);
    let mut push_fan = |base: u32, corner: &dyn Fn(usize) -> u32, count: usize, face: usize| {
        for k in 1..count - 1 {
            tri_faces.push(face as u32);
            let (a, b, c) = (corner(0), corner(k), corner(k + 1));
            if topo.left_handed {
                tris.extend_from_slice(&[base + a, base + c, base + b]);
            } else {
                tris.extend_from_slice(&[base + a, base + b, base + c]);
            }
        }
    };
    if unweld {
        let n_out: usize = faces.iter().map(|f| f.count).sum();
        let mut positions = Vec::with_capacity(n_out);
        let mut out_normals = Vec::with_capacity(if normals.is_some() { n_out } else { 0 });
        let mut out_colors = Vec::with_capacity(n_out);
        let mut out_uvs = Vec::with_capacity(if uvs.is_some() { n_out } else { 0 });
        for face in &faces {
            let base = positions.len() as u32;
            for k in 0..face.count {
                let fv = face.start + k;
                let point = topo.indices[fv] as usize;
                positions.push(topo.points[point]);
                if let Some(n) = &normals {
                    out_normals.push(pick(n, face.index, point, fv));
                }
                if let Some(c) = &colors {
                    out_colors.push(pick(c, face.index, point, fv));
                }
                if let Some(t) = &uvs {
                    let v = pick(t, face.index, point, fv);
                    out_uvs.push([v[0], v[1]]);
                }
            }
            push_fan(base, &|k| k as u32, face.count, face.index);
        }
        mesh.positions = positions.into();
        mesh.normals = out_normals.into();
        mesh.colors = out_colors.into();
        uv_out = out_uvs;
    } else {
        for face in &faces {
            push_fan(0, &|k| topo.indices[face.start + k] as u32, face.count, face.index);
        }
        if let Some(t) = &uvs {
            uv_out = t.values[..n_points].iter().map(|v| [v[0], v[1]]).collect();
        }
        mesh.positions = topo.points.clone().into();
        if let Some(n) = normals {
            mesh.normals = n.values[..n_points].to_vec().into();
        }
        if let Some(c) = colors {
            mesh.colors = match c.interp {
                Interp::Constant => vec![c.values[0]].into(),
                _ => c.values[..n_points].to_vec().into(),
            };
        }
    }
    mesh.indices = tris.into();
    Built { mesh, uvs: uv_out, tri_faces }
}

/// A face that can be drawn: where its vertices start in `faceVertexIndices`.
struct Face {
    index: usize,
    start: usize,
    count: usize,
}

fn valid_faces(topo: &Topology) -> Vec<Face> {
    let mut faces = Vec::with_capacity(topo.counts.len());
    let mut start = 0usize;
    let n_points = topo.points.len();
    for (index, &count) in topo.counts.iter().enumerate() {
        let Ok(count) = usize::try_from(count) else { break };
        let end = start + count;
        if end > topo.indices.len() {
            break;
        }
        let in_range = topo.indices[start..end].iter().all(|&i| i >= 0 && (i as usize) < n_points);
        if count >= 3 && in_range {
            faces.push(Face { index, start, count });
        }
        start = end;
    }
    faces
}

fn pick(pv: &Primvar, face: usize, point: usize, face_vertex: usize) -> [f32; 3] {
    match pv.interp {
        Interp::Constant => pv.values[0],
        Interp::Uniform => pv.values[face],
        Interp::Vertex => pv.values[point],
        Interp::FaceVarying => pv.values[face_vertex],
    }
}

/// Reads the first authored primvar among `names`, applying `<name>:indices`.
fn read_primvar(prim: &usd::Prim, names: &[&str], fallback: Interp) -> Option<Primvar> {
    for name in names {
        let attr = prim.attribute(*name);
        let Some(value) = super::time::get(&attr).ok().flatten() else { continue };
        let Some(mut values) = vec3s(value) else { continue };
        let interp = match attr.get_metadata::<sdf::Value>("interpolation") {
            Ok(Some(sdf::Value::Token(t))) => match t.as_str() {
                "constant" => Interp::Constant,
                "uniform" => Interp::Uniform,
                "vertex" | "varying" => Interp::Vertex,
                "faceVarying" => Interp::FaceVarying,
                _ => fallback,
            },
            _ => fallback,
        };
        let index_attr = prim.attribute(format!("{name}:indices").as_str());
        if let Some(indices) = ints(super::time::get(&index_attr).ok().flatten()) {
            let n = values.len();
            if indices.iter().any(|&i| i < 0 || i as usize >= n) {
                return None;
            }
            values = indices.iter().map(|&i| values[i as usize]).collect();
        }
        return Some(Primvar { values, interp });
    }
    None
}

/// Any 3-component float-ish array as `[f32; 3]`s.
pub fn vec3s(value: sdf::Value) -> Option<Vec<[f32; 3]>> {
    use sdf::Value as V;
    Some(match value {
        V::Vec3fVec(v) => v.into_iter().map(<[f32; 3]>::from).collect(),
        V::Vec3dVec(v) => v.into_iter().map(|p| [p.x as f32, p.y as f32, p.z as f32]).collect(),
        V::Vec3hVec(v) => v.into_iter().map(|p| [p.x.to_f32(), p.y.to_f32(), p.z.to_f32()]).collect(),
        V::Vec2fVec(v) => v.into_iter().map(|p| [p.x, p.y, 0.0]).collect(),
        V::Vec2dVec(v) => v.into_iter().map(|p| [p.x as f32, p.y as f32, 0.0]).collect(),
        V::Vec2hVec(v) => v.into_iter().map(|p| [p.x.to_f32(), p.y.to_f32(), 0.0]).collect(),
        V::Vec3f(p) => vec![p.into()],
        V::Vec3d(p) => vec![[p.x as f32, p.y as f32, p.z as f32]],
        _ => return None,
    })
}

/// An int array (`int[]`, also accepting other integer widths).
pub fn ints(value: Option<sdf::Value>) -> Option<Vec<i32>> {
    use sdf::Value as V;
    Some(match value? {
        V::IntVec(v) => v,
        V::UintVec(v) => v.into_iter().map(|x| i32::try_from(x).unwrap_or(-1)).collect(),
        V::Int64Vec(v) => v.into_iter().map(|x| i32::try_from(x).unwrap_or(-1)).collect(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openusd::gf;

    fn mesh_prim(counts: Vec<i32>, indices: Vec<i32>) -> usd::Prim {
        let stage = usd::Stage::builder().in_memory("mesh_test.usda").expect("in-memory stage");
        let prim = stage.define_prim("/M").expect("define").set_type_name("Mesh").expect("type");
        let points: Vec<gf::Vec3f> = (0..5).map(|i| gf::vec3f(i as f32, (i * i) as f32, 0.0)).collect();
        stage.create_attribute("/M.points", "point3f[]").expect("attr").set(points).expect("set");
        stage.create_attribute("/M.faceVertexCounts", "int[]").expect("attr").set(counts).expect("set");
        stage.create_attribute("/M.faceVertexIndices", "int[]").expect("attr").set(indices).expect("set");
        prim
    }

    #[test]
    fn fans_polygons_and_skips_degenerate_faces() {
        // A pentagon, a 2-vertex face (skipped), a triangle with an out-of-range index (skipped),
        // then a triangle.
        let prim = mesh_prim(vec![5, 2, 3, 3], vec![0, 1, 2, 3, 4, 0, 1, 0, 1, 9, 4, 3, 2]);
        let topo = read_topology(&prim).expect("topology");
        let mesh = build_full(&prim, &topo, None).mesh;
        assert_eq!(mesh.positions.len(), 5, "no primvars: vertices stay welded");
        assert_eq!(&mesh.indices[..], &[0, 1, 2, 0, 2, 3, 0, 3, 4, 4, 3, 2]);
        assert!(mesh.normals.is_empty() && mesh.colors.is_empty());
    }
}

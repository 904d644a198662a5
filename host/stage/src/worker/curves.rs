//! `BasisCurves` (and `NurbsCurves`, approximated) drawn as tubes, `Points` as small spheres:
//! tessellated here into ordinary meshes, so picking, outlines, AOVs and instancing work on them
//! like on any mesh.
//!
//! Curves: `linear`, or `cubic` with basis `bezier`, `bspline` or `catmullRom`; `wrap`
//! `nonperiodic`, `periodic` or `pinned` (phantom end points `2·P₀ − P₁`, which make both
//! splines pass through the ends); eight samples per cubic segment; a six-sided tube whose
//! radius follows `widths` (one constant, one per curve, one per vertex or per segment end:
//! interpolated along the curve); unauthored widths are 1, as Storm draws them. `NurbsCurves`
//! are drawn as uniform cubic B-splines of their control points (order 4) or polylines.
//! Points: an icosahedron per point of diameter `widths` (per point or constant, default 1).
//! Bounds follow pxr's extents: control points (or points) padded by the widest half-width.

use super::{mesh, time, xform};
use openusd::{sdf, usd};
use ovhost_plugin_api::{Bounds, MeshData};

/// Points drawn as spheres at most (a larger set is left to its bounds, logged).
pub const MAX_POINTS: usize = 500_000;
const SIDES: usize = 6;
const STEPS: usize = 8;

pub fn is_curves(type_name: &str) -> bool {
    matches!(type_name, "BasisCurves" | "NurbsCurves")
}

fn get(prim: &usd::Prim, name: &str) -> Option<sdf::Value> {
    time::get(&prim.attribute(name)).ok().flatten()
}

fn token(prim: &usd::Prim, name: &str) -> Option<String> {
    match get(prim, name) {
        Some(sdf::Value::Token(t)) => Some(t.as_str().to_owned()),
        Some(sdf::Value::String(s)) => Some(s),
        _ => None,
    }
}

fn floats(value: Option<sdf::Value>) -> Vec<f32> {
    match value {
        Some(sdf::Value::FloatVec(v)) => v,
        Some(sdf::Value::DoubleVec(v)) => v.into_iter().map(|x| x as f32).collect(),
        Some(sdf::Value::HalfVec(v)) => v.into_iter().map(|x| x.to_f32()).collect(),
        Some(v) => xform::numbers(&v).unwrap_or_default().into_iter().map(|x| x as f32).collect(),
        None => Vec::new(),
    }
}

fn colors(prim: &usd::Prim) -> Vec<[f32; 3]> {
    get(prim, "primvars:displayColor").and_then(mesh::vec3s).unwrap_or_default()
}

/// Local extent as pxr computes it: an authored `extent`; else for curves the points' box padded
/// by half the widest width, for points each point padded by its own half-width.
pub fn extent(prim: &usd::Prim, per_point: bool) -> Option<Bounds> {
    if let Some(v) = get(prim, "extent").and_then(mesh::vec3s).filter(|v| v.len() == 2) {
        return Some(Bounds { min: v[0].map(f64::from), max: v[1].map(f64::from) });
    }
    let points = get(prim, "points").and_then(mesh::vec3s)?;
    let widths = floats(get(prim, "widths"));
    let widest = widths.iter().copied().fold(0.0f32, f32::max);
    let mut b = Bounds::EMPTY;
    for (i, p) in points.iter().enumerate() {
        let w = if per_point && widths.len() == points.len() { widths[i] } else { widest };
        let half = f64::from(w) / 2.0;
        b.include_point(p.map(|c| f64::from(c) - half));
        b.include_point(p.map(|c| f64::from(c) + half));
    }
    (!b.is_empty()).then_some(b)
}

fn add(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn scale(a: [f32; 3], s: f32) -> [f32; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}
fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn normalize(a: [f32; 3]) -> Option<[f32; 3]> {
    let len = dot(a, a).sqrt();
    (len > 1e-12).then(|| scale(a, 1.0 / len))
}

/// Cubic basis weights at `u` for a 4-point window.
fn weights(basis: &str, u: f32) -> [f32; 4] {
    let (u2, u3) = (u * u, u * u * u);
    match basis {
        "bezier" => {
            let v = 1.0 - u;
            [v * v * v, 3.0 * u * v * v, 3.0 * u2 * v, u3]
        }
        "catmullRom" => [
            0.5 * (-u3 + 2.0 * u2 - u),
            0.5 * (3.0 * u3 - 5.0 * u2 + 2.0),
            0.5 * (-3.0 * u3 + 4.0 * u2 + u),
            0.5 * (u3 - u2),
        ],
        _ => [
            (1.0 - u) * (1.0 - u) * (1.0 - u) / 6.0,
            (3.0 * u3 - 6.0 * u2 + 4.0) / 6.0,
            (-3.0 * u3 + 3.0 * u2 + 3.0 * u + 1.0) / 6.0,
            u3 / 6.0,
        ],
    }
}

/// One curve's control points evaluated into a polyline.
fn polyline(cv: &[[f32; 3]], cubic: bool, basis: &str, wrap: &str) -> Vec<[f32; 3]> {
    let n = cv.len();
    if !cubic || n < 4 {
        let mut out = cv.to_vec();
        if wrap == "periodic" && n > 2 {
            out.push(cv[0]);
        }
        return out;
    }
    let periodic = wrap == "periodic";
    let pts: Vec<[f32; 3]> = if wrap == "pinned" && basis != "bezier" {
        let first = sub(scale(cv[0], 2.0), cv[1]);
        let last = sub(scale(cv[n - 1], 2.0), cv[n - 2]);
        std::iter::once(first).chain(cv.iter().copied()).chain(std::iter::once(last)).collect()
    } else {
        cv.to_vec()
    };
    let m = pts.len();
    let (step, segments) = match (basis, periodic) {
        ("bezier", false) => (3, (m - 1) / 3),
        ("bezier", true) => (3, m / 3),
        (_, false) => (1, m - 3),
        (_, true) => (1, m),
    };
    let mut out = Vec::with_capacity(segments * STEPS + 1);
    for s in 0..segments {
        let window = |k: usize| pts[(s * step + k) % m];
        let last_segment = s + 1 == segments;
        for i in 0..STEPS + usize::from(last_segment) {
            let w = weights(basis, i as f32 / STEPS as f32);
            let mut p = [0.0; 3];
            for (k, wk) in w.iter().enumerate() {
                p = add(p, scale(window(k), *wk));
            }
            out.push(p);
        }
    }
    out
}

/// Widths along a curve: `values` spread evenly from its start to its end.
fn width_at(values: &[f32], f: f32) -> f32 {
    match values.len() {
        0 => 1.0,
        1 => values[0],
        n => {
            let x = f.clamp(0.0, 1.0) * (n - 1) as f32;
            let i = (x.floor() as usize).min(n - 2);
            values[i] + (values[i + 1] - values[i]) * (x - i as f32)
        }
    }
}

pub fn build_curves(prim: &usd::Prim, type_name: &str) -> Option<MeshData> {
    let points = get(prim, "points").and_then(mesh::vec3s)?;
    let counts: Vec<usize> =
        mesh::ints(get(prim, "curveVertexCounts"))?.into_iter().map(|c| c.max(0) as usize).collect();
    let (cubic, basis, wrap) = if type_name == "NurbsCurves" {
        let order = mesh::ints(get(prim, "order")).and_then(|o| o.first().copied()).unwrap_or(4);
        (order >= 4, "bspline".to_owned(), "pinned".to_owned())
    } else {
        (
            token(prim, "type").as_deref() != Some("linear"),
            token(prim, "basis").unwrap_or_else(|| "bezier".into()),
            token(prim, "wrap").unwrap_or_else(|| "nonperiodic".into()),
        )
    };
    let widths = floats(get(prim, "widths"));
    let colors = colors(prim);
    let mut out = MeshData::default();
    let (mut positions, mut normals, mut out_colors, mut indices) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut start = 0usize;
    for (curve, &count) in counts.iter().enumerate() {
        let Some(cv) = points.get(start..start + count) else { break };
        // This curve's widths: per vertex / per segment end (a run of this curve), per curve, or one.
        let w: Vec<f32> = match widths.len() {
            0 | 1 => widths.clone(),
            n if n == points.len() => widths[start..start + count].to_vec(),
            n if n == counts.len() => vec![widths[curve]],
            _ => vec![widths[0]],
        };
        let color = match colors.len() {
            0 => None,
            1 => Some(colors[0]),
            n if n == counts.len() => Some(colors[curve]),
            n if n == points.len() => Some(colors[start]),
            _ => Some(colors[0]),
        };
        start += count;
        let line = polyline(cv, cubic, &basis, &wrap);
        if line.len() < 2 {
            continue;
        }
        let mut normal = None::<[f32; 3]>;
        let base = positions.len() as u32;
        let rings = line.len();
        for (k, p) in line.iter().enumerate() {
            let tangent =
                normalize(sub(line[(k + 1).min(rings - 1)], line[k.saturating_sub(1)])).unwrap_or([0.0, 1.0, 0.0]);
            // Parallel transport: keep the previous ring's normal, made perpendicular.
            let seed = normal.unwrap_or(if tangent[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] });
            let n = normalize(sub(seed, scale(tangent, dot(seed, tangent)))).unwrap_or([0.0, 0.0, 1.0]);
            normal = Some(n);
            let b = cross(tangent, n);
            let radius = width_at(&w, k as f32 / (rings - 1) as f32) * 0.5;
            for side in 0..SIDES {
                let a = side as f32 / SIDES as f32 * std::f32::consts::TAU;
                let dir = add(scale(n, a.cos()), scale(b, a.sin()));
                positions.push(add(*p, scale(dir, radius)));
                normals.push(dir);
                if let Some(c) = color {
                    out_colors.push(c);
                }
            }
        }
        for k in 0..rings - 1 {
            for side in 0..SIDES {
                let (a, b) = (side as u32, ((side + 1) % SIDES) as u32);
                let (r0, r1) = (base + (k * SIDES) as u32, base + ((k + 1) * SIDES) as u32);
                indices.extend_from_slice(&[r0 + a, r0 + b, r1 + b, r0 + a, r1 + b, r1 + a]);
            }
        }
    }
    if indices.is_empty() {
        return None;
    }
    out.positions = positions.into();
    out.normals = normals.into();
    out.colors = out_colors.into();
    out.indices = indices.into();
    Some(out)
}

/// A unit icosahedron: 12 vertices, 20 faces.
fn icosahedron() -> ([[f32; 3]; 12], [[u32; 3]; 20]) {
    let t = (1.0 + 5.0f32.sqrt()) / 2.0;
    let raw = [
        [-1.0, t, 0.0],
        [1.0, t, 0.0],
        [-1.0, -t, 0.0],
        [1.0, -t, 0.0],
        [0.0, -1.0, t],
        [0.0, 1.0, t],
        [0.0, -1.0, -t],
        [0.0, 1.0, -t],
        [t, 0.0, -1.0],
        [t, 0.0, 1.0],
        [-t, 0.0, -1.0],
        [-t, 0.0, 1.0],
    ];
    let verts = raw.map(|v| normalize(v).unwrap_or(v));
    let faces = [
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    (verts, faces)
}

pub fn build_points(prim: &usd::Prim) -> Option<MeshData> {
    let points = get(prim, "points").and_then(mesh::vec3s)?;
    if points.is_empty() {
        return None;
    }
    if points.len() > MAX_POINTS {
        eprintln!(
            "ovhost stage worker: {} has {} points; only its bounds are kept (at most {MAX_POINTS} are drawn)",
            prim.path().as_str(),
            points.len()
        );
        return None;
    }
    let widths = floats(get(prim, "widths"));
    let colors = colors(prim);
    let (verts, faces) = icosahedron();
    let mut out = MeshData::default();
    let (mut positions, mut normals, mut out_colors, mut indices) = (
        Vec::with_capacity(points.len() * 12),
        Vec::with_capacity(points.len() * 12),
        Vec::new(),
        Vec::with_capacity(points.len() * 60),
    );
    for (i, p) in points.iter().enumerate() {
        let radius = match widths.len() {
            0 => 0.5,
            n if n == points.len() => widths[i] * 0.5,
            _ => widths[0] * 0.5,
        };
        let base = positions.len() as u32;
        for v in verts {
            positions.push(add(*p, scale(v, radius)));
            normals.push(v);
        }
        if colors.len() > 1 {
            let c = colors.get(i).copied().unwrap_or(colors[0]);
            out_colors.extend(std::iter::repeat_n(c, 12));
        }
        for f in faces {
            indices.extend(f.map(|k| base + k));
        }
    }
    if colors.len() == 1 {
        out_colors = vec![colors[0]];
    }
    out.positions = positions.into();
    out.normals = normals.into();
    out.colors = out_colors.into();
    out.indices = indices.into();
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bases_interpolate_their_ends() {
        let cv = [[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [2.0, 2.0, 0.0], [3.0, 0.0, 0.0]];
        let bezier = polyline(&cv, true, "bezier", "nonperiodic");
        assert_eq!(bezier.len(), STEPS + 1);
        assert_eq!((bezier[0], *bezier.last().unwrap()), (cv[0], cv[3]));
        let pinned = polyline(&cv, true, "catmullRom", "pinned");
        assert!(pinned[0].iter().zip(cv[0]).all(|(a, b)| (a - b).abs() < 1e-5));
        let bspline = polyline(&cv, true, "bspline", "pinned");
        assert!(bspline.last().unwrap().iter().zip(cv[3]).all(|(a, b)| (a - b).abs() < 1e-5));
        assert_eq!(polyline(&cv, false, "bezier", "periodic").len(), 5, "a closed polyline");
        assert_eq!(width_at(&[1.0, 3.0], 0.5), 2.0);
    }
}

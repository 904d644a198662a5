//! Implicit UsdGeom gprims (`Cube`, `Sphere`, `Cylinder`, `Cone`, `Capsule`, `Plane`,
//! `Cylinder_1`, `Capsule_1`) tessellated into ordinary [`MeshData`] from their attributes, with
//! the schema fallbacks when an attribute is unauthored.
//!
//! Round shapes are surfaces of revolution around their `axis`: a profile in (radius, height) is
//! swept through [`SEGMENTS`] steps; spheres and capsule caps use [`RINGS`] latitude steps.
//! Normals are per vertex (smooth around, split at the rims of caps); winding is
//! counter-clockwise seen from outside (USD's `rightHanded`). The axis-aligned extremes of every
//! shape are vertices, so the tessellation's local box equals the analytic one.
//!
//! `primvars:displayColor` is read as a constant color (its first value): implicit shapes have no
//! authored topology for other interpolations to refer to.

use super::xform;
use openusd::{sdf, usd};
use ovhost_plugin_api::MeshData;
use std::f64::consts::{FRAC_PI_2, PI};

/// Steps around the axis.
pub const SEGMENTS: usize = 48;
/// Latitude steps from pole to pole of a sphere (half of them per capsule cap).
pub const RINGS: usize = 24;

/// The (width, length) directions of a Plane per axis, as pxr's `UsdGeomPlane` extent has them.
pub const PLANE_DIRECTIONS: [(usize, usize); 3] = [(2, 1), (0, 2), (0, 1)];

/// Whether `type_name` is an implicit gprim this module tessellates.
pub fn is_implicit(type_name: &str) -> bool {
    matches!(type_name, "Cube" | "Sphere" | "Cylinder" | "Cone" | "Capsule" | "Plane" | "Cylinder_1" | "Capsule_1")
}

/// The attributes of an implicit shape that decide its geometry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Cube {
        size: f64,
    },
    Sphere {
        radius: f64,
    },
    /// Cylinder, Cone and Cylinder_1 (a cone is a cylinder with a zero top radius).
    Frustum {
        height: f64,
        bottom: f64,
        top: f64,
        axis: usize,
    },
    /// Capsule and Capsule_1: a (possibly tapered) side with spherical caps tangent to it.
    Capsule {
        height: f64,
        bottom: f64,
        top: f64,
        axis: usize,
    },
    Plane {
        width: f64,
        length: f64,
        axis: usize,
    },
}

/// Reads the shape of `prim` (of type `type_name`) with USD's schema fallbacks.
pub fn read_shape(prim: &usd::Prim, type_name: &str) -> Option<Shape> {
    let num = |name: &str, fallback: f64| {
        super::time::get(&prim.attribute(name))
            .ok()
            .flatten()
            .and_then(|v| xform::numbers(&v))
            .and_then(|n| n.first().copied())
            .unwrap_or(fallback)
    };
    let axis = read_axis(prim);
    Some(match type_name {
        "Cube" => Shape::Cube { size: num("size", 2.0) },
        "Sphere" => Shape::Sphere { radius: num("radius", 1.0) },
        "Cylinder" => {
            let r = num("radius", 1.0);
            Shape::Frustum { height: num("height", 2.0), bottom: r, top: r, axis }
        }
        "Cone" => Shape::Frustum { height: num("height", 2.0), bottom: num("radius", 1.0), top: 0.0, axis },
        "Cylinder_1" => Shape::Frustum {
            height: num("height", 2.0),
            bottom: num("radiusBottom", 1.0),
            top: num("radiusTop", 1.0),
            axis,
        },
        "Capsule" => {
            let r = num("radius", 0.5);
            Shape::Capsule { height: num("height", 1.0), bottom: r, top: r, axis }
        }
        "Capsule_1" => Shape::Capsule {
            height: num("height", 1.0),
            bottom: num("radiusBottom", 0.5),
            top: num("radiusTop", 0.5),
            axis,
        },
        "Plane" => Shape::Plane { width: num("width", 2.0), length: num("length", 2.0), axis },
        _ => return None,
    })
}

/// `axis` token → 0/1/2 (fallback Z).
pub fn read_axis(prim: &usd::Prim) -> usize {
    match super::time::get(&prim.attribute("axis")) {
        Ok(Some(sdf::Value::Token(t))) => match t.as_str() {
            "X" => 0,
            "Y" => 1,
            _ => 2,
        },
        _ => 2,
    }
}

/// A dedupe key for the mesh of `prim`: equal for prims whose shape and color are equal, so
/// they share one mesh drawn once per prim (as native instances do). `None` when not an
/// implicit gprim. Never a namespace path (those start with `/`).
pub fn dedupe_key(prim: &usd::Prim, type_name: &str) -> Option<String> {
    let shape = read_shape(prim, type_name)?;
    Some(format!("gprim {shape:?} {:?}", display_color(prim)))
}

/// Tessellates `prim` as a mesh (instances left empty), or `None` when it is not an implicit
/// gprim or its attributes describe nothing drawable (non-finite, negative or zero sizes).
pub fn build(prim: &usd::Prim, type_name: &str) -> Option<MeshData> {
    let shape = read_shape(prim, type_name)?;
    let mut mesh = tessellate(&shape)?;
    if let Some(color) = display_color(prim) {
        mesh.colors = vec![color].into();
    }
    Some(mesh)
}

/// The first value of `primvars:displayColor`, if authored.
fn display_color(prim: &usd::Prim) -> Option<[f32; 3]> {
    let value = super::time::get(&prim.attribute("primvars:displayColor")).ok().flatten()?;
    super::mesh::vec3s(value)?.first().copied()
}

/// Positions, normals and triangles being built.
#[derive(Default)]
struct Builder {
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    indices: Vec<u32>,
}

/// One point of a revolved profile: radius, height, and the normal's radial and axial parts.
type ProfilePoint = (f64, f64, f64, f64);

impl Builder {
    fn vertex(&mut self, p: [f64; 3], n: [f64; 3]) -> u32 {
        self.positions.push(p.map(|c| c as f32));
        self.normals.push(n.map(|c| c as f32));
        (self.positions.len() - 1) as u32
    }

    /// Sweeps one smooth profile section around Z, ordered so that the outside is on the
    /// right-hand side (bottom to top along the outside). Rings of radius zero (poles, apexes)
    /// get one triangle per segment instead of two.
    fn revolve(&mut self, profile: &[ProfilePoint]) {
        let base = self.positions.len() as u32;
        for &(r, z, nr, nz) in profile {
            for j in 0..SEGMENTS {
                let (s, c) = exact_sin_cos(j);
                self.vertex([r * c, r * s, z], [nr * c, nr * s, nz]);
            }
        }
        let seg = SEGMENTS as u32;
        for i in 0..profile.len().saturating_sub(1) {
            let a = base + i as u32 * seg;
            let b = a + seg;
            for j in 0..seg {
                let k = (j + 1) % seg;
                if profile[i].0 != 0.0 {
                    self.indices.extend_from_slice(&[a + j, a + k, b + k]);
                }
                if profile[i + 1].0 != 0.0 {
                    self.indices.extend_from_slice(&[a + j, b + k, b + j]);
                }
            }
        }
    }

    fn finish(self, axis: usize) -> MeshData {
        // Z-up frame → `axis` by a cyclic permutation (a rotation, so windings are kept).
        let map = |v: [f32; 3]| match axis {
            0 => [v[2], v[0], v[1]],
            1 => [v[1], v[2], v[0]],
            _ => v,
        };
        MeshData {
            positions: self.positions.into_iter().map(map).collect::<Vec<_>>().into(),
            normals: self.normals.into_iter().map(map).collect::<Vec<_>>().into(),
            colors: Vec::new().into(),
            indices: self.indices.into(),
            instances: Vec::new().into(),
        }
    }
}

/// sin/cos of segment `j`'s angle, exact on quarter turns so the axis-aligned extremes land on
/// the radius.
fn exact_sin_cos(j: usize) -> (f64, f64) {
    if (4 * j).is_multiple_of(SEGMENTS) {
        return [(0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0)][(4 * j / SEGMENTS) % 4];
    }
    (2.0 * PI * j as f64 / SEGMENTS as f64).sin_cos()
}

fn usable(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite() && *v >= 0.0)
}

/// The mesh of `shape` (instances and colors left empty).
pub fn tessellate(shape: &Shape) -> Option<MeshData> {
    let mut b = Builder::default();
    match *shape {
        Shape::Cube { size } => {
            if !usable(&[size]) || size == 0.0 {
                return None;
            }
            let h = size / 2.0;
            for axis in 0..3 {
                for sign in [-1.0, 1.0] {
                    // The face's normal is sign·axis; (u, v·sign) span it counter-clockwise.
                    let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
                    let mut n = [0.0; 3];
                    n[axis] = sign;
                    let corner = |cu: f64, cv: f64| {
                        let mut p = [0.0; 3];
                        p[axis] = sign * h;
                        p[u] = cu * h;
                        p[v] = cv * h * sign;
                        p
                    };
                    let i0 = b.vertex(corner(-1.0, -1.0), n);
                    let i1 = b.vertex(corner(1.0, -1.0), n);
                    let i2 = b.vertex(corner(1.0, 1.0), n);
                    let i3 = b.vertex(corner(-1.0, 1.0), n);
                    b.indices.extend_from_slice(&[i0, i1, i2, i0, i2, i3]);
                }
            }
            Some(b.finish(2))
        }
        Shape::Sphere { radius } => {
            if !usable(&[radius]) || radius == 0.0 {
                return None;
            }
            let profile: Vec<ProfilePoint> = (0..=RINGS)
                .map(|k| {
                    let (s, c) = if k == 0 {
                        (-1.0, 0.0)
                    } else if k == RINGS {
                        (1.0, 0.0)
                    } else if 2 * k == RINGS {
                        (0.0, 1.0)
                    } else {
                        (-FRAC_PI_2 + PI * k as f64 / RINGS as f64).sin_cos()
                    };
                    (radius * c, radius * s, c, s)
                })
                .collect();
            b.revolve(&profile);
            Some(b.finish(2))
        }
        Shape::Frustum { height, bottom, top, axis } => {
            if !usable(&[height, bottom, top]) || height == 0.0 || (bottom == 0.0 && top == 0.0) {
                return None;
            }
            let (zb, zt) = (-height / 2.0, height / 2.0);
            if bottom > 0.0 {
                b.revolve(&[(0.0, zb, 0.0, -1.0), (bottom, zb, 0.0, -1.0)]);
            }
            // Side normal: perpendicular to the slant line, pointing out.
            let len = height.hypot(bottom - top);
            let (nr, nz) = (height / len, (bottom - top) / len);
            b.revolve(&[(bottom, zb, nr, nz), (top, zt, nr, nz)]);
            if top > 0.0 {
                b.revolve(&[(top, zt, 0.0, 1.0), (0.0, zt, 0.0, 1.0)]);
            }
            Some(b.finish(axis))
        }
        Shape::Capsule { height, bottom, top, axis } => {
            if !usable(&[height, bottom, top]) || (bottom == 0.0 && top == 0.0) {
                return None;
            }
            b.revolve(&capsule_profile(height, bottom, top));
            Some(b.finish(axis))
        }
        Shape::Plane { width, length, axis } => {
            if !usable(&[width, length]) || width == 0.0 || length == 0.0 {
                return None;
            }
            let (w, l) = (width / 2.0, length / 2.0);
            // Width and length directions per axis (UsdGeomPlane): Z → (X, Y), Y → (X, Z), X → (Z, Y).
            let (u, v) = PLANE_DIRECTIONS[axis];
            let mut n = [0.0; 3];
            n[axis] = 1.0;
            let corner = |cu: f64, cv: f64| {
                let mut p = [0.0; 3];
                p[u] = cu * w;
                p[v] = cv * l;
                p
            };
            let i0 = b.vertex(corner(-1.0, -1.0), n);
            let i1 = b.vertex(corner(1.0, -1.0), n);
            let i2 = b.vertex(corner(1.0, 1.0), n);
            let i3 = b.vertex(corner(-1.0, 1.0), n);
            // u × v = +axis only for Z (X × Z = -Y, Z × Y = -X): flip the winding otherwise.
            if axis != 2 {
                b.indices.extend_from_slice(&[i0, i2, i1, i0, i3, i2]);
            } else {
                b.indices.extend_from_slice(&[i0, i1, i2, i0, i2, i3]);
            }
            Some(b.finish(2))
        }
    }
}

/// The capsule's side is the frustum from `bottom` at -height/2 to `top` at +height/2; each cap
/// is the sphere tangent to it there (pxr's `UsdGeomCapsule_1` geometry: sphere radius r·sec θ,
/// centre moved by slope·r along the axis), meeting the side at latitude `alpha` (zero for
/// equal radii). The larger cap's equator is always a ring, so the local box is exact.
fn capsule_profile(height: f64, bottom: f64, top: f64) -> Vec<ProfilePoint> {
    let slope = if height > 0.0 { (bottom - top) / height } else { 0.0 };
    let secant = slope.hypot(1.0);
    let alpha = slope.atan();
    let (bottom_centre, bottom) = (-height / 2.0 - slope * bottom, bottom * secant);
    let (top_centre, top) = (height / 2.0 - slope * top, top * secant);
    let half = RINGS / 2;
    let mut lats: Vec<(f64, f64, f64)> = Vec::with_capacity(2 * half + 3);
    // Bottom cap: -pi/2 ..= alpha; top cap: alpha ..= pi/2 (centre, radius, latitude).
    for k in 0..=half {
        lats.push((bottom_centre, bottom, -FRAC_PI_2 + (alpha + FRAC_PI_2) * k as f64 / half as f64));
    }
    for k in 0..=half {
        lats.push((top_centre, top, alpha + (FRAC_PI_2 - alpha) * k as f64 / half as f64));
    }
    // A tapered capsule's larger cap passes its equator inside its latitude range: add it.
    if alpha > 0.0 {
        let at = lats.iter().position(|l| l.2 > 0.0).unwrap_or(lats.len());
        lats.insert(at, (bottom_centre, bottom, 0.0));
    } else if alpha < 0.0 {
        let at = lats.iter().rposition(|l| l.2 < 0.0).map_or(0, |i| i + 1);
        lats.insert(at, (top_centre, top, 0.0));
    }
    let last = lats.len() - 1;
    lats.iter()
        .enumerate()
        .map(|(i, &(centre, r, lat))| {
            let (s, c) = if i == 0 {
                (-1.0, 0.0)
            } else if i == last {
                (1.0, 0.0)
            } else if lat == 0.0 {
                (0.0, 1.0)
            } else {
                lat.sin_cos()
            };
            (r * c, centre + r * s, c, s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local_box(mesh: &MeshData) -> ([f32; 3], [f32; 3]) {
        let mut lo = [f32::MAX; 3];
        let mut hi = [f32::MIN; 3];
        for p in mesh.positions.iter() {
            for i in 0..3 {
                lo[i] = lo[i].min(p[i]);
                hi[i] = hi[i].max(p[i]);
            }
        }
        (lo, hi)
    }

    fn close(a: [f32; 3], b: [f64; 3]) -> bool {
        (0..3).all(|i| (f64::from(a[i]) - b[i]).abs() < 1e-5)
    }

    /// No degenerate triangles, unit normals, and every triangle wound counter-clockwise around
    /// its vertices' normals (faces outward).
    fn check_surface(mesh: &MeshData) {
        assert!(!mesh.indices.is_empty());
        assert_eq!(mesh.positions.len(), mesh.normals.len());
        for n in mesh.normals.iter() {
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            assert!((len - 1.0).abs() < 1e-5, "normal {n:?}");
        }
        for t in mesh.indices.chunks(3) {
            let [a, b, c] = [0, 1, 2].map(|k| mesh.positions[t[k] as usize].map(f64::from));
            let e1 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let e2 = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let face = [e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]];
            let area = (face[0] * face[0] + face[1] * face[1] + face[2] * face[2]).sqrt();
            assert!(area > 1e-12, "degenerate triangle {t:?}");
            for k in 0..3 {
                let n = mesh.normals[t[k] as usize].map(f64::from);
                assert!(face[0] * n[0] + face[1] * n[1] + face[2] * n[2] > 0.0, "winding against normal {t:?}");
            }
        }
    }

    #[test]
    fn local_boxes_are_the_analytic_ones_for_every_axis() {
        for axis in 0..3 {
            let along = |r: f64, lo: f64, hi: f64| {
                let mut min = [-r; 3];
                let mut max = [r; 3];
                min[axis] = lo;
                max[axis] = hi;
                (min, max)
            };
            let cases = [
                (Shape::Frustum { height: 3.0, bottom: 0.5, top: 0.5, axis }, along(0.5, -1.5, 1.5)),
                (Shape::Frustum { height: 4.0, bottom: 1.5, top: 0.0, axis }, along(1.5, -2.0, 2.0)),
                (Shape::Frustum { height: 2.0, bottom: 0.25, top: 0.75, axis }, along(0.75, -1.0, 1.0)),
                (Shape::Capsule { height: 2.0, bottom: 0.5, top: 0.5, axis }, along(0.5, -1.5, 1.5)),
                // slope 0.25, sec = sqrt(1.0625): sphere radii r·sec, centres moved by slope·r.
                (Shape::Capsule { height: 2.0, bottom: 0.75, top: 0.25, axis }, {
                    let sec = 1.0625f64.sqrt();
                    along(0.75 * sec, -1.0 - 0.1875 - 0.75 * sec, 1.0 - 0.0625 + 0.25 * sec)
                }),
                (Shape::Capsule { height: 2.0, bottom: 0.25, top: 0.75, axis }, {
                    let sec = 1.0625f64.sqrt();
                    along(0.75 * sec, -1.0 + 0.0625 - 0.25 * sec, 1.0 + 0.1875 + 0.75 * sec)
                }),
            ];
            for (shape, (min, max)) in cases {
                let mesh = tessellate(&shape).expect("mesh");
                let (lo, hi) = local_box(&mesh);
                assert!(close(lo, min) && close(hi, max), "{shape:?}: {lo:?} {hi:?} vs {min:?} {max:?}");
                check_surface(&mesh);
            }
            let plane = tessellate(&Shape::Plane { width: 4.0, length: 6.0, axis }).expect("plane");
            let (lo, hi) = local_box(&plane);
            let (u, v) = PLANE_DIRECTIONS[axis];
            let mut max = [0.0; 3];
            max[u] = 2.0;
            max[v] = 3.0;
            assert!(close(lo, max.map(|m| -m)) && close(hi, max), "plane axis {axis}: {lo:?} {hi:?}");
            check_surface(&plane);
        }
        let cube = tessellate(&Shape::Cube { size: 3.0 }).expect("cube");
        assert!(close(local_box(&cube).1, [1.5; 3]) && cube.triangle_count() == 12);
        check_surface(&cube);
        let sphere = tessellate(&Shape::Sphere { radius: 2.0 }).expect("sphere");
        let (lo, hi) = local_box(&sphere);
        assert!(close(lo, [-2.0; 3]) && close(hi, [2.0; 3]), "{lo:?} {hi:?}");
        assert_eq!(sphere.triangle_count(), 2 * SEGMENTS * (RINGS - 1));
        check_surface(&sphere);
    }

    #[test]
    fn nothing_for_degenerate_attributes() {
        assert!(tessellate(&Shape::Cube { size: 0.0 }).is_none());
        assert!(tessellate(&Shape::Sphere { radius: -1.0 }).is_none());
        assert!(tessellate(&Shape::Sphere { radius: f64::NAN }).is_none());
        assert!(tessellate(&Shape::Frustum { height: 1.0, bottom: 0.0, top: 0.0, axis: 2 }).is_none());
        assert!(tessellate(&Shape::Plane { width: 1.0, length: 0.0, axis: 2 }).is_none());
    }
}

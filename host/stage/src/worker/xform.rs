//! Local transforms from composed `xformOp`s (`xformOpOrder`, `!invert!`, `!resetXformStack!`),
//! as row-major USD matrices (row-vector convention: `p' = p · M`, translation in the last row).

use openusd::{gf, sdf, usd};

pub type Mat4 = [f64; 16];

pub const IDENTITY: Mat4 = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];

/// `a · b` (apply `a` first, then `b`, in USD's row-vector convention).
pub fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    std::array::from_fn(|idx| {
        let (i, j) = (idx / 4, idx % 4);
        (0..4).map(|k| a[i * 4 + k] * b[k * 4 + j]).sum()
    })
}

pub fn transform_point(m: &Mat4, p: [f64; 3]) -> [f64; 3] {
    let w = p[0] * m[3] + p[1] * m[7] + p[2] * m[11] + m[15];
    let w = if w.abs() > 1e-300 { w } else { 1.0 };
    std::array::from_fn(|j| (p[0] * m[j] + p[1] * m[4 + j] + p[2] * m[8 + j] + m[12 + j]) / w)
}

pub fn translation(t: [f64; 3]) -> Mat4 {
    let mut m = IDENTITY;
    m[12..15].copy_from_slice(&t);
    m
}

pub fn scale(s: [f64; 3]) -> Mat4 {
    let mut m = IDENTITY;
    m[0] = s[0];
    m[5] = s[1];
    m[10] = s[2];
    m
}

/// Rotation about axis 0/1/2 (X/Y/Z) by `deg` degrees.
pub fn rotation(axis: usize, deg: f64) -> Mat4 {
    let r = deg.to_radians();
    match axis {
        0 => gf::Matrix4d::rotation_x(r).0,
        1 => gf::Matrix4d::rotation_y(r).0,
        _ => gf::Matrix4d::rotation_z(r).0,
    }
}

/// Rotation from a `(w, x, y, z)` quaternion (normalized first).
pub fn quaternion(q: [f64; 4]) -> Mat4 {
    let len = q.iter().map(|c| c * c).sum::<f64>().sqrt();
    if len <= 0.0 {
        return IDENTITY;
    }
    gf::Matrix4d::from_quat(q.map(|c| c / len)).0
}

/// The composed local transform of a prim and whether it resets the parent stack.
pub struct LocalXform {
    pub matrix: Mat4,
    pub resets_stack: bool,
}

/// Reads a prim's `xformOpOrder` and ops. Unknown or unreadable ops are skipped.
pub fn local_transform(prim: &usd::Prim) -> LocalXform {
    let mut out = LocalXform { matrix: IDENTITY, resets_stack: false };
    let Ok(Some(order)) = super::time::get(&prim.attribute("xformOpOrder")) else {
        return out;
    };
    let names: Vec<String> = match order {
        sdf::Value::TokenVec(v) => v.iter().map(|t| t.as_str().to_owned()).collect(),
        sdf::Value::StringVec(v) => v,
        _ => return out,
    };
    // The first op in the order is applied first: M = op[n-1] ... op[0] in column form, i.e.
    // M = op[0] · op[1] · ... in row-vector form read right to left. Build by pre-multiplying.
    for name in &names {
        if name == "!resetXformStack!" {
            out.resets_stack = true;
            out.matrix = IDENTITY;
            continue;
        }
        let (invert, attr_name) = match name.strip_prefix("!invert!") {
            Some(rest) => (true, rest),
            None => (false, name.as_str()),
        };
        let Some(mut op) = op_matrix(prim, attr_name) else { continue };
        if invert {
            op = gf::Matrix4d(op).inverse().map_or(IDENTITY, |m| m.0);
        }
        // Ops listed later are applied first to points (closer to the geometry).
        out.matrix = mul(&op, &out.matrix);
    }
    out
}

/// A prim's local-to-world transform at the current sample time (its ancestors' ops composed,
/// honoring `!resetXformStack!`).
pub fn world_transform(prim: &usd::Prim) -> Mat4 {
    let stage = prim.stage();
    let chain: Vec<usd::Prim> =
        prim.path().ancestors().filter(|p| !p.is_abs_root()).map(|p| stage.prim(p)).collect::<Vec<_>>();
    let mut world = IDENTITY;
    for p in chain.iter().rev() {
        let local = local_transform(p);
        world = if local.resets_stack { local.matrix } else { mul(&local.matrix, &world) };
    }
    world
}

/// One op's matrix, from the attribute name's op type (`xformOp:<type>[:suffix]`).
fn op_matrix(prim: &usd::Prim, attr_name: &str) -> Option<Mat4> {
    let op_type = attr_name.strip_prefix("xformOp:")?.split(':').next()?;
    let value = super::time::get(&prim.attribute(attr_name)).ok().flatten()?;
    let nums = numbers(&value)?;
    let v3 = || -> Option<[f64; 3]> { (nums.len() == 3).then(|| [nums[0], nums[1], nums[2]]) };
    Some(match op_type {
        "translate" => translation(v3()?),
        "scale" => scale(v3()?),
        "rotateX" => rotation(0, *nums.first()?),
        "rotateY" => rotation(1, *nums.first()?),
        "rotateZ" => rotation(2, *nums.first()?),
        "orient" => {
            if nums.len() != 4 {
                return None;
            }
            quaternion([nums[0], nums[1], nums[2], nums[3]])
        }
        "transform" => {
            if nums.len() != 16 {
                return None;
            }
            std::array::from_fn(|i| nums[i])
        }
        rot if rot.len() == 9 && rot.starts_with("rotate") => {
            // rotateXYZ etc.: the first named axis is applied first.
            let angles = v3()?;
            let mut m = IDENTITY;
            for c in rot[6..].chars() {
                let axis = match c {
                    'X' => 0,
                    'Y' => 1,
                    'Z' => 2,
                    _ => return None,
                };
                m = mul(&m, &rotation(axis, angles[axis]));
            }
            m
        }
        _ => return None,
    })
}

/// Flattens a numeric scalar / vector / quaternion / matrix value. Quaternions come out as
/// `(w, x, y, z)`.
pub fn numbers(value: &sdf::Value) -> Option<Vec<f64>> {
    use sdf::Value as V;
    Some(match value {
        V::Float(v) => vec![f64::from(*v)],
        V::Double(v) => vec![*v],
        V::Half(v) => vec![f64::from(v.to_f32())],
        V::Int(v) => vec![f64::from(*v)],
        V::Vec3f(v) => vec![f64::from(v.x), f64::from(v.y), f64::from(v.z)],
        V::Vec3d(v) => vec![v.x, v.y, v.z],
        V::Vec3h(v) => vec![f64::from(v.x.to_f32()), f64::from(v.y.to_f32()), f64::from(v.z.to_f32())],
        V::Quatf(q) => vec![f64::from(q.w), f64::from(q.x), f64::from(q.y), f64::from(q.z)],
        V::Quatd(q) => vec![q.w, q.x, q.y, q.z],
        V::Quath(q) => [q.w, q.x, q.y, q.z].iter().map(|c| f64::from(c.to_f32())).collect(),
        V::Matrix4d(m) => m.0.to_vec(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f64; 3], b: [f64; 3]) -> bool {
        (0..3).all(|i| (a[i] - b[i]).abs() < 1e-9)
    }

    #[test]
    fn row_vector_composition_applies_left_first() {
        // Scale by 2 then translate by (1,0,0): (1,0,0) -> (2,0,0) -> (3,0,0).
        let m = mul(&scale([2.0; 3]), &translation([1.0, 0.0, 0.0]));
        assert!(close(transform_point(&m, [1.0, 0.0, 0.0]), [3.0, 0.0, 0.0]));
        // +90° about Z maps X to Y.
        assert!(close(transform_point(&rotation(2, 90.0), [1.0, 0.0, 0.0]), [0.0, 1.0, 0.0]));
        // A quaternion for +90° about Z does the same.
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!(close(transform_point(&quaternion([h, 0.0, 0.0, h]), [1.0, 0.0, 0.0]), [0.0, 1.0, 0.0]));
    }
}

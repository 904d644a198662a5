//! UsdSkel linear blend skinning, baked like every other time-varying input (see
//! [`super::time`]): a `Mesh` bound to a `Skeleton` (`skel:skeleton` on the mesh or inherited
//! from an ancestor) is posed at each sample time of the skeleton's `SkelAnimation`
//! (`skel:animationSource`, on the skeleton or an ancestor): joint-local transforms from the
//! animation's translations/rotations/scales (rest transforms for joints it does not name),
//! concatenated down the joint hierarchy, skinning transforms `inverse(bindTransform) · joint`,
//! and each point `Σ wᵢ · (p · geomBindTransform) · skinningᵢ` (weights normalized), carried from
//! skeleton space into the mesh's space. Blend shapes come first, as UsdSkel applies them: the
//! mesh's `skel:blendShapes` names its `skel:blendShapeTargets` (`BlendShape` prims: `offsets`,
//! optional `pointIndices`), the animation's `blendShapes`/`blendShapeWeights` weight them, and
//! each point moves by `Σ weight · offset` before skinning. Inbetween shapes are not applied (a
//! weight scales the full offset linearly).

use super::{mesh, time, xform};
use openusd::{sdf, usd};
use xform::Mat4;

/// What skinning a mesh needs, read once.
pub struct Skinning {
    skeleton: usd::Prim,
    animation: Option<usd::Prim>,
    /// Per skeleton joint: the index of its parent joint.
    parents: Vec<Option<usize>>,
    bind_inverse: Vec<Mat4>,
    rest: Vec<Mat4>,
    /// Per animation joint: which skeleton joint it drives.
    anim_to_skel: Vec<Option<usize>>,
    /// Per mesh joint index: the skeleton joint (`skel:joints` on the mesh, else identity).
    mesh_to_skel: Vec<Option<usize>>,
    influences: usize,
    indices: Vec<i32>,
    weights: Vec<f32>,
    constant: bool,
    geom_bind: Mat4,
    /// The mesh's blend shapes: the animation channel that weights each, its offsets and the
    /// points they apply to (`None`: every point, in order).
    blend_shapes: Vec<BlendShape>,
}

struct BlendShape {
    channel: Option<usize>,
    offsets: Vec<[f32; 3]>,
    point_indices: Option<Vec<i32>>,
}

fn value(prim: &usd::Prim, name: &str) -> Option<sdf::Value> {
    time::get(&prim.attribute(name)).ok().flatten()
}

fn tokens(prim: &usd::Prim, name: &str) -> Vec<String> {
    match value(prim, name) {
        Some(sdf::Value::TokenVec(v)) => v.iter().map(|t| t.as_str().to_owned()).collect(),
        Some(sdf::Value::StringVec(v)) => v,
        _ => Vec::new(),
    }
}

fn matrices(prim: &usd::Prim, name: &str) -> Vec<Mat4> {
    match value(prim, name) {
        Some(sdf::Value::Matrix4dVec(v)) => v.into_iter().map(|m| m.0).collect(),
        _ => Vec::new(),
    }
}

/// The first target of `rel` on `prim` or its nearest ancestor that authors it.
fn inherited_target(stage: &usd::Stage, prim: &usd::Prim, rel: &str) -> Option<usd::Prim> {
    let mut path = Some(prim.path().clone());
    while let Some(p) = path {
        if p.is_abs_root() {
            break;
        }
        let at = stage.prim(p.clone());
        if let Some(target) = at.relationship(rel).targets().ok().and_then(|t| t.into_iter().next()) {
            let target = stage.prim(target);
            return target.is_valid().unwrap_or(false).then_some(target);
        }
        path = p.parent();
    }
    None
}

fn index_of(names: &[String], wanted: &[String]) -> Vec<Option<usize>> {
    wanted.iter().map(|w| names.iter().position(|n| n == w)).collect()
}

impl Skinning {
    /// The skinning of `prim`, when it is a skinned mesh (joint influences and a skeleton).
    pub fn of(stage: &usd::Stage, prim: &usd::Prim) -> Option<Self> {
        let indices = mesh::ints(value(prim, "primvars:skel:jointIndices"))?;
        let weights: Vec<f32> = match value(prim, "primvars:skel:jointWeights")? {
            sdf::Value::FloatVec(v) => v,
            sdf::Value::DoubleVec(v) => v.into_iter().map(|x| x as f32).collect(),
            _ => return None,
        };
        if indices.len() != weights.len() || indices.is_empty() {
            return None;
        }
        let skeleton = inherited_target(stage, prim, "skel:skeleton")?;
        let joints = tokens(&skeleton, "joints");
        if joints.is_empty() {
            return None;
        }
        let parents =
            joints.iter().map(|j| j.rfind('/').and_then(|cut| joints.iter().position(|p| *p == j[..cut]))).collect();
        let bind = matrices(&skeleton, "bindTransforms");
        let bind_inverse: Vec<Mat4> = (0..joints.len())
            .map(|i| bind.get(i).and_then(|m| openusd::gf::Matrix4d(*m).inverse()).map_or(xform::IDENTITY, |m| m.0))
            .collect();
        let mut rest = matrices(&skeleton, "restTransforms");
        rest.resize(joints.len(), xform::IDENTITY);
        let animation = inherited_target(stage, &skeleton, "skel:animationSource");
        let anim_to_skel = animation.as_ref().map(|a| index_of(&joints, &tokens(a, "joints"))).unwrap_or_default();
        let mesh_joints = tokens(prim, "skel:joints");
        let mesh_to_skel = if mesh_joints.is_empty() {
            (0..joints.len()).map(Some).collect()
        } else {
            index_of(&joints, &mesh_joints)
        };
        let attr = prim.attribute("primvars:skel:jointIndices");
        let influences = attr
            .get_metadata::<sdf::Value>("elementSize")
            .ok()
            .flatten()
            .and_then(|v| xform::numbers(&v))
            .and_then(|n| n.first().copied())
            .map_or(0, |n| n.max(0.0) as usize);
        let constant = matches!(
            attr.get_metadata::<sdf::Value>("interpolation").ok().flatten(),
            Some(sdf::Value::Token(t)) if t.as_str() == "constant"
        );
        let geom_bind = match value(prim, "primvars:skel:geomBindTransform") {
            Some(sdf::Value::Matrix4d(m)) => m.0,
            _ => xform::IDENTITY,
        };
        let blend_names = tokens(prim, "skel:blendShapes");
        let channels =
            animation.as_ref().map(|a| index_of(&tokens(a, "blendShapes"), &blend_names)).unwrap_or_default();
        let targets = prim.relationship("skel:blendShapeTargets").targets().unwrap_or_default();
        let blend_shapes = targets
            .iter()
            .take(blend_names.len())
            .enumerate()
            .filter_map(|(i, path)| {
                let shape = stage.prim(path.clone());
                let offsets = value(&shape, "offsets").and_then(mesh::vec3s)?;
                let point_indices = mesh::ints(value(&shape, "pointIndices"));
                Some(BlendShape { channel: channels.get(i).copied().flatten(), offsets, point_indices })
            })
            .collect();
        Some(Self {
            skeleton,
            animation,
            blend_shapes,
            parents,
            bind_inverse,
            rest,
            anim_to_skel,
            mesh_to_skel,
            influences,
            indices,
            weights,
            constant,
            geom_bind,
        })
    }

    /// The animation's sample times (empty: the pose does not change).
    pub fn sample_times(&self) -> Vec<f64> {
        let Some(anim) = &self.animation else { return Vec::new() };
        let mut times: Vec<f64> = ["translations", "rotations", "scales", "blendShapeWeights"]
            .into_iter()
            .flat_map(|n| time::sample_times(&anim.attribute(n)))
            .collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        times
    }

    /// The points moved by the blend shapes weighted at the current time (`None`: no shape has
    /// a weight).
    fn apply_blend_shapes(&self, points: &[[f32; 3]]) -> Option<Vec<[f32; 3]>> {
        let anim = self.animation.as_ref()?;
        let weights: Vec<f32> = match value(anim, "blendShapeWeights")? {
            sdf::Value::FloatVec(v) => v,
            sdf::Value::DoubleVec(v) => v.into_iter().map(|x| x as f32).collect(),
            sdf::Value::HalfVec(v) => v.into_iter().map(|x| x.to_f32()).collect(),
            _ => return None,
        };
        let mut out = points.to_vec();
        let mut any = false;
        for shape in &self.blend_shapes {
            let Some(&w) = shape.channel.and_then(|c| weights.get(c)) else { continue };
            if w == 0.0 {
                continue;
            }
            any = true;
            for (k, offset) in shape.offsets.iter().enumerate() {
                let target = match &shape.point_indices {
                    Some(indices) => indices.get(k).and_then(|&i| usize::try_from(i).ok()),
                    None => Some(k),
                };
                if let Some(p) = target.and_then(|i| out.get_mut(i)) {
                    for c in 0..3 {
                        p[c] += w * offset[c];
                    }
                }
            }
        }
        any.then_some(out)
    }

    /// Skinning transforms at the current time (see [`time::at`]), per skeleton joint.
    fn skinning_transforms(&self) -> Vec<Mat4> {
        let mut local = self.rest.clone();
        if let Some(anim) = &self.animation {
            let v3 = |name: &str| value(anim, name).and_then(mesh::vec3s).unwrap_or_default();
            let (translations, scales) = (v3("translations"), v3("scales"));
            let rotations: Vec<[f64; 4]> = match value(anim, "rotations") {
                Some(sdf::Value::QuatfVec(v)) => v.iter().map(|q| [q.w, q.x, q.y, q.z].map(f64::from)).collect(),
                Some(sdf::Value::QuathVec(v)) => {
                    v.iter().map(|q| [q.w, q.x, q.y, q.z].map(|c| f64::from(c.to_f32()))).collect()
                }
                Some(sdf::Value::QuatdVec(v)) => v.iter().map(|q| [q.w, q.x, q.y, q.z]).collect(),
                _ => Vec::new(),
            };
            for (a, skel) in self.anim_to_skel.iter().enumerate() {
                let Some(j) = *skel else { continue };
                let s = scales.get(a).map_or([1.0; 3], |s| s.map(f64::from));
                let r = rotations.get(a).map_or(xform::IDENTITY, |q| xform::quaternion(*q));
                let t = translations.get(a).map_or([0.0; 3], |t| t.map(f64::from));
                local[j] = xform::mul(&xform::mul(&xform::scale(s), &r), &xform::translation(t));
            }
        }
        let mut skel_space: Vec<Mat4> = Vec::with_capacity(local.len());
        for (j, l) in local.iter().enumerate() {
            let world = match self.parents[j] {
                Some(p) if p < j => xform::mul(l, &skel_space[p]),
                _ => *l,
            };
            skel_space.push(world);
        }
        skel_space.iter().zip(&self.bind_inverse).map(|(x, inv)| xform::mul(inv, x)).collect()
    }

    /// The mesh's points posed at the current time, in the mesh's own space (`mesh_world` and
    /// the skeleton's world transform carry them from skeleton space).
    pub fn pose(&self, points: &[[f32; 3]], mesh_world: &Mat4) -> Vec<[f32; 3]> {
        let shaped = self.apply_blend_shapes(points);
        let points = shaped.as_deref().unwrap_or(points);
        let skinning = self.skinning_transforms();
        let skel_world = super::xform::world_transform(&self.skeleton);
        let to_mesh = openusd::gf::Matrix4d(*mesh_world).inverse().map_or(xform::IDENTITY, |m| m.0);
        let out_xf = xform::mul(&skel_world, &to_mesh);
        // Influences per point: `elementSize`, or what the arrays' length says when unreadable.
        let n = match self.influences {
            0 if self.constant => self.indices.len(),
            0 => (self.indices.len() / points.len().max(1)).max(1),
            n => n,
        };
        points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let bound = xform::transform_point(&self.geom_bind, p.map(f64::from));
                let base = if self.constant { 0 } else { i * n };
                let mut acc = [0.0f64; 3];
                let mut total = 0.0f64;
                for k in 0..n {
                    let (Some(&ji), Some(&w)) = (self.indices.get(base + k), self.weights.get(base + k)) else { break };
                    let Some(Some(j)) = usize::try_from(ji).ok().and_then(|m| self.mesh_to_skel.get(m)) else {
                        continue;
                    };
                    let Some(m) = skinning.get(*j) else { continue };
                    let q = xform::transform_point(m, bound);
                    for c in 0..3 {
                        acc[c] += f64::from(w) * q[c];
                    }
                    total += f64::from(w);
                }
                let skel = if total > 0.0 { acc.map(|c| c / total) } else { bound };
                xform::transform_point(&out_xf, skel).map(|c| c as f32)
            })
            .collect()
    }
}

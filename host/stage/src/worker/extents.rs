//! Local extents of boundable prims that are not meshes: implicit gprims (Cube, Sphere,
//! Cylinder, Cone, Capsule, Plane and the `_1` variants, which are also tessellated by
//! [`super::gprims`]), Points, and UsdLux lights with a shape. An authored `extent` wins, as in
//! pxr's BBoxCache.

use super::xform;
use openusd::{sdf, usd};
use ovhost_plugin_api::Bounds;

/// The local extent of `prim` (of type `type_name`), or `None` when it has none.
pub fn implicit_extent(prim: &usd::Prim, type_name: &str) -> Option<Bounds> {
    if !is_boundable(type_name) {
        return None;
    }
    if let Ok(Some(value)) = super::time::get(&prim.attribute("extent"))
        && let Some(points) = super::mesh::vec3s(value)
        && points.len() == 2
    {
        return Some(Bounds { min: points[0].map(f64::from), max: points[1].map(f64::from) });
    }
    let num = |names: &[&str], fallback: f64| {
        names
            .iter()
            .find_map(|n| super::time::get(&prim.attribute(*n)).ok().flatten())
            .and_then(|v| xform::numbers(&v))
            .and_then(|n| n.first().copied())
            .unwrap_or(fallback)
    };
    let axis = match super::time::get(&prim.attribute("axis")) {
        Ok(Some(sdf::Value::Token(t))) => match t.as_str() {
            "X" => 0,
            "Y" => 1,
            _ => 2,
        },
        _ => 2,
    };
    let along = |radius: f64, half_length: f64| {
        let mut half = [radius; 3];
        half[axis] = half_length;
        Bounds { min: half.map(|h| -h), max: half }
    };
    let cube = |h: f64| Bounds { min: [-h; 3], max: [h; 3] };
    Some(match type_name {
        "Cube" => cube(num(&["size"], 2.0) / 2.0),
        "Sphere" => cube(num(&["radius"], 1.0)),
        "Cylinder" | "Cone" => along(num(&["radius"], 1.0), num(&["height"], 2.0) / 2.0),
        "Capsule" => {
            let r = num(&["radius"], 0.5);
            along(r, num(&["height"], 1.0) / 2.0 + r)
        }
        "Cylinder_1" => {
            let r = num(&["radiusTop"], 1.0).max(num(&["radiusBottom"], 1.0));
            along(r, num(&["height"], 2.0) / 2.0)
        }
        "Capsule_1" => {
            // pxr's Capsule_1 extent: caps are the spheres tangent to the frustum between the
            // two radii (radius r·sec θ, centre moved by slope·r), so a tapered one is lopsided.
            let (h, top, bottom) = (num(&["height"], 1.0), num(&["radiusTop"], 0.5), num(&["radiusBottom"], 0.5));
            let slope = if h > 0.0 { (bottom - top) / h } else { 0.0 };
            let secant = slope.hypot(1.0);
            let mut b = along(top.max(bottom) * secant, 0.0);
            b.max[axis] = h / 2.0 - slope * top + top * secant;
            b.min[axis] = -h / 2.0 - slope * bottom - bottom * secant;
            b
        }
        "Plane" => {
            let (w, l) = (num(&["width"], 2.0) / 2.0, num(&["length"], 2.0) / 2.0);
            let (u, v) = super::gprims::PLANE_DIRECTIONS[axis];
            let mut half = [0.0; 3];
            half[u] = w;
            half[v] = l;
            Bounds { min: half.map(|h| -h), max: half }
        }
        "Points" => {
            let points = super::time::get(&prim.attribute("points")).ok().flatten().and_then(super::mesh::vec3s)?;
            let mut b = Bounds::EMPTY;
            for p in points {
                b.include_point(p.map(f64::from));
            }
            b
        }
        "SphereLight" => cube(num(&["inputs:radius", "radius"], 0.5)),
        "RectLight" => {
            let (w, h) = (num(&["inputs:width", "width"], 1.0) / 2.0, num(&["inputs:height", "height"], 1.0) / 2.0);
            Bounds { min: [-w, -h, 0.0], max: [w, h, 0.0] }
        }
        "DiskLight" => {
            let r = num(&["inputs:radius", "radius"], 0.5);
            Bounds { min: [-r, -r, 0.0], max: [r, r, 0.0] }
        }
        "CylinderLight" => {
            let (l, r) = (num(&["inputs:length", "length"], 1.0) / 2.0, num(&["inputs:radius", "radius"], 0.5));
            Bounds { min: [-l, -r, -r], max: [l, r, r] }
        }
        _ => return None,
    })
}

fn is_boundable(type_name: &str) -> bool {
    matches!(
        type_name,
        "Cube"
            | "Sphere"
            | "Cylinder"
            | "Cone"
            | "Capsule"
            | "Cylinder_1"
            | "Capsule_1"
            | "Plane"
            | "Points"
            | "SphereLight"
            | "RectLight"
            | "DiskLight"
            | "CylinderLight"
    )
}

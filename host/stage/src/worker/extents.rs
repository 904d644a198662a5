//! Local extents of boundable prims that are not meshes: implicit gprims (Cube, Sphere,
//! Cylinder, Cone, Capsule, Plane), Points, and UsdLux lights with a shape. Used for bounds only
//! (these prims are not tessellated). An authored `extent` wins, as in pxr's BBoxCache.

use super::xform;
use openusd::{sdf, usd};
use ovhost_plugin_api::Bounds;

/// The local extent of `prim` (of type `type_name`), or `None` when it has none.
pub fn implicit_extent(prim: &usd::Prim, type_name: &str) -> Option<Bounds> {
    if !is_boundable(type_name) {
        return None;
    }
    if let Ok(Some(value)) = prim.attribute("extent").get::<sdf::Value>()
        && let Some(points) = super::mesh::vec3s(value)
        && points.len() == 2
    {
        return Some(Bounds { min: points[0].map(f64::from), max: points[1].map(f64::from) });
    }
    let num = |names: &[&str], fallback: f64| {
        names
            .iter()
            .find_map(|n| prim.attribute(*n).get::<sdf::Value>().ok().flatten())
            .and_then(|v| xform::numbers(&v))
            .and_then(|n| n.first().copied())
            .unwrap_or(fallback)
    };
    let axis = match prim.attribute("axis").get::<sdf::Value>() {
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
        "Plane" => {
            let (w, l) = (num(&["width"], 2.0) / 2.0, num(&["length"], 2.0) / 2.0);
            let half = match axis {
                0 => [0.0, w, l],
                1 => [w, 0.0, l],
                _ => [w, l, 0.0],
            };
            Bounds { min: half.map(|h| -h), max: half }
        }
        "Points" => {
            let points = prim.attribute("points").get::<sdf::Value>().ok().flatten().and_then(super::mesh::vec3s)?;
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
            | "Plane"
            | "Points"
            | "SphereLight"
            | "RectLight"
            | "DiskLight"
            | "CylinderLight"
    )
}

//! What `fit` and `focus` frame: validated bounds with their bounding sphere, and the distance
//! at which a box fits a view direction with padding.

use glam::DVec3;
use ovhost_plugin_api::Bounds;

/// A bounding sphere: what the clip range must contain and what fly speed scales with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sphere {
    pub center: DVec3,
    pub radius: f64,
}

impl Sphere {
    /// Radius 1 at the origin.
    pub const UNIT: Self = Self { center: DVec3::ZERO, radius: 1.0 };

    /// The smallest sphere containing both.
    pub fn union(&self, other: &Sphere) -> Sphere {
        let offset = other.center - self.center;
        let gap = offset.length();
        if gap + other.radius <= self.radius {
            return *self;
        }
        if gap + self.radius <= other.radius {
            return *other;
        }
        let radius = 0.5 * (gap + self.radius + other.radius);
        let center = self.center + offset * ((radius - self.radius) / gap);
        Sphere { center, radius }
    }
}

/// Finite, non-empty bounds to frame, with their bounding sphere.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Subject {
    pub bounds: Bounds,
    pub sphere: Sphere,
}

impl Subject {
    /// The unit cube around the origin (what an empty stage is framed as).
    pub fn unit() -> Self {
        Self::point(DVec3::ZERO)
    }

    /// A point has no size to frame: it is framed as the cube of half-size 1 around it.
    fn point(center: DVec3) -> Self {
        let bounds = Bounds { min: (center - DVec3::ONE).to_array(), max: (center + DVec3::ONE).to_array() };
        Self { bounds, sphere: Sphere { center, radius: 3f64.sqrt() } }
    }

    /// `None` for empty bounds or bounds with a non-finite value.
    pub fn from_bounds(bounds: &Bounds) -> Option<Self> {
        let finite = bounds.min.iter().chain(&bounds.max).all(|v| v.is_finite());
        if bounds.is_empty() || !finite {
            return None;
        }
        let center = DVec3::from_array(bounds.center());
        let radius = 0.5 * DVec3::from_array(bounds.size()).length();
        if !(center.is_finite() && radius.is_finite()) {
            return None;
        }
        if radius == 0.0 {
            return Some(Self::point(center));
        }
        Some(Self { bounds: *bounds, sphere: Sphere { center, radius } })
    }

    pub fn corners(&self) -> impl Iterator<Item = DVec3> + '_ {
        (0..8).map(|i| {
            let pick = |axis: usize| if (i >> axis) & 1 == 0 { self.bounds.min[axis] } else { self.bounds.max[axis] };
            DVec3::new(pick(0), pick(1), pick(2))
        })
    }

    /// The distance from the sphere centre, along `-forward`, at which every corner lies within
    /// `1 / padding` of the half field of view horizontally and vertically, and in front of the
    /// eye by at least a hundredth of the radius. `axes` = (right, up, forward) unit vectors,
    /// `tan_half` = tangents of the horizontal and vertical half fields of view.
    pub fn framing_distance(&self, axes: (DVec3, DVec3, DVec3), tan_half: (f64, f64), padding: f64) -> f64 {
        let (right, up, forward) = axes;
        let min_gap = self.sphere.radius * 0.01;
        self.corners()
            .map(|corner| {
                let offset = corner - self.sphere.center;
                // The corner's depth is `distance + offset·forward`; it must cover the
                // corner's sideways extent at the padded field of view.
                let needed_depth = (padding * offset.dot(right).abs() / tan_half.0)
                    .max(padding * offset.dot(up).abs() / tan_half.1)
                    .max(min_gap);
                needed_depth - offset.dot(forward)
            })
            .fold(0.0, f64::max)
    }
}

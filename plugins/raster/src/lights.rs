//! Lights for the scene pass: the stage's UsdLux lights and the default rig (usdview-like: a
//! light at the camera plus a dim dome), chosen by the `lights` render setting, packed into one
//! uniform block with exposure and tone mapping; and the dome light's environment texture.
//!
//! Units follow Storm's simple lighting: a light's `color × intensity × 2^exposure` is the
//! irradiance it delivers at normal incidence (distant) or at unit distance (the area lights,
//! approximated as points with `area × cos` falloff: sphere π r², disk π r², rect w·h,
//! cylinder 2 r·l; `normalize` divides the area back out). At most [`MAX_LIGHTS`] lights (the
//! brightest) are used; extra dome lights add to the ambient.

use bytemuck::{Pod, Zeroable};
use glam::{DMat4, DVec3};
use ovhost_plugin_api::{Light, LightKind};

use crate::settings::{LightRig, RenderSettings, ToneMapping};

pub const MAX_LIGHTS: usize = 16;

/// One light (mirrors `GpuLight` in `pbr.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Default)]
pub struct GpuLight {
    /// xyz: world position, w: kind (1 distant, 2 point-like area light).
    pub position: [f32; 4],
    /// xyz: direction the light faces (distant: the direction light travels), w: unused.
    pub direction: [f32; 4],
    /// rgb: colour × intensity (× area for area lights).
    pub color: [f32; 4],
    /// x: cos(outer cone), y: cos(inner cone) (both -1: no cone), z: 1 = one-sided emitter.
    pub shape: [f32; 4],
}

/// The lights uniform (mirrors `Lights` in `pbr.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct LightsUniform {
    /// x: light count, y: 1 = the dome has a texture, z: tone mapping (0 none, 1 ACES, 2
    /// Reinhard), w: 1 = shade (lit mode).
    pub counts: [u32; 4],
    /// rgb: dome radiance (colour × intensity), w: 2^exposure.
    pub ambient: [f32; 4],
    /// The dome's world-to-local rotation (three columns), for environment lookups.
    pub dome: [[f32; 4]; 3],
    pub lights: [GpuLight; MAX_LIGHTS],
}

/// The stage's lights at time code `t`: baked light transforms (`TrackTarget::LIGHT_TRANSFORM`)
/// and visibility (`LIGHT_VISIBILITY`) applied; hidden lights left out. `tracks` may hold other
/// targets (ignored).
pub fn posed(stage: &[Light], tracks: &[ovhost_plugin_api::Track], t: f64) -> Vec<Light> {
    use ovhost_plugin_api::TrackTarget;
    let mut out: Vec<Option<Light>> = stage.iter().cloned().map(Some).collect();
    let mut sample = [0.0f32; 16];
    for track in tracks {
        let Some(Some(light)) = out.get_mut(track.mesh as usize) else { continue };
        if track.target == TrackTarget::LIGHT_TRANSFORM && track.stride() == 16 {
            if track.sample_into(t, &mut sample) {
                light.world_transform = std::array::from_fn(|i| f64::from(sample[i]));
            }
        } else if track.target == TrackTarget::LIGHT_VISIBILITY
            && track.stride() == 1
            && track.sample_into(t, &mut sample[..1])
            && sample[0] < 0.5
        {
            out[track.mesh as usize] = None;
        }
    }
    out.into_iter().flatten().collect()
}

/// Whether any track animates a light.
pub fn animates_lights(tracks: &[ovhost_plugin_api::Track]) -> bool {
    use ovhost_plugin_api::TrackTarget;
    tracks.iter().any(|t| matches!(t.target, TrackTarget::LIGHT_TRANSFORM | TrackTarget::LIGHT_VISIBILITY))
}

fn world_of(m: &[f64; 16]) -> DMat4 {
    DMat4::from_cols_array(m)
}

fn area_of(light: &Light) -> f32 {
    let pi = std::f32::consts::PI;
    match light.kind {
        LightKind::SPHERE | LightKind::DISK => pi * light.radius * light.radius,
        LightKind::RECT => light.width * light.height,
        LightKind::CYLINDER => 2.0 * light.radius * light.length,
        _ => 1.0,
    }
}

fn to_gpu(light: &Light) -> Option<GpuLight> {
    let m = world_of(&light.world_transform);
    let position = m.transform_point3(DVec3::ZERO);
    // UsdLux lights emit along their local -Z.
    let direction = m.transform_vector3(DVec3::NEG_Z).normalize_or_zero();
    let c = |s: f32| [light.color[0] * s, light.color[1] * s, light.color[2] * s, 0.0];
    let p = [position.x as f32, position.y as f32, position.z as f32];
    let d = [direction.x as f32, direction.y as f32, direction.z as f32, 0.0];
    match light.kind {
        LightKind::DISTANT => Some(GpuLight {
            position: [p[0], p[1], p[2], 1.0],
            direction: d,
            color: c(light.intensity),
            shape: [-1.0, -1.0, 0.0, 0.0],
        }),
        LightKind::SPHERE | LightKind::RECT | LightKind::DISK | LightKind::CYLINDER => {
            let area = area_of(light);
            let scale = if light.normalize { light.intensity } else { light.intensity * area };
            let cone = light.cone_angle_deg.clamp(0.0, 180.0);
            let (outer, inner) = if cone >= 90.0 {
                (-1.0, -1.0)
            } else {
                let outer = cone.to_radians().cos();
                let inner = (cone * (1.0 - light.cone_softness.clamp(0.0, 1.0))).to_radians().cos();
                (outer, inner.max(outer + 1e-4))
            };
            let one_sided = matches!(light.kind, LightKind::RECT | LightKind::DISK);
            Some(GpuLight {
                position: [p[0], p[1], p[2], 2.0],
                direction: d,
                color: c(scale),
                shape: [outer, inner, f32::from(u8::from(one_sided)), 0.0],
            })
        }
        _ => None,
    }
}

/// A distant light travelling from the eye towards the target (the camera light).
fn camera_light(eye: [f64; 3], target: [f64; 3]) -> GpuLight {
    let d = (DVec3::from(target) - DVec3::from(eye)).normalize_or(DVec3::NEG_Z);
    GpuLight {
        position: [eye[0] as f32, eye[1] as f32, eye[2] as f32, 1.0],
        direction: [d.x as f32, d.y as f32, d.z as f32, 0.0],
        color: [1.0, 1.0, 1.0, 0.0],
        shape: [-1.0, -1.0, 0.0, 0.0],
    }
}

/// Default rig dome radiance (dim, neutral).
pub const DEFAULT_DOME: [f32; 3] = [0.12, 0.12, 0.12];

/// Builds the frame's lights uniform. `dome_texture` is set when an environment texture is bound.
pub fn build(
    stage: &[Light],
    settings: &RenderSettings,
    eye: [f64; 3],
    target: [f64; 3],
    dome_texture: bool,
) -> LightsUniform {
    let use_stage = matches!(settings.lights, LightRig::Stage | LightRig::Both) && !stage.is_empty();
    let use_default = settings.lights != LightRig::Stage || stage.is_empty();
    let mut lights: Vec<GpuLight> = Vec::new();
    let mut ambient = [0.0f32; 3];
    let mut dome = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
    if use_default {
        lights.push(camera_light(eye, target));
        ambient = DEFAULT_DOME;
    }
    let mut has_dome_texture = false;
    if use_stage {
        let mut found: Vec<GpuLight> = stage.iter().filter_map(to_gpu).collect();
        found.sort_by(|a, b| {
            let lum = |l: &GpuLight| l.color[0] + l.color[1] + l.color[2];
            lum(b).total_cmp(&lum(a))
        });
        lights.extend(found);
        for d in stage.iter().filter(|l| l.kind == LightKind::DOME) {
            for (a, c) in ambient.iter_mut().zip(d.color) {
                *a += c * d.intensity;
            }
            if d.texture != 0 && dome_texture && !has_dome_texture {
                has_dome_texture = true;
                let inv = world_of(&d.world_transform).inverse();
                let r = |v: glam::DVec4| [v.x as f32, v.y as f32, v.z as f32, 0.0];
                dome = [r(inv.x_axis), r(inv.y_axis), r(inv.z_axis)];
            }
        }
    }
    lights.truncate(MAX_LIGHTS);
    let count = lights.len();
    let mut packed = [GpuLight::default(); MAX_LIGHTS];
    packed[..count].copy_from_slice(&lights);
    let tone = match settings.tone_mapping {
        ToneMapping::None => 0,
        ToneMapping::Aces => 1,
        ToneMapping::Reinhard => 2,
    };
    LightsUniform {
        counts: [count as u32, u32::from(has_dome_texture), tone, 1],
        ambient: [ambient[0], ambient[1], ambient[2], settings.exposure_ev.exp2()],
        dome,
        lights: packed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn light(kind: LightKind) -> Light {
        let mut m = [0.0; 16];
        for i in 0..4 {
            m[i * 5] = 1.0;
        }
        Light {
            prim_id: 1,
            kind,
            world_transform: m,
            color: [0.0, 0.0, 1.0],
            intensity: 2.0,
            radius: 0.5,
            width: 1.0,
            height: 1.0,
            length: 1.0,
            angle_deg: 0.53,
            normalize: false,
            cone_angle_deg: 90.0,
            cone_softness: 0.0,
            texture: 0,
        }
    }

    #[test]
    fn rig_follows_the_setting() {
        let mut s = RenderSettings::default();
        let stage = [light(LightKind::DISTANT), light(LightKind::DOME)];
        let u = build(&stage, &s, [0.0, 0.0, 5.0], [0.0; 3], false);
        assert_eq!(u.counts[0], 1, "stage: the distant light only (the dome is ambient)");
        assert_eq!(u.lights[0].color[2], 2.0);
        assert_eq!(u.ambient[2], 2.0);
        let none = build(&[], &s, [0.0, 0.0, 5.0], [0.0; 3], false);
        assert_eq!(none.counts[0], 1, "no stage lights: the default rig");
        assert_eq!(none.lights[0].color, [1.0, 1.0, 1.0, 0.0]);
        s.lights = LightRig::Both;
        assert_eq!(build(&stage, &s, [0.0, 0.0, 5.0], [0.0; 3], false).counts[0], 2);
        s.lights = LightRig::Default;
        assert_eq!(build(&stage, &s, [0.0, 0.0, 5.0], [0.0; 3], false).lights[0].color, [1.0, 1.0, 1.0, 0.0]);
    }
}

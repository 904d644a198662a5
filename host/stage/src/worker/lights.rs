//! UsdLux lights → the scene's light table: kind, world transform, linear colour (times the
//! blackbody colour when `enableColorTemperature`), `intensity × 2^exposure`, shape and shaping
//! inputs with their schema fallbacks, and the dome light's texture.
//!
//! Both the `inputs:`-namespaced names (UsdLux since 21.02) and the older bare names are read.
//! Invisible lights are skipped by the walk, like invisible geometry. Transforms are read at the
//! start time code; time-sampled transforms and visibility are baked into tracks
//! ([`bake_tracks`]).

use super::materials::{MaterialTable, TextureRequest, floats};
use openusd::{sdf, usd};
use ovhost_plugin_api::{ColorSpace, Light, LightKind, WrapMode};

fn input(prim: &usd::Prim, name: &str) -> Option<Vec<f32>> {
    [format!("inputs:{name}"), name.to_owned()].iter().find_map(|n| {
        let value = prim.attribute(n.as_str()).get::<sdf::Value>().ok().flatten()?;
        floats(&value)
    })
}

fn scalar(prim: &usd::Prim, name: &str, fallback: f32) -> f32 {
    input(prim, name).and_then(|v| v.first().copied()).unwrap_or(fallback)
}

/// The kind of a light prim type, if it is one this reader knows.
pub fn kind_of(type_name: &str) -> Option<LightKind> {
    Some(match type_name {
        "DistantLight" => LightKind::DISTANT,
        "SphereLight" => LightKind::SPHERE,
        "RectLight" => LightKind::RECT,
        "DiskLight" => LightKind::DISK,
        "CylinderLight" => LightKind::CYLINDER,
        "DomeLight" | "DomeLight_1" => LightKind::DOME,
        _ => return None,
    })
}

/// Reads one light prim.
pub fn read(prim: &usd::Prim, kind: LightKind, world: [f64; 16], prim_id: u32, table: &mut MaterialTable) -> Light {
    let mut color =
        input(prim, "color").map_or([1.0; 3], |c| std::array::from_fn(|i| c.get(i).copied().unwrap_or(1.0)));
    if scalar(prim, "enableColorTemperature", 0.0) != 0.0 {
        let t = blackbody_rgb(scalar(prim, "colorTemperature", 6500.0));
        color = std::array::from_fn(|i| color[i] * t[i]);
    }
    let intensity = scalar(prim, "intensity", 1.0) * scalar(prim, "exposure", 0.0).exp2();
    let texture = if kind == LightKind::DOME {
        match prim.attribute("inputs:texture:file").get::<sdf::Value>().ok().flatten() {
            Some(sdf::Value::AssetPath(a)) if !a.is_empty() => table.texture_index(TextureRequest {
                asset_path: a.asset_path().to_owned(),
                resolved: a.resolved_path().map(str::to_owned),
                color_space: ColorSpace::AUTO,
                wrap_s: WrapMode::REPEAT,
                wrap_t: WrapMode::CLAMP,
            }),
            _ => 0,
        }
    } else {
        0
    };
    Light {
        prim_id,
        kind,
        world_transform: world,
        color,
        intensity,
        radius: scalar(prim, "radius", 0.5),
        width: scalar(prim, "width", 1.0),
        height: scalar(prim, "height", 1.0),
        length: scalar(prim, "length", 1.0),
        angle_deg: scalar(prim, "angle", 0.53),
        normalize: scalar(prim, "normalize", 0.0) != 0.0,
        cone_angle_deg: scalar(prim, "shaping:cone:angle", 90.0),
        cone_softness: scalar(prim, "shaping:cone:softness", 0.0),
        texture,
    }
}

/// Linear Rec.709 colour of a blackbody at `kelvin` (clamped to 1000..=40000 K), normalized to
/// luminance 1: the Planckian locus in CIE xy (Kim et al. cubic fit), Y = 1, XYZ → linear sRGB.
pub fn blackbody_rgb(kelvin: f32) -> [f32; 3] {
    let t = f64::from(kelvin.clamp(1000.0, 40000.0));
    let (t2, t3) = (t * t, t * t * t);
    let x = if t <= 4000.0 {
        -0.266_123_9e9 / t3 - 0.234_358_9e6 / t2 + 0.877_695_6e3 / t + 0.179_910
    } else {
        -3.025_846_9e9 / t3 + 2.107_037_9e6 / t2 + 0.222_634_7e3 / t + 0.240_390
    };
    let (x2, x3) = (x * x, x * x * x);
    let y = if t <= 2222.0 {
        -1.106_381_4 * x3 - 1.348_110_20 * x2 + 2.185_558_32 * x - 0.202_196_83
    } else if t <= 4000.0 {
        -0.954_947_6 * x3 - 1.374_185_93 * x2 + 2.091_370_15 * x - 0.167_488_67
    } else {
        3.081_758_0 * x3 - 5.873_386_70 * x2 + 3.751_129_97 * x - 0.370_014_83
    };
    let (cx, cy, cz) = (x / y, 1.0, (1.0 - x - y) / y);
    let r = 3.240_454_2 * cx - 1.537_138_5 * cy - 0.498_531_4 * cz;
    let g = -0.969_266_0 * cx + 1.876_010_8 * cy + 0.041_556_0 * cz;
    let b = 0.055_643_4 * cx - 0.204_025_9 * cy + 1.057_225_2 * cz;
    let rgb = [r.max(0.0), g.max(0.0), b.max(0.0)];
    let luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    if luminance <= 0.0 {
        return [1.0; 3];
    }
    rgb.map(|c| (c / luminance) as f32)
}

/// Time-sampled light transforms and visibility, baked like instance transforms
/// (`TrackTarget::LIGHT_TRANSFORM` / `LIGHT_VISIBILITY`, `mesh` = the light's index): each light
/// is walked at the same time codes as the geometry (the recorded sample times plus every whole
/// time code between them), and a track is kept only when something changes. A light invisible
/// at the start time is not in the table (as invisible geometry), so it gets no track.
pub fn bake_tracks(
    stage: &usd::Stage,
    lights: &[ovhost_plugin_api::Light],
    prim_paths: &[ovhost_plugin_api::abi_stable::std_types::RString],
    recorded: &[f64],
) -> Vec<ovhost_plugin_api::Track> {
    use super::{hierarchy, time, xform};
    use ovhost_plugin_api::{Track, TrackTarget};
    let times = time::walk_times(recorded);
    if times.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (index, light) in lights.iter().enumerate() {
        let Some(path) = (light.prim_id as usize).checked_sub(1).and_then(|i| prim_paths.get(i)) else { continue };
        let Some(parsed) = hierarchy::parse_prim_path(path) else { continue };
        let prim = stage.prim(parsed);
        let mut values = Vec::with_capacity(times.len() * 16);
        let mut moved = false;
        for &t in &times {
            let world = time::at(Some(t), || xform::world_transform(&prim));
            moved |= world.iter().zip(&light.world_transform).any(|(a, b)| (a - b).abs() > 1e-9 * (1.0 + b.abs()));
            values.extend(world.iter().map(|&x| x as f32));
        }
        if moved {
            let times = times.clone().into();
            out.push(Track {
                target: TrackTarget::LIGHT_TRANSFORM,
                mesh: index as u32,
                instance: 0,
                held: false,
                times,
                values: values.into(),
            });
        }
        // Visibility: only the chain's time-sampled opinions can change it.
        let chain: Vec<usd::Prim> =
            prim.path().ancestors().filter(|p| !p.is_abs_root()).map(|p| stage.prim(p)).collect();
        if chain.iter().any(|p| time::varies(&p.attribute("visibility"))) {
            let shown: Vec<f32> = times
                .iter()
                .map(|&t| {
                    let hidden = time::at(Some(t), || {
                        chain.iter().any(|p| {
                            matches!(time::get(&p.attribute("visibility")), Ok(Some(sdf::Value::Token(v))) if v.as_str() == "invisible")
                        })
                    });
                    if hidden { 0.0 } else { 1.0 }
                })
                .collect();
            if shown.contains(&0.0) {
                out.push(Track {
                    target: TrackTarget::LIGHT_VISIBILITY,
                    mesh: index as u32,
                    instance: 0,
                    held: true,
                    times: times.clone().into(),
                    values: shown.into(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blackbody_is_warm_when_low_and_cool_when_high() {
        let warm = blackbody_rgb(2700.0);
        let cool = blackbody_rgb(10000.0);
        assert!(warm[0] > warm[2] * 2.0, "{warm:?}");
        assert!(cool[2] > cool[0], "{cool:?}");
        let d65 = blackbody_rgb(6500.0);
        assert!(d65.iter().all(|c| (c - 1.0).abs() < 0.12), "near white at 6500 K: {d65:?}");
    }
}

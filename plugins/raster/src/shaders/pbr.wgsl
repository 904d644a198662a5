// UsdPreviewSurface shading, appended to scene.wgsl: the material (group 1), the lights and the
// dome's environment (group 0, bindings 1-3), metal/roughness and specular workflows with GGX
// (height-correlated Smith visibility, Schlick Fresnel, multiple-scattering energy
// compensation), clearcoat, image-based ambient from the dome, exposure and tone mapping.
//
// Lighting convention (Storm's): a light's colour × intensity is irradiance at normal
// incidence, so a white intensity-1 light on a diffuse albedo of 1 gives 1.

const PI: f32 = 3.14159265;
const MAX_LIGHTS: u32 = 16u;

struct TexSlot {
    info: vec4<u32>,
    scale: vec4<f32>,
    bias: vec4<f32>,
    uv_row0: vec4<f32>,
    uv_row1: vec4<f32>,
};

struct MaterialParams {
    diffuse: vec4<f32>,
    emissive: vec4<f32>,
    specular: vec4<f32>,
    // metallic, roughness, clearcoat, clearcoatRoughness
    surface: vec4<f32>,
    // opacity, opacityThreshold, ior, occlusion
    opacity: vec4<f32>,
    // x: useSpecularWorkflow, y: use displayColor
    flags: vec4<u32>,
    slots: array<TexSlot, 10>,
};

struct GpuLight {
    position: vec4<f32>,
    direction: vec4<f32>,
    color: vec4<f32>,
    shape: vec4<f32>,
};

struct Lights {
    // x: count, y: dome textured, z: tone mapping, w: unused
    counts: vec4<u32>,
    // rgb: dome radiance, w: exposure scale
    ambient: vec4<f32>,
    dome: array<vec4<f32>, 3>,
    lights: array<GpuLight, 16>,
};

@group(0) @binding(1) var<uniform> lights: Lights;
@group(0) @binding(2) var env_tex: texture_2d<f32>;
@group(0) @binding(3) var env_sampler: sampler;

@group(1) @binding(0) var<uniform> mat: MaterialParams;
@group(1) @binding(1) var t_diffuse: texture_2d<f32>;
@group(1) @binding(2) var t_emissive: texture_2d<f32>;
@group(1) @binding(3) var t_specular: texture_2d<f32>;
@group(1) @binding(4) var t_metallic: texture_2d<f32>;
@group(1) @binding(5) var t_roughness: texture_2d<f32>;
@group(1) @binding(6) var t_clearcoat: texture_2d<f32>;
@group(1) @binding(7) var t_clearcoat_roughness: texture_2d<f32>;
@group(1) @binding(8) var t_opacity: texture_2d<f32>;
@group(1) @binding(9) var t_normal: texture_2d<f32>;
@group(1) @binding(10) var t_occlusion: texture_2d<f32>;
@group(1) @binding(11) var s_diffuse: sampler;
@group(1) @binding(12) var s_emissive: sampler;
@group(1) @binding(13) var s_specular: sampler;
@group(1) @binding(14) var s_metallic: sampler;
@group(1) @binding(15) var s_roughness: sampler;
@group(1) @binding(16) var s_clearcoat: sampler;
@group(1) @binding(17) var s_clearcoat_roughness: sampler;
@group(1) @binding(18) var s_opacity: sampler;
@group(1) @binding(19) var s_normal: sampler;
@group(1) @binding(20) var s_occlusion: sampler;

struct Surface {
    base: vec3<f32>,
    emissive: vec3<f32>,
    specular: vec3<f32>,
    metallic: f32,
    roughness: f32,
    clearcoat: f32,
    clearcoat_roughness: f32,
    opacity: f32,
    threshold: f32,
    ior: f32,
    occlusion: f32,
    normal: vec3<f32>,
};

// USD st (origin bottom-left) through the slot's UsdTransform2d, to image coordinates (rows top
// to bottom).
fn slot_uv(i: u32, st: vec2<f32>) -> vec2<f32> {
    let s = mat.slots[i];
    let p = vec3<f32>(st, 1.0);
    let t = vec2<f32>(dot(s.uv_row0.xyz, p), dot(s.uv_row1.xyz, p));
    return vec2<f32>(t.x, 1.0 - t.y);
}

// The sampled value of a slot: the authored output channel, times scale, plus bias.
fn slot_value(i: u32, texel: vec4<f32>) -> vec4<f32> {
    let s = mat.slots[i];
    var v = texel;
    switch s.info.y {
        case 1u: { v = vec4<f32>(texel.r); }
        case 2u: { v = vec4<f32>(texel.g); }
        case 3u: { v = vec4<f32>(texel.b); }
        case 4u: { v = vec4<f32>(texel.a); }
        default: {}
    }
    return v * s.scale + s.bias;
}

fn textured(i: u32) -> bool {
    return mat.slots[i].info.x != 0u;
}

// Slot `i`'s value at `st` where the material binds a texture there, else `fallback` (nothing
// sampled). `i` is a constant at every call, so the branch is uniform.
fn slot_or(i: u32, t: texture_2d<f32>, smp: sampler, st: vec2<f32>, fallback: vec4<f32>) -> vec4<f32> {
    if (textured(i)) {
        return slot_value(i, textureSample(t, smp, slot_uv(i, st)));
    }
    return fallback;
}

// Reads the material at a fragment. A texture is sampled (and the tangent frame derived) only
// where the material binds one: each branch depends on the material uniform alone, so control
// flow stays uniform and implicit derivatives stay defined, and an untextured material (the
// common case: constants or displayColor) costs no sampling at all, which matters most on
// software rasterizers.
fn read_surface(st: vec2<f32>, vertex_color: vec3<f32>, world: vec3<f32>, n_geom: vec3<f32>) -> Surface {
    var s: Surface;
    var base = mat.diffuse;
    if (mat.flags.y != 0u) {
        base = vec4<f32>(vertex_color, 1.0);
    }
    s.base = slot_or(0u, t_diffuse, s_diffuse, st, base).rgb;
    s.emissive = slot_or(1u, t_emissive, s_emissive, st, mat.emissive).rgb;
    s.specular = slot_or(2u, t_specular, s_specular, st, mat.specular).rgb;
    s.metallic = slot_or(3u, t_metallic, s_metallic, st, vec4<f32>(mat.surface.x)).x;
    s.roughness = slot_or(4u, t_roughness, s_roughness, st, vec4<f32>(mat.surface.y)).x;
    s.clearcoat = slot_or(5u, t_clearcoat, s_clearcoat, st, vec4<f32>(mat.surface.z)).x;
    s.clearcoat_roughness =
        slot_or(6u, t_clearcoat_roughness, s_clearcoat_roughness, st, vec4<f32>(mat.surface.w)).x;
    s.opacity = slot_or(7u, t_opacity, s_opacity, st, vec4<f32>(mat.opacity.x)).x;
    s.threshold = mat.opacity.y;
    s.ior = mat.opacity.z;
    s.occlusion = slot_or(9u, t_occlusion, s_occlusion, st, vec4<f32>(mat.opacity.w)).x;
    s.normal = n_geom;
    if (textured(8u)) {
        let n_ts = slot_value(8u, textureSample(t_normal, s_normal, slot_uv(8u, st))).xyz;
        // Tangent frame from screen-space derivatives (no authored tangents needed).
        let dp1 = dpdx(world);
        let dp2 = dpdy(world);
        let duv1 = dpdx(st);
        let duv2 = dpdy(st);
        let dp2perp = cross(dp2, n_geom);
        let dp1perp = cross(n_geom, dp1);
        let t = dp2perp * duv1.x + dp1perp * duv2.x;
        // The image's v runs down; USD's t runs up.
        let b = dp2perp * duv1.y + dp1perp * duv2.y;
        let scale = inverseSqrt(max(max(dot(t, t), dot(b, b)), 1e-20));
        let mapped = t * scale * n_ts.x + b * scale * n_ts.y + n_geom * n_ts.z;
        if (dot(mapped, mapped) > 1e-12) {
            s.normal = normalize(mapped);
        }
    }
    s.roughness = clamp(s.roughness, 0.0, 1.0);
    s.metallic = clamp(s.metallic, 0.0, 1.0);
    s.opacity = clamp(s.opacity, 0.0, 1.0);
    return s;
}

fn d_ggx(n_dot_h: f32, a: f32) -> f32 {
    let a2 = a * a;
    let d = n_dot_h * n_dot_h * (a2 - 1.0) + 1.0;
    return a2 / (PI * d * d);
}

// Height-correlated Smith visibility (G / (4 n·l n·v)).
fn v_smith(n_dot_v: f32, n_dot_l: f32, a: f32) -> f32 {
    let a2 = a * a;
    let gv = n_dot_l * sqrt(n_dot_v * n_dot_v * (1.0 - a2) + a2);
    let gl = n_dot_v * sqrt(n_dot_l * n_dot_l * (1.0 - a2) + a2);
    return 0.5 / max(gv + gl, 1e-6);
}

fn fresnel(f0: vec3<f32>, v_dot_h: f32) -> vec3<f32> {
    return f0 + (vec3<f32>(1.0) - f0) * pow(1.0 - v_dot_h, 5.0);
}

// Split-sum environment BRDF, analytic fit (Karis); (scale, bias) for F0.
fn env_brdf(roughness: f32, n_dot_v: f32) -> vec2<f32> {
    let c0 = vec4<f32>(-1.0, -0.0275, -0.572, 0.022);
    let c1 = vec4<f32>(1.0, 0.0425, 1.04, -0.04);
    let r = roughness * c0 + c1;
    let a004 = min(r.x * r.x, exp2(-9.28 * n_dot_v)) * r.x + r.y;
    return vec2<f32>(-1.04, 1.04) * a004 + r.zw;
}

struct Lobes {
    diffuse: vec3<f32>,
    f0: vec3<f32>,
    // Multiple-scattering compensation for the specular lobe.
    energy: vec3<f32>,
};

fn lobes(s: Surface, n_dot_v: f32) -> Lobes {
    var out: Lobes;
    if (mat.flags.x != 0u) {
        out.f0 = s.specular;
        out.diffuse = s.base;
    } else {
        let r = (1.0 - s.ior) / (1.0 + s.ior);
        out.f0 = mix(vec3<f32>(r * r), s.base, s.metallic);
        out.diffuse = s.base * (1.0 - s.metallic);
    }
    let ab = env_brdf(s.roughness, n_dot_v);
    out.energy = vec3<f32>(1.0) + out.f0 * (1.0 / max(ab.x + ab.y, 1e-3) - 1.0);
    return out;
}

fn direct(s: Surface, lb: Lobes, n: vec3<f32>, v: vec3<f32>, l: vec3<f32>, irradiance: vec3<f32>) -> vec3<f32> {
    let n_dot_l = dot(n, l);
    if (n_dot_l <= 0.0) {
        return vec3<f32>(0.0);
    }
    let h = normalize(v + l);
    let n_dot_v = max(dot(n, v), 1e-4);
    let n_dot_h = max(dot(n, h), 0.0);
    let v_dot_h = max(dot(v, h), 0.0);
    let a = max(s.roughness * s.roughness, 0.002);
    let f = fresnel(lb.f0, v_dot_h);
    let spec = d_ggx(n_dot_h, a) * v_smith(n_dot_v, n_dot_l, a) * f * lb.energy;
    var color = (lb.diffuse * (vec3<f32>(1.0) - f) + spec * PI) * irradiance * n_dot_l;
    if (s.clearcoat > 0.0) {
        let ac = max(s.clearcoat_roughness * s.clearcoat_roughness, 0.002);
        let fc = fresnel(vec3<f32>(0.04), v_dot_h).x * s.clearcoat;
        let coat = d_ggx(n_dot_h, ac) * v_smith(n_dot_v, n_dot_l, ac) * fc * PI;
        color = color * (1.0 - fc) + vec3<f32>(coat) * irradiance * n_dot_l;
    }
    return color;
}

// The dome's environment in a world direction at a mip level (constant without a texture).
fn environment(dir: vec3<f32>, level: f32) -> vec3<f32> {
    if (lights.counts.y == 0u) {
        return lights.ambient.rgb;
    }
    let d = normalize(dir.x * lights.dome[0].xyz + dir.y * lights.dome[1].xyz + dir.z * lights.dome[2].xyz);
    let u = 0.5 + atan2(d.x, -d.z) / (2.0 * PI);
    let v = acos(clamp(d.y, -1.0, 1.0)) / PI;
    return textureSampleLevel(env_tex, env_sampler, vec2<f32>(u, v), level).rgb * lights.ambient.rgb;
}

fn tone_map(c: vec3<f32>) -> vec3<f32> {
    let x = c * lights.ambient.w;
    switch lights.counts.z {
        case 1u: {
            // ACES filmic fit (Narkowicz 2015).
            return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), vec3<f32>(0.0), vec3<f32>(1.0));
        }
        case 2u: {
            return x / (vec3<f32>(1.0) + x);
        }
        default: {
            return clamp(x, vec3<f32>(0.0), vec3<f32>(1.0));
        }
    }
}

fn shade(s: Surface, world: vec3<f32>, v: vec3<f32>) -> vec3<f32> {
    let n = s.normal;
    let n_dot_v = max(dot(n, v), 1e-4);
    let lb = lobes(s, n_dot_v);
    var color = vec3<f32>(0.0);
    let count = min(lights.counts.x, MAX_LIGHTS);
    for (var i = 0u; i < count; i = i + 1u) {
        let light = lights.lights[i];
        var l: vec3<f32>;
        var e = light.color.rgb;
        if (light.position.w < 1.5) {
            l = -normalize(light.direction.xyz);
        } else {
            let d = light.position.xyz - world;
            let dist2 = max(dot(d, d), 1e-6);
            l = d * inverseSqrt(dist2);
            e = e / dist2;
            let cos_emit = dot(-l, normalize(light.direction.xyz));
            if (light.shape.z > 0.5) {
                e = e * max(cos_emit, 0.0);
            }
            if (light.shape.x > -1.0) {
                e = e * smoothstep(light.shape.x, light.shape.y, cos_emit);
            }
        }
        color += direct(s, lb, n, v, l, e);
    }
    // Image-based ambient from the dome (split sum; the lowest mips stand in for irradiance);
    // without a dome texture, its constant radiance, with no texture work at all.
    var irradiance = lights.ambient.rgb;
    var prefiltered = lights.ambient.rgb;
    if (lights.counts.y != 0u) {
        let levels = f32(textureNumLevels(env_tex));
        irradiance = environment(n, levels - 1.0);
        prefiltered = environment(reflect(-v, n), s.roughness * (levels - 1.0));
    }
    let ab = env_brdf(s.roughness, n_dot_v);
    let spec_ibl = (lb.f0 * ab.x + vec3<f32>(ab.y)) * lb.energy * prefiltered;
    color += (lb.diffuse * irradiance + spec_ibl) * s.occlusion;
    color += s.emissive;
    return tone_map(color);
}

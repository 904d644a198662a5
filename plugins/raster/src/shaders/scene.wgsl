// Scene passes: meshes and the background into an sRGB colour target (`fs_mesh`,
// `fs_background`), or meshes into a prim-id target (r32uint, `fs_id`) on demand.
// What the colour target holds depends on the render mode and the AOV. Surfaces are shaded by
// pbr.wgsl, which is appended to this source.

struct Globals {
    view_proj: mat4x4<f32>,
    eye: vec4<f32>,
    // x, y: distance range used to normalize the depth AOV.
    depth_range: vec4<f32>,
    bg_top: vec4<f32>,
    bg_bottom: vec4<f32>,
    // x: render mode (0 lit, 1 flat, 2 normals, 3 wireframe), y: AOV (0 LdrColor, 1 depth,
    // 2 normal, 3 instance segmentation).
    mode: vec4<u32>,
};

@group(0) @binding(0) var<uniform> g: Globals;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec3<f32>,
    @location(3) m0: vec4<f32>,
    @location(4) m1: vec4<f32>,
    @location(5) m2: vec4<f32>,
    @location(6) m3: vec4<f32>,
    @location(7) n0: vec4<f32>,
    @location(8) n1: vec4<f32>,
    @location(9) n2: vec4<f32>,
    @location(10) prim_id: u32,
    @location(11) uv: vec2<f32>,
    // Bit 0: single-sided (cull back faces).
    @location(12) flags: u32,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) color: vec3<f32>,
    @location(3) @interpolate(flat) prim_id: u32,
    @location(4) uv: vec2<f32>,
    // Bit 0: cull back faces; bit 1: the transform mirrors (negative determinant), which swaps
    // which winding faces the viewer.
    @location(5) @interpolate(flat) sided: u32,
};

struct FragmentOut {
    @location(0) color: vec4<f32>,
    @location(1) id: u32,
};

@vertex
fn vs_mesh(v: VertexIn) -> VertexOut {
    let model = mat4x4<f32>(v.m0, v.m1, v.m2, v.m3);
    let normal_matrix = mat3x3<f32>(v.n0.xyz, v.n1.xyz, v.n2.xyz);
    let world = model * vec4<f32>(v.position, 1.0);
    var out: VertexOut;
    out.clip = g.view_proj * world;
    out.world = world.xyz / world.w;
    out.normal = normal_matrix * v.normal;
    out.color = v.color;
    out.prim_id = v.prim_id;
    out.uv = v.uv;
    let mirrored = determinant(mat3x3<f32>(v.m0.xyz, v.m1.xyz, v.m2.xyz)) < 0.0;
    out.sided = (v.flags & 1u) | select(0u, 2u, mirrored);
    return out;
}

fn hash_color(id: u32) -> vec3<f32> {
    var h = id * 747796405u + 2891336453u;
    h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
    h = (h >> 22u) ^ h;
    let c = vec3<f32>(f32(h & 255u), f32((h >> 8u) & 255u), f32((h >> 16u) & 255u)) / 255.0;
    // Keep colours away from black so they never read as background.
    return 0.25 + 0.75 * c;
}

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let x = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    let lo = x / 12.92;
    let hi = pow((x + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, x <= vec3<f32>(0.04045));
}

@fragment
fn fs_mesh(in: VertexOut, @builtin(front_facing) front_facing: bool) -> FragmentOut {
    // Faceted normal from screen-space derivatives, used when the mesh has no normals. Computed
    // before any branch: derivatives need uniform control flow.
    let faceted = cross(dpdx(in.world), dpdy(in.world));
    var n = in.normal;
    let derived = dot(n, n) < 1e-12;
    if (derived) {
        n = faceted;
    }
    n = normalize(n);
    let to_eye = normalize(g.eye.xyz - in.world);
    // Counter-clockwise (USD's right-handed winding) faces the viewer; a mirroring transform
    // swaps it. Back faces of single-sided meshes are culled below (as usdview does); those of
    // double-sided meshes are lit on their own side: the normal is flipped.
    let front = front_facing != ((in.sided & 2u) != 0u);
    let culled = !front && (in.sided & 1u) != 0u;
    if (derived) {
        // The faceted normal's sign follows the screen, not the winding: face it to the eye.
        if (dot(n, to_eye) < 0.0) {
            n = -n;
        }
    } else if (!front) {
        n = -n;
    }
    // The material (pbr.wgsl): textures are sampled here, in uniform control flow.
    let surf = read_surface(in.uv, in.color, in.world, n);
    if (culled || (surf.threshold > 0.0 && surf.opacity < surf.threshold)) {
        discard;
    }
    var alpha = 1.0;

    var color: vec3<f32>;
    let aov = g.mode.y;
    if (aov == 1u) {
        let d = distance(g.eye.xyz, in.world);
        let t = clamp((d - g.depth_range.x) / max(g.depth_range.y - g.depth_range.x, 1e-6), 0.0, 1.0);
        color = vec3<f32>(1.0 - 0.85 * t);
    } else if (aov == 2u) {
        color = n * 0.5 + 0.5;
    } else if (aov == 3u) {
        color = select(hash_color(in.prim_id), vec3<f32>(0.0), in.prim_id == 0u);
    } else {
        let mode = g.mode.x;
        alpha = select(surf.opacity, 1.0, surf.threshold > 0.0);
        if (mode == 0u) {
            color = shade(surf, in.world, to_eye);
        } else if (mode == 2u) {
            color = surf.normal * 0.5 + 0.5;
        } else {
            color = surf.base;
        }
    }
    // The target encodes to sRGB on write. Shaded colour is linear and wants that; data (AOVs,
    // normals mode) must come out as raw bytes, so decode it first to cancel the encoding.
    if (aov != 0u || g.mode.x == 2u) {
        color = srgb_to_linear(color);
    }
    var out: FragmentOut;
    out.color = vec4<f32>(color, alpha);
    out.id = in.prim_id;
    return out;
}

// The id pass (`scene_pass.rs`: picks and the selection outline, on demand): the same coverage
// as fs_mesh, which discards back faces of single-sided meshes and cut-out texels, and only the
// prim id written.
struct IdOut {
    @location(1) id: u32,
};

@fragment
fn fs_id(in: VertexOut, @builtin(front_facing) front_facing: bool) -> IdOut {
    let front = front_facing != ((in.sided & 2u) != 0u);
    let culled = !front && (in.sided & 1u) != 0u;
    let opacity = clamp(slot_or(7u, t_opacity, s_opacity, in.uv, vec4<f32>(mat.opacity.x)).x, 0.0, 1.0);
    let threshold = mat.opacity.y;
    if (culled || (threshold > 0.0 && opacity < threshold)) {
        discard;
    }
    var out: IdOut;
    out.id = in.prim_id;
    return out;
}

struct BackgroundOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) v: f32,
};

@vertex
fn vs_background(@builtin(vertex_index) i: u32) -> BackgroundOut {
    // One triangle covering the screen.
    let x = f32(i32(i & 1u) * 4 - 1);
    let y = f32(i32(i >> 1u) * 4 - 1);
    var out: BackgroundOut;
    out.clip = vec4<f32>(x, y, 1.0, 1.0);
    out.v = y * 0.5 + 0.5;
    return out;
}

@fragment
fn fs_background(in: BackgroundOut) -> FragmentOut {
    var out: FragmentOut;
    if (g.mode.y == 0u && g.mode.x != 2u) {
        out.color = vec4<f32>(mix(g.bg_bottom.rgb, g.bg_top.rgb, clamp(in.v, 0.0, 1.0)), 1.0);
    } else {
        out.color = vec4<f32>(0.0, 0.0, 0.0, 1.0);
    }
    out.id = 0u;
    return out;
}

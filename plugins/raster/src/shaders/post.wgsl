// Post pass, only while something is selected: copies the colour target to the output and draws
// the selection outline on unselected pixels within `outline_px` of a selected prim's pixels.
// Both textures are sRGB: reads decode and writes encode, so copied pixels keep their bytes.

struct Post {
    // y: outline radius in pixels, z: 1 when anything is selected. outline_color is linear.
    flags: vec4<u32>,
    outline_color: vec4<f32>,
};

@group(0) @binding(0) var color_tex: texture_2d<f32>;
@group(0) @binding(1) var id_tex: texture_2d<u32>;
// Selection bitset: bit (id % 32) of word (id / 32); words laid out row by row.
@group(0) @binding(2) var selection_tex: texture_2d<u32>;
@group(0) @binding(3) var<uniform> p: Post;

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    let x = f32(i32(i & 1u) * 4 - 1);
    let y = f32(i32(i >> 1u) * 4 - 1);
    return vec4<f32>(x, y, 0.0, 1.0);
}

fn is_selected(id: u32) -> bool {
    if (id == 0u) {
        return false;
    }
    let dims = textureDimensions(selection_tex);
    let word = id / 32u;
    let row = word / dims.x;
    if (row >= dims.y) {
        return false;
    }
    let bits = textureLoad(selection_tex, vec2<u32>(word % dims.x, row), 0).r;
    return ((bits >> (id % 32u)) & 1u) == 1u;
}

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let pixel = vec2<i32>(pos.xy);
    var c = textureLoad(color_tex, pixel, 0).rgb;
    if (p.flags.z == 1u) {
        let size = vec2<i32>(textureDimensions(id_tex));
        let r = i32(p.flags.y);
        if (!is_selected(textureLoad(id_tex, pixel, 0).r)) {
            var near = false;
            for (var dy = -r; dy <= r; dy++) {
                for (var dx = -r; dx <= r; dx++) {
                    if (dx * dx + dy * dy > r * r + r) {
                        continue;
                    }
                    let q = clamp(pixel + vec2<i32>(dx, dy), vec2<i32>(0), size - 1);
                    if (is_selected(textureLoad(id_tex, q, 0).r)) {
                        near = true;
                    }
                }
            }
            if (near) {
                c = p.outline_color.rgb;
            }
        }
    }
    return vec4<f32>(c, 1.0);
}

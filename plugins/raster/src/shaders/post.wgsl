// Selection outline, only while something is selected. An unselected pixel p is outlined when a
// selected prim's pixel q lies in the disk |q - p|² <= r² + r (r = outline radius in pixels;
// neighbours beyond the frame's edge read the edge pixel). Evaluated separably in three cheap
// passes instead of reading (2r+1)² ids per pixel, each scissored to where the selection can be
// on screen (`selection.rs` `screen_rect`), so a small selection costs a small rectangle:
//   1. `fs_mask`: 1 where this pixel's prim is selected (one id and one bitset read per pixel);
//      the target is cleared to 0 outside the rectangle;
//   2. `fs_rows`: the horizontal distance to the nearest selected pixel of the same row within r
//      (r+1 when none; 0 on a selected pixel): 2r+1 mask reads; cleared to r+1 outside;
//   3. `fs_outline`: draws over the colour target (loaded, not cleared) the outline colour where
//      some dy in -r..r has rows(x, y+dy)² + dy² <= r² + r and the pixel itself is unselected,
//      and discards every other pixel: 2r+1 reads. Exactly the disk test above, since clamping
//      at the edges is per axis.
// The colour target is sRGB: the outline colour is given linear and encoded on write.

struct Post {
    // y: outline radius in pixels, z: 1 when anything is selected. outline_color is linear.
    flags: vec4<u32>,
    outline_color: vec4<f32>,
};

// Pass 1 reads ids and the selection.
@group(0) @binding(0) var id_tex: texture_2d<u32>;
// Selection bitset: bit (id % 32) of word (id / 32); words laid out row by row, 1024 words a row
// (`ROW_WORDS` in selection.rs).
@group(0) @binding(1) var selection_tex: texture_2d<u32>;
// Pass 2 reads the mask, pass 3 the row distances.
@group(0) @binding(2) var stage_tex: texture_2d<u32>;
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
    let word = id >> 5u;
    let row = word >> 10u;
    if (row >= textureDimensions(selection_tex).y) {
        return false;
    }
    let bits = textureLoad(selection_tex, vec2<u32>(word & 1023u, row), 0).r;
    return ((bits >> (id & 31u)) & 1u) == 1u;
}

@fragment
fn fs_mask(@builtin(position) pos: vec4<f32>) -> @location(0) u32 {
    return select(0u, 1u, is_selected(textureLoad(id_tex, vec2<i32>(pos.xy), 0).r));
}

@fragment
fn fs_rows(@builtin(position) pos: vec4<f32>) -> @location(0) u32 {
    let pixel = vec2<i32>(pos.xy);
    let last = i32(textureDimensions(stage_tex).x) - 1;
    let r = i32(p.flags.y);
    var best = r + 1;
    for (var dx = -r; dx <= r; dx++) {
        let x = clamp(pixel.x + dx, 0, last);
        if (textureLoad(stage_tex, vec2<i32>(x, pixel.y), 0).r == 1u) {
            best = min(best, abs(dx));
        }
    }
    return u32(best);
}

@fragment
fn fs_outline(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let pixel = vec2<i32>(pos.xy);
    // A selected pixel (distance 0) keeps its colour.
    if (textureLoad(stage_tex, pixel, 0).r == 0u) {
        discard;
    }
    let last = i32(textureDimensions(stage_tex).y) - 1;
    let r = i32(p.flags.y);
    var near = false;
    for (var dy = -r; dy <= r; dy++) {
        let h = i32(textureLoad(stage_tex, vec2<i32>(pixel.x, clamp(pixel.y + dy, 0, last)), 0).r);
        if (h * h + dy * dy <= r * r + r) {
            near = true;
        }
    }
    if (!near) {
        discard;
    }
    return vec4<f32>(p.outline_color.rgb, 1.0);
}

// RGBA -> I420 (BT.601 limited range) on the GPU, before readback: 1.5 bytes per pixel leave the
// GPU instead of 4. The integer arithmetic is the encoder's CPU path's (OpenH264's RGB -> YUV:
// Y = ((66 R + 129 G + 25 B) >> 8) + 16 per pixel; U, V from the rounded 2x2 average), so the
// planes match what `rgba-to-h264` would have made of the RGBA frame.
//
// One invocation converts a block 8 pixels wide and 2 rows high: two 32-bit words of Y per row,
// one word of U and one of V, so no two invocations write the same word. The source is a
// non-sRGB view of the final colour target: its texels are the frame's bytes / 255.

struct Params {
    width: u32,
    height: u32,
    // Y pitch in 32-bit words (the pitch in bytes is a multiple of 8).
    pitch_words: u32,
    chroma_pitch_words: u32,
    u_word: u32,
    v_word: u32,
    blocks_x: u32,
    blocks_y: u32,
}

@group(0) @binding(0) var source: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> planes: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn texel(x: u32, y: u32) -> vec3<i32> {
    let at = vec2<i32>(i32(min(x, params.width - 1u)), i32(min(y, params.height - 1u)));
    return vec3<i32>(round(textureLoad(source, at, 0).rgb * 255.0));
}

fn luma(c: vec3<i32>) -> u32 {
    return u32(((66 * c.r + 129 * c.g + 25 * c.b) >> 8u) + 16);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= params.blocks_x || id.y >= params.blocks_y) {
        return;
    }
    let x0 = id.x * 8u;
    let y0 = id.y * 2u;
    var top = array<u32, 2>(0u, 0u);
    var bottom = array<u32, 2>(0u, 0u);
    var u_word = 0u;
    var v_word = 0u;
    for (var j = 0u; j < 4u; j = j + 1u) {
        let xa = x0 + 2u * j;
        let a = texel(xa, y0);
        let b = texel(xa + 1u, y0);
        let c = texel(xa, y0 + 1u);
        let d = texel(xa + 1u, y0 + 1u);
        let shift = 16u * (j % 2u);
        top[j / 2u] = top[j / 2u] | (luma(a) << shift) | (luma(b) << (shift + 8u));
        bottom[j / 2u] = bottom[j / 2u] | (luma(c) << shift) | (luma(d) << (shift + 8u));
        let avg = (a + b + c + d + vec3<i32>(2)) / 4;
        let u = ((-38 * avg.r - 74 * avg.g + 112 * avg.b) >> 8u) + 128;
        let v = ((112 * avg.r - 94 * avg.g - 18 * avg.b) >> 8u) + 128;
        u_word = u_word | (u32(u) << (8u * j));
        v_word = v_word | (u32(v) << (8u * j));
    }
    let row0 = y0 * params.pitch_words + id.x * 2u;
    planes[row0] = top[0];
    planes[row0 + 1u] = top[1];
    if (y0 + 1u < params.height) {
        let row1 = row0 + params.pitch_words;
        planes[row1] = bottom[0];
        planes[row1 + 1u] = bottom[1];
    }
    let chroma = id.y * params.chroma_pitch_words + id.x;
    planes[params.u_word + chroma] = u_word;
    planes[params.v_word + chroma] = v_word;
}

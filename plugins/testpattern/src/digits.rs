//! A 3×5 bitmap font for the frame counter.

const GLYPHS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// Draws `n` in white on black cells at (x0, y0), each font pixel `scale` pixels wide, into an
/// RGBA8 image of `w`×`h` (tightly packed).
pub fn draw_number(pixels: &mut [u8], w: usize, h: usize, n: u64, x0: usize, y0: usize, scale: usize) {
    let text = n.to_string();
    for (i, ch) in text.bytes().enumerate() {
        let glyph = GLYPHS[usize::from(ch - b'0')];
        let gx = x0 + i * 4 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..3 {
                let on = bits & (0b100 >> col) != 0;
                let value = if on { 255 } else { 0 };
                for y in gy(y0, row, scale)..gy(y0, row + 1, scale) {
                    for x in gx + col * scale..gx + (col + 1) * scale {
                        if x < w && y < h {
                            let p = (y * w + x) * 4;
                            pixels[p..p + 3].fill(value);
                        }
                    }
                }
            }
        }
    }
}

fn gy(y0: usize, row: usize, scale: usize) -> usize {
    y0 + row * scale
}

//! The moving BGRA8 test pattern the verification programs (`ovstream_probe`, `shm_client`) use:
//! pixel (0,0) carries the frame index (B,G,R = bits 0–7, 8–15, 16–23), every other pixel is a
//! function of (x, y, index), so a receiver can check any frame on its own.

/// BGRA of pixel (x, y) in frame `index` (not pixel (0,0)).
pub fn pixel(x: u32, y: u32, index: u32) -> [u8; 4] {
    [(x.wrapping_add(index.wrapping_mul(3))) as u8, (y.wrapping_add(index)) as u8, ((x ^ y) >> 2) as u8, 255]
}

/// Fills a `width`×`height` BGRA8 image with rows `pitch_bytes` apart.
pub fn fill(buf: &mut [u8], width: u32, height: u32, pitch_bytes: usize, index: u32) {
    for y in 0..height {
        let row = &mut buf[y as usize * pitch_bytes..][..width as usize * 4];
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            px.copy_from_slice(&pixel(x as u32, y, index));
        }
    }
    let i = index.to_le_bytes();
    buf[..4].copy_from_slice(&[i[0], i[1], i[2], 255]);
}

/// Reads the frame index and counts mismatching pixels among a fixed sample (plus the corners).
pub fn check(buf: &[u8], width: u32, height: u32, pitch_bytes: usize) -> (u32, u32) {
    let index = u32::from_le_bytes([buf[0], buf[1], buf[2], 0]);
    let mut bad = 0;
    let mut samples: Vec<(u32, u32)> = (1..257u32).map(|k| ((k * 7919) % width, (k * 104_729) % height)).collect();
    samples.extend([(width - 1, 0), (0, height - 1), (width - 1, height - 1), (1, 0)]);
    for (x, y) in samples.into_iter().filter(|&(x, y)| (x, y) != (0, 0)) {
        let off = y as usize * pitch_bytes + x as usize * 4;
        if buf[off..off + 4] != pixel(x, y, index) {
            bad += 1;
        }
    }
    (index, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_then_check_finds_the_index_and_detects_corruption() {
        let (w, h, pitch) = (64u32, 32u32, 64 * 4 + 16);
        let mut buf = vec![0u8; pitch * h as usize];
        fill(&mut buf, w, h, pitch, 70_000);
        assert_eq!(check(&buf, w, h, pitch), (70_000, 0));
        let off = (h as usize - 1) * pitch + (w as usize - 1) * 4;
        buf[off] ^= 0xFF;
        assert_eq!(check(&buf, w, h, pitch).1, 1);
    }
}

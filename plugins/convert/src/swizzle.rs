//! The RGBA8 → BGRA8 byte swizzle on the CPU (swap bytes 0 and 2 of every pixel).
//!
//! The row kernel is plain Rust written so LLVM vectorizes it; it is compiled twice, once for the
//! baseline target (SSE2 on x86-64) and once with AVX2 enabled, and the AVX2 copy is picked at run
//! time when the CPU has it.

use std::sync::OnceLock;

/// Converts `height` rows of `width` RGBA8 pixels from `src` (rows `src_pitch` bytes apart) into
/// BGRA8 in `dst` (rows `dst_pitch` bytes apart). Padding bytes in `dst` are left untouched.
///
/// # Panics
/// When a slice is too short for the rows it must hold or a pitch is shorter than a row; callers
/// validate frame descriptors first.
pub fn rgba_to_bgra(src: &[u8], src_pitch: usize, dst: &mut [u8], dst_pitch: usize, width: usize, height: usize) {
    let row = width * 4;
    assert!(src_pitch >= row && dst_pitch >= row, "pitch shorter than a row");
    if height == 0 || row == 0 {
        return;
    }
    let kernel = row_kernel();
    if src_pitch == row && dst_pitch == row {
        // Both packed: one long row vectorizes best.
        kernel(&src[..row * height], &mut dst[..row * height]);
        return;
    }
    for y in 0..height {
        kernel(&src[y * src_pitch..][..row], &mut dst[y * dst_pitch..][..row]);
    }
}

/// The obvious per-byte version, kept as the reference the fast path is tested against.
pub fn rgba_to_bgra_reference(
    src: &[u8],
    src_pitch: usize,
    dst: &mut [u8],
    dst_pitch: usize,
    width: usize,
    height: usize,
) {
    for y in 0..height {
        for x in 0..width {
            let s = y * src_pitch + x * 4;
            let d = y * dst_pitch + x * 4;
            dst[d] = src[s + 2];
            dst[d + 1] = src[s + 1];
            dst[d + 2] = src[s];
            dst[d + 3] = src[s + 3];
        }
    }
}

type RowKernel = fn(&[u8], &mut [u8]);

fn row_kernel() -> RowKernel {
    static KERNEL: OnceLock<RowKernel> = OnceLock::new();
    *KERNEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return swap_row_avx2_entry;
        }
        swap_row
    })
}

/// Swaps R and B of every pixel of one row; `src` and `dst` have the same length, a multiple of 4.
#[inline(always)]
fn swap_row_inline(src: &[u8], dst: &mut [u8]) {
    let (src_px, _) = src.as_chunks::<4>();
    let (dst_px, _) = dst.as_chunks_mut::<4>();
    for (d, s) in dst_px.iter_mut().zip(src_px) {
        let p = u32::from_le_bytes(*s);
        let q = (p & 0xff00_ff00) | ((p >> 16) & 0x0000_00ff) | ((p & 0x0000_00ff) << 16);
        *d = q.to_le_bytes();
    }
}

fn swap_row(src: &[u8], dst: &mut [u8]) {
    swap_row_inline(src, dst);
}

#[cfg(target_arch = "x86_64")]
fn swap_row_avx2_entry(src: &[u8], dst: &mut [u8]) {
    // SAFETY: this entry is only selected by `row_kernel` after `is_x86_feature_detected!("avx2")`.
    unsafe { swap_row_avx2(src, dst) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn swap_row_avx2(src: &[u8], dst: &mut [u8]) {
    swap_row_inline(src, dst);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize, seed: u32) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn matches_reference_on_odd_sizes_and_pitches() {
        for &(w, h, src_pad, dst_pad) in &[
            (1, 1, 0, 0),
            (3, 5, 0, 0),
            (17, 9, 5, 0),
            (17, 9, 3, 8),
            (33, 2, 0, 4),
            (1920, 1080, 0, 0),
            (1919, 7, 12, 1),
        ] {
            let src_pitch = w * 4 + src_pad;
            let dst_pitch = w * 4 + dst_pad;
            let src = pattern(src_pitch * h, (w * 31 + h) as u32);
            let mut fast = vec![0xAA; dst_pitch * h];
            let mut slow = vec![0xAA; dst_pitch * h];
            rgba_to_bgra(&src, src_pitch, &mut fast, dst_pitch, w, h);
            rgba_to_bgra_reference(&src, src_pitch, &mut slow, dst_pitch, w, h);
            assert_eq!(fast, slow, "{w}x{h} src pad {src_pad} dst pad {dst_pad}");
        }
    }

    #[test]
    fn swaps_red_and_blue_only() {
        let src = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut dst = [0u8; 8];
        rgba_to_bgra(&src, 8, &mut dst, 8, 2, 1);
        assert_eq!(dst, [3, 2, 1, 4, 7, 6, 5, 8]);
    }
}

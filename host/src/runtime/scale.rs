//! Half-resolution copies of raw host frames: the last step of the adaptation ladder (issue 13:
//! bitrate and quantizer, then frame rate, then resolution scale). The lowest quality tier
//! (`sinks::TIERS`) encodes a picture half the stream's width and height; the viewer scales it
//! back up, told by the video header's scale byte.
//!
//! Each output pixel is the mean of a 2x2 block (a box filter: cheap, and no aliasing shimmer
//! on thin lines as from dropping every other pixel). RGBA8, BGRA8 and I420 frames in host
//! memory are scaled; anything else (device memory, encoded) is passed on at full size.

use ovhost_plugin_api::{Frame, FrameFormat, MemoryLocation, i420_layout};

/// The smallest side a scaled picture may have (H.264 macroblocks; smaller is not worth it).
const MIN_SIDE: u32 = 32;

/// Owns the buffer of the last half-size copy (reused frame to frame).
#[derive(Default)]
pub struct HalfScaler {
    data: Vec<u8>,
}

/// The half size of a side: even (H.264 and I420 chroma need it).
fn half_side(side: u32) -> u32 {
    (side / 2) & !1
}

/// Mean of a 2x2 block of bytes, rounded.
#[inline]
fn mean4(a: u8, b: u8, c: u8, d: u8) -> u8 {
    ((u16::from(a) + u16::from(b) + u16::from(c) + u16::from(d) + 2) / 4) as u8
}

/// Halves one plane of `channels` interleaved bytes per pixel into `out` (tightly packed).
fn halve_plane(src: &[u8], pitch: usize, channels: usize, out_w: usize, out_h: usize, out: &mut [u8]) {
    let row_bytes = out_w * channels;
    for (y, out_row) in out.chunks_exact_mut(row_bytes).take(out_h).enumerate() {
        let top = &src[2 * y * pitch..];
        let bottom = &src[(2 * y + 1) * pitch..];
        for x in 0..out_w {
            let (l, r) = (2 * x * channels, (2 * x + 1) * channels);
            for c in 0..channels {
                out_row[x * channels + c] = mean4(top[l + c], top[r + c], bottom[l + c], bottom[r + c]);
            }
        }
    }
}

impl HalfScaler {
    /// A half-size copy of `frame` (flags, frame number and timestamp kept), or `None` when the
    /// frame is not a raw host frame this scales, or too small to scale.
    pub fn half<'a>(&'a mut self, frame: &Frame<'_>) -> Option<Frame<'a>> {
        if frame.location != MemoryLocation::HOST {
            return None;
        }
        let (w, h) = (half_side(frame.width), half_side(frame.height));
        if w < MIN_SIDE || h < MIN_SIDE {
            return None;
        }
        let src = frame.host_bytes().ok()?;
        let pitch = frame.pitch_bytes as usize;
        let (uw, uh) = (w as usize, h as usize);
        let out_pitch = match frame.format {
            FrameFormat::RGBA8 | FrameFormat::BGRA8 => {
                self.data.resize(uw * uh * 4, 0);
                halve_plane(src, pitch, 4, uw, uh, &mut self.data);
                w * 4
            }
            FrameFormat::I420 => {
                let (u_in, v_in, chroma_pitch_in, _) = i420_layout(frame.width, frame.height, frame.pitch_bytes)?;
                let (u_out, v_out, _, total) = i420_layout(w, h, w)?;
                self.data.resize(total as usize, 0);
                let (y_plane, chroma) = self.data.split_at_mut(u_out as usize);
                halve_plane(src, pitch, 1, uw, uh, y_plane);
                let (u_plane, v_plane) = chroma.split_at_mut((v_out - u_out) as usize);
                let cp = chroma_pitch_in as usize;
                halve_plane(&src[u_in as usize..], cp, 1, uw / 2, uh / 2, u_plane);
                halve_plane(&src[v_in as usize..], cp, 1, uw / 2, uh / 2, v_plane);
                w
            }
            _ => return None,
        };
        let mut out = Frame::host(frame.format, w, h, out_pitch, &self.data);
        out.flags = frame.flags;
        out.frame_number = frame.frame_number;
        out.timestamp_us = frame.timestamp_us;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_halves_to_even_sides_averaging_2x2_blocks() {
        // 70x66 with a row pitch wider than a row: 35 -> 34 and 33 -> 32 (even).
        let (w, h, pitch) = (70u32, 66u32, 70 * 4 + 8);
        let mut bytes = vec![0u8; (pitch * h) as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                let p = y * pitch as usize + x * 4;
                // Left column of each block 0, right 200: red averages to 100; green is the row.
                bytes[p] = if x % 2 == 0 { 0 } else { 200 };
                bytes[p + 1] = y as u8;
                bytes[p + 3] = 255;
            }
        }
        let mut frame = Frame::host(FrameFormat::RGBA8, w, h, pitch, &bytes);
        frame.frame_number = 9;
        frame.flags = 1;
        let mut scaler = HalfScaler::default();
        let half = scaler.half(&frame).expect("scaled");
        assert_eq!((half.width, half.height, half.pitch_bytes), (34, 32, 34 * 4));
        assert_eq!((half.frame_number, half.flags), (9, 1));
        half.validate().unwrap();
        let out = half.host_bytes().unwrap();
        for y in 0..32usize {
            for x in 0..34usize {
                let p = (y * 34 + x) * 4;
                assert_eq!(out[p], 100, "red at ({x}, {y})");
                // Rows 2y and 2y+1: mean 2y + 0.5, rounded up.
                assert_eq!(out[p + 1], (2 * y + 1) as u8, "green at ({x}, {y})");
                assert_eq!(out[p + 3], 255);
            }
        }
    }

    #[test]
    fn i420_halves_each_plane() {
        let (w, h) = (64u32, 64u32);
        let (u, v, cp, total) = i420_layout(w, h, w).unwrap();
        let mut bytes = vec![0u8; total as usize];
        bytes[..u as usize].fill(50);
        bytes[u as usize..v as usize].fill(90);
        bytes[v as usize..].fill(160);
        assert_eq!(cp, 32);
        let frame = Frame::host(FrameFormat::I420, w, h, w, &bytes);
        let mut scaler = HalfScaler::default();
        let half = scaler.half(&frame).expect("scaled");
        assert_eq!((half.width, half.height, half.pitch_bytes), (32, 32, 32));
        half.validate().unwrap();
        let (u2, v2, _, total2) = i420_layout(32, 32, 32).unwrap();
        let out = half.host_bytes().unwrap();
        assert_eq!(out.len() as u64, total2);
        assert!(out[..u2 as usize].iter().all(|b| *b == 50));
        assert!(out[u2 as usize..v2 as usize].iter().all(|b| *b == 90));
        assert!(out[v2 as usize..].iter().all(|b| *b == 160));
    }

    #[test]
    fn small_encoded_and_device_frames_pass_at_full_size() {
        let mut scaler = HalfScaler::default();
        let bytes = vec![0u8; 40 * 40 * 4];
        assert!(scaler.half(&Frame::host(FrameFormat::RGBA8, 40, 40, 160, &bytes)).is_none(), "20x20 is too small");
        assert!(scaler.half(&Frame::host(FrameFormat::JPEG, 64, 64, 0, &bytes)).is_none());
    }
}

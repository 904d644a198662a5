//! `rgba-to-bgra` through its factory: pixel-exact against the scalar reference on odd sizes and
//! padded pitches, packed output, counters carried over.

use ovhost_plugin_api::{Frame, FrameFormat, MemoryLocation};
use ovhost_plugin_convert::{register, registry_probe, swizzle::rgba_to_bgra_reference};

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn pixel_exact_on_odd_sizes_and_pitches() {
    let mut conv = registry_probe::create_converter(register, "rgba-to-bgra", "{}").expect("create");
    for &(w, h, pad) in
        &[(1usize, 1usize, 0usize), (3, 5, 0), (17, 9, 7), (17, 9, 64), (1920, 1080, 0), (1280, 720, 256)]
    {
        let pitch = w * 4 + pad;
        // The last row carries no padding: the converter must not read past `len_bytes`.
        let len = pitch * (h - 1) + w * 4;
        let src = noise(len, (w * 1000 + h) as u64);
        let mut input = Frame::host(FrameFormat::RGBA8, w as u32, h as u32, pitch as u32, &src);
        input.frame_number = 42;
        input.timestamp_us = 7;

        let out = conv.convert(&input).into_result().expect("convert");
        assert_eq!((out.format, out.location), (FrameFormat::BGRA8, MemoryLocation::HOST));
        assert_eq!((out.width, out.height, out.pitch_bytes), (w as u32, h as u32, (w * 4) as u32));
        assert_eq!((out.frame_number, out.timestamp_us), (42, 7));
        out.validate().expect("output descriptor is consistent");
        // SAFETY: the converter owns the output until its next call, which comes after this read.
        let got = out.host_bytes().expect("host output");

        let mut want = vec![0u8; w * 4 * h];
        rgba_to_bgra_reference(&src, pitch, &mut want, w * 4, w, h);
        assert_eq!(got, &want[..], "{w}x{h} pad {pad}");
    }
}

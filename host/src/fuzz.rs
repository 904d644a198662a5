//! Property-based tests (seeded random cases) of the parsers that take bytes from outside: the
//! envelope parser, the browser input normalizer and the video header builder. Bounded in CI
//! (`OVHOST_FUZZ_CASES`, default 2 000 per property); a longer run:
//! `OVHOST_FUZZ_CASES=1000000 cargo test -p ovhost --lib fuzz -- --nocapture`.
//! Each property prints the cases it tried and the seed (`OVHOST_FUZZ_SEED` replays one).

#![cfg(test)]

use serde_json::{Value, json};

use crate::protocol::{self, MAX_MESSAGE_BYTES, codes};

pub fn cases() -> usize {
    std::env::var("OVHOST_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

pub fn rng(property: &str) -> fastrand::Rng {
    let seed = std::env::var("OVHOST_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    eprintln!("fuzz {property}: seed {seed}, {} cases", cases());
    fastrand::Rng::with_seed(seed)
}

/// A random JSON value, depth-bounded, biased towards the shapes the parsers look at.
fn value(rng: &mut fastrand::Rng, depth: u32) -> Value {
    let keys = [
        "event_type",
        "payload",
        "type",
        "x",
        "y",
        "dx",
        "dy",
        "button",
        "buttons",
        "deltaY",
        "notches",
        "key",
        "shift",
        "events",
        "seq",
        "messageRecipient",
        "data",
        "messageType",
        "",
    ];
    match rng.u32(..if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!([f64::MAX, f64::MIN_POSITIVE, -0.0, 1e308, rng.f64() * 1e6 - 5e5][rng.usize(..5)]),
        4 => json!(
            ["pointermove", "pointerdown", "pointerup", "wheel", "keydown", "keyup", "cancel", "hello", "input", ""]
                [rng.usize(..10)]
        ),
        5 => Value::String((0..rng.usize(..40)).map(|_| rng.char(..)).collect()),
        6 => Value::Array((0..rng.usize(..6)).map(|_| value(rng, depth - 1)).collect()),
        _ => Value::Object(
            (0..rng.usize(..7)).map(|_| (keys[rng.usize(..keys.len())].to_string(), value(rng, depth - 1))).collect(),
        ),
    }
}

/// Text: valid JSON of random shape, or that JSON mangled (cut, bytes flipped), or noise.
fn text(rng: &mut fastrand::Rng) -> String {
    let mut text = value(rng, 4).to_string();
    match rng.u32(..4) {
        0 => {}
        1 => {
            let mut cut = rng.usize(..=text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        2 => {
            let mut bytes = text.into_bytes();
            for _ in 0..rng.usize(1..4) {
                if !bytes.is_empty() {
                    let i = rng.usize(..bytes.len());
                    bytes[i] = rng.u8(..);
                }
            }
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        _ => text = (0..rng.usize(..200)).map(|_| rng.char(..)).collect(),
    }
    while !text.is_char_boundary(text.len().min(MAX_MESSAGE_BYTES + 16)) {
        text.pop();
    }
    text
}

#[test]
fn fuzz_the_envelope_parser() {
    let mut rng = rng("envelope parser");
    let known = [codes::MESSAGE_TOO_LARGE, codes::MALFORMED_JSON, codes::INVALID_ENVELOPE];
    for _ in 0..cases() {
        let text = text(&mut rng);
        match protocol::parse_inbound(&text) {
            Ok(envelope) => {
                assert!(!envelope.event_type.is_empty(), "{text}");
                assert!(envelope.payload.is_object(), "{text}");
                assert_eq!(envelope.wire_bytes, text.len());
            }
            Err(e) => assert!(known.contains(&e.code) && !e.message.is_empty(), "{text}: {e:?}"),
        }
    }
    let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
    assert_eq!(protocol::parse_inbound(&huge).unwrap_err().code, codes::MESSAGE_TOO_LARGE);
}

#[test]
fn fuzz_the_input_normalizer() {
    let mut rng = rng("input normalizer");
    for _ in 0..cases() {
        let payload = value(&mut rng, 4);
        if let Ok(events) = protocol::parse_input(&payload, rng.u64(..)) {
            for event in events {
                assert!(
                    event.x.is_finite() && event.y.is_finite() && event.dx.is_finite() && event.dy.is_finite(),
                    "{payload}"
                );
                assert!(event.wheel_notches.is_finite(), "{payload}");
            }
        }
    }
}

#[test]
fn fuzz_the_video_header_builder() {
    use ovhost_plugin_api::{Frame, FrameFormat};
    let mut rng = rng("video header builder");
    for _ in 0..cases() {
        let payload: Vec<u8> = (0..rng.usize(..512)).map(|_| rng.u8(..)).collect();
        let format = [FrameFormat::H264, FrameFormat::JPEG, FrameFormat::RGBA8][rng.usize(..3)];
        let (width, height) = (rng.u32(..), rng.u32(..));
        let mut frame = Frame::host(format, width, height, 0, &payload);
        frame.frame_number = rng.u64(..);
        frame.timestamp_us = rng.u64(..);
        let seq = rng.u32(..);
        let scale = rng.u8(..2);
        match crate::runtime::sinks::encode_video_message(&frame, &payload, seq, scale) {
            Some(message) => {
                assert_eq!(message.len(), crate::runtime::sinks::VIDEO_HEADER_BYTES + payload.len());
                assert_eq!(&message[0..4], b"OVHF");
                assert_eq!(message[7], scale);
                assert_eq!(u64::from_le_bytes(message[8..16].try_into().unwrap()), frame.frame_number);
                assert_eq!(u32::from_le_bytes(message[24..28].try_into().unwrap()), width);
                assert_eq!(u32::from_le_bytes(message[28..32].try_into().unwrap()), height);
                assert_eq!(u32::from_le_bytes(message[32..36].try_into().unwrap()), seq);
                assert_eq!(&message[40..], &payload[..]);
            }
            None => assert_eq!(format, FrameFormat::RGBA8, "only encoded formats go to the web sink"),
        }
    }
}

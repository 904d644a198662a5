//! The pipe protocol between [`StageService`](crate::StageService) and the worker process.
//!
//! Requests are JSON lines on the worker's stdin. Each answer on its stdout is one JSON header
//! line ([`ReplyHeader`]) followed by exactly `result_bytes` bytes of JSON (the typed answer,
//! serialized directly so large answers cost one pass) and `scene_bytes` bytes of binary scene
//! data ([`crate::scene_codec`]). Nothing else may be written to the worker's stdout.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};

/// A variant selection the client wants applied on top of the stage (session-layer strength).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantSelection {
    pub prim_path: String,
    pub set: String,
    pub selection: String,
}

/// One request, tagged with the client's request id.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub id: u64,
    #[serde(flatten)]
    pub request: Request,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Opens `path` (already resolved and confined by the client), applying `variants`.
    /// With `send_scene`, the reply carries the extracted geometry.
    Open {
        path: String,
        variants: Vec<VariantSelection>,
        send_scene: bool,
        /// Texture files outside this directory are refused (canonical path; `None`: no check).
        #[serde(default)]
        asset_root: Option<String>,
        /// Send the scene with every texture still without pixels; [`Request::Textures`]
        /// decodes them afterwards.
        #[serde(default)]
        defer_textures: bool,
    },
    /// Decodes the open stage's next deferred textures (about one per core); the reply's scene
    /// bytes carry them ([`crate::scene_codec::encode_textures`]), its JSON a [`TexturesFacts`].
    Textures {
        max_decodes: usize,
    },
    Children {
        prim_path: String,
    },
    Properties {
        prim_path: String,
        max_bytes: usize,
    },
    Variants {
        prim_path: String,
    },
    PrimCount,
    Bounds {
        prim_path: String,
    },
    /// The bound material of every gprim and `materialBind` subset for a purpose ("" = all).
    MaterialBindings {
        purpose: String,
    },
    /// Which of `paths` name active prims on the open stage (one round trip for many paths);
    /// the answer keeps the request's order.
    Existing {
        paths: Vec<String>,
    },
}

/// The error classes a worker reports, so the client can map them to [`crate::StageError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    OpenFailed,
    NoSuchPrim,
    NoStage,
    BadRequest,
}

/// The JSON line that starts every reply.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplyHeader {
    pub id: u64,
    /// Length of the JSON answer following the line (0 when `error` is set).
    #[serde(default)]
    pub result_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<(ErrorClass, String)>,
    /// Length of the binary scene data following the line (0 = none).
    #[serde(default)]
    pub scene_bytes: u64,
}

/// What the worker reports about a freshly opened stage (the client adds url and generation).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenFacts {
    pub root_prim_path: String,
    pub up_axis: String,
    pub meters_per_unit: f64,
    pub prim_count: usize,
    #[serde(with = "crate::types::bounds_serde")]
    pub bounds: ovhost_plugin_api::Bounds,
    pub triangle_count: usize,
    pub cameras: Vec<String>,
    /// Dependencies refused while opening (outside the asset root, not a regular file).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The answer to [`Request::Textures`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TexturesFacts {
    /// Deferred textures still to decode after this batch.
    pub remaining: usize,
}

/// [`crate::Properties`] on the pipe, with the properties as a list of pairs so no JSON layer in
/// between can reorder them.
#[derive(Debug, Serialize, Deserialize)]
pub struct PropertiesWire {
    pub prim_path: String,
    pub properties: Vec<(String, serde_json::Value)>,
    pub truncated: bool,
    pub omitted_count: usize,
}

impl From<crate::Properties> for PropertiesWire {
    fn from(p: crate::Properties) -> Self {
        Self {
            prim_path: p.prim_path,
            properties: p.properties,
            truncated: p.truncated,
            omitted_count: p.omitted_count,
        }
    }
}

impl From<PropertiesWire> for crate::Properties {
    fn from(p: PropertiesWire) -> Self {
        Self {
            prim_path: p.prim_path,
            properties: p.properties,
            truncated: p.truncated,
            omitted_count: p.omitted_count,
        }
    }
}

/// One reply as read from the pipe.
#[derive(Debug)]
pub struct Reply {
    pub header: ReplyHeader,
    pub result: Vec<u8>,
    pub scene: Vec<u8>,
}

/// Writes one reply: header line, JSON answer, scene bytes. Flushes.
pub fn write_reply(out: &mut impl Write, header: &ReplyHeader, result: &[u8], scene: &[u8]) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, header)?;
    out.write_all(b"\n")?;
    out.write_all(result)?;
    out.write_all(scene)?;
    out.flush()
}

/// Largest reply header line the client reads.
pub const MAX_HEADER_LINE_BYTES: usize = 64 * 1024;
/// Largest JSON result part of one reply (answers are capped well below).
pub const MAX_RESULT_BYTES: u64 = 256 << 20;
/// Largest scene part of one reply (the geometry of a very large stage fits).
pub const MAX_SCENE_BYTES: u64 = 2 << 30;

/// Reads one reply; `Ok(None)` on a clean end of stream.
pub fn read_reply(input: &mut impl BufRead) -> std::io::Result<Option<Reply>> {
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    // The header line is bounded too: a worker that writes an endless line is broken.
    let mut line = Vec::new();
    if Read::take(&mut *input, MAX_HEADER_LINE_BYTES as u64).read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") && line.len() >= MAX_HEADER_LINE_BYTES {
        return Err(bad(format!("reply header line over {MAX_HEADER_LINE_BYTES} bytes")));
    }
    let line = String::from_utf8(line).map_err(|_| bad("reply header line is not UTF-8".into()))?;
    let header: ReplyHeader = serde_json::from_str(line.trim_end()).map_err(|e| bad(format!("bad reply line: {e}")))?;
    let mut take = |len: u64, max: u64, what: &str| -> std::io::Result<Vec<u8>> {
        // Validated before anything is allocated, and read as it arrives: a corrupt length is
        // neither an allocation nor a wait for bytes that never come beyond the stream's end.
        if len > max {
            return Err(bad(format!("reply {what} of {len} bytes exceeds the {max}-byte limit")));
        }
        let mut buf = Vec::new();
        Read::take(&mut *input, len).read_to_end(&mut buf)?;
        if buf.len() as u64 != len {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, format!("reply {what} ended early")));
        }
        Ok(buf)
    };
    let result = take(header.result_bytes, MAX_RESULT_BYTES, "result")?;
    let scene = take(header.scene_bytes, MAX_SCENE_BYTES, "scene")?;
    Ok(Some(Reply { header, result, scene }))
}

/// Property-based tests (seeded random cases) of the reply decoder: random and corrupted replies
/// never panic, never allocate from a lying length, and well-formed ones round-trip. Bounded in CI
/// (`OVHOST_FUZZ_CASES`, default 2 000); a longer run:
/// `OVHOST_FUZZ_CASES=1000000 cargo test -p ovhost-stage --lib fuzz -- --nocapture`.
#[cfg(test)]
mod fuzz {
    use super::*;

    #[test]
    fn fuzz_the_worker_reply_decoder() {
        let cases: usize = std::env::var("OVHOST_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
        let seed =
            std::env::var("OVHOST_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
        eprintln!("fuzz worker reply decoder: seed {seed}, {cases} cases");
        let mut rng = fastrand::Rng::with_seed(seed);
        for _ in 0..cases {
            let result: Vec<u8> = (0..rng.usize(..64)).map(|_| rng.u8(..)).collect();
            let scene: Vec<u8> = (0..rng.usize(..64)).map(|_| rng.u8(..)).collect();
            let header = ReplyHeader {
                id: rng.u64(..),
                error: None,
                result_bytes: result.len() as u64,
                scene_bytes: scene.len() as u64,
            };
            let mut wire = Vec::new();
            write_reply(&mut wire, &header, &result, &scene).unwrap();
            match rng.u32(..5) {
                0 => {
                    let reply = read_reply(&mut std::io::Cursor::new(&wire)).unwrap().unwrap();
                    assert_eq!((reply.result, reply.scene), (result, scene));
                    continue;
                }
                1 => wire.truncate(rng.usize(..=wire.len())),
                2 => {
                    for _ in 0..rng.usize(1..6) {
                        if !wire.is_empty() {
                            let i = rng.usize(..wire.len());
                            wire[i] = rng.u8(..);
                        }
                    }
                }
                3 => {
                    // A header that claims huge parts.
                    let lie = format!(
                        "{{\"id\":1,\"error\":null,\"result_bytes\":{},\"scene_bytes\":{}}}\n",
                        rng.u64(..),
                        rng.u64(..)
                    );
                    wire = lie.into_bytes();
                }
                _ => wire = (0..rng.usize(..256)).map(|_| rng.u8(..)).collect(),
            }
            // Whatever it is: an answer or an error, never a panic or a huge allocation.
            let _ = read_reply(&mut std::io::Cursor::new(&wire));
        }
    }
}

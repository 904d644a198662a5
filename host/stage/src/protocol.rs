//! The pipe protocol between [`StageService`](crate::StageService) and the worker process.
//!
//! Requests are JSON lines on the worker's stdin. Each answer on its stdout is one JSON header
//! line ([`ReplyHeader`]) followed by exactly `result_bytes` bytes of JSON (the typed answer,
//! serialized directly so large answers cost one pass) and `scene_bytes` bytes of binary scene
//! data ([`crate::scene_codec`]). Nothing else may be written to the worker's stdout.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

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

/// Reads one reply; `Ok(None)` on a clean end of stream.
pub fn read_reply(input: &mut impl BufRead) -> std::io::Result<Option<Reply>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let header: ReplyHeader = serde_json::from_str(line.trim_end()).map_err(|e| bad(format!("bad reply line: {e}")))?;
    let mut take = |len: u64| -> std::io::Result<Vec<u8>> {
        let len = usize::try_from(len).map_err(|_| bad("reply too large".into()))?;
        let mut buf = vec![0u8; len];
        input.read_exact(&mut buf)?;
        Ok(buf)
    };
    let result = take(header.result_bytes)?;
    let scene = take(header.scene_bytes)?;
    Ok(Some(Reply { header, result, scene }))
}

//! Textures do not stall the stream, through the real `ovhost` binary and its stage worker: a
//! stage of many large textures appears first with its materials on their fallbacks (the first
//! frame after `stageOpened` comes before the textures), the textures arrive afterwards and a
//! later frame shows them, and frames keep flowing while they decode.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use ovhost_test_support::Host;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_ovhost");
const TEXTURES: u32 = 24;
const SIDE: u32 = 512;
const DONE: &str = "stage textures all arrived";

/// A red PNG with noise (so it compresses, and decodes, like a photograph).
fn red_noise_png(path: &Path, seed: u32) {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let img = image::RgbImage::from_fn(SIDE, SIDE, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Rgb([150 + (state % 100) as u8, ((state >> 8) % 50) as u8, ((state >> 16) % 50) as u8])
    });
    img.save(path).unwrap();
}

/// `TEXTURES` double-sided unit quads side by side in the XY plane (one contiguous wall), each
/// with its own texture on diffuseColor and a blue fallback.
fn author(dir: &Path) {
    std::fs::create_dir_all(dir.join("tex")).unwrap();
    let per_row = (TEXTURES as f32).sqrt().ceil() as u32;
    let (mut looks, mut meshes) = (String::new(), String::new());
    for i in 0..TEXTURES {
        red_noise_png(&dir.join(format!("tex/t{i}.png")), i + 1);
        looks.push_str(&format!(
            r#"    def Material "M{i}" {{
        token outputs:surface.connect = </World/Looks/M{i}/Surface.outputs:surface>
        def Shader "Surface" {{
            uniform token info:id = "UsdPreviewSurface"
            color3f inputs:diffuseColor.connect = </World/Looks/M{i}/Tex.outputs:rgb>
            float inputs:roughness = 0.9
            token outputs:surface
        }}
        def Shader "Tex" {{
            uniform token info:id = "UsdUVTexture"
            asset inputs:file = @tex/t{i}.png@
            float4 inputs:fallback = (0.05, 0.1, 0.9, 1)
            float3 outputs:rgb
        }}
    }}
"#
        ));
        let (x, y) = ((i % per_row) as f32, (i / per_row) as f32);
        meshes.push_str(&format!(
            r#"    def Mesh "Q{i}" (prepend apiSchemas = ["MaterialBindingAPI"]) {{
        rel material:binding = </World/Looks/M{i}>
        uniform bool doubleSided = 1
        point3f[] points = [({x}, {y}, 0), ({x1}, {y}, 0), ({x1}, {y1}, 0), ({x}, {y1}, 0)]
        int[] faceVertexCounts = [4]
        int[] faceVertexIndices = [0, 1, 2, 3]
        texCoord2f[] primvars:st = [(0, 0), (1, 0), (1, 1), (0, 1)] (interpolation = "vertex")
    }}
"#,
            x1 = x + 1.0,
            y1 = y + 1.0
        ));
    }
    let text = format!(
        "#usda 1.0\n(\n    defaultPrim = \"World\"\n    upAxis = \"Y\"\n)\ndef Xform \"World\" {{\n  def Scope \"Looks\" {{\n{looks}  }}\n{meshes}}}\n"
    );
    std::fs::write(dir.join("many_textures.usda"), text).unwrap();
}

/// The centre pixel of `GET /api/snapshot.png` (the next rendered frame), `None` when the host
/// answered something else.
fn snapshot_once(port: u16) -> Option<[u8; 3]> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    write!(stream, "GET /api/snapshot.png HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    let img = image::load_from_memory(&raw[split + 4..]).ok()?.to_rgb8();
    Some(img.get_pixel(img.width() / 2, img.height() / 2).0)
}

/// [`snapshot_once`], retried: a loaded machine may miss the still's 5 s deadline (503).
fn snapshot_centre(port: u16) -> [u8; 3] {
    (0..5).find_map(|_| snapshot_once(port)).expect("a snapshot PNG within five tries")
}

#[test]
fn a_stage_of_many_textures_appears_before_its_textures_and_frames_keep_flowing() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("texture-streaming-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    author(&dir);
    let host = Host::start(
        Path::new(BIN),
        &[
            "--asset-root",
            dir.to_str().unwrap(),
            "--renderer",
            "raster",
            "--continuous-frames",
            "--width",
            "640",
            "--height",
            "360",
        ],
    );
    assert!(host.wait_ready(Duration::from_secs(30)), "host not ready: {:?}", host.logs());
    let mut ws = host.ws();
    ws.hello(&["jpeg"]);
    ws.send("openStageRequest", json!({ "url": "many_textures.usda" }));
    let opened = ws.recv_type("openStageResult", Duration::from_secs(60));
    assert!(opened.as_ref().is_some_and(|o| o["payload"]["result"] == "success"), "the stage opened: {opened:?}");

    // The first frame after the stage opened comes before the textures: materials on their fallbacks.
    let frames_at_open = ws.binary_frames;
    let deadline = Instant::now() + Duration::from_secs(10);
    while ws.binary_frames == frames_at_open && Instant::now() < deadline {
        ws.recv(Duration::from_millis(10));
    }
    assert!(ws.binary_frames > frames_at_open, "a frame after the stage opened");
    let textures_done_early = host.logs().iter().any(|l| l.contains(DONE));
    assert!(
        !textures_done_early,
        "the first frame after the stage opened came before its {TEXTURES} textures were decoded"
    );

    // Frames keep flowing while the textures decode; then every texture is there.
    let mut last_frame = Instant::now();
    let mut frames = ws.binary_frames;
    let frames_at_stream = frames;
    let mut max_gap = Duration::ZERO;
    let started = Instant::now();
    while !host.logs().iter().any(|l| l.contains(DONE)) {
        assert!(started.elapsed() < Duration::from_secs(180), "textures never all arrived: {:?}", host.logs());
        ws.recv(Duration::from_millis(10));
        if ws.binary_frames > frames {
            frames = ws.binary_frames;
            max_gap = max_gap.max(last_frame.elapsed());
            last_frame = Instant::now();
        }
    }
    let streamed_for = started.elapsed();
    let during = ws.binary_frames - frames_at_stream;
    eprintln!("textures streamed for {streamed_for:?}; {during} frames meanwhile; largest gap {max_gap:?}");
    // Relative, so a loaded 2-core CI machine passes: had decoding held the stream, the one gap
    // would be the whole decode; frames kept coming instead. (A fresh-clone CI with a release
    // build running beside it saw a 685 ms gap in 1.97 s with 5 frames: no gap may be half.)
    assert!(during >= 3, "frames kept flowing while textures decoded: {during} in {streamed_for:?}");
    assert!(
        max_gap * 2 < streamed_for,
        "the stream stalled for {max_gap:?} of the {streamed_for:?} the textures took to decode"
    );
    let done = host.logs().into_iter().find(|l| l.contains(DONE)).unwrap();
    assert!(
        done.contains(&format!("textures={TEXTURES}")) || done.contains(&format!("\"textures\":{TEXTURES}")),
        "{done}"
    );
    let late = snapshot_centre(host.port);
    assert!(late[0] > late[2] + 40 && late[0] > late[1] + 40, "a later frame shows the red textures: {late:?}");
    assert_eq!(host.get("/healthz").0, 200);
}

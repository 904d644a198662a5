//! Save image and Record: a PNG of the current frame at stream size (`GET /api/snapshot.png`),
//! and recordings of the H.264 stream as fragmented MP4 (`startRecording` / `stopRecording`),
//! boxes written by the `mp4-atom` library: an init segment (`ftyp`, `moov` with the `avcC` from the
//! stream's SPS/PPS), then one `moof` + `mdat` per frame, so a recording cut short by a crash is
//! still playable up to its last fragment.
//!
//! A recording is written to `--recordings-dir` when the operator gives one (files stay there),
//! else to a private temporary directory removed when the host exits; either way it is
//! downloadable at `GET /api/recordings/<name>` once stopped. One recording at a time, capped by
//! `--recording-max-s` and `--recording-max-mb` (reaching a cap stops it, as does a change of the
//! stream size or the host shutting down). Everyone is told through `recordingState`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mp4_atom::{
    Avc1, Avcc, Dinf, Dref, Encode, Ftyp, Hdlr, Mdat, Mdhd, Mdia, Mfhd, Minf, Moof, Moov, Mvex, Mvhd, Stbl, Stco, Stsd,
    Tfdt, Tfhd, Tkhd, Traf, Trak, Trex, Trun, TrunEntry, TrunSamples, Url, Visual, Vmhd,
};
use ovhost_plugin_api::{Frame, FrameFormat, FrameSpec, MemoryLocation};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::hub::{ClientHub, ClientId};
use super::sinks::Sink;
use crate::protocol;

/// Media timescale of recordings (ticks per second; 90 kHz as for RTP video).
const TIMESCALE: u32 = 90_000;
const TRACK_ID: u32 = 1;
/// `trun` sample flags: a sync sample, and a sample that depends on others.
const SYNC_SAMPLE: u32 = 0x0200_0000;
const NON_SYNC_SAMPLE: u32 = 0x0101_0000;

/// Where a still (PNG bytes, or why not) is sent.
type StillReply = oneshot::Sender<Result<Vec<u8>, String>>;

/// Recording settings from the command line.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// Where recordings are kept (`--recordings-dir`); `None`: a temporary directory.
    pub recordings_dir: Option<PathBuf>,
    pub max_seconds: f64,
    pub max_bytes: u64,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self { recordings_dir: None, max_seconds: 600.0, max_bytes: 1024 * 1024 * 1024 }
    }
}

/// A finished recording, as `recordingState` and `/api/recordings` describe it.
pub use ovhost_protocol::RecordingFile;

struct Sample {
    data: Vec<u8>,
    keyframe: bool,
    timestamp_us: u64,
}

struct Active {
    name: String,
    path: PathBuf,
    out: BufWriter<File>,
    started_by: ClientId,
    width: u32,
    height: u32,
    /// Written once the first keyframe brought SPS and PPS.
    initialized: bool,
    first_us: Option<u64>,
    pending: Option<Sample>,
    decode_time: u64,
    sequence: u32,
    frames: u64,
    bytes: u64,
}

#[derive(Default)]
struct State {
    active: Option<Active>,
    finished: Vec<RecordingFile>,
}

/// Shared between the render thread (the sink, control messages) and HTTP (downloads, stills).
pub struct Capture {
    config: CaptureConfig,
    dir: PathBuf,
    hub: Arc<ClientHub>,
    state: Mutex<State>,
    keyframe: AtomicBool,
    stills: Mutex<Vec<StillReply>>,
}

impl Capture {
    /// Prepares the recordings directory (created when missing).
    pub fn new(config: CaptureConfig, hub: Arc<ClientHub>) -> Result<Self, String> {
        let dir = match &config.recordings_dir {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir().join(format!("ovhost-recordings-{}", std::process::id())),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the recordings directory {}: {e}", dir.display()))?;
        Ok(Self {
            config,
            dir,
            hub,
            state: Mutex::default(),
            keyframe: AtomicBool::new(false),
            stills: Mutex::default(),
        })
    }

    pub fn is_recording(&self) -> bool {
        self.state.lock().active.is_some()
    }

    /// Starts a recording for `client`; it begins at the next keyframe (requested now).
    pub fn start(&self, client: ClientId, width: u32, height: u32) -> Result<(), String> {
        let mut state = self.state.lock();
        if state.active.is_some() {
            return Err("a recording is already running; stop it first".into());
        }
        let name = format!("ovhost-{}.mp4", chrono_like_stamp());
        let path = self.dir.join(&name);
        let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        tracing::info!(file = %path.display(), client, "recording started");
        state.active = Some(Active {
            name,
            path,
            out: BufWriter::new(file),
            started_by: client,
            width,
            height,
            initialized: false,
            first_us: None,
            pending: None,
            decode_time: 0,
            sequence: 0,
            frames: 0,
            bytes: 0,
        });
        self.keyframe.store(true, Ordering::Release);
        drop(state);
        self.announce(json!({ "recording": true, "started_by": client }));
        Ok(())
    }

    /// Stops the running recording (`reason`: `stopped`, `cap`, `resized`, `shutdown`, `error`)
    /// and announces the file.
    pub fn stop(&self, reason: &str) -> Result<RecordingFile, String> {
        let Some(mut active) = self.state.lock().active.take() else {
            return Err("no recording is running".into());
        };
        let result = finish(&mut active);
        let file = RecordingFile {
            url: format!("/api/recordings/{}", active.name),
            name: active.name.clone(),
            bytes: active.bytes,
            frames: active.frames,
            duration_ms: active.decode_time * 1000 / u64::from(TIMESCALE),
            width: active.width,
            height: active.height,
            kept: self.config.recordings_dir.is_some(),
        };
        match result {
            Ok(()) => {
                tracing::info!(file = %active.path.display(), frames = file.frames, bytes = file.bytes, reason, "recording stopped");
                self.state.lock().finished.push(file.clone());
                self.announce(json!({ "recording": false, "reason": reason, "file": file }));
                Ok(file)
            }
            Err(e) => {
                tracing::error!(file = %active.path.display(), "recording failed: {e}");
                self.announce(json!({ "recording": false, "reason": "error", "error": e }));
                Err(e)
            }
        }
    }

    fn announce(&self, payload: Value) {
        self.hub.broadcast_greeted_in("", &protocol::encode("recordingState", &payload));
    }

    /// What `recordingState` says now (sent to a client after its `hello`).
    pub fn state_text(&self) -> String {
        let state = self.state.lock();
        let payload = match &state.active {
            Some(a) => json!({ "recording": true, "started_by": a.started_by, "frames": a.frames, "bytes": a.bytes }),
            None => json!({ "recording": false }),
        };
        protocol::encode("recordingState", &payload)
    }

    /// Finished recordings (`GET /api/recordings`).
    pub fn files(&self) -> Vec<RecordingFile> {
        self.state.lock().finished.clone()
    }

    /// The file of a finished recording, by name (never a path from outside).
    pub fn file_path(&self, name: &str) -> Option<PathBuf> {
        let state = self.state.lock();
        state.finished.iter().any(|f| f.name == name).then(|| self.dir.join(name))
    }

    /// Writes one H.264 access unit; stops the recording at a cap or a size change.
    fn write(&self, frame: &Frame<'_>) -> Result<(), String> {
        let stop = {
            let mut state = self.state.lock();
            let Some(active) = &mut state.active else { return Ok(()) };
            let payload = frame.host_bytes().map_err(|e| e.to_string())?;
            let elapsed_s = active.first_us.map_or(0.0, |f| frame.timestamp_us.saturating_sub(f) as f64 / 1e6);
            if (frame.width, frame.height) != (active.width, active.height) && active.initialized {
                Some("resized")
            } else if active.bytes >= self.config.max_bytes || elapsed_s >= self.config.max_seconds {
                Some("cap")
            } else {
                let result = add_access_unit(
                    active,
                    payload,
                    frame.is_keyframe(),
                    frame.timestamp_us,
                    frame.width,
                    frame.height,
                );
                match result {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::warn!("recording write failed: {e}");
                        Some("error")
                    }
                }
            }
        };
        if let Some(reason) = stop {
            let _ = self.stop(reason);
        }
        Ok(())
    }

    /// Asks the render thread for a PNG of its next frame.
    pub fn request_still(&self) -> oneshot::Receiver<Result<Vec<u8>, String>> {
        let (tx, rx) = oneshot::channel();
        self.stills.lock().push(tx);
        rx
    }

    /// Whether a still request waits for a frame (render on demand renders one for it).
    pub fn still_pending(&self) -> bool {
        !self.stills.lock().is_empty()
    }

    /// Answers pending still requests with `frame` (the renderer's output, before conversion).
    pub fn fulfil_stills(&self, frame: &Frame<'_>) {
        let waiting = std::mem::take(&mut *self.stills.lock());
        if waiting.is_empty() {
            return;
        }
        let png = encode_png(frame);
        for tx in waiting {
            let _ = tx.send(png.clone());
        }
    }

    /// Removes the temporary recordings directory (not an operator's `--recordings-dir`).
    pub fn cleanup(&self) {
        if self.is_recording() {
            let _ = self.stop("shutdown");
        }
        if self.config.recordings_dir.is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `YYYYMMDD-HHMMSS-mmm` in UTC from the system clock (file names sort by time).
fn chrono_like_stamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// The NAL units of an Annex B access unit (start codes removed).
fn nal_units(annex_b: &[u8]) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i + 3 <= annex_b.len() {
        let three = annex_b[i] == 0 && annex_b[i + 1] == 0 && annex_b[i + 2] == 1;
        if three {
            if let Some(s) = start {
                let mut end = i;
                while end > s && annex_b[end - 1] == 0 {
                    end -= 1; // the zero of a four-byte start code, or trailing zeros
                }
                units.push(&annex_b[s..end]);
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    if let Some(s) = start
        && s < annex_b.len()
    {
        units.push(&annex_b[s..]);
    }
    units
}

fn add_access_unit(
    active: &mut Active,
    annex_b: &[u8],
    keyframe: bool,
    timestamp_us: u64,
    width: u32,
    height: u32,
) -> Result<(), String> {
    let units = nal_units(annex_b);
    if !active.initialized {
        if !keyframe {
            return Ok(()); // wait for the keyframe the start requested
        }
        let sps = units.iter().find(|n| n.first().is_some_and(|b| b & 0x1f == 7));
        let pps = units.iter().find(|n| n.first().is_some_and(|b| b & 0x1f == 8));
        let (Some(sps), Some(pps)) = (sps, pps) else {
            return Err("the first keyframe carries no SPS/PPS".into());
        };
        active.width = width;
        active.height = height;
        let init = init_segment(sps, pps, width, height)?;
        active.out.write_all(&init).map_err(|e| e.to_string())?;
        active.bytes += init.len() as u64;
        active.initialized = true;
        active.first_us = Some(timestamp_us);
    }
    // Samples are length-prefixed NAL units; parameter sets live in avcC, delimiters are dropped.
    let mut data = Vec::with_capacity(annex_b.len() + 16);
    for unit in units.iter().filter(|n| n.first().is_some_and(|b| !matches!(b & 0x1f, 7..=9))) {
        data.extend_from_slice(&(unit.len() as u32).to_be_bytes());
        data.extend_from_slice(unit);
    }
    let sample = Sample { data, keyframe, timestamp_us };
    // A sample's duration is the time to the next one, so each is written when the next arrives.
    if let Some(previous) = active.pending.replace(sample) {
        let duration_us = timestamp_us.saturating_sub(previous.timestamp_us).max(1);
        write_fragment(active, &previous, duration_us)?;
    }
    Ok(())
}

fn finish(active: &mut Active) -> Result<(), String> {
    if let Some(last) = active.pending.take() {
        // The last frame lasts as long as the one before it (or 1/30 s).
        let duration_us = (active.decode_time * 1_000_000 / u64::from(TIMESCALE))
            .checked_div(active.frames)
            .map_or(33_333, |d| d.max(1));
        write_fragment(active, &last, duration_us)?;
    }
    active.out.flush().map_err(|e| e.to_string())
}

fn write_fragment(active: &mut Active, sample: &Sample, duration_us: u64) -> Result<(), String> {
    let duration = u32::try_from(duration_us * u64::from(TIMESCALE) / 1_000_000).unwrap_or(u32::MAX).max(1);
    active.sequence += 1;
    let moof = |data_offset: i32| Moof {
        mfhd: Mfhd { sequence_number: active.sequence },
        traf: vec![Traf {
            tfhd: Tfhd { track_id: TRACK_ID, default_base_is_moof: true, ..Default::default() },
            tfdt: Some(Tfdt { base_media_decode_time: active.decode_time }),
            trun: vec![Trun {
                data_offset: Some(data_offset),
                samples: TrunSamples::Explicit(vec![TrunEntry {
                    duration: Some(duration),
                    size: Some(sample.data.len() as u32),
                    flags: Some(if sample.keyframe { SYNC_SAMPLE } else { NON_SYNC_SAMPLE }),
                    cts: None,
                }]),
            }],
            ..Default::default()
        }],
    };
    // The data offset counts from the moof's first byte to the sample in the mdat (after its
    // 8-byte header): encode once to learn the moof's size.
    let mut probe = Vec::new();
    moof(0).encode(&mut probe).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(probe.len() + sample.data.len() + 16);
    moof(probe.len() as i32 + 8).encode(&mut out).map_err(|e| e.to_string())?;
    Mdat { data: sample.data.clone() }.encode(&mut out).map_err(|e| e.to_string())?;
    active.out.write_all(&out).map_err(|e| e.to_string())?;
    active.bytes += out.len() as u64;
    active.decode_time += u64::from(duration);
    active.frames += 1;
    Ok(())
}

fn init_segment(sps: &[u8], pps: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let (w, h) = (u16::try_from(width).map_err(|e| e.to_string())?, u16::try_from(height).map_err(|e| e.to_string())?);
    let avcc = Avcc::new(sps, pps).map_err(|e| format!("bad SPS/PPS: {e}"))?;
    let ftyp = Ftyp {
        major_brand: b"isom".into(),
        minor_version: 512,
        compatible_brands: vec![b"isom".into(), b"iso6".into(), b"avc1".into(), b"mp41".into()],
    };
    let moov = Moov {
        mvhd: Mvhd { timescale: 1000, next_track_id: TRACK_ID + 1, ..Default::default() },
        mvex: Some(Mvex {
            trex: vec![Trex { track_id: TRACK_ID, default_sample_description_index: 1, ..Default::default() }],
            ..Default::default()
        }),
        trak: vec![Trak {
            tkhd: Tkhd {
                track_id: TRACK_ID,
                enabled: true,
                in_movie: true,
                width: w.into(),
                height: h.into(),
                ..Default::default()
            },
            mdia: Mdia {
                mdhd: Mdhd { timescale: TIMESCALE, language: "und".into(), ..Default::default() },
                hdlr: Hdlr { handler: b"vide".into(), name: "ovhost video".into() },
                minf: Minf {
                    vmhd: Some(Vmhd::default()),
                    dinf: Dinf { dref: Dref { entries: vec![Url::default().into()] } },
                    stbl: Stbl {
                        stsd: Stsd {
                            codecs: vec![
                                Avc1 {
                                    visual: Visual { width: w, height: h, ..Default::default() },
                                    avcc,
                                    ..Default::default()
                                }
                                .into(),
                            ],
                        },
                        stco: Some(Stco::default()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    ftyp.encode(&mut out).map_err(|e| e.to_string())?;
    moov.encode(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// A PNG of a host RGBA8/BGRA8 frame (its pitch honoured).
pub fn encode_png(frame: &Frame<'_>) -> Result<Vec<u8>, String> {
    let bgra = match frame.format {
        FrameFormat::RGBA8 => false,
        FrameFormat::BGRA8 => true,
        other => return Err(format!("a still needs an RGBA or BGRA frame in host memory, not {other:?}")),
    };
    if frame.location != MemoryLocation::HOST {
        return Err("a still needs a frame in host memory".into());
    }
    let bytes = frame.host_bytes().map_err(|e| e.to_string())?;
    let (width, height) = (frame.width as usize, frame.height as usize);
    let pitch = if frame.pitch_bytes == 0 { width * 4 } else { frame.pitch_bytes as usize };
    let mut pixels = Vec::with_capacity(width * height * 4);
    for row in 0..height {
        let line = bytes.get(row * pitch..row * pitch + width * 4).ok_or("the frame is shorter than its size")?;
        if bgra {
            for px in line.chunks_exact(4) {
                pixels.extend_from_slice(&[px[2], px[1], px[0], px[3]]);
            }
        } else {
            pixels.extend_from_slice(line);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, frame.width, frame.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The sink that feeds the running recording with H.264.
pub struct RecordingSink {
    capture: Arc<Capture>,
}

impl RecordingSink {
    pub fn new(capture: Arc<Capture>) -> Self {
        Self { capture }
    }
}

impl Sink for RecordingSink {
    fn name(&self) -> String {
        "recording".into()
    }

    /// A recording takes frames at the stream rate, changed or not.
    fn needs_continuous(&self) -> bool {
        self.capture.is_recording()
    }

    fn accepted(&self) -> Vec<FrameSpec> {
        vec![FrameSpec::host(FrameFormat::H264)]
    }

    fn wanted(&self) -> Vec<FrameSpec> {
        if self.capture.is_recording() { self.accepted() } else { Vec::new() }
    }

    fn submit(&mut self, frame: &Frame<'_>, _input_seq: u32) -> Result<(), String> {
        self.capture.write(frame)
    }

    fn take_keyframe_request(&self) -> bool {
        self.capture.keyframe.swap(false, Ordering::AcqRel)
    }
}

/// Whether `name` could name a recording file (no separators, no parent references).
pub fn plausible_name(name: &str) -> bool {
    name.ends_with(".mp4")
        && !name.contains(['/', '\\'])
        && !name.starts_with('.')
        && Path::new(name).components().count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_splits_on_three_and_four_byte_start_codes() {
        let au = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5];
        let units = nal_units(&au);
        assert_eq!(units, vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4, 5][..]]);
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        assert!(plausible_name("ovhost-20261130-120000-000.mp4"));
        assert!(!plausible_name("../etc/passwd.mp4"));
        assert!(!plausible_name("a/b.mp4"));
        assert!(!plausible_name("notes.txt"));
    }

    #[test]
    fn png_of_a_bgra_frame_has_its_size() {
        let pixels = vec![10u8; 6 * 4 * 4];
        let frame = Frame::host(FrameFormat::BGRA8, 4, 6, 16, &pixels);
        let png = encode_png(&frame).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 4);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 6);
    }
}

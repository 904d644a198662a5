//! [`StageService`]: the blocking, `Send` client the host's stage thread calls. It owns one
//! worker process, sends it requests, enforces timeouts, and restarts it after a crash,
//! re-opening the last good stage so hierarchy queries keep working.

use crate::error::StageError;
use crate::protocol::{self, Envelope, ErrorClass, OpenFacts, Reply, Request, VariantSelection};
use crate::resolve::AssetRoot;
use crate::scene_codec;
use crate::types::{ChildRow, OpenedStage, Properties, StageInfo, VariantSet};
use ovhost_plugin_api::abi_stable::std_types::RString;
use ovhost_plugin_api::{Bounds, UpAxis};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Default cap for `properties` answers, as in the viewer protocol.
pub const DEFAULT_PROPERTIES_MAX_BYTES: usize = 60 * 1024;

/// How much of the worker's stderr is kept to explain a crash.
const STDERR_TAIL_BYTES: usize = 4096;

/// What the reader thread hands the caller.
type ReplyResult = Result<Reply, String>;

/// A running worker process and its pipes.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<ReplyResult>,
    stderr_tail: Option<JoinHandle<StderrTail>>,
}

/// Environment variable through which the worker learns its address-space limit in bytes.
pub const WORKER_MEMORY_ENV: &str = "OVHOST_STAGE_WORKER_MEMORY_BYTES";

/// Stops the call in flight from another thread: kills the worker, and the call returns
/// [`StageError::Cancelled`]. The next call starts a fresh worker.
#[derive(Clone, Default)]
pub struct Canceller {
    pid: Arc<AtomicU32>,
    cancelled: Arc<AtomicBool>,
}

impl Canceller {
    /// Kills the running worker; false when none runs.
    pub fn cancel(&self) -> bool {
        let pid = self.pid.load(Ordering::Acquire);
        if pid == 0 {
            return false;
        }
        self.cancelled.store(true, Ordering::Release);
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).is_ok()
    }
}

/// The stage a service has open: its URL, file and variant selections. Handed from one service
/// to another ([`StageService::target`], [`StageService::set_variant_on`]) so a second service can
/// recompose what the first opened.
#[derive(Clone, Debug)]
pub struct StageTarget(CurrentStage);

impl StageTarget {
    /// The client URL of the stage.
    pub fn url(&self) -> &str {
        &self.0.url
    }
}

/// The stage the worker should have open (re-opened after a restart).
#[derive(Clone, Debug)]
struct CurrentStage {
    url: String,
    resolved: PathBuf,
    variants: Vec<VariantSelection>,
}

/// Opens and queries USD stages in a crash-isolated worker process. `Send`; every call blocks.
pub struct StageService {
    command: Command,
    root: AssetRoot,
    worker: Option<Worker>,
    next_id: u64,
    generation: u64,
    current: Option<CurrentStage>,
    open_timeout: Duration,
    query_timeout: Duration,
    canceller: Canceller,
    /// The worker's address-space limit (`None`: unlimited).
    memory_limit: Option<u64>,
    /// Opens return textures without pixels; [`StageService::next_textures`] streams them.
    defer_textures: bool,
}

/// One batch of streamed textures ([`StageService::next_textures`]).
#[derive(Debug)]
pub struct TextureBatch {
    /// The stage generation the textures belong to.
    pub generation: u64,
    /// (0-based index into the scene's textures, the texture with its pixels, or still without
    /// them when its file could not be decoded).
    pub textures: Vec<(u32, ovhost_plugin_api::Texture)>,
    /// Textures still to come after this batch (0: done).
    pub remaining: usize,
}

impl StageService {
    /// `worker` is the command that runs [`crate::worker_main`] (the host uses
    /// `ovhost __stage-worker`); its stdio is replaced by pipes. The worker starts now, so a
    /// broken command is reported here rather than on the first open.
    pub fn new(worker: Command, asset_root: PathBuf) -> Result<Self, StageError> {
        let root = AssetRoot::new(&asset_root)?;
        let mut service = Self {
            command: worker,
            root,
            worker: None,
            next_id: 1,
            generation: 0,
            current: None,
            open_timeout: Duration::from_secs(120),
            query_timeout: Duration::from_secs(30),
            canceller: Canceller::default(),
            memory_limit: None,
            defer_textures: false,
        };
        service.worker = Some(service.spawn()?);
        Ok(service)
    }

    /// Replaces the per-call time limits (defaults: 120 s to open, 30 s for queries). A worker
    /// that overruns is killed and the call fails.
    pub fn set_timeouts(&mut self, open: Duration, query: Duration) {
        self.open_timeout = open;
        self.query_timeout = query;
    }

    /// Limits the worker's address space (`RLIMIT_AS`) to `bytes` from its next start; running
    /// out of it fails the call with an error naming the limit. Restarts the worker now.
    pub fn set_memory_limit(&mut self, bytes: Option<u64>) {
        self.memory_limit = bytes;
        self.stop_worker();
    }

    /// With `true`, [`StageService::open`] and [`StageService::set_variant`] return the stage at
    /// once with every texture still without pixels (materials on their fallbacks), and
    /// [`StageService::next_textures`] decodes them afterwards, batch by batch (default: false,
    /// textures decoded during the open).
    pub fn set_defer_textures(&mut self, defer: bool) {
        self.defer_textures = defer;
    }

    /// Decodes the open stage's next deferred textures (about one per worker core; cached ones
    /// cost nothing). Call until `remaining` is 0; a later open drops what was left.
    pub fn next_textures(&mut self) -> Result<TextureBatch, StageError> {
        if self.current.is_none() {
            return Err(StageError::NoStage);
        }
        let generation = self.generation;
        let timeout = self.query_timeout;
        let reply = self.call(Request::Textures { max_decodes: 0 }, "decoding textures", timeout, None)?;
        let facts: crate::protocol::TexturesFacts = parse_result(&reply)?;
        let textures = scene_codec::decode_textures(&reply.scene).map_err(StageError::Protocol)?;
        // A worker that restarted meanwhile re-opened the stage: its generation is unchanged
        // (restarts re-open the same stage), so the indices still hold.
        Ok(TextureBatch { generation, textures, remaining: facts.remaining })
    }

    /// A handle that cancels the call in flight from another thread.
    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    /// Attaches `canceller` to this service (it then stops this service's calls), detaching the
    /// previous one: a service handed to another thread gets a fresh canceller, so cancelling the
    /// first thread's work never stops it.
    pub fn set_canceller(&mut self, canceller: Canceller) {
        self.canceller.pid.store(0, Ordering::Release);
        canceller.cancelled.store(false, Ordering::Release);
        canceller.pid.store(self.worker.as_ref().map_or(0, |w| w.child.id()), Ordering::Release);
        self.canceller = canceller;
    }

    /// The stage this service has open, if any.
    pub fn target(&self) -> Option<StageTarget> {
        self.current.clone().map(StageTarget)
    }

    /// The canonical asset root.
    pub fn asset_root(&self) -> &Path {
        self.root.path()
    }

    /// The generation of the open stage (0 before the first open).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The worker's process id, if one is running (for diagnostics and tests).
    pub fn worker_pid(&self) -> Option<u32> {
        self.worker.as_ref().map(|w| w.child.id())
    }

    /// Resolves a client URL against the asset root (see [`crate::resolve`] for the rules).
    pub fn resolve(&self, url: &str) -> Result<PathBuf, StageError> {
        self.root.resolve(url)
    }

    /// USD files under the asset root, as relative names.
    pub fn list_scenes(&self) -> Vec<String> {
        self.root.list_scenes()
    }

    /// Opens a stage and extracts its geometry. Bumps the generation on success; on failure the
    /// previous stage stays open.
    pub fn open(&mut self, url: &str) -> Result<OpenedStage, StageError> {
        let resolved = self.root.resolve(url)?;
        let target = CurrentStage { url: url.to_owned(), resolved, variants: Vec::new() };
        self.open_stage(target, &format!("opening {url}"))
    }

    /// Selects a variant and recomposes. Returns the new stage (new generation).
    pub fn set_variant(&mut self, prim_path: &str, set: &str, selection: &str) -> Result<OpenedStage, StageError> {
        let target = self.current.clone().ok_or(StageError::NoStage)?;
        self.set_variant_on(StageTarget(target), prim_path, set, selection)
    }

    /// Opens `base` (a stage another service opened) with one more variant selection.
    pub fn set_variant_on(
        &mut self,
        base: StageTarget,
        prim_path: &str,
        set: &str,
        selection: &str,
    ) -> Result<OpenedStage, StageError> {
        let StageTarget(mut target) = base;
        target.variants.retain(|v| !(v.prim_path == prim_path && v.set == set));
        target.variants.push(VariantSelection {
            prim_path: prim_path.to_owned(),
            set: set.to_owned(),
            selection: selection.to_owned(),
        });
        let action = format!("selecting variant {set}={selection} on {prim_path} in {}", target.url);
        self.open_stage(target, &action)
    }

    /// Immediate children of a prim (`/` for the root), from the worker's index.
    pub fn children(&mut self, prim_path: &str) -> Result<Vec<ChildRow>, StageError> {
        self.query(Request::Children { prim_path: prim_path.to_owned() }, &format!("listing children of {prim_path}"))
    }

    /// A prim's properties, capped at `max_bytes` of JSON.
    pub fn properties(&mut self, prim_path: &str, max_bytes: usize) -> Result<Properties, StageError> {
        let request = Request::Properties { prim_path: prim_path.to_owned(), max_bytes };
        let wire: protocol::PropertiesWire = self.query(request, &format!("reading properties of {prim_path}"))?;
        Ok(wire.into())
    }

    /// A prim's variant sets: options and current selection.
    pub fn variants(&mut self, prim_path: &str) -> Result<BTreeMap<String, VariantSet>, StageError> {
        self.query(Request::Variants { prim_path: prim_path.to_owned() }, &format!("reading variants of {prim_path}"))
    }

    /// Which of `paths` name active prims on the open stage, in their order (one round trip).
    pub fn existing(&mut self, paths: &[String]) -> Result<Vec<String>, StageError> {
        let request = Request::Existing { paths: paths.to_vec() };
        self.query(request, &format!("checking {} prim paths", paths.len()))
    }

    /// Active prims on the stage.
    pub fn prim_count(&mut self) -> Result<usize, StageError> {
        self.query(Request::PrimCount, "counting prims")
    }

    /// World bounds of the renderable geometry under a prim (empty if it draws nothing).
    pub fn bounds(&mut self, prim_path: &str) -> Result<Bounds, StageError> {
        #[derive(serde::Deserialize)]
        struct Wire(#[serde(with = "crate::types::bounds_serde")] Bounds);
        let Wire(bounds) = self
            .query(Request::Bounds { prim_path: prim_path.to_owned() }, &format!("computing bounds of {prim_path}"))?;
        Ok(bounds)
    }

    /// The material bound to every gprim and `materialBind` subset of the open stage for a
    /// purpose (`"preview"`, `"full"`, or `""` for all-purpose), as prim path → material path
    /// (empty: none), resolved as `UsdShadeMaterialBindingAPI::ComputeBoundMaterial` does.
    pub fn material_bindings(&mut self, purpose: &str) -> Result<BTreeMap<String, String>, StageError> {
        let request = Request::MaterialBindings { purpose: purpose.to_owned() };
        self.query(request, &format!("resolving {purpose:?} material bindings"))
    }

    fn open_stage(&mut self, target: CurrentStage, action: &str) -> Result<OpenedStage, StageError> {
        self.canceller.cancelled.store(false, Ordering::Release);
        let request = Request::Open {
            path: target.resolved.to_string_lossy().into_owned(),
            variants: target.variants.clone(),
            send_scene: true,
            asset_root: Some(self.root.path().to_string_lossy().into_owned()),
            defer_textures: self.defer_textures,
        };
        let timeout = self.open_timeout;
        let reply = self.call(request, action, timeout, Some(&target.url))?;
        let facts: OpenFacts = parse_result(&reply)?;
        let mut scene = scene_codec::decode(&reply.scene).map_err(StageError::Protocol)?;
        self.generation += 1;
        scene.url = RString::from(target.url.as_str());
        scene.resolved_path = RString::from(target.resolved.to_string_lossy().as_ref());
        scene.generation = self.generation;
        let info = StageInfo {
            url: target.url.clone(),
            generation: self.generation,
            root_prim_path: facts.root_prim_path,
            up_axis: UpAxis::parse(&facts.up_axis),
            meters_per_unit: facts.meters_per_unit,
            prim_count: facts.prim_count,
            bounds: facts.bounds,
            triangle_count: facts.triangle_count,
            cameras: facts.cameras,
            warnings: facts.warnings,
        };
        self.current = Some(target);
        Ok(OpenedStage { info, scene })
    }

    fn query<T: serde::de::DeserializeOwned>(&mut self, request: Request, action: &str) -> Result<T, StageError> {
        if self.current.is_none() {
            return Err(StageError::NoStage);
        }
        let timeout = self.query_timeout;
        let reply = self.call(request, action, timeout, None)?;
        parse_result(&reply)
    }

    /// Sends one request and waits for its reply, restarting the worker first if needed.
    fn call(
        &mut self,
        request: Request,
        action: &str,
        timeout: Duration,
        url: Option<&str>,
    ) -> Result<Reply, StageError> {
        self.ensure_worker()?;
        let mut reply = self.exchange(request, action, timeout)?;
        if let Some((class, message)) = reply.header.error.take() {
            return Err(match class {
                ErrorClass::OpenFailed => match url {
                    Some(url) => StageError::OpenFailed { url: url.to_owned(), message },
                    None => StageError::NoSuchPrim(message),
                },
                ErrorClass::NoSuchPrim => StageError::NoSuchPrim(message),
                ErrorClass::NoStage => StageError::NoStage,
                ErrorClass::BadRequest => StageError::Protocol(message),
            });
        }
        Ok(reply)
    }

    /// Starts a worker if none runs, re-opening the last good stage (without geometry).
    fn ensure_worker(&mut self) -> Result<(), StageError> {
        if self.worker.is_some() {
            return Ok(());
        }
        self.worker = Some(self.spawn()?);
        if let Some(current) = self.current.clone() {
            let request = Request::Open {
                path: current.resolved.to_string_lossy().into_owned(),
                variants: current.variants.clone(),
                send_scene: false,
                asset_root: Some(self.root.path().to_string_lossy().into_owned()),
                defer_textures: self.defer_textures,
            };
            let action = format!("re-opening {} after the parser restarted", current.url);
            let restored = self.exchange(request, &action, self.open_timeout);
            match restored {
                Ok(reply) if reply.header.error.is_none() => {}
                Ok(reply) => {
                    self.current = None;
                    let message = reply.header.error.map(|(_, m)| m).unwrap_or_default();
                    return Err(StageError::OpenFailed { url: current.url, message });
                }
                Err(e) => {
                    self.current = None;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Writes a request and reads the matching reply. On a crash or timeout the worker is
    /// dropped, so the next call starts a fresh one.
    fn exchange(&mut self, request: Request, action: &str, timeout: Duration) -> Result<Reply, StageError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut line =
            serde_json::to_vec(&Envelope { id, request }).map_err(|e| StageError::Protocol(e.to_string()))?;
        line.push(b'\n');
        let worker = self.worker.as_mut().ok_or_else(|| StageError::Protocol("no worker is running".into()))?;
        if worker.stdin.write_all(&line).and_then(|()| worker.stdin.flush()).is_err() {
            return Err(self.crashed(action));
        }
        loop {
            let worker = self.worker.as_mut().ok_or_else(|| StageError::Protocol("no worker is running".into()))?;
            match worker.replies.recv_timeout(timeout) {
                // Replies to requests abandoned earlier are stale: drop them.
                Ok(Ok(reply)) if reply.header.id != id && reply.header.id != 0 => continue,
                Ok(Ok(reply)) => return Ok(reply),
                Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => {
                    let error = self.crashed(action);
                    if self.canceller.cancelled.swap(false, Ordering::AcqRel) {
                        return Err(StageError::Cancelled { action: action.to_owned() });
                    }
                    return Err(error);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.stop_worker();
                    return Err(StageError::WorkerTimedOut {
                        action: action.to_owned(),
                        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    });
                }
            }
        }
    }

    /// Reaps a dead worker and describes how it died.
    fn crashed(&mut self, action: &str) -> StageError {
        self.canceller.pid.store(0, Ordering::Release);
        let Some(mut worker) = self.worker.take() else {
            return StageError::WorkerCrashed {
                action: action.to_owned(),
                detail: "the worker was not running".into(),
            };
        };
        let _ = worker.child.kill();
        let status = worker.child.wait().map(describe_exit).unwrap_or_else(|e| format!("exit status unknown ({e})"));
        let tail = worker.stderr_tail.take().and_then(|h| h.join().ok()).unwrap_or_default();
        let out_of_memory = tail.out_of_memory;
        let last_words = last_words(&tail.text);
        let detail = if last_words.is_empty() { status } else { format!("{status}; it said: {last_words}") };
        let detail = match (out_of_memory, self.memory_limit) {
            (true, Some(limit)) => {
                format!("it ran out of its memory limit of {} MiB (--stage-memory-limit-mb); {detail}", limit >> 20)
            }
            _ => detail,
        };
        StageError::WorkerCrashed { action: action.to_owned(), detail }
    }

    fn stop_worker(&mut self) {
        self.canceller.pid.store(0, Ordering::Release);
        if let Some(mut worker) = self.worker.take() {
            let _ = worker.child.kill();
            let _ = worker.child.wait();
        }
    }

    fn spawn(&mut self) -> Result<Worker, StageError> {
        let program = self.command.get_program().to_string_lossy().into_owned();
        self.command.env(crate::worker::ASSET_ROOT_ENV, self.root.path());
        match self.memory_limit {
            Some(bytes) => self.command.env(WORKER_MEMORY_ENV, bytes.to_string()),
            None => self.command.env_remove(WORKER_MEMORY_ENV),
        };
        let mut child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| StageError::Spawn { program: program.clone(), source })?;
        let missing = || StageError::Protocol("the worker's pipes were not created".into());
        let stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let stderr = child.stderr.take().ok_or_else(missing)?;
        let (tx, replies) = mpsc::channel();
        let spawn_err = |source| StageError::Spawn { program: program.clone(), source };
        std::thread::Builder::new()
            .name("stage-worker-reader".into())
            .spawn(move || {
                let mut reader = BufReader::with_capacity(1 << 20, stdout);
                loop {
                    let item = match protocol::read_reply(&mut reader) {
                        Ok(Some(reply)) => Ok(reply),
                        Ok(None) => Err("the worker closed its output".to_owned()),
                        Err(e) => Err(e.to_string()),
                    };
                    let end = item.is_err();
                    if tx.send(item).is_err() || end {
                        break;
                    }
                }
            })
            .map_err(spawn_err)?;
        let stderr_tail = std::thread::Builder::new()
            .name("stage-worker-stderr".into())
            .spawn(move || keep_tail(stderr))
            .map_err(spawn_err)?;
        self.canceller.pid.store(child.id(), Ordering::Release);
        Ok(Worker { child, stdin, replies, stderr_tail: Some(stderr_tail) })
    }
}

impl Drop for StageService {
    fn drop(&mut self) {
        self.stop_worker();
    }
}

/// What a worker wrote to stderr before it ended: the last [`STDERR_TAIL_BYTES`], and whether it
/// said anywhere that an allocation failed (a backtrace printed after that line can be longer
/// than the tail).
#[derive(Default)]
struct StderrTail {
    text: String,
    out_of_memory: bool,
}

/// The line Rust's allocation-failure handler prints before it aborts.
const OUT_OF_MEMORY: &[u8] = b"memory allocation of";

/// Reads a stream to its end, keeping only the last [`STDERR_TAIL_BYTES`].
fn keep_tail(mut stream: impl Read) -> StderrTail {
    let mut tail: Vec<u8> = Vec::new();
    let (mut out_of_memory, mut cut) = (false, false);
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        // Searched from just before the new bytes, so a line split across reads is seen.
        let from = tail.len().saturating_sub(OUT_OF_MEMORY.len());
        tail.extend_from_slice(&buf[..n]);
        out_of_memory |= tail[from..].windows(OUT_OF_MEMORY.len()).any(|w| w == OUT_OF_MEMORY);
        if tail.len() > 2 * STDERR_TAIL_BYTES {
            tail.drain(..tail.len() - STDERR_TAIL_BYTES);
            cut = true;
        }
    }
    let mut start = tail.len().saturating_sub(STDERR_TAIL_BYTES);
    if cut || start > 0 {
        // Cut: the first line is a fragment.
        start += tail[start..].iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
    }
    StderrTail { text: String::from_utf8_lossy(&tail[start..]).into_owned(), out_of_memory }
}

/// Whether a stderr line is part of a Rust backtrace (its frames, their locations, its notes).
fn is_backtrace_line(line: &str) -> bool {
    let t = line.trim_start();
    let frame = t.split_once(": ").is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    frame || t.starts_with("at ") || t.starts_with("note: Some details are omitted")
}

/// The lines worth quoting from a dead worker's stderr: the last three before any backtrace
/// (and none of a backtrace whose start the tail has lost).
fn last_words(tail: &str) -> String {
    let lines: Vec<&str> = tail
        .lines()
        .take_while(|l| !l.starts_with("stack backtrace:"))
        .filter(|l| !l.trim().is_empty() && !is_backtrace_line(l))
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("the worker exited with status {code}"),
        (None, Some(signal)) => format!("the worker was killed by signal {signal}{}", signal_name(signal)),
        _ => "the worker ended".to_owned(),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        7 => " (SIGBUS)",
        _ => "",
    }
}

fn parse_result<T: serde::de::DeserializeOwned>(reply: &Reply) -> Result<T, StageError> {
    serde_json::from_slice(&reply.result).map_err(|e| StageError::Protocol(format!("unexpected reply: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allocation_failure_is_seen_even_when_a_long_backtrace_follows_it() {
        let mut stderr = String::from("memory allocation of 4294967296 bytes failed\nstack backtrace:\n");
        for i in 0..500 {
            stderr.push_str(&format!("  {i}: some::frame\n             at ./src/lib.rs:{i}:5\n"));
        }
        assert!(stderr.len() > 4 * STDERR_TAIL_BYTES);
        // Read in small pieces, so the marker is split across reads.
        struct Dribble<'a>(&'a [u8]);
        impl Read for Dribble<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(7);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let tail = keep_tail(Dribble(stderr.as_bytes()));
        assert!(tail.out_of_memory);
        assert!(tail.text.len() <= STDERR_TAIL_BYTES && !tail.text.contains("memory allocation"));
        assert_eq!(last_words(&tail.text), "", "a backtrace whose start was lost is not quoted");
        let quiet = keep_tail("warning: x\nthread 'main' panicked at src/a.rs:1:1:\nboom\n".as_bytes());
        assert!(!quiet.out_of_memory);
        assert_eq!(last_words(&quiet.text), "warning: x / thread 'main' panicked at src/a.rs:1:1: / boom");
    }

    #[test]
    fn last_words_skip_the_backtrace() {
        let text = "a\nb\n\npanicked: c\nstack backtrace:\n  0: x\n  1: y\n";
        assert_eq!(last_words(text), "a / b / panicked: c");
    }
}

//! The stage slot: the stage service (USD parsed in a child worker process), the loader thread
//! that runs slow opens off the render thread, and what the render thread knows about the loaded
//! stage (facts, prim ids, the load awaited, the last error). Owned by [`super::core::Core`]; only
//! the render thread touches it, through the methods below. Selection and pickable set live in
//! [`super::selection::Selection`].
//!
//! Loads are serialized: one loader thread runs them and posts each result to the render
//! thread's inbound queue tagged with its request id; the render thread drops every result but
//! the latest request's. Only the newest pending load is kept, and a newer request cancels the
//! one in progress by stopping the worker (its result, `cancelled`, is dropped as stale). Quick queries (children, properties, bounds) run on the
//! render thread between frames; while a load holds the service they answer "loading".
//!
//! Textures stream: the stage is opened with every texture still without pixels (it appears at
//! once, materials on their fallbacks), then the loader asks the worker for the textures batch
//! by batch ([`stream_textures`]) and posts them to the render thread one texture at a time
//! ([`Inbound::StageTextures`], the next once the last was handled, so a frame waits for at most
//! one upload), which hands each to the renderer and marks the frame dirty; frames keep flowing
//! meanwhile. A newer load stops the streaming before its next batch.
//! Between batches the loader lets go of the service, and a quick query waits for the batch in
//! flight (at most [`QUERY_WAIT_WHILE_STREAMING`]) rather than answering "loading".

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;
use ovhost_plugin_api::{Bounds, PluginError, StageScene};
use ovhost_stage::{Canceller, OpenedStage, StageError, StageInfo, StageService};
use parking_lot::{Condvar, Mutex, MutexGuard};

use super::inbound::Inbound;
pub use super::inbound::{LoadReason, LoadResult};

pub enum LoadJob {
    Open { request_id: u64, url: String, reason: LoadReason },
    Variant { request_id: u64, prim_path: String, set: String, selection: String },
}

struct JobId(u64);

impl LoadJob {
    fn id(&self) -> JobId {
        match self {
            Self::Open { request_id, .. } | Self::Variant { request_id, .. } => JobId(*request_id),
        }
    }
}

/// Time limit for a hierarchy, properties or bounds query to the worker.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a quick query waits for a texture batch in flight (no load awaited).
pub const QUERY_WAIT_WHILE_STREAMING: Duration = Duration::from_secs(2);

impl Mailbox {
    /// The next job, waiting for one; `None` once the slot is dropped.
    fn next(&self) -> Option<LoadJob> {
        let mut state = self.state.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(job) = state.pending.take() {
                state.running = Some(job.id().0);
                return Some(job);
            }
            self.wake.wait(&mut state);
        }
    }
}

impl Drop for StageSlot {
    fn drop(&mut self) {
        self.mailbox.state.lock().closed = true;
        self.mailbox.wake.notify_all();
    }
}

/// The loaded stage as the render thread keeps it.
pub struct LoadedStage {
    pub info: StageInfo,
    pub scene: StageScene,
    /// World bounds of what is drawn at the start time (meshes' instances only: lights,
    /// cameras and other bounds-only prims left out), what the camera fits to.
    pub drawn_bounds: Bounds,
    path_ids: HashMap<String, u32>,
    /// When the stage was made current, and whether textures are still streaming in.
    opened_at: std::time::Instant,
    textures_pending: bool,
}

impl LoadedStage {
    pub fn new(opened: OpenedStage) -> Self {
        let path_ids = opened.scene.prim_paths.iter().enumerate().map(|(i, p)| (p.to_string(), i as u32 + 1)).collect();
        let mut drawn_bounds = drawn_bounds(&opened.scene);
        if drawn_bounds.is_empty() {
            drawn_bounds = opened.info.bounds;
        }
        Self {
            info: opened.info,
            scene: opened.scene,
            drawn_bounds,
            path_ids,
            opened_at: std::time::Instant::now(),
            textures_pending: true,
        }
    }

    /// Prim ids of `path` and every prim with geometry below it (outline expansion).
    pub fn ids_under(&self, path: &str) -> Vec<u32> {
        let prefix = if path == "/" { "/".to_string() } else { format!("{path}/") };
        self.path_ids.iter().filter(|(p, _)| p.as_str() == path || p.starts_with(&prefix)).map(|(_, id)| *id).collect()
    }

    pub fn path_of(&self, prim_id: u32) -> Option<&str> {
        self.scene.prim_path(prim_id)
    }
}

pub struct StageSlot {
    service: Arc<Mutex<StageService>>,
    /// Set by the loader when it posts a streamed texture, cleared by the render thread once it
    /// handled it: one texture in the inbound queue at a time, so a frame waits for at most one
    /// upload.
    texture_in_queue: Arc<std::sync::atomic::AtomicBool>,
    mailbox: Arc<Mailbox>,
    canceller: Canceller,
    next_request: u64,
    superseded: Vec<(u64, String)>,
    /// The load whose result is awaited (the latest request).
    loading: Option<(u64, String, LoadReason)>,
    current: Option<LoadedStage>,
    last_error: Option<String>,
}

/// Limits for the stage worker (`--stage-open-timeout-s`, `--stage-memory-limit-mb`).
#[derive(Debug, Clone, Copy)]
pub struct StageLimits {
    pub open_timeout: Duration,
    /// Address-space limit of the worker process (`None`: unlimited).
    pub memory_bytes: Option<u64>,
}

impl Default for StageLimits {
    fn default() -> Self {
        Self { open_timeout: Duration::from_secs(30), memory_bytes: Some(4096 << 20) }
    }
}

/// The loader's one pending job: a newer request replaces an older one that has not started,
/// and cancels one that has (by stopping the worker).
#[derive(Default)]
struct Mailbox {
    state: Mutex<MailboxState>,
    wake: Condvar,
}

#[derive(Default)]
struct MailboxState {
    pending: Option<LoadJob>,
    /// The request id of the job the loader is running.
    running: Option<u64>,
    closed: bool,
}

impl StageSlot {
    /// Starts the stage service (worker = this executable with `__stage-worker`) and the loader thread.
    pub fn start(asset_root: PathBuf, limits: StageLimits, inbound: Sender<Inbound>) -> Result<Self, PluginError> {
        let exe = std::env::current_exe()
            .map_err(|e| PluginError::internal(format!("cannot find the ovhost executable: {e}")))?;
        let mut worker = Command::new(exe);
        worker.arg("__stage-worker");
        let mut service = StageService::new(worker, asset_root)
            .map_err(|e| PluginError::invalid_input(format!("stage service: {e}")))?;
        service.set_timeouts(limits.open_timeout, QUERY_TIMEOUT);
        service.set_defer_textures(true);
        service.set_memory_limit(limits.memory_bytes);
        let canceller = service.canceller();
        let service = Arc::new(Mutex::new(service));
        let mailbox = Arc::new(Mailbox::default());
        let loader_service = service.clone();
        let loader_mailbox = mailbox.clone();
        let texture_in_queue = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let loader_in_queue = texture_in_queue.clone();
        std::thread::Builder::new()
            .name("ovhost-stage-loader".into())
            .spawn(move || {
                while let Some(job) = loader_mailbox.next() {
                    let started = std::time::Instant::now();
                    let result = {
                        let mut service = loader_service.lock();
                        match &job {
                            LoadJob::Open { request_id, url, reason } => LoadResult {
                                request_id: *request_id,
                                url: url.clone(),
                                reason: *reason,
                                result: service.open(url),
                            },
                            LoadJob::Variant { request_id, prim_path, set, selection } => {
                                let result = service.set_variant(prim_path, set, selection);
                                let url = result.as_ref().map(|o| o.info.url.clone()).unwrap_or_default();
                                LoadResult { request_id: *request_id, url, reason: LoadReason::Variant, result }
                            }
                        }
                    };
                    loader_mailbox.state.lock().running = None;
                    let opened = result.result.is_ok();
                    crate::metrics::record_stage_load(started.elapsed(), opened);
                    if inbound.send(Inbound::StageLoaded(Box::new(result))).is_err() {
                        break;
                    }
                    if opened && !stream_textures(&loader_service, &loader_mailbox, &inbound, &loader_in_queue) {
                        break;
                    }
                }
            })
            .map_err(|e| PluginError::internal(format!("cannot start the stage loader thread: {e}")))?;
        Ok(Self {
            service,
            texture_in_queue,
            mailbox,
            canceller,
            next_request: 0,
            superseded: Vec::new(),
            loading: None,
            current: None,
            last_error: None,
        })
    }

    /// Queues a load, replacing a pending one and cancelling a running one; returns its request id.
    pub fn request(
        &mut self,
        job: impl FnOnce(u64) -> LoadJob,
        url: &str,
        reason: LoadReason,
    ) -> Result<u64, PluginError> {
        self.next_request += 1;
        let id = self.next_request;
        {
            let mut state = self.mailbox.state.lock();
            if state.closed {
                return Err(PluginError::internal("the stage loader thread has stopped"));
            }
            if let Some(JobId(replaced)) = state.pending.as_ref().map(LoadJob::id) {
                tracing::info!(request = replaced, by = id, "a queued stage load was replaced by a newer one");
            }
            state.pending = Some(job(id));
            if let Some(running) = state.running {
                tracing::info!(request = running, by = id, "cancelling the stage load in progress for a newer one");
                self.canceller.cancel();
            }
        }
        self.mailbox.wake.notify_one();
        if let Some((old, old_url, _)) = self.loading.replace((id, url.to_string(), reason)) {
            self.superseded.push((old, old_url));
        }
        Ok(id)
    }

    /// Loads a newer request replaced since the last call (request id, url): each still owes its
    /// requester an answer (`stageOpenFailed` with code `superseded`).
    pub fn take_superseded(&mut self) -> Vec<(u64, String)> {
        std::mem::take(&mut self.superseded)
    }

    pub fn open(&mut self, url: &str, reason: LoadReason) -> Result<u64, PluginError> {
        // Refuse bad URLs at once, with the resolver's reason, instead of after a queue trip.
        self.service.try_lock().map(|s| s.resolve(url).map(|_| ())).unwrap_or(Ok(())).map_err(stage_error)?;
        let url_owned = url.to_string();
        self.request(move |request_id| LoadJob::Open { request_id, url: url_owned, reason }, url, reason)
    }

    /// The service for a quick query, unless a load holds it (a texture batch in flight is
    /// waited for, up to [`QUERY_WAIT_WHILE_STREAMING`]).
    pub fn query(&self) -> Result<MutexGuard<'_, StageService>, PluginError> {
        if self.current.is_none() && self.loading.is_none() {
            return Err(PluginError::bad_state("no stage is open; send openStageRequest first"));
        }
        let streaming = self.loading.is_none() && self.current.as_ref().is_some_and(|c| c.textures_pending);
        let guard =
            if streaming { self.service.try_lock_for(QUERY_WAIT_WHILE_STREAMING) } else { self.service.try_lock() };
        guard.ok_or_else(|| PluginError::bad_state("a stage is loading; try again when it has loaded"))
    }

    /// The render thread handled a streamed texture item; the loader may post the next.
    pub fn texture_handled(&self) {
        self.texture_in_queue.store(false, std::sync::atomic::Ordering::Release);
    }

    /// A streamed texture batch arrived: the current stage takes it when it is of the current
    /// generation (else it is stale: `None`). Returns the 0-based texture indices it filled.
    pub fn take_textures(&mut self, batch: ovhost_stage::TextureBatch) -> Option<Vec<u32>> {
        let current = self.current.as_mut()?;
        if current.scene.generation != batch.generation {
            tracing::debug!(
                batch = batch.generation,
                current = current.scene.generation,
                "stale texture batch dropped"
            );
            return None;
        }
        let mut indices = Vec::with_capacity(batch.textures.len());
        for (index, texture) in batch.textures {
            if let Some(slot) = current.scene.textures.get_mut(index as usize) {
                *slot = texture;
                indices.push(index);
            }
        }
        if batch.remaining == 0 && current.textures_pending {
            current.textures_pending = false;
            let with_pixels = current.scene.textures.iter().filter(|t| !t.rgba8.is_empty()).count();
            tracing::info!(
                url = %current.info.url,
                textures = current.scene.textures.len(),
                with_pixels,
                ms = current.opened_at.elapsed().as_millis() as u64,
                "stage textures all arrived"
            );
        }
        Some(indices)
    }

    pub fn list_scenes(&self) -> Vec<String> {
        self.service.try_lock().map(|s| s.list_scenes()).unwrap_or_default()
    }

    /// World bounds of the union of `paths` (the whole stage when empty).
    pub fn bounds_of(&self, paths: &[String]) -> Result<Bounds, PluginError> {
        let Some(current) = &self.current else { return Err(PluginError::bad_state("no stage is open")) };
        if paths.is_empty() {
            return Ok(current.drawn_bounds);
        }
        let mut service = self.query()?;
        let mut bounds = Bounds::EMPTY;
        for path in paths {
            bounds = bounds.union(&service.bounds(path).map_err(stage_error)?);
        }
        Ok(bounds)
    }

    /// Checks prim paths against the open stage, dropping unknown ones; `Err` only for bad paths.
    pub fn existing(&self, paths: &[String]) -> Result<Vec<String>, PluginError> {
        let mut service = self.query()?;
        let mut out = Vec::new();
        for path in paths {
            if !path.starts_with('/') {
                return Err(PluginError::invalid_input(format!("'{path}' is not an absolute prim path")));
            }
            match service.bounds(path) {
                Ok(_) => out.push(path.clone()),
                Err(StageError::NoSuchPrim(_)) => {}
                Err(e) => return Err(stage_error(e)),
            }
        }
        out.dedup();
        Ok(out)
    }

    /// The loaded stage, if any (kept while another loads).
    pub fn current(&self) -> Option<&LoadedStage> {
        self.current.as_ref()
    }

    /// The load awaited: (request id, url).
    pub fn loading(&self) -> Option<(u64, &str)> {
        self.loading.as_ref().map(|l| (l.0, l.1.as_str()))
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// A finished load arrived: true (and no longer awaited) when it is the latest request's.
    pub fn accept(&mut self, request_id: u64) -> bool {
        if self.loading.as_ref().map(|l| l.0) != Some(request_id) {
            return false;
        }
        self.loading = None;
        true
    }

    /// The load failed (or the renderer refused it); the previous stage stays.
    pub fn failed(&mut self, message: String) {
        self.last_error = Some(message);
    }

    /// Makes a loaded stage current.
    pub fn commit(&mut self, opened: OpenedStage) -> &LoadedStage {
        self.last_error = None;
        self.current.insert(LoadedStage::new(opened))
    }
}

/// Streams the just-opened stage's textures to the render thread, batch by batch, until none
/// remain, a newer job is waiting (it cancels the rest) or the slot closed. Returns false when
/// the render thread is gone.
fn stream_textures(
    service: &Mutex<StageService>,
    mailbox: &Mailbox,
    inbound: &Sender<Inbound>,
    in_queue: &std::sync::atomic::AtomicBool,
) -> bool {
    use std::sync::atomic::Ordering;
    let superseded = || {
        let state = mailbox.state.lock();
        state.closed || state.pending.is_some()
    };
    loop {
        if superseded() {
            tracing::info!("texture streaming stopped for a newer stage request");
            return true;
        }
        let mut guard = service.lock();
        let batch = guard.next_textures();
        // Fair hand-over: a quick query waiting on the render thread gets the service next.
        MutexGuard::unlock_fair(guard);
        match batch {
            Ok(batch) => {
                let done = batch.remaining == 0;
                // One item per texture, so the render thread uploads one between frames at a
                // time instead of a whole batch at once.
                for item in split_batch(batch) {
                    // Wait until the render thread took the previous one.
                    while in_queue.load(Ordering::Acquire) {
                        if superseded() {
                            tracing::info!("texture streaming stopped for a newer stage request");
                            return true;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    in_queue.store(true, Ordering::Release);
                    if inbound.send(Inbound::StageTextures(Box::new(item))).is_err() {
                        return false;
                    }
                }
                if done {
                    return true;
                }
            }
            Err(e) => {
                tracing::warn!("texture streaming stopped: {e}; the rest stay on their fallbacks");
                return true;
            }
        }
    }
}

/// A batch as one batch per texture (the last keeps `remaining`; the ones before it count the
/// textures still to come after them). An empty batch stays one (empty) item.
fn split_batch(batch: ovhost_stage::TextureBatch) -> Vec<ovhost_stage::TextureBatch> {
    let ovhost_stage::TextureBatch { generation, textures, remaining } = batch;
    if textures.is_empty() {
        return vec![ovhost_stage::TextureBatch { generation, textures, remaining }];
    }
    let n = textures.len();
    textures
        .into_iter()
        .enumerate()
        .map(|(i, t)| ovhost_stage::TextureBatch { generation, textures: vec![t], remaining: remaining + (n - 1 - i) })
        .collect()
}

/// Maps a stage error to a plugin error with the service's own sentence.
pub fn stage_error(error: StageError) -> PluginError {
    let kind = match error.code() {
        "not_found" | "no_such_prim" => ovhost_plugin_api::ErrorKind::NOT_FOUND,
        "refused" => ovhost_plugin_api::ErrorKind::INVALID_INPUT,
        "no_stage" => ovhost_plugin_api::ErrorKind::BAD_STATE,
        _ => ovhost_plugin_api::ErrorKind::INTERNAL,
    };
    PluginError::new(kind, error.to_string())
}

/// World bounds of every mesh instance (each mesh's local box, transformed corner by corner).
pub fn drawn_bounds(scene: &StageScene) -> Bounds {
    let mut out = Bounds::EMPTY;
    for mesh in scene.meshes.iter() {
        let mut local = Bounds::EMPTY;
        for p in mesh.positions.iter() {
            local.include_point(p.map(f64::from));
        }
        if local.is_empty() {
            continue;
        }
        for inst in mesh.instances.iter() {
            let m = &inst.world_transform;
            for corner in 0..8 {
                let p: [f64; 3] =
                    std::array::from_fn(|i| if corner >> i & 1 == 0 { local.min[i] } else { local.max[i] });
                out.include_point(std::array::from_fn(|j| p[0] * m[j] + p[1] * m[4 + j] + p[2] * m[8 + j] + m[12 + j]));
            }
        }
    }
    out
}

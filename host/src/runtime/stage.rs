//! The stage slot: the stage services (USD parsed in child worker processes), the loader thread
//! that runs slow opens, the query thread that answers questions about the loaded stage, and what
//! the render thread knows about the loaded stage (facts, prim ids, the load awaited, the last
//! error). Owned by [`super::core::Core`]; only the render thread touches it, through the methods
//! below. Selection and pickable set live in [`super::selection::Selection`].
//!
//! **The render thread never waits on a worker.** Two services, each with its own worker process:
//! the loader's (`ovhost-stage-loader`) opens and recomposes; the query thread's
//! (`ovhost-stage-query`) has the loaded stage open and answers children, properties, variants,
//! bounds, batched path checks and the scene list. A question from a host service is sent to the
//! query thread and answered through the inbound queue ([`Inbound::StageAnswer`]); the message
//! that asked is parked (see `super::deferred`) and dispatched again when the answer is here, and
//! then the service answers from this slot's answers without a round trip. Because the query
//! worker keeps the last loaded stage while the loader's worker parses the next one, queries keep
//! answering from the last loaded stage during a load. When the render thread commits a load, the
//! loader's service (which has the new stage open) is handed to the query thread, and the query
//! thread's old service goes back to the loader as its spare: no stage is parsed twice.
//!
//! Loads are serialized: one loader thread runs them and posts each result to the render
//! thread's inbound queue tagged with its request id; the render thread drops every result but
//! the latest request's. Only the newest pending load is kept, and a newer request cancels the
//! one in progress by stopping the loader's worker (its result, `cancelled`, is dropped as stale).
//!
//! **Textures stream.** A stage is opened with every texture still without pixels (it appears at
//! once, materials on their fallbacks). Once the query thread adopted the committed stage's
//! service, it asks that worker for the textures batch by batch between questions
//! ([`stream_textures`]) and posts them to the render thread one texture at a time
//! ([`Inbound::StageTextures`], the next once the last was handled, so a frame waits for at most
//! one upload), which hands each to the renderer and marks the frame dirty; frames keep flowing
//! and questions keep being answered meanwhile. Adopting a newer stage stops the streaming of the
//! older one (a batch of an older generation is dropped by [`StageSlot::take_textures`]).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use ovhost_plugin_api::{Bounds, ErrorKind, PluginError, StageScene};
use ovhost_stage::resolve::AssetRoot;
use ovhost_stage::{Canceller, OpenedStage, StageError, StageInfo, StageService, StageTarget};
use parking_lot::{Condvar, Mutex};

use super::inbound::Inbound;
pub use super::inbound::{Answer, LoadReason, LoadResult, Query, StageAnswer};

pub enum LoadJob {
    Open {
        request_id: u64,
        url: String,
        reason: LoadReason,
    },
    /// Recomposes `base` (the loaded stage) with one more variant selection; `keep` are the
    /// selected prims, checked against the new composition in the same trip.
    Variant {
        request_id: u64,
        base: StageTarget,
        prim_path: String,
        set: String,
        selection: String,
        keep: Vec<String>,
    },
}

struct JobId(u64);

impl LoadJob {
    fn id(&self) -> JobId {
        match self {
            Self::Open { request_id, .. } | Self::Variant { request_id, .. } => JobId(*request_id),
        }
    }
}

/// Time limit for a hierarchy, properties or bounds query to the worker (on the query thread).
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a listed scene set is answered from memory before the asset root is walked again
/// (on the query thread).
const SCENES_TTL: Duration = Duration::from_secs(2);

/// Most answers kept for parked messages; beyond, the oldest are forgotten (their messages ask
/// again when replayed).
const MAX_ANSWERS: usize = 256;

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
    path_ids: BTreeMap<String, u32>,
    /// Each mesh's local bounds (indexed like the scene's meshes).
    mesh_bounds: Vec<Bounds>,
    /// Answers the loader fetched with the stage (see `prefetch`).
    prefetched: HashMap<Query, Answer>,
    /// When the stage was made current, and whether textures are still streaming in.
    opened_at: Instant,
    textures_pending: bool,
}

impl LoadedStage {
    pub fn new(opened: OpenedStage) -> Self {
        let path_ids = opened.scene.prim_paths.iter().enumerate().map(|(i, p)| (p.to_string(), i as u32 + 1)).collect();
        let mesh_bounds: Vec<Bounds> = opened.scene.meshes.iter().map(|m| local_bounds(&m.positions)).collect();
        let mut drawn_bounds = placed_bounds(&opened.scene, &mesh_bounds, |_| true);
        if drawn_bounds.is_empty() {
            drawn_bounds = opened.info.bounds;
        }
        Self {
            info: opened.info,
            scene: opened.scene,
            drawn_bounds,
            path_ids,
            mesh_bounds,
            prefetched: HashMap::new(),
            opened_at: Instant::now(),
            textures_pending: true,
        }
    }

    /// World bounds of what is drawn under `paths`, from the scene the render thread holds
    /// (empty when nothing is drawn there, or the prims are unknown).
    pub fn drawn_under(&self, paths: &[String]) -> Bounds {
        let ids: std::collections::HashSet<u32> = paths.iter().flat_map(|p| self.ids_under(p)).collect();
        if ids.is_empty() {
            return Bounds::EMPTY;
        }
        placed_bounds(&self.scene, &self.mesh_bounds, |id| ids.contains(&id))
    }

    /// Prim ids of `path` and every prim with geometry below it (outline expansion): a range of
    /// the sorted paths, so selecting thousands of prims stays cheap on the render thread.
    pub fn ids_under(&self, path: &str) -> Vec<u32> {
        let prefix = if path == "/" { "/".to_string() } else { format!("{path}/") };
        self.path_ids
            .range::<str, _>((std::ops::Bound::Included(path), std::ops::Bound::Unbounded))
            .take_while(|(p, _)| p.starts_with(path))
            .filter(|(p, _)| p.as_str() == path || p.starts_with(&prefix))
            .map(|(_, id)| *id)
            .collect()
    }

    pub fn path_of(&self, prim_id: u32) -> Option<&str> {
        self.scene.prim_path(prim_id)
    }
}

pub struct StageSlot {
    root: AssetRoot,
    mailbox: Arc<Mailbox>,
    /// Stops the loader's call in flight (attached to whichever service the loader holds).
    canceller: Canceller,
    /// The loader's service after a successful load, until the render thread commits it.
    ready: Arc<Mutex<Option<(u64, StageService)>>>,
    queries: Sender<QueryJob>,
    next_request: u64,
    superseded: Vec<(u64, String)>,
    /// The load whose result is awaited (the latest request).
    loading: Option<(u64, String, LoadReason)>,
    current: Option<LoadedStage>,
    /// What the query thread has open (the committed stage), the base of variant changes.
    target: Option<StageTarget>,
    last_error: Option<String>,
    next_ticket: u64,
    /// Questions sent to the query thread, by ticket and by question (one trip for askers alike).
    in_flight: HashMap<u64, Query>,
    asked: HashMap<Query, u64>,
    /// Answers that arrived for parked messages, kept until a dispatch that used them completes.
    answers: HashMap<Query, Result<Answer, PluginError>>,
    /// The message dispatch in progress, if any.
    dispatch: Option<Dispatch>,
    scenes: Option<(Instant, Vec<String>)>,
    /// Set by the query thread when it posts a streamed texture, cleared by the render thread
    /// once it handled it: one texture in the inbound queue at a time, so a frame waits for at
    /// most one upload.
    texture_in_queue: Arc<AtomicBool>,
}

/// What one message dispatch asked of the slot.
#[derive(Default)]
struct Dispatch {
    /// The ticket the dispatch waits for (it asked something not answered yet).
    parked_on: Option<u64>,
    /// Answers it used (forgotten when it completes).
    used: Vec<Query>,
}

/// Work for the query thread.
enum QueryJob {
    Ask {
        ticket: u64,
        query: Query,
    },
    /// The service the loader opened the committed stage with; the query thread's old one goes
    /// back to the loader as its spare.
    Adopt(Box<StageService>),
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

/// The error a service returns while its answer travels: the message that asked is parked and
/// dispatched again when the answer arrives (nothing it sent meanwhile reaches anyone).
pub fn deferred_error() -> PluginError {
    PluginError::new(
        ErrorKind::UNAVAILABLE,
        "waiting for the stage worker's answer; the message is answered when it arrives",
    )
}

fn mismatch() -> PluginError {
    PluginError::internal("the stage query thread answered another question")
}

/// Whether `error` is [`deferred_error`].
pub fn is_deferred(error: &PluginError) -> bool {
    error.kind == ErrorKind::UNAVAILABLE && error.message.starts_with("waiting for the stage worker's answer")
}

impl StageSlot {
    /// Starts the stage services (worker = this executable with `__stage-worker`), the loader
    /// thread and the query thread.
    pub fn start(asset_root: PathBuf, limits: StageLimits, inbound: Sender<Inbound>) -> Result<Self, PluginError> {
        let exe = std::env::current_exe()
            .map_err(|e| PluginError::internal(format!("cannot find the ovhost executable: {e}")))?;
        let new_service = move || -> Result<StageService, StageError> {
            let mut worker = Command::new(&exe);
            worker.arg("__stage-worker");
            let mut service = StageService::new(worker, asset_root.clone())?;
            service.set_timeouts(limits.open_timeout, QUERY_TIMEOUT);
            service.set_memory_limit(limits.memory_bytes);
            service.set_defer_textures(true);
            Ok(service)
        };
        let loader_service = new_service().map_err(|e| PluginError::invalid_input(format!("stage service: {e}")))?;
        let query_service = new_service().map_err(|e| PluginError::invalid_input(format!("stage service: {e}")))?;
        let root = AssetRoot::new(loader_service.asset_root()).map_err(stage_error)?;
        let canceller = Canceller::default();
        let mailbox = Arc::new(Mailbox::default());
        let ready: Arc<Mutex<Option<(u64, StageService)>>> = Arc::default();
        let spare: Arc<Mutex<Option<StageService>>> = Arc::default();
        let (queries, query_jobs) = crossbeam_channel::unbounded();
        let loader = Loader {
            mailbox: mailbox.clone(),
            canceller: canceller.clone(),
            ready: ready.clone(),
            spare: spare.clone(),
            inbound: inbound.clone(),
        };
        std::thread::Builder::new()
            .name("ovhost-stage-loader".into())
            .spawn(move || loader.run(loader_service, new_service))
            .map_err(|e| PluginError::internal(format!("cannot start the stage loader thread: {e}")))?;
        let query_root = root.clone();
        let texture_in_queue = Arc::new(AtomicBool::new(false));
        let in_queue = texture_in_queue.clone();
        std::thread::Builder::new()
            .name("ovhost-stage-query".into())
            .spawn(move || query_thread(query_service, &query_root, &query_jobs, &spare, &inbound, &in_queue))
            .map_err(|e| PluginError::internal(format!("cannot start the stage query thread: {e}")))?;
        Ok(Self {
            root,
            mailbox,
            canceller,
            ready,
            queries,
            next_request: 0,
            superseded: Vec::new(),
            loading: None,
            current: None,
            target: None,
            last_error: None,
            next_ticket: 0,
            in_flight: HashMap::new(),
            asked: HashMap::new(),
            answers: HashMap::new(),
            dispatch: None,
            scenes: None,
            texture_in_queue,
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
        self.root.resolve(url).map_err(stage_error)?;
        let url_owned = url.to_string();
        self.request(move |request_id| LoadJob::Open { request_id, url: url_owned, reason }, url, reason)
    }

    /// Queues a variant change of the loaded stage; the selected prims in `keep` that still
    /// exist afterwards come back in the load's result.
    pub fn set_variant(
        &mut self,
        prim_path: String,
        set: String,
        selection: String,
        keep: Vec<String>,
    ) -> Result<u64, PluginError> {
        let base = self.target.clone().ok_or_else(|| PluginError::bad_state("no stage is open"))?;
        let url = base.url().to_string();
        self.request(
            |request_id| LoadJob::Variant { request_id, base, prim_path, set, selection, keep },
            &url,
            LoadReason::Variant,
        )
    }

    /// A message dispatch starts: questions asked until [`Self::end_dispatch`] may park it.
    pub fn begin_dispatch(&mut self) {
        self.dispatch = Some(Dispatch::default());
    }

    /// The dispatch ended: the ticket it waits for (it is to be dispatched again when that
    /// answer arrives), or `None` when it completed (the answers it used are forgotten).
    pub fn end_dispatch(&mut self) -> Option<u64> {
        let dispatch = self.dispatch.take()?;
        if dispatch.parked_on.is_none() {
            for query in dispatch.used {
                self.answers.remove(&query);
            }
        }
        dispatch.parked_on
    }

    /// Whether the dispatch in progress waits for an answer (it has no effect until replayed).
    pub fn is_parked(&self) -> bool {
        self.dispatch.as_ref().is_some_and(|d| d.parked_on.is_some())
    }

    /// A prim's children, answered by the query thread.
    pub fn children(&mut self, prim_path: &str) -> Result<Vec<ovhost_stage::ChildRow>, PluginError> {
        match self.ask(Query::Children(prim_path.to_string()))? {
            Answer::Children(rows) => Ok(rows),
            _ => Err(mismatch()),
        }
    }

    /// A prim's properties (capped at `max_bytes` of JSON), answered by the query thread.
    pub fn properties(&mut self, prim_path: &str, max_bytes: usize) -> Result<ovhost_stage::Properties, PluginError> {
        match self.ask(Query::Properties(prim_path.to_string(), max_bytes))? {
            Answer::Properties(properties) => Ok(properties),
            _ => Err(mismatch()),
        }
    }

    /// A prim's variant sets, answered by the query thread.
    pub fn variants(
        &mut self,
        prim_path: &str,
    ) -> Result<std::collections::BTreeMap<String, ovhost_stage::VariantSet>, PluginError> {
        match self.ask(Query::Variants(prim_path.to_string()))? {
            Answer::Variants(variants) => Ok(variants),
            _ => Err(mismatch()),
        }
    }

    /// The answer to `query`: from the answers that arrived for a parked message, or else sent
    /// to the query thread and [`deferred_error`] (the message is dispatched again later).
    /// Outside a message dispatch (host events), nothing can wait: `unavailable`.
    pub fn ask(&mut self, query: Query) -> Result<Answer, PluginError> {
        // What the loader fetched with the stage answers at once, messages and host events alike.
        if let Some(answer) = self.current.as_ref().and_then(|c| c.prefetched.get(&query)) {
            return Ok(answer.clone());
        }
        let Some(dispatch) = self.dispatch.as_mut() else {
            return Err(PluginError::new(
                ErrorKind::UNAVAILABLE,
                "this question goes to the stage worker and is answered to client messages only",
            ));
        };
        if dispatch.parked_on.is_some() {
            // Already waiting: nothing else this dispatch does has an effect.
            return Err(deferred_error());
        }
        if let Some(answer) = self.answers.get(&query) {
            dispatch.used.push(query.clone());
            return answer.clone();
        }
        if query != Query::Scenes && self.current.is_none() {
            return Err(PluginError::bad_state(if self.loading.is_some() {
                "the first stage is still loading; try again when it has loaded"
            } else {
                "no stage is open; send openStageRequest first"
            }));
        }
        let ticket = match self.asked.get(&query) {
            Some(ticket) => *ticket,
            None => {
                self.next_ticket += 1;
                let ticket = self.next_ticket;
                if self.queries.send(QueryJob::Ask { ticket, query: query.clone() }).is_err() {
                    return Err(PluginError::internal("the stage query thread has stopped"));
                }
                self.asked.insert(query.clone(), ticket);
                self.in_flight.insert(ticket, query);
                ticket
            }
        };
        dispatch.parked_on = Some(ticket);
        Err(deferred_error())
    }

    /// An answer from the query thread arrived; the messages parked on its ticket may be
    /// dispatched again.
    pub fn answered(&mut self, answer: StageAnswer) {
        let Some(query) = self.in_flight.remove(&answer.ticket) else { return };
        self.asked.remove(&query);
        if let Ok(Answer::Scenes(scenes)) = &answer.result {
            self.scenes = Some((Instant::now(), scenes.clone()));
        }
        if self.answers.len() >= MAX_ANSWERS {
            tracing::warn!("answers for parked messages were never used; forgetting them");
            self.answers.clear();
        }
        self.answers.insert(query, answer.result);
    }

    /// USD files under the asset root (listed on the query thread, kept for a short while).
    pub fn list_scenes(&mut self) -> Result<Vec<String>, PluginError> {
        if let Some((at, scenes)) = &self.scenes
            && at.elapsed() < SCENES_TTL
        {
            return Ok(scenes.clone());
        }
        match self.ask(Query::Scenes)? {
            Answer::Scenes(scenes) => Ok(scenes),
            _ => Err(mismatch()),
        }
    }

    /// World bounds of the union of `paths` (the whole drawn stage when empty).
    pub fn bounds_of(&mut self, paths: &[String]) -> Result<Bounds, PluginError> {
        let Some(current) = &self.current else { return Err(PluginError::bad_state("no stage is open")) };
        if paths.is_empty() || paths.iter().all(|p| p == "/") {
            return Ok(current.drawn_bounds);
        }
        // What is drawn under the prims, from the scene held here: no worker trip (and usable
        // from host input, such as `F`, where nothing can wait).
        let drawn = current.drawn_under(paths);
        if !drawn.is_empty() {
            return Ok(drawn);
        }
        // Nothing drawn under them, or unknown prims: the worker says which (`not_found`).
        match self.ask(Query::Bounds(paths.to_vec()))? {
            Answer::Bounds(bounds) => Ok(bounds),
            _ => Err(mismatch()),
        }
    }

    /// Checks prim paths against the loaded stage in one trip, dropping unknown ones; `Err` only
    /// for bad paths.
    pub fn existing(&mut self, paths: &[String]) -> Result<Vec<String>, PluginError> {
        if let Some(bad) = paths.iter().find(|p| !p.starts_with('/')) {
            let shown = crate::protocol::truncate_chars(bad, 128);
            return Err(PluginError::invalid_input(format!("'{shown}' is not an absolute prim path")));
        }
        match self.ask(Query::Existing(paths.to_vec()))? {
            Answer::Existing(prims) => Ok(prims),
            _ => Err(mismatch()),
        }
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

    /// The render thread handled a streamed texture item; the query thread may post the next.
    pub fn texture_handled(&self) {
        self.texture_in_queue.store(false, Ordering::Release);
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

    /// Makes a loaded stage current; the query thread takes over the loader's service that has
    /// it open (queries asked from now on are about it).
    pub fn commit(&mut self, request_id: u64, opened: OpenedStage, prefetched: Vec<(Query, Answer)>) -> &LoadedStage {
        self.last_error = None;
        let handed = self.ready.lock().take();
        match handed {
            Some((id, service)) if id == request_id => {
                self.target = service.target();
                if self.queries.send(QueryJob::Adopt(Box::new(service))).is_err() {
                    tracing::error!("the stage query thread has stopped; questions about the stage fail");
                }
            }
            Some(other) => {
                tracing::warn!(
                    ready = other.0,
                    committed = request_id,
                    "the loader's service is not the committed load's"
                );
                *self.ready.lock() = Some(other);
            }
            None => tracing::warn!(request = request_id, "no loader service for the committed load"),
        }
        let mut stage = LoadedStage::new(opened);
        stage.prefetched = prefetched.into_iter().collect();
        self.current.insert(stage)
    }
}

/// The loader thread's side: runs one job at a time with the service it holds.
struct Loader {
    mailbox: Arc<Mailbox>,
    canceller: Canceller,
    ready: Arc<Mutex<Option<(u64, StageService)>>>,
    spare: Arc<Mutex<Option<StageService>>>,
    inbound: Sender<Inbound>,
}

impl Loader {
    fn run(self, first: StageService, new_service: impl Fn() -> Result<StageService, StageError>) {
        let mut own = Some(first);
        while let Some(job) = self.mailbox.next() {
            let started = Instant::now();
            // The service to load with: its own, or the one the query thread gave back, or one
            // whose load was never committed (stale: a newer request started this job).
            let service = own
                .take()
                .or_else(|| self.spare.lock().take())
                .or_else(|| self.ready.lock().take().map(|(_, s)| s))
                .map_or_else(&new_service, Ok);
            let (result, service) = match service {
                Ok(mut service) => {
                    service.set_canceller(self.canceller.clone());
                    let result = run_job(&mut service, job);
                    service.set_canceller(Canceller::default());
                    (result, Some(service))
                }
                Err(e) => (failed_job(job, e), None),
            };
            self.mailbox.state.lock().running = None;
            crate::metrics::record_stage_load(started.elapsed(), result.result.is_ok());
            match service {
                // The service has the new stage open: it waits for the render thread's commit.
                Some(service) if result.result.is_ok() => {
                    own = self.ready.lock().replace((result.request_id, service)).map(|(_, s)| s);
                }
                service => own = service,
            }
            if self.inbound.send(Inbound::StageLoaded(Box::new(result))).is_err() {
                break;
            }
        }
    }
}

fn run_job(service: &mut StageService, job: LoadJob) -> LoadResult {
    match job {
        LoadJob::Open { request_id, url, reason } => {
            let result = service.open(&url);
            let prefetched = prefetch(service, &result, None);
            LoadResult { request_id, url, reason, result, kept: Vec::new(), prefetched }
        }
        LoadJob::Variant { request_id, base, prim_path, set, selection, keep } => {
            let url = base.url().to_string();
            let result = service.set_variant_on(base, &prim_path, &set, &selection);
            // The selected prims that still exist in the new composition stay selected.
            let kept = match (&result, keep.is_empty()) {
                (Ok(_), false) => service.existing(&keep).unwrap_or_default(),
                _ => Vec::new(),
            };
            let prefetched = prefetch(service, &result, Some(&prim_path));
            LoadResult { request_id, url, reason: LoadReason::Variant, result, kept, prefetched }
        }
    }
}

/// What host events ask about a new stage, fetched while the loader's worker has it open: the
/// root prim's children and, after a variant change, the prim's variant sets.
fn prefetch(
    service: &mut StageService,
    result: &Result<OpenedStage, StageError>,
    variant_prim: Option<&str>,
) -> Vec<(Query, Answer)> {
    let Ok(opened) = result else { return Vec::new() };
    let mut out = Vec::new();
    let root = opened.info.root_prim_path.clone();
    match service.children(&root) {
        Ok(rows) => out.push((Query::Children(root), Answer::Children(rows))),
        Err(e) => tracing::warn!("could not list the new stage's root prim '{root}': {e}"),
    }
    if let Some(prim) = variant_prim
        && let Ok(variants) = service.variants(prim)
    {
        out.push((Query::Variants(prim.to_string()), Answer::Variants(variants)));
    }
    out
}

fn failed_job(job: LoadJob, error: StageError) -> LoadResult {
    let (request_id, url, reason) = match job {
        LoadJob::Open { request_id, url, reason } => (request_id, url, reason),
        LoadJob::Variant { request_id, base, .. } => (request_id, base.url().to_string(), LoadReason::Variant),
    };
    LoadResult { request_id, url, reason, result: Err(error), kept: Vec::new(), prefetched: Vec::new() }
}

/// The query thread: answers questions about the committed stage with its own worker, in order,
/// and between questions streams that stage's textures to the render thread.
fn query_thread(
    mut service: StageService,
    root: &AssetRoot,
    jobs: &Receiver<QueryJob>,
    spare: &Mutex<Option<StageService>>,
    inbound: &Sender<Inbound>,
    in_queue: &AtomicBool,
) {
    let mut streaming = false;
    loop {
        let job = if streaming {
            match jobs.try_recv() {
                Ok(job) => Some(job),
                Err(crossbeam_channel::TryRecvError::Empty) => None,
                Err(crossbeam_channel::TryRecvError::Disconnected) => break,
            }
        } else {
            match jobs.recv() {
                Ok(job) => Some(job),
                Err(_) => break,
            }
        };
        match job {
            Some(QueryJob::Adopt(next)) => {
                let old = std::mem::replace(&mut service, *next);
                // The loader takes it for its next load (a spare it did not take is replaced).
                *spare.lock() = Some(old);
                streaming = true;
            }
            Some(QueryJob::Ask { ticket, query }) => {
                let result = answer(&mut service, root, query);
                if inbound.send(Inbound::StageAnswer(StageAnswer { ticket, result })).is_err() {
                    break;
                }
            }
            None => match stream_textures(&mut service, inbound, in_queue) {
                Some(more) => streaming = more,
                None => break,
            },
        }
    }
}

/// Streams one batch of the open stage's textures to the render thread, one texture per inbound
/// item (each once the render thread took the one before). `Some(true)`: more remain;
/// `Some(false)`: done (or failed: the rest stay on their fallbacks); `None`: the render thread
/// is gone.
fn stream_textures(service: &mut StageService, inbound: &Sender<Inbound>, in_queue: &AtomicBool) -> Option<bool> {
    let batch = match service.next_textures() {
        Ok(batch) => batch,
        Err(e) => {
            tracing::warn!("texture streaming stopped: {e}; the rest stay on their fallbacks");
            return Some(false);
        }
    };
    let done = batch.remaining == 0;
    for item in split_batch(batch) {
        // Wait until the render thread took the previous one (it handles inbound items between
        // frames, so this is at most a frame).
        while in_queue.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        in_queue.store(true, Ordering::Release);
        if inbound.send(Inbound::StageTextures(Box::new(item))).is_err() {
            return None;
        }
    }
    Some(!done)
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

fn answer(service: &mut StageService, root: &AssetRoot, query: Query) -> Result<Answer, PluginError> {
    Ok(match query {
        Query::Children(path) => Answer::Children(service.children(&path).map_err(stage_error)?),
        Query::Properties(path, max_bytes) => {
            Answer::Properties(service.properties(&path, max_bytes).map_err(stage_error)?)
        }
        Query::Variants(path) => Answer::Variants(service.variants(&path).map_err(stage_error)?),
        Query::Bounds(paths) => {
            let mut bounds = Bounds::EMPTY;
            for path in &paths {
                bounds = bounds.union(&service.bounds(path).map_err(stage_error)?);
            }
            Answer::Bounds(bounds)
        }
        Query::Existing(paths) => {
            let mut prims = service.existing(&paths).map_err(stage_error)?;
            prims.dedup();
            Answer::Existing(prims)
        }
        Query::Scenes => Answer::Scenes(root.list_scenes()),
    })
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
    let mesh_bounds: Vec<Bounds> = scene.meshes.iter().map(|m| local_bounds(&m.positions)).collect();
    placed_bounds(scene, &mesh_bounds, |_| true)
}

fn local_bounds(positions: &[[f32; 3]]) -> Bounds {
    let mut local = Bounds::EMPTY;
    for p in positions {
        local.include_point(p.map(f64::from));
    }
    local
}

/// World bounds of the mesh instances whose prim id `keep` accepts.
fn placed_bounds(scene: &StageScene, mesh_bounds: &[Bounds], keep: impl Fn(u32) -> bool) -> Bounds {
    let mut out = Bounds::EMPTY;
    for (mesh, local) in scene.meshes.iter().zip(mesh_bounds) {
        if local.is_empty() {
            continue;
        }
        for inst in mesh.instances.iter().filter(|i| keep(i.prim_id)) {
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

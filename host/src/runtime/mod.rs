//! The runtime: one object owning the renderer, camera controller, message router, input queue,
//! settings store, sinks and the inbound command queue, run by one render thread.

pub mod camera;
pub mod capture;
pub mod chain;
pub mod core;
pub mod deferred;
pub mod delivery;
pub mod hub;
pub mod inbound;
pub mod input;
pub mod ovstream_sink;
pub mod pacing;
pub mod render_loop;
pub mod router;
pub mod scale;
pub mod selection;
pub mod services;
pub mod settings;
pub mod sinks;
pub mod stage;
pub mod state;
pub mod stats;
pub mod timeline;
pub mod video_options;
pub mod viewers;
pub mod webrtc_sink;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use ovhost_plugin_api::PluginError;

use self::core::{ActiveRenderer, Core, CoreParts, StreamSize};
use self::hub::ClientHub;
use self::inbound::Inbound;
use self::render_loop::RenderLoop;
use self::router::Router;
use self::settings::SettingsStore;
use self::sinks::{Sink, WebSink};
use self::state::{RuntimeState, SharedStatus};
use crate::plugins::Registry;

/// Inbound items queued before I/O threads answer "busy".
pub const INBOUND_QUEUE_LEN: usize = 4096;

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub renderer: String,
    pub camera: String,
    pub settings_path: Option<PathBuf>,
    /// Treat a renderer that cannot be created as fatal instead of falling back to `testpattern`.
    pub strict: bool,
    /// Root for stage URLs; `None` runs without the stage service (benchmarks).
    pub asset_root: Option<PathBuf>,
    /// Stage to open at start, relative to the asset root.
    pub initial_stage: Option<String>,
    /// Dialect for clients that do not choose one (`""` default, `"kit"`).
    pub default_dialect: String,
    /// Converter options from the CLI (`fps` is overwritten with `fps` above).
    pub video: video_options::VideoOptions,
    /// `--continuous-frames`: render every frame interval, changed or not.
    pub continuous_frames: bool,
    /// The stage worker's open timeout and memory limit.
    pub stage_limits: stage::StageLimits,
    /// Control policy and stream size limits.
    pub viewers: viewers::ViewerConfig,
    /// Recordings: directory and caps.
    pub capture: capture::CaptureConfig,
    /// `--camera-policy`: how a newly opened stage is viewed.
    pub camera_policy: CameraPolicy,
    /// `--timeline-autoplay`: an animated stage starts playing when it opens.
    pub timeline_autoplay: bool,
}

/// `--camera-policy`: frame what is drawn, or look through the stage's authored camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CameraPolicy {
    #[default]
    Fit,
    StageCamera,
}

impl CameraPolicy {
    /// `stage-camera`, or `fit` for anything else (the CLI only lets those two through).
    pub fn parse(s: &str) -> Self {
        if s == "stage-camera" { Self::StageCamera } else { Self::Fit }
    }
}

/// What other threads hold to talk to the runtime.
#[derive(Clone)]
pub struct RuntimeHandle {
    inbound: Sender<Inbound>,
    pub hub: Arc<ClientHub>,
    pub status: Arc<SharedStatus>,
    /// Stills and recordings.
    pub capture: Arc<capture::Capture>,
    /// Monotonic clock origin shared with the render loop (input timestamps).
    pub clock: Instant,
}

impl RuntimeHandle {
    /// Enqueues work for the render thread without blocking; `false` if the queue is full.
    pub fn try_send(&self, item: Inbound) -> bool {
        match self.inbound.try_send(item) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    pub fn now_us(&self) -> u64 {
        self.clock.elapsed().as_micros() as u64
    }

    /// Items waiting in the inbound queue (`/metrics`).
    pub fn inbound_len(&self) -> usize {
        self.inbound.len()
    }

    /// Asks the render thread to stop (blocking send: shutdown must not be lost).
    pub fn shutdown(&self) {
        let _ = self.inbound.send(Inbound::Shutdown);
    }
}

/// A runtime that has not started: configuration, registry, queues and the stage service.
/// Plugin instances do not exist yet: they are created on the render thread by [`Runtime::start`]
/// (or on the caller's thread by [`Runtime::into_parts`], which then is the render thread).
pub struct Runtime {
    pub handle: RuntimeHandle,
    config: RuntimeConfig,
    registry: Arc<Registry>,
    settings: SettingsStore,
    stage: Option<stage::StageSlot>,
    sinks: Vec<Box<dyn Sink>>,
    inbound: Receiver<Inbound>,
}

impl Runtime {
    /// Prepares the runtime: settings, queues, the stage service (a worker process, not a
    /// plugin) and the initial load. Creates no plugin instance.
    pub fn build(config: &RuntimeConfig, registry: Arc<Registry>) -> Result<Self, PluginError> {
        let status = Arc::new(SharedStatus::default());
        let hub = Arc::new(ClientHub::default());
        let settings = match &config.settings_path {
            Some(path) => SettingsStore::open(path),
            None => SettingsStore::in_memory(),
        };
        if !registry.renderers.contains_key(&config.renderer) {
            let available = registry.renderers.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(PluginError::not_found(format!(
                "renderer '{}' is not registered; available renderers: {available}",
                config.renderer
            )));
        }
        if config.viewers.control == viewers::ControlPolicy::Token && config.viewers.control_token.is_none() {
            return Err(PluginError::invalid_input("--control token needs --control-token"));
        }
        let (tx, rx) = crossbeam_channel::bounded(INBOUND_QUEUE_LEN);
        hub.set_default_dialect(&config.default_dialect);
        let mut stage = match &config.asset_root {
            Some(root) => Some(stage::StageSlot::start(root.clone(), config.stage_limits, tx.clone())?),
            None => None,
        };
        if let (Some(url), Some(slot)) = (&config.initial_stage, &mut stage) {
            slot.open(url, inbound::LoadReason::Open)
                .map_err(|e| PluginError::new(e.kind, format!("--stage {url}: {}", e.message)))?;
            status.set_state(RuntimeState::Loading);
        }
        let capture =
            Arc::new(capture::Capture::new(config.capture.clone(), hub.clone()).map_err(PluginError::invalid_input)?);
        let sinks: Vec<Box<dyn Sink>> =
            vec![Box::new(WebSink::new(hub.clone())), Box::new(capture::RecordingSink::new(capture.clone()))];
        Ok(Self {
            handle: RuntimeHandle { inbound: tx, hub, status, capture, clock: Instant::now() },
            config: config.clone(),
            registry,
            settings,
            stage,
            sinks,
            inbound: rx,
        })
    }

    /// Adds a sink before start (ovstream transports).
    pub fn add_sink(&mut self, sink: Box<dyn Sink>) {
        self.sinks.push(sink);
    }

    /// Starts the render thread, which creates every plugin instance and then runs the loop.
    /// Start-up errors (a renderer or camera that cannot be created under `--strict-plugins`)
    /// come back here.
    pub fn start(self) -> Result<(RuntimeHandle, JoinHandle<()>), PluginError> {
        let handle = self.handle.clone();
        let clock = handle.clock;
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<(), PluginError>>(1);
        let thread = std::thread::Builder::new()
            .name("ovhost-render".into())
            .spawn(move || match self.into_parts() {
                Ok((handle, render_loop, inbound)) => {
                    if handle.status.state() == RuntimeState::Starting {
                        handle.status.set_state(RuntimeState::Idle);
                    }
                    let _ = ready_tx.send(Ok(()));
                    render_loop.run(inbound, clock);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| PluginError::internal(format!("cannot start the render thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok((handle, thread)),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(PluginError::internal("the render thread ended during start-up"))
            }
        }
    }

    /// Creates every plugin instance on the calling thread, which becomes the render thread, and
    /// returns the loop for driving frames by hand (tests, benchmarks) or running it.
    pub fn into_parts(self) -> Result<(RuntimeHandle, RenderLoop, Receiver<Inbound>), PluginError> {
        let Runtime { handle, config, registry, settings, stage, sinks, inbound } = self;
        let renderer = create_renderer(&registry, &config.renderer, &config, config.strict)?;
        let mut core = Core::new(CoreParts {
            registry: registry.clone(),
            renderer,
            default_camera: config.camera.clone(),
            settings,
            status: handle.status.clone(),
            hub: handle.hub.clone(),
            stream: StreamSize { width: config.width, height: config.height, fps: config.fps },
            stage,
            viewers: viewers::Viewers::new(config.viewers.clone()),
            timeline_autoplay: config.timeline_autoplay,
            camera_policy: config.camera_policy,
            video: video_options::VideoOptions { fps: config.fps, ..config.video },
        });
        core.start_camera()?;
        core.set_continuous("--continuous-frames", config.continuous_frames);
        let router = Router::new(&registry, |_| "{}".to_string());
        let mut plugins = registry.to_json();
        plugins["handlers"] = router.to_json();
        handle.status.set_plugins(plugins);
        let mut render_loop = RenderLoop::new(core, router, sinks);
        render_loop.capture = Some(handle.capture.clone());
        let per_converter = render_loop.core.settings().get(video_options::CONVERTER_SETTINGS_KEY).cloned();
        render_loop.out.set_video_options(render_loop.core.video_options(), per_converter);
        render_loop.publish_state();
        Ok((handle, render_loop, inbound))
    }
}

fn create_renderer(
    registry: &Registry,
    id: &str,
    config: &RuntimeConfig,
    strict: bool,
) -> Result<ActiveRenderer, PluginError> {
    let available = || registry.renderers.keys().cloned().collect::<Vec<_>>().join(", ");
    let registered = registry.renderers.get(id).ok_or_else(|| {
        PluginError::not_found(format!("renderer '{id}' is not registered; available renderers: {}", available()))
    })?;
    let attempt = |entry: &ovhost_plugin_api::RendererEntryRef| -> Result<ovhost_plugin_api::RendererBox, PluginError> {
        let mut instance = (entry.create())("{}".into()).into_result()?;
        instance.resize(config.width, config.height).into_result()?;
        Ok(instance)
    };
    match attempt(&registered.entry) {
        Ok(instance) => {
            tracing::info!(renderer = %id, plugin = %registered.plugin, "renderer created");
            Ok(ActiveRenderer::new(id, instance))
        }
        Err(e) if !strict && id != "testpattern" && registry.renderers.contains_key("testpattern") => {
            tracing::error!(renderer = %id, "renderer could not be created: {e}; falling back to 'testpattern'");
            let fallback = &registry.renderers["testpattern"];
            let instance = attempt(&fallback.entry)?;
            Ok(ActiveRenderer::new("testpattern", instance))
        }
        Err(e) => Err(PluginError::new(e.kind, format!("renderer '{id}' could not be created: {}", e.message))),
    }
}

const _: () = {
    const fn assert_send<T: Send>() {}
    // The unstarted runtime moves to the render thread; the loop may be driven from any one
    // thread (tests), never shared.
    assert_send::<Runtime>();
    assert_send::<RenderLoop>();
};

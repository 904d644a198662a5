//! The render-thread state that message handlers reach through host services, as a few
//! components that own their state:
//!
//! - the renderer ([`ActiveRenderer`]) and the plugin instances the host disabled;
//! - the camera ([`CameraRig`], `camera.rs`): controller, view, authored camera;
//! - the stage slot ([`StageSlot`], `stage.rs`): the service, the loaded stage, the awaited load;
//! - the selection ([`Selection`], `selection.rs`): selected prims and the pickable set;
//! - status and I/O handles shared with other threads ([`SharedStatus`], [`ClientHub`]), the
//!   settings store and the frame statistics;
//! - the viewers ([`Viewers`], `viewers.rs`): roles, per-client input gates and clicks;
//! - host events raised by services, delivered to handlers after the current call returns;
//! - render on demand ([`FramePacer`], `pacing.rs`): what changed since the last frame
//!   ([`Core::mark_dirty`]) and what holds frames at the stream rate ([`Core::set_continuous`]);
//! - the video options converters are configured with ([`VideoOptions`], `video_options.rs`).
//!
//! Only the render thread touches a `Core` (the render loop and the host services in
//! `services.rs`); its fields are private, each reached through the methods below.

use std::sync::Arc;

use abi_stable::std_types::RResult;
use ovhost_plugin_api::services::{self as svc, Event};
use ovhost_plugin_api::{CameraView, PluginError, RendererBox};
use serde_json::{Value, json};

use super::camera::CameraRig;
use super::hub::{ClientHub, ClientId};
use super::pacing::FramePacer;
use super::selection::Selection;
use super::settings::SettingsStore;
use super::stage::StageSlot;
use super::state::SharedStatus;
use super::stats::FrameStats;
use super::video_options::VideoOptions;
use super::viewers::Viewers;
use crate::plugins::Registry;

pub struct ActiveRenderer {
    pub id: String,
    pub instance: RendererBox,
    /// The scene sections the renderer says it reads (`None`: not said, e.g. a 0.2.0 renderer).
    pub sections: Option<Vec<String>>,
    /// The AOV last switched to (`None`: the renderer's default, its first AOV).
    pub aov: Option<String>,
}

impl ActiveRenderer {
    /// Wraps a created renderer, asking it once which scene sections it reads.
    pub fn new(id: &str, instance: RendererBox) -> Self {
        let sections = match instance.scene_sections().into_result() {
            Ok(sections) => sections.into_option().map(|s| s.iter().map(|x| x.to_string()).collect()),
            Err(e) => {
                tracing::debug!(renderer = %id, "scene_sections failed: {e}");
                None
            }
        };
        Self { id: id.to_string(), instance, sections, aov: None }
    }
}

/// The stream's size and frame rate (a driving viewer may change them: `setStreamSize`,
/// `setStreamQuality`).
#[derive(Debug, Clone, Copy)]
pub struct StreamSize {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl StreamSize {
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// What [`Core::new`] is built from.
pub struct CoreParts {
    pub registry: Arc<Registry>,
    pub renderer: ActiveRenderer,
    pub default_camera: String,
    pub settings: SettingsStore,
    pub status: Arc<SharedStatus>,
    pub hub: Arc<ClientHub>,
    pub stream: StreamSize,
    pub stage: Option<StageSlot>,
    pub viewers: Viewers,
    /// `--timeline-autoplay`.
    pub timeline_autoplay: bool,
    /// `--camera-policy`.
    pub camera_policy: super::CameraPolicy,
    /// Video options from the CLI (the settings value `video` is applied on top here).
    pub video: VideoOptions,
}

pub struct Core {
    registry: Arc<Registry>,
    renderer: ActiveRenderer,
    camera: CameraRig,
    settings: SettingsStore,
    status: Arc<SharedStatus>,
    hub: Arc<ClientHub>,
    stream: StreamSize,
    /// Plugin instances the host disabled, one entry per instance (never per frame).
    disabled: Vec<svc::PluginDisabledPayload>,
    /// The stage service and what is loaded; `None` when the service could not start.
    stage: Option<StageSlot>,
    selection: Selection,
    /// Roles, per-client viewport input gates and clicks, stream size limits.
    viewers: Viewers,
    /// Host events raised by services, delivered to handlers after the current call returns.
    pending_events: Vec<(ClientId, String, Value)>,
    stats: FrameStats,
    /// Something `/api/state` shows changed since it was last published.
    changed: bool,
    /// Stage time shared by every client (`timeline.*` services).
    timeline: super::timeline::Timeline,
    /// `--camera-policy`.
    camera_policy: super::CameraPolicy,
    /// Render on demand: what changed since the last frame.
    pacer: FramePacer,
    video: VideoOptions,
    /// The video options changed at run time; the converters are reconfigured next frame.
    video_changed: bool,
}

impl Core {
    pub fn new(parts: CoreParts) -> Self {
        let CoreParts {
            registry,
            renderer,
            default_camera,
            settings,
            status,
            hub,
            stream,
            stage,
            viewers,
            timeline_autoplay,
            camera_policy,
            video,
        } = parts;
        let video = match settings.get(super::video_options::VIDEO_SETTINGS_KEY) {
            Some(saved) => video.with_settings(saved).unwrap_or_else(|e| {
                tracing::error!("settings value 'video' ignored: {e}");
                video
            }),
            None => video,
        };
        Self {
            registry,
            renderer,
            camera: CameraRig::new(&default_camera),
            settings,
            status,
            hub,
            stream,
            disabled: Vec::new(),
            stage,
            selection: Selection::default(),
            viewers,
            pending_events: Vec::new(),
            stats: FrameStats::default(),
            changed: true,
            timeline: super::timeline::Timeline::new(timeline_autoplay),
            camera_policy,
            pacer: FramePacer::default(),
            video,
            video_changed: false,
        }
    }

    pub fn timeline(&self) -> &super::timeline::Timeline {
        &self.timeline
    }

    pub fn timeline_mut(&mut self) -> &mut super::timeline::Timeline {
        &mut self.timeline
    }

    pub fn camera_policy(&self) -> super::CameraPolicy {
        self.camera_policy
    }

    /// Render on demand's one entry point: something that affects the picture changed (a
    /// camera, the stage, the selection, a setting, a timeline step, a resize), so the next frame
    /// interval renders. See `pacing.rs`.
    pub fn mark_dirty(&mut self, reason: &'static str) {
        self.pacer.mark_dirty(reason);
    }

    /// Holds frames at the stream rate while `on` (a playing timeline, a recording).
    pub fn set_continuous(&mut self, reason: &'static str, on: bool) {
        self.pacer.set_continuous(reason, on);
    }

    pub fn pacer(&self) -> &FramePacer {
        &self.pacer
    }

    pub fn pacer_mut(&mut self) -> &mut FramePacer {
        &mut self.pacer
    }

    pub fn video_options(&self) -> VideoOptions {
        self.video
    }

    /// New video options (already validated); the converters are reconfigured next frame.
    pub fn set_video_options(&mut self, video: VideoOptions) {
        self.video = video;
        self.video_changed = true;
        self.changed = true;
        self.pacer.mark_dirty("video options");
    }

    /// Marks the converters' options out of date (per-converter settings changed).
    pub fn converter_options_changed(&mut self) {
        self.video_changed = true;
        self.pacer.mark_dirty("video options");
    }

    /// The video options, if they changed since the last call.
    pub fn take_video_change(&mut self) -> Option<VideoOptions> {
        std::mem::take(&mut self.video_changed).then_some(self.video)
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub fn hub(&self) -> &Arc<ClientHub> {
        &self.hub
    }

    pub fn status(&self) -> &Arc<SharedStatus> {
        &self.status
    }

    pub fn stream(&self) -> StreamSize {
        self.stream
    }

    pub fn settings(&self) -> &SettingsStore {
        &self.settings
    }

    pub fn settings_mut(&mut self) -> &mut SettingsStore {
        self.changed = true;
        &mut self.settings
    }

    pub fn stats(&self) -> &FrameStats {
        &self.stats
    }

    pub fn stats_mut(&mut self) -> &mut FrameStats {
        &mut self.stats
    }

    pub fn renderer(&self) -> &ActiveRenderer {
        &self.renderer
    }

    pub fn renderer_mut(&mut self) -> &mut ActiveRenderer {
        &mut self.renderer
    }

    /// The renderer and the frame statistics together (a frame borrows the renderer while its
    /// delivery is recorded).
    pub fn renderer_and_stats(&mut self) -> (&mut ActiveRenderer, &mut FrameStats) {
        (&mut self.renderer, &mut self.stats)
    }

    /// Puts a stand-in renderer in place of a disabled one.
    pub fn replace_renderer(&mut self, renderer: ActiveRenderer) {
        self.changed = true;
        self.renderer = renderer;
    }

    pub fn camera(&self) -> &CameraRig {
        &self.camera
    }

    pub fn camera_mut(&mut self) -> &mut CameraRig {
        &mut self.camera
    }

    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    pub fn selection_mut(&mut self) -> &mut Selection {
        self.changed = true;
        &mut self.selection
    }

    /// The stage slot when the service runs.
    pub fn stage(&self) -> Option<&StageSlot> {
        self.stage.as_ref()
    }

    /// The stage slot, or `unavailable` when the service could not start.
    pub fn stage_slot(&mut self) -> Result<&mut StageSlot, PluginError> {
        self.changed = true;
        self.stage
            .as_mut()
            .ok_or_else(|| PluginError::unavailable("the stage service is not running (see the start-up log)"))
    }

    /// The renderer and the stage together (streamed textures go from the loaded stage to the
    /// renderer).
    pub fn renderer_and_stage(&mut self) -> (&mut ActiveRenderer, Option<&mut StageSlot>) {
        (&mut self.renderer, self.stage.as_mut())
    }

    /// The stage and the selection together (a finished load resets both).
    pub fn stage_and_selection(&mut self) -> Option<(&mut StageSlot, &mut Selection)> {
        self.changed = true;
        self.stage.as_mut().map(|s| (s, &mut self.selection))
    }

    pub fn has_stage(&self) -> bool {
        self.stage.as_ref().is_some_and(|s| s.current().is_some())
    }

    pub fn is_loading(&self) -> bool {
        self.stage.as_ref().is_some_and(|s| s.is_loading())
    }

    pub fn disabled(&self) -> &[svc::PluginDisabledPayload] {
        &self.disabled
    }

    pub fn is_disabled(&self, kind: &str, id: &str) -> bool {
        self.disabled.iter().any(|d| d.kind == kind && d.id == id)
    }

    pub fn viewers(&self) -> &Viewers {
        &self.viewers
    }

    pub fn viewers_mut(&mut self) -> &mut Viewers {
        self.changed = true;
        &mut self.viewers
    }

    /// The hub and the viewers together (role decisions send through the hub).
    pub fn hub_and_viewers(&mut self) -> (&ClientHub, &mut Viewers) {
        self.changed = true;
        (&self.hub, &mut self.viewers)
    }

    /// Refuses a service that changes the session to a client whose role does not allow it.
    pub fn check_service(&mut self, client: ClientId, service: &str) -> Result<(), PluginError> {
        self.viewers.check_service(&self.hub, client, service)
    }

    /// Why the last service call was refused for the caller's role, once.
    pub fn take_denied(&mut self) -> Option<String> {
        self.viewers.denied.take()
    }

    /// Marks `/api/state` out of date (used for changes made outside the components' methods).
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// Whether `/api/state` is out of date, clearing the mark.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Creates the starting camera controller: the saved scheme if registered, else `--camera`.
    /// No registered camera at all leaves the view fixed.
    pub fn start_camera(&mut self) -> Result<(), PluginError> {
        let scheme = self
            .settings
            .get("camera_scheme")
            .and_then(|v| v.as_str())
            .filter(|s| self.registry.cameras.contains_key(*s))
            .map(str::to_string)
            .unwrap_or_else(|| self.camera.default_scheme().to_string());
        match self.camera.create(&self.registry, &scheme, self.stream.size()) {
            Ok(camera) => self.camera.install(Some(camera)),
            Err(e) if self.registry.cameras.is_empty() => {
                tracing::warn!("no camera controller plugin is registered ({e}); the view is fixed");
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Switches camera scheme at run time, keeping the view, and saves the choice.
    pub fn set_camera_scheme(&mut self, id: &str) -> Result<(), PluginError> {
        self.camera.switch(&self.registry, id, self.stream.size())?;
        let state = self.camera.state();
        self.raise_event::<svc::CameraChanged>(0, &state);
        if let Err(e) = self.settings.set("camera_scheme", Value::from(id)) {
            tracing::warn!("could not persist the camera scheme: {e}");
        }
        Ok(())
    }

    pub fn camera_state(&self) -> svc::CameraState {
        self.camera.state()
    }

    pub fn raise(&mut self, client: ClientId, event: &str, payload: Value) {
        self.changed = true;
        self.pending_events.push((client, event.to_string(), payload));
    }

    /// Raises a typed host event.
    pub fn raise_event<E: Event>(&mut self, client: ClientId, payload: &E::Payload) {
        let payload = serde_json::to_value(payload).unwrap_or(Value::Null);
        self.raise(client, E::NAME, payload);
    }

    /// The host events raised since the last call.
    pub fn take_events(&mut self) -> Vec<(ClientId, String, Value)> {
        std::mem::take(&mut self.pending_events)
    }

    /// Sets the canonical selection (already validated), outlines it, and raises `selectionChanged`.
    pub fn apply_selection(&mut self, prims: Vec<String>, source: &str) {
        let Some(slot) = &self.stage else { return };
        let ids: Vec<u32> = match slot.current() {
            Some(current) => prims.iter().flat_map(|p| current.ids_under(p)).collect(),
            None => Vec::new(),
        };
        if let RResult::RErr(e) = self.renderer.instance.set_selection(ids.as_slice().into()) {
            tracing::warn!("renderer could not outline the selection: {e}");
        }
        let changed = self.selection.replace(prims.clone());
        self.pacer.mark_dirty("selection");
        if changed || source == "request" {
            self.raise_event::<svc::SelectionChanged>(0, &svc::SelectionPayload { prims, source: source.into() });
        }
    }

    /// A message dispatch starts (questions to the stage worker may park it).
    pub fn begin_dispatch(&mut self) {
        if let Some(slot) = &mut self.stage {
            slot.begin_dispatch();
        }
    }

    /// The dispatch ended: the ticket of the stage answer it waits for, if it was parked.
    pub fn end_dispatch(&mut self) -> Option<u64> {
        self.stage.as_mut().and_then(StageSlot::end_dispatch)
    }

    /// Whether the dispatch in progress waits for a stage answer (nothing it does counts).
    pub fn is_parked(&self) -> bool {
        self.stage.as_ref().is_some_and(StageSlot::is_parked)
    }

    /// Frames `paths` with the active camera keeping the viewing direction (`"/"` frames the
    /// whole stage that way: the viewer's "Frame all" and `F` without a selection); an empty list
    /// resets the view to the default direction around the whole stage (`reset` commands).
    pub fn fit_to(&mut self, paths: &[String]) -> Result<svc::CameraState, PluginError> {
        let slot = self.stage_slot()?;
        let bounds = slot.bounds_of(paths)?;
        let up = slot.current().map(|c| c.info.up_axis).unwrap_or(ovhost_plugin_api::UpAxis::Y);
        self.camera.frame(&bounds, up, paths.is_empty())?;
        let state = self.camera.state();
        self.raise_event::<svc::CameraChanged>(0, &state);
        Ok(state)
    }

    /// Sets the view from a service call (already validated).
    pub fn set_view(&mut self, view: CameraView) -> Result<(), PluginError> {
        self.changed = true;
        self.pacer.mark_dirty("camera");
        self.camera.set_view(view)
    }

    /// Creates renderer `id` as a stand-in for a disabled one: sized like the stream and given
    /// the open stage. `None` (logged) when it cannot be created.
    pub fn fallback_renderer(&mut self, id: &str) -> Option<ActiveRenderer> {
        let registered = self.registry.renderers.get(id)?;
        let created = (registered.entry.create())("{}".into()).into_result().and_then(|mut instance| {
            instance.resize(self.stream.width, self.stream.height).into_result()?;
            if let Some(current) = self.stage.as_ref().and_then(|s| s.current()) {
                instance.open_stage(current.scene.as_scene()).into_result()?;
            }
            Ok(instance)
        });
        match created {
            Ok(instance) => Some(ActiveRenderer::new(id, instance)),
            Err(e) => {
                tracing::error!(renderer = %id, "the fallback renderer could not be created: {e}");
                None
            }
        }
    }

    /// A camera controller that panicked: disabled once; the default scheme takes over (keeping
    /// the view), or the view stays fixed when the default scheme is the one that failed.
    pub fn camera_failed(&mut self, id: &str, error: &PluginError) {
        crate::metrics::plugin_failure("camera", error.is_panic());
        let fallback_id = self.camera.failed(&self.registry, id, self.stream.size());
        let plugin = self.registry.cameras.get(id).map(|r| r.plugin.clone()).unwrap_or_default();
        self.disable("camera", id, &plugin, error.message.to_string(), fallback_id);
        let state = self.camera.state();
        self.raise_event::<svc::CameraChanged>(0, &state);
    }

    /// Records a disabled plugin instance once, tells every client once (`pluginDisabled`) and
    /// every handler (host event). Returns false when this instance was already recorded.
    pub fn disable(&mut self, kind: &str, id: &str, plugin: &str, reason: String, fallback: Option<String>) -> bool {
        if self.is_disabled(kind, id) {
            return false;
        }
        tracing::error!(%kind, %id, %plugin, ?fallback, "plugin instance disabled: {reason}");
        let payload =
            svc::PluginDisabledPayload { kind: kind.into(), id: id.into(), plugin: plugin.into(), reason, fallback };
        self.hub.broadcast_greeted(&crate::protocol::encode(svc::PluginDisabled::NAME, &json!(payload)));
        self.raise_event::<svc::PluginDisabled>(0, &payload);
        self.disabled.push(payload);
        true
    }

    /// The prim path under stream pixel (x, y) in the last frame, if any.
    pub fn pick_path(&mut self, x: f64, y: f64) -> Result<Option<String>, PluginError> {
        let StreamSize { width, height, .. } = self.stream;
        if x < 0.0 || y < 0.0 || x >= f64::from(width) || y >= f64::from(height) {
            return Err(PluginError::invalid_input(format!("({x}, {y}) is outside the {width}x{height} stream")));
        }
        let id = self.renderer.instance.pick(x as u32, y as u32).into_result()?;
        Ok(self.stage.as_ref().and_then(|s| s.current()).and_then(|c| c.path_of(id)).map(str::to_string))
    }

    /// A click at (x, y): selects the pickable prim under it, or clears on background. Its press
    /// and release were admitted while their client's viewport held its input.
    pub fn click(&mut self, x: f32, y: f32) {
        if !self.has_stage() {
            return;
        }
        let picked = match self.pick_path(f64::from(x), f64::from(y)) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!("pick failed: {e}");
                return;
            }
        };
        let selection = match picked {
            Some(path) if self.selection.is_pickable(&path) => vec![path],
            Some(_) => return, // not pickable: leave the selection alone
            None => Vec::new(),
        };
        self.apply_selection(selection, "viewport");
    }

    /// One client's viewport input gate; closing it cancels the camera gesture that client drove.
    pub fn set_input_active(&mut self, client: ClientId, active: bool) {
        if self.viewers.set_input_active(client, active) {
            self.camera.cancel();
        }
        self.changed = true;
    }

    /// Resizes the stream: the renderer and the camera's viewport; encoders follow the frame size
    /// (a new H.264 session starts with a keyframe).
    pub fn resize_stream(&mut self, width: u32, height: u32) -> Result<(), PluginError> {
        if (width, height) == self.stream.size() {
            return Ok(());
        }
        self.renderer.instance.resize(width, height).into_result()?;
        self.camera.resize((width, height))?;
        self.pacer.mark_dirty("resize");
        tracing::info!(width, height, "stream resized");
        self.stream.width = width;
        self.stream.height = height;
        self.changed = true;
        self.hub.request_keyframe();
        Ok(())
    }

    /// The frame rate the render loop paces to (`setStreamQuality`).
    pub fn set_fps(&mut self, fps: u32) {
        self.changed = true;
        self.stream.fps = fps.max(1);
    }
}

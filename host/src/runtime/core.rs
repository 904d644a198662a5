//! The render-thread state that message handlers can reach through host services: the active
//! renderer and camera, settings, status. Only the render thread touches it.

use std::sync::Arc;

use abi_stable::std_types::RResult;
use ovhost_plugin_api::services::{self as svc, Event};
use ovhost_plugin_api::{CameraBox, CameraView, PluginError, RendererBox, json::parse_object};
use serde_json::{Value, json};

use super::hub::{ClientHub, ClientId};
use super::settings::SettingsStore;
use super::stage::StageSlot;
use super::state::SharedStatus;
use super::stats::FrameStats;
use crate::plugins::Registry;

pub struct ActiveRenderer {
    pub id: String,
    pub instance: RendererBox,
    /// The scene sections the renderer says it reads (`None`: not said, e.g. a 0.2.0 renderer).
    pub sections: Option<Vec<String>>,
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
        Self { id: id.to_string(), instance, sections }
    }
}

pub struct ActiveCamera {
    pub id: String,
    pub instance: CameraBox,
}

pub struct Core {
    pub registry: Arc<Registry>,
    pub renderer: ActiveRenderer,
    pub camera: Option<ActiveCamera>,
    /// The scheme a failed camera falls back to (`--camera`).
    pub default_camera: String,
    /// The view used when no camera controller is available, and the last view produced.
    pub view: CameraView,
    pub settings: SettingsStore,
    pub status: Arc<SharedStatus>,
    pub hub: Arc<ClientHub>,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Plugin instances the host disabled, one entry per instance (never per frame).
    pub disabled: Vec<svc::PluginDisabledPayload>,
    /// The stage service and what is loaded; `None` when the service could not start.
    pub stage: Option<StageSlot>,
    /// Viewport input gate (`setViewportInputActive`); inactive drops pointer input and picks.
    pub input_active: bool,
    /// Host events raised by services, delivered to handlers after the current call returns.
    pub pending_events: Vec<(ClientId, String, Value)>,
    pub stats: FrameStats,
    /// The AOV last switched to (`None`: the renderer's default, its first AOV).
    pub active_aov: Option<String>,
    /// The authored camera whose view was last adopted, until the camera moves on its own terms.
    pub authored_camera: Option<String>,
    /// Stage time shared by every client (`timeline.*` services).
    pub timeline: super::timeline::Timeline,
    /// `--camera-policy`.
    pub camera_policy: super::CameraPolicy,
}

impl Core {
    /// Creates a camera controller instance and prepares it with the viewport and current view.
    pub fn create_camera(&self, id: &str) -> Result<ActiveCamera, PluginError> {
        let registered = self.registry.cameras.get(id).ok_or_else(|| {
            PluginError::not_found(format!(
                "camera scheme '{id}' is not registered; available: {}",
                self.registry.cameras.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let mut instance = (registered.entry.create())("{}".into()).into_result()?;
        instance.set_viewport(self.width, self.height).into_result()?;
        instance.set_view(&self.view).into_result()?;
        Ok(ActiveCamera { id: id.to_string(), instance })
    }

    /// Switches camera scheme at run time, keeping the view.
    pub fn set_camera_scheme(&mut self, id: &str) -> Result<(), PluginError> {
        if let Some(camera) = &mut self.camera
            && let RResult::ROk(view) = camera.instance.advance(0)
        {
            self.view = view;
        }
        let camera = self.create_camera(id)?;
        tracing::info!(scheme = %id, "camera scheme switched");
        self.camera = Some(camera);
        let state = self.camera_state();
        self.raise_event::<svc::CameraChanged>(0, &state);
        if let Err(e) = self.settings.set("camera_scheme", Value::from(id)) {
            tracing::warn!("could not persist the camera scheme: {e}");
        }
        Ok(())
    }

    /// The camera state: the controller's own JSON object (never trusted to be one: anything
    /// else is logged and left out), plus the scheme and the view.
    pub fn camera_state(&self) -> svc::CameraState {
        let controller = match self.camera.as_ref().map(|c| (c.id.as_str(), c.instance.state().into_result())) {
            Some((id, Ok(text))) => parse_object(&text, "the camera state").unwrap_or_else(|e| {
                tracing::warn!(camera = %id, "camera state ignored: {e}");
                Default::default()
            }),
            Some((id, Err(e))) => {
                tracing::debug!(camera = %id, "camera state unavailable: {e}");
                Default::default()
            }
            None => Default::default(),
        };
        let mut controller = controller;
        controller.remove("scheme");
        controller.remove("view");
        svc::CameraState {
            scheme: self.camera.as_ref().map(|c| c.id.clone()),
            view: svc::View::from(&self.view),
            controller,
        }
    }

    pub fn raise(&mut self, client: ClientId, event: &str, payload: Value) {
        self.pending_events.push((client, event.to_string(), payload));
    }

    /// Raises a typed host event.
    pub fn raise_event<E: Event>(&mut self, client: ClientId, payload: &E::Payload) {
        let payload = serde_json::to_value(payload).unwrap_or(Value::Null);
        self.raise(client, E::NAME, payload);
    }

    pub(super) fn stage_slot(&mut self) -> Result<&mut StageSlot, PluginError> {
        self.stage
            .as_mut()
            .ok_or_else(|| PluginError::unavailable("the stage service is not running (see the start-up log)"))
    }

    /// Sets the canonical selection (already validated), outlines it, and raises `selectionChanged`.
    pub fn apply_selection(&mut self, prims: Vec<String>, source: &str) {
        let Some(slot) = &mut self.stage else { return };
        let ids: Vec<u32> = match &slot.current {
            Some(current) => prims.iter().flat_map(|p| current.ids_under(p)).collect(),
            None => Vec::new(),
        };
        if let RResult::RErr(e) = self.renderer.instance.set_selection(ids.as_slice().into()) {
            tracing::warn!("renderer could not outline the selection: {e}");
        }
        let changed = slot.selection != prims;
        slot.selection = prims.clone();
        if changed || source == "request" {
            self.raise_event::<svc::SelectionChanged>(0, &svc::SelectionPayload { prims, source: source.into() });
        }
    }

    /// Frames `paths` (the whole stage when empty) with the active camera.
    pub fn fit_to(&mut self, paths: &[String]) -> Result<svc::CameraState, PluginError> {
        let slot = self.stage_slot()?;
        let bounds = slot.bounds_of(paths)?;
        let up = slot.current.as_ref().map(|c| c.info.up_axis).unwrap_or(ovhost_plugin_api::UpAxis::Y);
        if let Some(camera) = &mut self.camera {
            if paths.is_empty() {
                camera.instance.fit(&bounds, up).into_result()?;
            } else {
                camera.instance.focus(&bounds).into_result()?;
            }
            if let RResult::ROk(view) = camera.instance.advance(0) {
                self.view = view;
            }
        }
        let state = self.camera_state();
        self.raise_event::<svc::CameraChanged>(0, &state);
        Ok(state)
    }

    /// Creates renderer `id` as a stand-in for a disabled one: sized like the stream and given
    /// the open stage. `None` (logged) when it cannot be created.
    pub fn fallback_renderer(&mut self, id: &str) -> Option<ActiveRenderer> {
        let registered = self.registry.renderers.get(id)?;
        let created = (registered.entry.create())("{}".into()).into_result().and_then(|mut instance| {
            instance.resize(self.width, self.height).into_result()?;
            if let Some(current) = self.stage.as_ref().and_then(|s| s.current.as_ref()) {
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
        self.camera = None;
        let fallback = if id == self.default_camera {
            None
        } else {
            match self.create_camera(&self.default_camera.clone()) {
                Ok(camera) => Some(camera),
                Err(e) => {
                    tracing::error!(camera = %self.default_camera, "the default camera scheme could not be created: {e}");
                    None
                }
            }
        };
        let plugin = self.registry.cameras.get(id).map(|r| r.plugin.clone()).unwrap_or_default();
        let fallback_id = fallback.as_ref().map(|c| c.id.clone());
        self.disable("camera", id, &plugin, error.message.to_string(), fallback_id);
        self.camera = fallback;
        let state = self.camera_state();
        self.raise_event::<svc::CameraChanged>(0, &state);
    }

    /// Records a disabled plugin instance once, tells every client once (`pluginDisabled`) and
    /// every handler (host event). Returns false when this instance was already recorded.
    pub fn disable(&mut self, kind: &str, id: &str, plugin: &str, reason: String, fallback: Option<String>) -> bool {
        if self.disabled.iter().any(|d| d.kind == kind && d.id == id) {
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
}

pub fn view_from_patch(patch: &svc::ViewPatch, base: &CameraView) -> Result<CameraView, PluginError> {
    let view = CameraView {
        eye: patch.eye.unwrap_or(base.eye),
        target: patch.target.unwrap_or(base.target),
        up: patch.up.unwrap_or(base.up),
        fov_y_deg: patch.fov_y_deg.unwrap_or(base.fov_y_deg),
        near: patch.near.unwrap_or(base.near),
        far: patch.far.unwrap_or(base.far),
        ..*base
    };
    if !view.is_finite() {
        return Err(PluginError::invalid_input("camera view has non-finite values"));
    }
    Ok(view)
}

impl Core {
    /// The prim path under stream pixel (x, y) in the last frame, if any.
    pub fn pick_path(&mut self, x: f64, y: f64) -> Result<Option<String>, PluginError> {
        if x < 0.0 || y < 0.0 || x >= f64::from(self.width) || y >= f64::from(self.height) {
            return Err(PluginError::invalid_input(format!(
                "({x}, {y}) is outside the {}x{} stream",
                self.width, self.height
            )));
        }
        let id = self.renderer.instance.pick(x as u32, y as u32).into_result()?;
        Ok(self.stage.as_ref().and_then(|s| s.current.as_ref()).and_then(|c| c.path_of(id)).map(str::to_string))
    }

    /// A click at (x, y): selects the pickable prim under it, or clears on background.
    pub fn click(&mut self, x: f32, y: f32) {
        if !self.input_active || self.stage.as_ref().is_none_or(|s| s.current.is_none()) {
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
            Some(path) if self.stage.as_ref().is_some_and(|s| s.is_pickable(&path)) => vec![path],
            Some(_) => return, // not pickable: leave the selection alone
            None => Vec::new(),
        };
        self.apply_selection(selection, "viewport");
    }

    pub fn set_input_active(&mut self, active: bool) {
        if self.input_active
            && !active
            && let Some(camera) = &mut self.camera
        {
            let _ = camera.instance.cancel();
        }
        self.input_active = active;
    }
}

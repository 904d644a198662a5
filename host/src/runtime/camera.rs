//! The camera component: the active camera controller, the scheme a failed one falls back to,
//! the current view and the authored camera last adopted. Owned by [`super::core::Core`]; only the
//! render thread touches it, through the methods below (nothing outside reads its fields).

use abi_stable::std_types::RResult;
use ovhost_plugin_api::services as svc;
use ovhost_plugin_api::{Bounds, CameraBox, CameraView, InputEvent, PluginError, UpAxis, json::parse_object};

use crate::plugins::Registry;

/// A created camera controller and its scheme id.
pub struct ActiveCamera {
    id: String,
    instance: CameraBox,
}

pub struct CameraRig {
    controller: Option<ActiveCamera>,
    /// The scheme a failed camera falls back to (`--camera`).
    default_scheme: String,
    /// The view used when no camera controller is available, and the last view produced.
    view: CameraView,
    /// The authored camera whose view was last adopted (and follows the timeline when it is
    /// animated), until input moves the view: then the user has the camera.
    authored: Option<String>,
    /// The time code the authored camera's view was last posed at (NaN: not yet).
    authored_time: f64,
}

/// The failure of a camera call that panicked: the caller disables the scheme.
pub struct CameraPanic {
    pub id: String,
    pub error: PluginError,
}

impl CameraRig {
    pub fn new(default_scheme: &str) -> Self {
        Self {
            controller: None,
            default_scheme: default_scheme.to_string(),
            view: CameraView::default(),
            authored: None,
            authored_time: f64::NAN,
        }
    }

    /// Creates a controller for scheme `id`, prepared with the viewport and the current view.
    pub fn create(&self, registry: &Registry, id: &str, size: (u32, u32)) -> Result<ActiveCamera, PluginError> {
        let registered = registry.cameras.get(id).ok_or_else(|| {
            PluginError::not_found(format!(
                "camera scheme '{id}' is not registered; available: {}",
                registry.cameras.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let mut instance = (registered.entry.create())("{}".into()).into_result()?;
        instance.set_viewport(size.0, size.1).into_result()?;
        instance.set_view(&self.view).into_result()?;
        Ok(ActiveCamera { id: id.to_string(), instance })
    }

    /// Installs a created controller (or none: the view stays fixed).
    pub fn install(&mut self, camera: Option<ActiveCamera>) {
        self.controller = camera;
    }

    /// Switches scheme at run time, keeping the view.
    pub fn switch(&mut self, registry: &Registry, id: &str, size: (u32, u32)) -> Result<(), PluginError> {
        if let Some(camera) = &mut self.controller
            && let RResult::ROk(view) = camera.instance.advance(0)
        {
            self.view = view;
        }
        let camera = self.create(registry, id, size)?;
        tracing::info!(scheme = %id, "camera scheme switched");
        self.controller = Some(camera);
        Ok(())
    }

    pub fn scheme(&self) -> Option<&str> {
        self.controller.as_ref().map(|c| c.id.as_str())
    }

    pub fn default_scheme(&self) -> &str {
        &self.default_scheme
    }

    pub fn view(&self) -> CameraView {
        self.view
    }

    /// Sets the view (validated by the caller) on the host and the controller.
    pub fn set_view(&mut self, view: CameraView) -> Result<(), PluginError> {
        self.view = view;
        if let Some(camera) = &mut self.controller {
            camera.instance.set_view(&view).into_result()?;
        }
        Ok(())
    }

    pub fn authored(&self) -> Option<&str> {
        self.authored.as_deref()
    }

    /// Adopts an authored camera's view.
    pub fn adopt_authored(&mut self, path: &str, view: CameraView) -> Result<(), PluginError> {
        self.set_view(view)?;
        self.authored = Some(path.to_string());
        self.authored_time = f64::NAN;
        Ok(())
    }

    /// The adopted authored camera when the time code moved to `t` since its view was last posed
    /// (so other view changes, a fit say, are not undone while the timeline stands still).
    pub fn authored_to_pose(&mut self, t: f64) -> Option<String> {
        let path = self.authored.clone()?;
        if t.to_bits() == self.authored_time.to_bits() {
            return None;
        }
        self.authored_time = t;
        Some(path)
    }

    /// The camera state: the controller's own JSON object (never trusted to be one: anything
    /// else is logged and left out), plus the scheme and the view.
    pub fn state(&self) -> svc::CameraState {
        let controller = match self.controller.as_ref().map(|c| (c.id.as_str(), c.instance.state().into_result())) {
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
        svc::CameraState { scheme: self.scheme().map(str::to_string), view: svc::View::from(&self.view), controller }
    }

    /// Frames `bounds`: the whole stage (`fit`) or a part of it (`focus`).
    pub fn frame(&mut self, bounds: &Bounds, up: UpAxis, whole_stage: bool) -> Result<(), PluginError> {
        if let Some(camera) = &mut self.controller {
            if whole_stage {
                camera.instance.fit(bounds, up).into_result()?;
            } else {
                camera.instance.focus(bounds).into_result()?;
            }
            if let RResult::ROk(view) = camera.instance.advance(0) {
                self.view = view;
            }
        }
        Ok(())
    }

    /// The stream was resized: the controller's viewport follows.
    pub fn resize(&mut self, size: (u32, u32)) -> Result<(), PluginError> {
        if let Some(camera) = &mut self.controller {
            camera.instance.set_viewport(size.0, size.1).into_result()?;
        }
        Ok(())
    }

    /// A new stage: cancels any gesture, fits the stage unless `keep_view`, forgets the authored camera.
    pub fn stage_changed(&mut self, bounds: &Bounds, up: UpAxis, keep_view: bool) {
        self.authored = None;
        if let Some(camera) = &mut self.controller {
            let _ = camera.instance.cancel();
            if !keep_view && let RResult::RErr(e) = camera.instance.fit(bounds, up) {
                tracing::warn!("camera fit failed: {e}");
            }
            if let RResult::ROk(view) = camera.instance.advance(0) {
                self.view = view;
            }
        }
    }

    /// Cancels the controller's gesture in progress (input turned off).
    pub fn cancel(&mut self) {
        if let Some(camera) = &mut self.controller {
            let _ = camera.instance.cancel();
        }
    }

    /// Feeds the frame's input and advances by `dt_us`; a panic comes back for the caller to
    /// disable the scheme.
    pub fn advance(&mut self, events: &[InputEvent], dt_us: u64) -> Result<CameraView, CameraPanic> {
        let before = self.view;
        let result = self.advance_controller(events, dt_us);
        if !events.is_empty() && self.view != before {
            self.authored = None;
        }
        result
    }

    fn advance_controller(&mut self, events: &[InputEvent], dt_us: u64) -> Result<CameraView, CameraPanic> {
        if let Some(camera) = &mut self.controller {
            for event in events {
                if let RResult::RErr(e) = camera.instance.input(event) {
                    tracing::debug!(camera = %camera.id, "camera input failed: {e}");
                }
            }
            match camera.instance.advance(dt_us) {
                RResult::ROk(view) if view.is_finite() => self.view = view,
                RResult::ROk(_) => tracing::warn!(camera = %camera.id, "camera produced a non-finite view; ignored"),
                RResult::RErr(e) => {
                    tracing::warn!(camera = %camera.id, "camera advance failed: {e}");
                    if e.is_panic() {
                        return Err(CameraPanic { id: camera.id.clone(), error: e });
                    }
                }
            }
        }
        Ok(self.view)
    }

    /// A controller that panicked: dropped; the default scheme takes over (keeping the view), or
    /// the view stays fixed when the default scheme is the one that failed. Returns the fallback's id.
    pub fn failed(&mut self, registry: &Registry, id: &str, size: (u32, u32)) -> Option<String> {
        self.controller = None;
        if id == self.default_scheme {
            return None;
        }
        match self.create(registry, &self.default_scheme.clone(), size) {
            Ok(camera) => {
                let fallback = camera.id.clone();
                self.controller = Some(camera);
                Some(fallback)
            }
            Err(e) => {
                tracing::error!(camera = %self.default_scheme, "the default camera scheme could not be created: {e}");
                None
            }
        }
    }
}

/// A view patch applied over `base`, refused when anything is not finite.
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

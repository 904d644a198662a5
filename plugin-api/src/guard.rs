//! The plugin-side panic guard. Nothing may unwind across the boundary: every call into a boxed
//! plugin object runs inside [`guard`], which turns a panic into a `PluginError` of kind
//! `PANIC`. After a panic the object is poisoned and answers every later call with an error, so a
//! half-updated object is never used again.

use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};

use crate::kinds::*;
use crate::{Bounds, CameraView, ErrorKind, Frame, InputEvent, PluginError, SceneRef, UpAxis};

/// Runs `f`, converting a panic into `Err(PluginError { kind: PANIC, .. })`.
pub fn guard<T>(f: impl FnOnce() -> RResult<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => RResult::RErr(PluginError::new(ErrorKind::PANIC, panic_message(payload.as_ref()))),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_string());
    format!("plugin panicked: {text}")
}

/// Wraps a plugin object so every call is guarded and a panic poisons it.
pub struct Guarded<T> {
    inner: T,
    poisoned: bool,
}

impl<T> Guarded<T> {
    pub fn new(inner: T) -> Self {
        Self { inner, poisoned: false }
    }

    fn call<'s, R>(&'s mut self, f: impl FnOnce(&'s mut T) -> RResult<R, PluginError>) -> RResult<R, PluginError> {
        if self.poisoned {
            return RResult::RErr(poisoned_error());
        }
        let Self { inner, poisoned } = self;
        let result = guard(|| f(inner));
        if matches!(&result, RResult::RErr(e) if e.is_panic()) {
            *poisoned = true;
        }
        result
    }

    fn call_ref<R>(&self, f: impl FnOnce(&T) -> RResult<R, PluginError>) -> RResult<R, PluginError> {
        if self.poisoned {
            return RResult::RErr(poisoned_error());
        }
        guard(|| f(&self.inner))
    }
}

fn poisoned_error() -> PluginError {
    PluginError::new(ErrorKind::PANIC, "plugin object disabled after an earlier panic")
}

impl<T: RendererBackend> RendererBackend for Guarded<T> {
    fn resize(&mut self, width: u32, height: u32) -> RResult<(), PluginError> {
        self.call(|t| t.resize(width, height))
    }
    fn open_stage(&mut self, scene: SceneRef<'_>) -> RResult<(), PluginError> {
        self.call(|t| t.open_stage(scene))
    }
    fn close_stage(&mut self) -> RResult<(), PluginError> {
        self.call(|t| t.close_stage())
    }
    fn render(&mut self, request: RenderRequestRef) -> RResult<Frame<'_>, PluginError> {
        self.call(|t| t.render(request))
    }
    fn pick(&mut self, x: u32, y: u32) -> RResult<u32, PluginError> {
        self.call(|t| t.pick(x, y))
    }
    fn set_selection(&mut self, prim_ids: RSlice<'_, u32>) -> RResult<(), PluginError> {
        self.call(|t| t.set_selection(prim_ids))
    }
    fn render_settings(&self) -> RResult<RString, PluginError> {
        self.call_ref(|t| t.render_settings())
    }
    fn set_render_setting(&mut self, key: RStr<'_>, value_json: RStr<'_>) -> RResult<RString, PluginError> {
        self.call(|t| t.set_render_setting(key, value_json))
    }
    fn aovs(&self) -> RResult<RVec<RString>, PluginError> {
        self.call_ref(|t| t.aovs())
    }
    fn set_aov(&mut self, name: RStr<'_>) -> RResult<(), PluginError> {
        self.call(|t| t.set_aov(name))
    }
    fn scene_sections(&self) -> RResult<ROption<RVec<RString>>, PluginError> {
        self.call_ref(|t| t.scene_sections())
    }
    fn output_formats(&self) -> RResult<RVec<crate::FrameSpec>, PluginError> {
        self.call_ref(|t| t.output_formats())
    }
    fn set_output_format(&mut self, spec: crate::FrameSpec) -> RResult<(), PluginError> {
        self.call(|t| t.set_output_format(spec))
    }
    fn update_textures(&mut self, scene: SceneRef<'_>, indices: RSlice<'_, u32>) -> RResult<bool, PluginError> {
        self.call(|t| t.update_textures(scene, indices))
    }
}

impl<T: FrameConverter> FrameConverter for Guarded<T> {
    fn configure(&mut self, options_json: RStr<'_>) -> RResult<(), PluginError> {
        self.call(|t| t.configure(options_json))
    }
    fn request_keyframe(&mut self) -> RResult<(), PluginError> {
        self.call(|t| t.request_keyframe())
    }
    fn convert(&mut self, input: &Frame<'_>) -> RResult<Frame<'_>, PluginError> {
        self.call(|t| t.convert(input))
    }
}

impl<T: CameraController> CameraController for Guarded<T> {
    fn set_viewport(&mut self, width: u32, height: u32) -> RResult<(), PluginError> {
        self.call(|t| t.set_viewport(width, height))
    }
    fn input(&mut self, event: &InputEvent) -> RResult<bool, PluginError> {
        self.call(|t| t.input(event))
    }
    fn advance(&mut self, dt_us: u64) -> RResult<CameraView, PluginError> {
        self.call(|t| t.advance(dt_us))
    }
    fn set_view(&mut self, view: &CameraView) -> RResult<(), PluginError> {
        self.call(|t| t.set_view(view))
    }
    fn fit(&mut self, bounds: &Bounds, up: UpAxis) -> RResult<(), PluginError> {
        self.call(|t| t.fit(bounds, up))
    }
    fn focus(&mut self, bounds: &Bounds) -> RResult<(), PluginError> {
        self.call(|t| t.focus(bounds))
    }
    fn cancel(&mut self) -> RResult<(), PluginError> {
        self.call(|t| t.cancel())
    }
    fn state(&self) -> RResult<RString, PluginError> {
        self.call_ref(|t| t.state())
    }
}

impl<T: MessageHandler> MessageHandler for Guarded<T> {
    fn handle(
        &mut self,
        ctx: HostContextMut<'_>,
        event_type: RStr<'_>,
        payload_json: RStr<'_>,
    ) -> RResult<(), PluginError> {
        self.call(|t| t.handle(ctx, event_type, payload_json))
    }
    fn on_host_event(
        &mut self,
        ctx: HostContextMut<'_>,
        event: RStr<'_>,
        payload_json: RStr<'_>,
    ) -> RResult<(), PluginError> {
        self.call(|t| t.on_host_event(ctx, event, payload_json))
    }
}

/// Boxes a renderer behind the guard.
pub fn renderer_box<T: RendererBackend + 'static>(renderer: T) -> RendererBox {
    RendererBackend_TO::from_value(Guarded::new(renderer), TD_Opaque)
}

/// Boxes a converter behind the guard.
pub fn converter_box<T: FrameConverter + 'static>(converter: T) -> ConverterBox {
    FrameConverter_TO::from_value(Guarded::new(converter), TD_Opaque)
}

/// Boxes a camera controller behind the guard.
pub fn camera_box<T: CameraController + 'static>(camera: T) -> CameraBox {
    CameraController_TO::from_value(Guarded::new(camera), TD_Opaque)
}

/// Boxes a message handler behind the guard.
pub fn handler_box<T: MessageHandler + 'static>(handler: T) -> HandlerBox {
    MessageHandler_TO::from_value(Guarded::new(handler), TD_Opaque)
}

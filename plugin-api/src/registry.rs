//! Registration: what a plugin library tells the host it provides.
//!
//! A library's `register` entry receives a [`Registry`] and adds any number of objects of any
//! kind, each under an id (`raster`, `orbit`, `rgba-to-bgra`...). Ids are unique per kind across
//! all loaded plugins; a duplicate is a load error naming both sources.

use abi_stable::{
    StableAbi, sabi_trait,
    sabi_trait::TD_Opaque,
    sabi_types::RMut,
    std_types::{RResult, RStr, RString, RVec},
};

use crate::guard::{camera_box, converter_box, guard, handler_box, renderer_box};
use crate::kinds::*;
use crate::{FrameSpec, PluginError};

/// Constructs a plugin object from its JSON config (`"{}"` when none was given).
pub trait FromConfig: Sized {
    fn from_config(config_json: &str) -> Result<Self, PluginError>;
}

impl<T: Default> FromConfig for T {
    fn from_config(_config_json: &str) -> Result<Self, PluginError> {
        Ok(T::default())
    }
}

#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct RendererEntry {
    pub id: RString,
    pub description: RString,
    pub create: extern "C" fn(RStr<'_>) -> RResult<RendererBox, PluginError>,
}

#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct ConverterEntry {
    pub id: RString,
    pub description: RString,
    pub input: FrameSpec,
    pub output: FrameSpec,
    /// Relative cost used to choose between chains of equal length (lower is preferred).
    pub cost: u32,
    pub create: extern "C" fn(RStr<'_>) -> RResult<ConverterBox, PluginError>,
}

#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct CameraEntry {
    pub id: RString,
    pub description: RString,
    pub create: extern "C" fn(RStr<'_>) -> RResult<CameraBox, PluginError>,
}

/// A documented example exchange; the test-support replay runs every one against a live host.
///
/// `request` is an app envelope `{event_type, payload}` as JSON text. Each entry of `responses`
/// is an envelope the host must send back, in order; it matches when every key it names is present
/// in the actual message with an equal value (objects compare recursively, so extra keys in the
/// actual message are allowed).
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct HandlerExample {
    pub request: RString,
    pub responses: RVec<RString>,
}

impl HandlerExample {
    pub fn new(request: &str, responses: &[&str]) -> Self {
        Self { request: request.into(), responses: responses.iter().map(|r| RString::from(*r)).collect() }
    }
}

#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct HandlerEntry {
    pub id: RString,
    pub description: RString,
    /// The `event_type`s this handler answers. A type claimed by two handlers is a load error.
    pub event_types: RVec<RString>,
    pub examples: RVec<HandlerExample>,
    pub create: extern "C" fn(RStr<'_>) -> RResult<HandlerBox, PluginError>,
}

/// Implemented by the host; plugins reach it through [`Registry`].
#[sabi_trait]
pub trait Registrar {
    fn add_renderer(&mut self, entry: RendererEntry);
    fn add_converter(&mut self, entry: ConverterEntry);
    fn add_camera(&mut self, entry: CameraEntry);
    #[sabi(last_prefix_field)]
    fn add_handler(&mut self, entry: HandlerEntry);
}

pub type RegistrarMut<'a> = Registrar_TO<'a, RMut<'a, ()>>;

/// Wraps a host-side registrar value so it can be handed to a plugin's `register` function.
pub fn registrar_mut<R: Registrar>(registrar: &mut R) -> RegistrarMut<'_> {
    Registrar_TO::from_ptr(registrar, TD_Opaque)
}

extern "C" fn create_renderer<T: RendererBackend + FromConfig + 'static>(
    config: RStr<'_>,
) -> RResult<RendererBox, PluginError> {
    guard(|| T::from_config(config.as_str()).map(renderer_box).into())
}

extern "C" fn create_converter<T: FrameConverter + FromConfig + 'static>(
    config: RStr<'_>,
) -> RResult<ConverterBox, PluginError> {
    guard(|| T::from_config(config.as_str()).map(converter_box).into())
}

extern "C" fn create_camera<T: CameraController + FromConfig + 'static>(
    config: RStr<'_>,
) -> RResult<CameraBox, PluginError> {
    guard(|| T::from_config(config.as_str()).map(camera_box).into())
}

extern "C" fn create_json_handler<T: crate::JsonHandler + FromConfig + 'static>(
    config: RStr<'_>,
) -> RResult<HandlerBox, PluginError> {
    guard(|| T::from_config(config.as_str()).map(|t| handler_box(crate::Json(t))).into())
}

extern "C" fn create_handler<T: MessageHandler + FromConfig + 'static>(
    config: RStr<'_>,
) -> RResult<HandlerBox, PluginError> {
    guard(|| T::from_config(config.as_str()).map(handler_box).into())
}

/// The plugin author's view of registration.
pub struct Registry<'a> {
    inner: RegistrarMut<'a>,
}

impl<'a> Registry<'a> {
    pub fn new(inner: RegistrarMut<'a>) -> Self {
        Self { inner }
    }

    /// Registers renderer type `T` under `id`.
    pub fn renderer<T: RendererBackend + FromConfig + 'static>(&mut self, id: &str, description: &str) -> &mut Self {
        self.inner.add_renderer(RendererEntry {
            id: id.into(),
            description: description.into(),
            create: create_renderer::<T>,
        });
        self
    }

    /// Registers converter type `T` under `id`, converting `input` into `output`.
    pub fn converter<T: FrameConverter + FromConfig + 'static>(
        &mut self,
        id: &str,
        description: &str,
        input: FrameSpec,
        output: FrameSpec,
        cost: u32,
    ) -> &mut Self {
        self.inner.add_converter(ConverterEntry {
            id: id.into(),
            description: description.into(),
            input,
            output,
            cost,
            create: create_converter::<T>,
        });
        self
    }

    /// Registers camera controller type `T` under `id` (the camera scheme name).
    pub fn camera<T: CameraController + FromConfig + 'static>(&mut self, id: &str, description: &str) -> &mut Self {
        self.inner.add_camera(CameraEntry {
            id: id.into(),
            description: description.into(),
            create: create_camera::<T>,
        });
        self
    }

    /// Registers a [`crate::JsonHandler`] (payloads arrive parsed) under `id` for `event_types`.
    pub fn json_handler<T: crate::JsonHandler + FromConfig + 'static>(
        &mut self,
        id: &str,
        description: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
    ) -> &mut Self {
        self.add_handler_entry(id, description, event_types, examples, create_json_handler::<T>)
    }

    fn add_handler_entry(
        &mut self,
        id: &str,
        description: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
        create: extern "C" fn(RStr<'_>) -> RResult<HandlerBox, PluginError>,
    ) -> &mut Self {
        self.inner.add_handler(HandlerEntry {
            id: id.into(),
            description: description.into(),
            event_types: event_types.iter().map(|e| RString::from(*e)).collect(),
            examples: examples.into_iter().collect(),
            create,
        });
        self
    }

    /// Registers message handler type `T` under `id` for `event_types`, with its examples.
    pub fn handler<T: MessageHandler + FromConfig + 'static>(
        &mut self,
        id: &str,
        description: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
    ) -> &mut Self {
        self.add_handler_entry(id, description, event_types, examples, create_handler::<T>)
    }
}

//! Registration: what a plugin library tells the host it provides.
//!
//! A library's `register` entry receives a [`Registry`] and adds any number of objects of any
//! kind, each under an id (`raster`, `orbit`, `rgba-to-bgra`...). Ids are unique per kind across
//! all loaded plugins; a duplicate is a load error naming both sources.

use abi_stable::{
    StableAbi,
    prefix_type::PrefixTypeTrait,
    sabi_trait,
    sabi_trait::TD_Opaque,
    sabi_types::RMut,
    std_types::{RResult, RSlice, RStr},
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

/// Leaks `text` for the life of the process (registration happens once per library; libraries
/// are never unloaded).
fn leak(text: &str) -> RStr<'static> {
    RStr::from_str(Box::leak(text.to_owned().into_boxed_str()))
}

fn leak_list<T>(items: Vec<T>) -> RSlice<'static, T> {
    RSlice::from_slice(Box::leak(items.into_boxed_slice()))
}

/// A renderer's registration. Prefix type: fields are appended in 0.2.x and read as `None` from
/// an older plugin.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = RendererEntryRef)))]
#[sabi(missing_field(option))]
pub struct RendererEntry {
    pub id: RStr<'static>,
    pub description: RStr<'static>,
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(RStr<'_>) -> RResult<RendererBox, PluginError>,
}

/// A converter's registration (prefix type, see [`RendererEntry`]).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = ConverterEntryRef)))]
#[sabi(missing_field(option))]
pub struct ConverterEntry {
    pub id: RStr<'static>,
    pub description: RStr<'static>,
    pub input: FrameSpec,
    pub output: FrameSpec,
    /// Relative cost used to choose between chains of equal length (lower is preferred).
    pub cost: u32,
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(RStr<'_>) -> RResult<ConverterBox, PluginError>,
}

/// A camera scheme's registration (prefix type, see [`RendererEntry`]).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = CameraEntryRef)))]
#[sabi(missing_field(option))]
pub struct CameraEntry {
    pub id: RStr<'static>,
    pub description: RStr<'static>,
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(RStr<'_>) -> RResult<CameraBox, PluginError>,
}

/// A documented example exchange; the test-support replay runs every one against a live host.
///
/// `request` is an app envelope `{event_type, payload}` as JSON text. Each entry of `responses`
/// is an envelope the host must send back, in order; it matches when every key it names is present
/// in the actual message with an equal value (objects compare recursively, so extra keys in the
/// actual message are allowed).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct HandlerExample {
    pub request: RStr<'static>,
    pub responses: RSlice<'static, RStr<'static>>,
}

impl HandlerExample {
    pub fn new(request: &str, responses: &[&str]) -> Self {
        Self { request: leak(request), responses: leak_list(responses.iter().map(|r| leak(r)).collect()) }
    }
}

/// A message handler's registration (prefix type, see [`RendererEntry`]).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HandlerEntryRef)))]
#[sabi(missing_field(option))]
pub struct HandlerEntry {
    pub id: RStr<'static>,
    pub description: RStr<'static>,
    /// The message dialect this handler serves: `""` for the default (NVIDIA realtime-viewer)
    /// dialect, `"kit"` for the Kit USD Viewer's. Ids are free-form.
    pub dialect: RStr<'static>,
    /// The `event_type`s this handler answers. A type claimed twice in one dialect is a load error.
    pub event_types: RSlice<'static, RStr<'static>>,
    pub examples: RSlice<'static, HandlerExample>,
    #[sabi(last_prefix_field)]
    pub create: extern "C" fn(RStr<'_>) -> RResult<HandlerBox, PluginError>,
}

/// Implemented by the host; plugins reach it through [`Registry`].
#[sabi_trait]
pub trait Registrar {
    fn add_renderer(&mut self, entry: RendererEntryRef);
    fn add_converter(&mut self, entry: ConverterEntryRef);
    fn add_camera(&mut self, entry: CameraEntryRef);
    #[sabi(last_prefix_field)]
    fn add_handler(&mut self, entry: HandlerEntryRef);
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
        self.inner.add_renderer(
            RendererEntry { id: leak(id), description: leak(description), create: create_renderer::<T> }
                .leak_into_prefix(),
        );
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
        self.inner.add_converter(
            ConverterEntry {
                id: leak(id),
                description: leak(description),
                input,
                output,
                cost,
                create: create_converter::<T>,
            }
            .leak_into_prefix(),
        );
        self
    }

    /// Registers camera controller type `T` under `id` (the camera scheme name).
    pub fn camera<T: CameraController + FromConfig + 'static>(&mut self, id: &str, description: &str) -> &mut Self {
        self.inner.add_camera(
            CameraEntry { id: leak(id), description: leak(description), create: create_camera::<T> }.leak_into_prefix(),
        );
        self
    }

    /// Registers a [`crate::JsonHandler`] (payloads arrive parsed) under `id` for `event_types`
    /// of the default dialect.
    pub fn json_handler<T: crate::JsonHandler + FromConfig + 'static>(
        &mut self,
        id: &str,
        description: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
    ) -> &mut Self {
        self.add_handler_entry(id, description, "", event_types, examples, create_json_handler::<T>)
    }

    /// Registers a [`crate::JsonHandler`] serving `dialect` (e.g. `"kit"`).
    pub fn json_handler_in<T: crate::JsonHandler + FromConfig + 'static>(
        &mut self,
        dialect: &str,
        id: &str,
        description: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
    ) -> &mut Self {
        self.add_handler_entry(id, description, dialect, event_types, examples, create_json_handler::<T>)
    }

    fn add_handler_entry(
        &mut self,
        id: &str,
        description: &str,
        dialect: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
        create: extern "C" fn(RStr<'_>) -> RResult<HandlerBox, PluginError>,
    ) -> &mut Self {
        self.inner.add_handler(
            HandlerEntry {
                id: leak(id),
                description: leak(description),
                dialect: leak(dialect),
                event_types: leak_list(event_types.iter().map(|e| leak(e)).collect()),
                examples: leak_list(examples),
                create,
            }
            .leak_into_prefix(),
        );
        self
    }

    /// Registers message handler type `T` under `id` for `event_types` of the default dialect.
    pub fn handler<T: MessageHandler + FromConfig + 'static>(
        &mut self,
        id: &str,
        description: &str,
        event_types: &[&str],
        examples: Vec<HandlerExample>,
    ) -> &mut Self {
        self.add_handler_entry(id, description, "", event_types, examples, create_handler::<T>)
    }
}

/// Every entry a plugin's `register` function adds, recorded outside the host: for plugin tests,
/// benchmarks and tools that create objects through the same factories (and panic guard) the
/// host uses.
#[derive(Default)]
pub struct Recorded {
    pub renderers: Vec<RendererEntryRef>,
    pub converters: Vec<ConverterEntryRef>,
    pub cameras: Vec<CameraEntryRef>,
    pub handlers: Vec<HandlerEntryRef>,
}

impl Registrar for Recorded {
    fn add_renderer(&mut self, entry: RendererEntryRef) {
        self.renderers.push(entry);
    }
    fn add_converter(&mut self, entry: ConverterEntryRef) {
        self.converters.push(entry);
    }
    fn add_camera(&mut self, entry: CameraEntryRef) {
        self.cameras.push(entry);
    }
    fn add_handler(&mut self, entry: HandlerEntryRef) {
        self.handlers.push(entry);
    }
}

impl Recorded {
    /// Runs `register` against a recorder.
    pub fn of(register: fn(&mut Registry<'_>) -> Result<(), PluginError>) -> Result<Self, PluginError> {
        let mut recorded = Recorded::default();
        register(&mut Registry::new(registrar_mut(&mut recorded)))?;
        Ok(recorded)
    }

    /// Creates the converter registered under `id` with `config_json`.
    pub fn converter(&self, id: &str, config_json: &str) -> Result<ConverterBox, PluginError> {
        let entry = self
            .converters
            .iter()
            .find(|e| e.id().as_str() == id)
            .ok_or_else(|| PluginError::not_found(format!("no converter registered under id {id:?}")))?;
        (entry.create())(config_json.into()).into_result()
    }

    /// Creates the renderer registered under `id` with `config_json`.
    pub fn renderer(&self, id: &str, config_json: &str) -> Result<RendererBox, PluginError> {
        let entry = self
            .renderers
            .iter()
            .find(|e| e.id().as_str() == id)
            .ok_or_else(|| PluginError::not_found(format!("no renderer registered under id {id:?}")))?;
        (entry.create())(config_json.into()).into_result()
    }

    /// Creates the camera controller registered under `id` with `config_json`.
    pub fn camera(&self, id: &str, config_json: &str) -> Result<CameraBox, PluginError> {
        let entry = self
            .cameras
            .iter()
            .find(|e| e.id().as_str() == id)
            .ok_or_else(|| PluginError::not_found(format!("no camera registered under id {id:?}")))?;
        (entry.create())(config_json.into()).into_result()
    }
}

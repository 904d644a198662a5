//! Choosing a wgpu adapter and opening a device on it.
//!
//! Adapters are ranked discrete GPU > integrated GPU > other > virtual GPU > CPU (software), then
//! Vulkan > GL > anything else. The config (or `OVHOST_WGPU_ADAPTER`) can require a name
//! substring. The choice is logged once with `tracing::info!`.

use std::sync::{Arc, Mutex};

use ovhost_plugin_api::PluginError;

use crate::config::RasterConfig;

/// What to install when no adapter shows up (Debian package names).
const INSTALL_HINT: &str = "install a GPU driver, or the software renderers: \
    `apt-get install libvulkan1 mesa-vulkan-drivers` (Vulkan lavapipe) or \
    `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri` (GL llvmpipe)";

/// An open device plus what we know about the adapter behind it.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    /// The first uncaptured wgpu error since the last [`Gpu::take_error`], if any.
    errors: Arc<Mutex<Option<String>>>,
    /// Timestamp queries were asked for (`OVHOST_RASTER_GPU_TIMES`) and the adapter has them.
    pub timestamps: bool,
}

impl Gpu {
    /// Picks an adapter per `config` and opens a device on it.
    pub fn open(config: &RasterConfig) -> Result<Self, PluginError> {
        // One device opening at a time per process: concurrent instance/device creation was seen
        // to hang on NVIDIA's Vulkan driver (580) when many renderers start at once.
        static OPENING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = OPENING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = config.backend.backends();
        desc.flags = wgpu::InstanceFlags::from_build_config().with_env();
        let instance = wgpu::Instance::new(desc);
        let adapters = enumerate(&instance, config.backend.backends());
        let adapter = choose(adapters, config)?;
        let info = adapter.get_info();
        tracing::info!(
            adapter = %info.name,
            backend = ?info.backend,
            device_type = ?info.device_type,
            driver = %info.driver,
            "raster renderer chose its GPU adapter"
        );
        let timestamps = crate::gpu_times::wanted() && adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let device_desc = wgpu::DeviceDescriptor {
            label: Some("ovhost raster"),
            required_features: if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() },
            // The adapter's own limits: large scenes need big buffers, and asking for exactly
            // what the adapter reports always succeeds.
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&device_desc)).map_err(|e| {
            PluginError::unavailable(format!(
                "could not open a device on GPU adapter \"{}\" ({:?}): {e}",
                info.name, info.backend
            ))
        })?;
        let errors = Arc::new(Mutex::new(None::<String>));
        let sink = Arc::clone(&errors);
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            tracing::error!(error = %e, "wgpu error in the raster renderer");
            if let Ok(mut slot) = sink.lock() {
                slot.get_or_insert_with(|| e.to_string());
            }
        }));
        let lost = Arc::clone(&errors);
        device.set_device_lost_callback(move |reason, message| {
            tracing::warn!(?reason, %message, "raster renderer lost its GPU device");
            if let Ok(mut slot) = lost.lock() {
                slot.get_or_insert_with(|| format!("the GPU device was lost ({reason:?}): {message}"));
            }
        });
        Ok(Self { device, queue, info, errors, timestamps })
    }

    /// The first wgpu error reported since the last call, as a plugin error.
    pub fn take_error(&self) -> Result<(), PluginError> {
        let taken = self.errors.lock().ok().and_then(|mut slot| slot.take());
        match taken {
            Some(message) => Err(PluginError::internal(format!("GPU error in the raster renderer: {message}"))),
            None => Ok(()),
        }
    }

    /// A one-line description: `name (backend, device type)`.
    pub fn describe(&self) -> String {
        describe(&self.info)
    }
}

pub fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}

/// Lists the adapters of `backends`. GL is only probed when the other backends found no hardware
/// GPU: probing EGL is slow and noisy on headless machines, and a hardware GPU on Vulkan is
/// what the ranking prefers anyway.
fn enumerate(instance: &wgpu::Instance, backends: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let first = backends - wgpu::Backends::GL;
    let mut adapters =
        if first.is_empty() { Vec::new() } else { pollster::block_on(instance.enumerate_adapters(first)) };
    let has_hardware = adapters
        .iter()
        .any(|a| matches!(a.get_info().device_type, wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu));
    if backends.contains(wgpu::Backends::GL) && !has_hardware {
        // The EGL probe can panic inside khronos-egl (seen on the GPU machine at 56-64 host
        // processes, after Vulkan had offered no adapter): no GL adapters then, and the
        // renderer reports that no adapter was found instead of unwinding out of `open`.
        let probe =
            std::panic::AssertUnwindSafe(|| pollster::block_on(instance.enumerate_adapters(wgpu::Backends::GL)));
        match std::panic::catch_unwind(probe) {
            Ok(gl) => adapters.extend(gl),
            Err(panic) => tracing::warn!(
                panic = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default(),
                "the OpenGL (EGL) adapter probe failed; no GL adapters"
            ),
        }
    }
    adapters
}

/// Lower is better.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::Other => 2,
        wgpu::DeviceType::VirtualGpu => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan => 0,
        wgpu::Backend::Gl => 1,
        _ => 2,
    };
    (device, backend)
}

fn choose(adapters: Vec<wgpu::Adapter>, config: &RasterConfig) -> Result<wgpu::Adapter, PluginError> {
    let found: Vec<String> = adapters.iter().map(|a| describe(&a.get_info())).collect();
    if adapters.is_empty() {
        return Err(PluginError::unavailable(format!(
            "no graphics adapter found for backend {:?}; {INSTALL_HINT}",
            config.backend
        )));
    }
    let mut candidates: Vec<wgpu::Adapter> = match &config.adapter {
        Some(wanted) => {
            let wanted_lower = wanted.to_lowercase();
            adapters.into_iter().filter(|a| a.get_info().name.to_lowercase().contains(&wanted_lower)).collect()
        }
        None => adapters,
    };
    candidates.sort_by_key(|a| rank(&a.get_info()));
    candidates.into_iter().next().ok_or_else(|| {
        PluginError::unavailable(format!(
            "no graphics adapter matches \"{}\" (set by the raster config or OVHOST_WGPU_ADAPTER); found: {}",
            config.adapter.as_deref().unwrap_or_default(),
            found.join("; ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(device_type: wgpu::DeviceType, backend: wgpu::Backend) -> wgpu::AdapterInfo {
        wgpu::AdapterInfo::new(device_type, backend)
    }

    #[test]
    fn ranks_gpus_over_cpus_and_vulkan_over_gl() {
        use wgpu::{Backend, DeviceType};
        assert!(rank(&info(DeviceType::DiscreteGpu, Backend::Gl)) < rank(&info(DeviceType::Cpu, Backend::Vulkan)));
        assert!(
            rank(&info(DeviceType::IntegratedGpu, Backend::Vulkan))
                < rank(&info(DeviceType::VirtualGpu, Backend::Vulkan))
        );
        assert!(rank(&info(DeviceType::Cpu, Backend::Vulkan)) < rank(&info(DeviceType::Cpu, Backend::Gl)));
    }
}

//! # ovhost camera controllers
//!
//! Built-in camera schemes, registered with [`ovhost_plugin_api::builtin_plugin!`] on the public
//! plugin API like any other plugin:
//!
//! | id | gestures |
//! |---|---|
//! | `orbit` (default) | left-drag orbit, middle-drag pan, right-drag dolly, wheel zoom |
//! | `fly` | hold right: drag to look, W/A/S/D forward/left/back/right, Q/E down/up along world up; wheel = fly speed; middle-drag pan |
//! | `kit` | Alt+left orbit, middle pan, Alt+right zoom, wheel zoom, right + W/A/S/D/Q/E fly |
//!
//! Every scheme is one [`Navigator`] over the shared math in [`rig`]: the host feeds normalized
//! input ([`ovhost_plugin_api::InputEvent`]) and time (`advance(dt_us)`), and gets back a finite
//! [`ovhost_plugin_api::CameraView`]. On a scheme switch the host gives the new controller the
//! old one's view (`set_view`), optionally after `fit(stage bounds, up axis)` so the new
//! controller also knows the stage extent and up axis; otherwise it infers both from the view.
//! The creation config (JSON, `{}` for defaults) is [`CameraConfig`].

pub mod config;
pub mod fly;
pub mod framing;
pub mod navigator;
pub mod rig;
pub mod schemes;
pub mod state;

#[cfg(test)]
mod tests;

use ovhost_plugin_api::{PluginError, Registry};

pub use config::CameraConfig;
pub use navigator::Navigator;
pub use schemes::{FlyCamera, FlyScheme, KitCamera, KitScheme, OrbitCamera, OrbitScheme, Scheme};

/// The scheme the host uses when none is chosen.
pub const DEFAULT_SCHEME: &str = OrbitScheme::ID;
/// Every scheme id this plugin registers, default first.
pub const SCHEME_IDS: [&str; 3] = [OrbitScheme::ID, FlyScheme::ID, KitScheme::ID];

ovhost_plugin_api::builtin_plugin! {
    name: "cameras",
    description: "Camera controllers: orbit (default), fly and Kit-style schemes",
    register: register,
}

/// Registers the three camera schemes (the built-in registration calls this).
pub fn register(registry: &mut Registry<'_>) -> Result<(), PluginError> {
    registry
        .camera::<OrbitCamera>(OrbitScheme::ID, OrbitScheme::DESCRIPTION)
        .camera::<FlyCamera>(FlyScheme::ID, FlyScheme::DESCRIPTION)
        .camera::<KitCamera>(KitScheme::ID, KitScheme::DESCRIPTION);
    Ok(())
}

//! The three input schemes: which pointer button (and modifiers) starts which gesture, and what
//! the wheel does. The behaviour of each gesture lives in [`crate::navigator`].

use ovhost_plugin_api::MOD_ALT;

use crate::navigator::Navigator;

/// What a drag does while its button is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gesture {
    /// Rotate the eye around the target.
    Orbit,
    /// Move the target in the view plane.
    Pan,
    /// Move the eye towards / away from the target.
    Dolly,
    /// Mouse-look around the eye; W/A/S/D/Q/E fly while it lasts.
    Fly,
}

/// What a wheel notch does when no fly gesture is in progress (during one it always changes the
/// fly speed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WheelAction {
    Zoom,
    FlySpeed,
}

/// An input scheme. Implemented by zero-sized markers; the controller is [`Navigator<S>`].
pub trait Scheme: Send + 'static {
    /// The scheme id (also the registered camera id and `state().scheme`).
    const ID: &'static str;
    const DESCRIPTION: &'static str;
    const WHEEL: WheelAction;
    /// The gesture a press of `button` (0 left, 1 middle, 2 right) with `modifiers` starts.
    fn gesture(button: u32, modifiers: u32) -> Option<Gesture>;
}

/// Default scheme: left-drag orbit, middle-drag pan, right-drag dolly, wheel zoom.
#[derive(Debug)]
pub struct OrbitScheme;

impl Scheme for OrbitScheme {
    const ID: &'static str = "orbit";
    const DESCRIPTION: &'static str = "Orbit: left-drag orbit, middle-drag pan, right-drag or wheel dolly";
    const WHEEL: WheelAction = WheelAction::Zoom;
    fn gesture(button: u32, _modifiers: u32) -> Option<Gesture> {
        match button {
            0 => Some(Gesture::Orbit),
            1 => Some(Gesture::Pan),
            2 => Some(Gesture::Dolly),
            _ => None,
        }
    }
}

/// Fly: hold right for mouse-look and W/A/S/D/Q/E movement, middle-drag pan, wheel = fly speed.
#[derive(Debug)]
pub struct FlyScheme;

impl Scheme for FlyScheme {
    const ID: &'static str = "fly";
    const DESCRIPTION: &'static str =
        "Fly: hold right button + W/A/S/D/Q/E to move, drag to look, wheel sets fly speed, middle-drag pan";
    const WHEEL: WheelAction = WheelAction::FlySpeed;
    fn gesture(button: u32, _modifiers: u32) -> Option<Gesture> {
        match button {
            1 => Some(Gesture::Pan),
            2 => Some(Gesture::Fly),
            _ => None,
        }
    }
}

/// Kit-style: Alt+left orbit, middle pan, Alt+right zoom, wheel zoom; right without Alt flies as
/// in Kit. Left without Alt is left to the host (selection).
#[derive(Debug)]
pub struct KitScheme;

impl Scheme for KitScheme {
    const ID: &'static str = "kit";
    const DESCRIPTION: &'static str =
        "Kit-style: Alt+left orbit, middle pan, Alt+right or wheel zoom, right + W/A/S/D/Q/E fly";
    const WHEEL: WheelAction = WheelAction::Zoom;
    fn gesture(button: u32, modifiers: u32) -> Option<Gesture> {
        let alt = modifiers & MOD_ALT != 0;
        match (button, alt) {
            (0, true) => Some(Gesture::Orbit),
            (1, _) => Some(Gesture::Pan),
            (2, true) => Some(Gesture::Dolly),
            (2, false) => Some(Gesture::Fly),
            _ => None,
        }
    }
}

/// The `orbit` camera controller (the default scheme).
pub type OrbitCamera = Navigator<OrbitScheme>;
/// The `fly` camera controller.
pub type FlyCamera = Navigator<FlyScheme>;
/// The `kit` camera controller.
pub type KitCamera = Navigator<KitScheme>;

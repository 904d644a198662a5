//! Normalized input events, the same whichever transport delivered them.
//!
//! Conventions (the host normalizes once, plugins never see transport ids):
//! - `button`: 0 = left, 1 = middle, 2 = right (DOM numbering).
//! - `x`, `y`: stream pixels, origin top-left, already mapped out of any letterbox.
//! - `wheel_notches`: positive = away from the user (zoom in / scroll up).
//! - `key`: the DOM `KeyboardEvent.key` lower-cased (`"w"`, `"f"`, `"shift"`, `"escape"`).

use abi_stable::{StableAbi, std_types::RString};

#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct InputKind(pub u32);

impl InputKind {
    pub const POINTER_MOVE: Self = Self(1);
    pub const POINTER_DOWN: Self = Self(2);
    pub const POINTER_UP: Self = Self(3);
    pub const WHEEL: Self = Self(4);
    pub const KEY_DOWN: Self = Self(5);
    pub const KEY_UP: Self = Self(6);
    /// The gesture in progress is cancelled (focus lost, viewport inactive, stage switch).
    pub const CANCEL: Self = Self(7);
}

/// Modifier bits.
pub const MOD_SHIFT: u32 = 1;
pub const MOD_CTRL: u32 = 2;
pub const MOD_ALT: u32 = 4;
pub const MOD_META: u32 = 8;

/// Button-held bits in [`InputEvent::buttons`].
pub const BUTTONS_LEFT: u32 = 1;
pub const BUTTONS_MIDDLE: u32 = 2;
pub const BUTTONS_RIGHT: u32 = 4;

#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct InputEvent {
    pub kind: InputKind,
    /// The button that changed (POINTER_DOWN/UP): 0 left, 1 middle, 2 right.
    pub button: u32,
    /// Buttons held after this event (`BUTTONS_*` bits).
    pub buttons: u32,
    /// `MOD_*` bits.
    pub modifiers: u32,
    pub x: f32,
    pub y: f32,
    /// Pointer movement since the previous event the controller saw (summed when coalesced).
    pub dx: f32,
    pub dy: f32,
    pub wheel_notches: f32,
    pub key: RString,
    /// Host monotonic clock, microseconds.
    pub time_us: u64,
}

impl InputEvent {
    pub fn new(kind: InputKind) -> Self {
        Self {
            kind,
            button: 0,
            buttons: 0,
            modifiers: 0,
            x: 0.0,
            y: 0.0,
            dx: 0.0,
            dy: 0.0,
            wheel_notches: 0.0,
            key: RString::new(),
            time_us: 0,
        }
    }
}

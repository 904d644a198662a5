//! Normalizes ovstream `InputEvent`s into `ovhost_plugin_api::InputEvent`s: buttons 1/2/3 →
//! 0/1/2, wheel notches (positive = away from the user), Windows-VK key codes → DOM key names,
//! modifier bits, touch (primary contact as a left-button pointer), all in stream pixels.
//! Stateful (held buttons, last position, coordinate space), driven by the caller's clock.

use ovhost_plugin_api::{
    BUTTONS_LEFT, BUTTONS_MIDDLE, BUTTONS_RIGHT, InputEvent, InputKind, MOD_ALT, MOD_CTRL, MOD_META, MOD_SHIFT,
};

use crate::ffi::types::{self, input_type, key_state, modifier, mouse_button, mouse_type, touch_phase};

#[derive(Debug)]
pub struct InputNormalizer {
    width: u32,
    height: u32,
    /// Coordinate space the client reports mouse positions in (MOVE events carry it).
    space: (i32, i32),
    last: Option<(f32, f32)>,
    buttons: u32,
    touch_primary: Option<u16>,
}

impl InputNormalizer {
    /// For a stream of `width`×`height` pixels.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, space: (width as i32, height as i32), last: None, buttons: 0, touch_primary: None }
    }

    /// One ovstream event → zero or one normalized event, stamped `time_us`.
    pub fn normalize(&mut self, event: &types::InputEvent, time_us: u64) -> Option<InputEvent> {
        let mut out = match event.kind {
            input_type::MOUSE => {
                // SAFETY: `kind == MOUSE` selects the `mouse` member (C ABI contract).
                let mouse = unsafe { &event.u.mouse };
                self.mouse(mouse)
            }
            input_type::KEYBOARD => {
                // SAFETY: `kind == KEYBOARD` selects the `keyboard` member.
                let keyboard = unsafe { &event.u.keyboard };
                Self::keyboard(keyboard)
            }
            input_type::TOUCH => {
                // SAFETY: `kind == TOUCH` selects the `touch` member.
                let touch = unsafe { &event.u.touch };
                self.touch(touch)
            }
            _ => None, // gamepad: no consumer in the plugin API yet
        }?;
        out.time_us = time_us;
        Some(out)
    }

    fn scale(&self, x: f32, y: f32) -> (f32, f32) {
        let (sw, sh) = self.space;
        let sx = if sw > 0 { x * self.width as f32 / sw as f32 } else { x };
        let sy = if sh > 0 { y * self.height as f32 / sh as f32 } else { y };
        (sx.clamp(0.0, self.width.saturating_sub(1) as f32), sy.clamp(0.0, self.height.saturating_sub(1) as f32))
    }

    fn at(&mut self, kind: InputKind, x: f32, y: f32, modifiers: u32) -> InputEvent {
        let (dx, dy) = self.last.map_or((0.0, 0.0), |(lx, ly)| (x - lx, y - ly));
        self.last = Some((x, y));
        let mut e = InputEvent::new(kind);
        e.x = x;
        e.y = y;
        e.dx = dx;
        e.dy = dy;
        e.modifiers = modifiers;
        e
    }

    fn mouse(&mut self, m: &types::MouseEvent) -> Option<InputEvent> {
        let modifiers = map_modifiers(m.modifiers);
        match m.kind {
            mouse_type::MOVE => {
                if m.data > 0 && m.data2 > 0 {
                    self.space = (m.data, m.data2);
                }
                let (x, y) = self.scale(m.x as f32, m.y as f32);
                let mut e = self.at(InputKind::POINTER_MOVE, x, y, modifiers);
                e.buttons = self.buttons;
                Some(e)
            }
            mouse_type::BUTTON => {
                let (button, bit) = match m.data {
                    mouse_button::LEFT => (0, BUTTONS_LEFT),
                    mouse_button::MIDDLE => (1, BUTTONS_MIDDLE),
                    mouse_button::RIGHT => (2, BUTTONS_RIGHT),
                    _ => return None, // NONE / EXTRA1 / EXTRA2
                };
                let kind = if m.button_state == key_state::DOWN {
                    self.buttons |= bit;
                    InputKind::POINTER_DOWN
                } else {
                    self.buttons &= !bit;
                    InputKind::POINTER_UP
                };
                let (x, y) = self.scale(m.x as f32, m.y as f32);
                let mut e = self.at(kind, x, y, modifiers);
                e.button = button;
                e.buttons = self.buttons;
                Some(e)
            }
            mouse_type::WHEEL => {
                if m.scroll_y == 0.0 {
                    return None;
                }
                let (x, y) = self.scale(m.x as f32, m.y as f32);
                let mut e = InputEvent::new(InputKind::WHEEL);
                e.x = x;
                e.y = y;
                e.modifiers = modifiers;
                e.buttons = self.buttons;
                e.wheel_notches = m.scroll_y;
                Some(e)
            }
            _ => None,
        }
    }

    fn keyboard(k: &types::KeyboardEvent) -> Option<InputEvent> {
        let kind = if k.key_state == key_state::DOWN { InputKind::KEY_DOWN } else { InputKind::KEY_UP };
        let mut e = InputEvent::new(kind);
        e.modifiers = map_modifiers(k.modifiers);
        e.key = dom_key(k.key_code).into();
        Some(e)
    }

    fn touch(&mut self, t: &types::TouchEvent) -> Option<InputEvent> {
        let count = usize::from(t.point_count).min(types::MAX_TOUCH_POINTS);
        let points = &t.points[..count];
        let modifiers = map_modifiers(t.modifiers);
        let point = match self.touch_primary {
            Some(id) => points.iter().find(|p| p.id == id)?,
            None => points.iter().find(|p| p.phase == touch_phase::DOWN)?,
        };
        let x = (point.x.clamp(0.0, 1.0) * self.width as f32).min(self.width.saturating_sub(1) as f32);
        let y = (point.y.clamp(0.0, 1.0) * self.height as f32).min(self.height.saturating_sub(1) as f32);
        match point.phase {
            touch_phase::DOWN => {
                self.touch_primary = Some(point.id);
                self.buttons |= BUTTONS_LEFT;
                self.last = None;
                let mut e = self.at(InputKind::POINTER_DOWN, x, y, modifiers);
                e.buttons = self.buttons;
                Some(e)
            }
            touch_phase::UP => {
                self.touch_primary = None;
                self.buttons &= !BUTTONS_LEFT;
                let mut e = self.at(InputKind::POINTER_UP, x, y, modifiers);
                e.buttons = self.buttons;
                Some(e)
            }
            touch_phase::CANCEL => {
                self.touch_primary = None;
                self.buttons &= !BUTTONS_LEFT;
                Some(InputEvent::new(InputKind::CANCEL))
            }
            _ => {
                let mut e = self.at(InputKind::POINTER_MOVE, x, y, modifiers);
                e.buttons = self.buttons;
                Some(e)
            }
        }
    }
}

/// ovstream modifier bits → `MOD_*` (lock keys dropped).
pub fn map_modifiers(bits: u16) -> u32 {
    let mut out = 0;
    for (from, to) in [
        (modifier::SHIFT, MOD_SHIFT),
        (modifier::CONTROL, MOD_CTRL),
        (modifier::ALT, MOD_ALT),
        (modifier::SUPER, MOD_META),
    ] {
        if bits & from != 0 {
            out |= to;
        }
    }
    out
}

/// Windows virtual-key code → DOM `KeyboardEvent.key`, lower-cased ("unidentified" if unknown).
pub fn dom_key(vk: u16) -> String {
    let named = match vk {
        0x08 => "backspace",
        0x09 => "tab",
        0x0D => "enter",
        0x10 | 0xA0 | 0xA1 => "shift",
        0x11 | 0xA2 | 0xA3 => "control",
        0x12 | 0xA4 | 0xA5 => "alt",
        0x13 => "pause",
        0x14 => "capslock",
        0x1B => "escape",
        0x20 => " ",
        0x21 => "pageup",
        0x22 => "pagedown",
        0x23 => "end",
        0x24 => "home",
        0x25 => "arrowleft",
        0x26 => "arrowup",
        0x27 => "arrowright",
        0x28 => "arrowdown",
        0x2D => "insert",
        0x2E => "delete",
        0x5B | 0x5C => "meta",
        0x6A => "*",
        0x6B => "+",
        0x6D => "-",
        0x6E => ".",
        0x6F => "/",
        0xBA => ";",
        0xBB => "=",
        0xBC => ",",
        0xBD => "-",
        0xBE => ".",
        0xBF => "/",
        0xC0 => "`",
        0xDB => "[",
        0xDC => "\\",
        0xDD => "]",
        0xDE => "'",
        _ => "",
    };
    if !named.is_empty() {
        return named.to_string();
    }
    match vk {
        0x30..=0x39 | 0x41..=0x5A => char::from(vk as u8).to_ascii_lowercase().to_string(),
        0x60..=0x69 => char::from(b'0' + (vk - 0x60) as u8).to_string(),
        0x70..=0x87 => format!("f{}", vk - 0x6F),
        _ => "unidentified".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::types::{InputUnion, KeyboardEvent, MouseEvent, TouchEvent, TouchPoint};

    fn mouse(m: MouseEvent) -> types::InputEvent {
        types::InputEvent { kind: input_type::MOUSE, u: InputUnion { mouse: m } }
    }

    #[test]
    fn buttons_map_to_dom_numbering_and_track_held_state() {
        let mut n = InputNormalizer::new(1920, 1080);
        let down = |b| {
            mouse(MouseEvent {
                kind: mouse_type::BUTTON,
                x: 10,
                y: 20,
                data: b,
                button_state: key_state::DOWN,
                ..Default::default()
            })
        };
        let e = n.normalize(&down(mouse_button::LEFT), 7).expect("left");
        assert_eq!((e.kind, e.button, e.buttons, e.time_us), (InputKind::POINTER_DOWN, 0, BUTTONS_LEFT, 7));
        let e = n.normalize(&down(mouse_button::MIDDLE), 8).expect("middle");
        assert_eq!((e.button, e.buttons), (1, BUTTONS_LEFT | BUTTONS_MIDDLE));
        let e = n.normalize(&down(mouse_button::RIGHT), 9).expect("right");
        assert_eq!(e.button, 2);
        let up = mouse(MouseEvent {
            kind: mouse_type::BUTTON,
            data: mouse_button::LEFT,
            button_state: key_state::UP,
            ..Default::default()
        });
        let e = n.normalize(&up, 10).expect("up");
        assert_eq!((e.kind, e.button, e.buttons), (InputKind::POINTER_UP, 0, BUTTONS_MIDDLE | BUTTONS_RIGHT));
        assert!(n.normalize(&down(mouse_button::EXTRA1), 11).is_none());
    }

    #[test]
    fn moves_scale_from_the_client_space_to_stream_pixels_with_deltas() {
        let mut n = InputNormalizer::new(1920, 1080);
        let mv = |x, y| {
            mouse(MouseEvent {
                kind: mouse_type::MOVE,
                x,
                y,
                data: 960,
                data2: 540,
                modifiers: modifier::SHIFT | modifier::CAPS_LOCK,
                ..Default::default()
            })
        };
        let a = n.normalize(&mv(100, 50), 1).expect("move");
        assert_eq!((a.kind, a.x, a.y, a.dx, a.modifiers), (InputKind::POINTER_MOVE, 200.0, 100.0, 0.0, MOD_SHIFT));
        let b = n.normalize(&mv(110, 45), 2).expect("move");
        assert_eq!((b.dx, b.dy), (20.0, -10.0));
        let c = n.normalize(&mv(5000, 5000), 3).expect("move");
        assert_eq!((c.x, c.y), (1919.0, 1079.0), "clamped to the stream");
    }

    #[test]
    fn wheel_reports_notches_positive_away_from_user() {
        let mut n = InputNormalizer::new(640, 360);
        let w = mouse(MouseEvent {
            kind: mouse_type::WHEEL,
            x: 1,
            y: 2,
            scroll_y: 1.5,
            modifiers: modifier::CONTROL,
            ..Default::default()
        });
        let e = n.normalize(&w, 0).expect("wheel");
        assert_eq!((e.kind, e.wheel_notches, e.modifiers), (InputKind::WHEEL, 1.5, MOD_CTRL));
        let flat = mouse(MouseEvent { kind: mouse_type::WHEEL, scroll_x: 2.0, ..Default::default() });
        assert!(n.normalize(&flat, 0).is_none());
    }

    #[test]
    fn keys_become_dom_names() {
        let mut n = InputNormalizer::new(640, 360);
        let key = |code, state, mods| types::InputEvent {
            kind: input_type::KEYBOARD,
            u: InputUnion {
                keyboard: KeyboardEvent { key_code: code, key_state: state, modifiers: mods, ..Default::default() },
            },
        };
        let e = n.normalize(&key(0x57, key_state::DOWN, modifier::ALT | modifier::SUPER), 0).expect("w");
        assert_eq!((e.kind, e.key.as_str(), e.modifiers), (InputKind::KEY_DOWN, "w", MOD_ALT | MOD_META));
        let e = n.normalize(&key(0x1B, key_state::UP, 0), 0).expect("esc");
        assert_eq!((e.kind, e.key.as_str()), (InputKind::KEY_UP, "escape"));
        assert_eq!(dom_key(0xA0), "shift");
        assert_eq!(dom_key(0x70), "f1");
        assert_eq!(dom_key(0x31), "1");
        assert_eq!(dom_key(0x25), "arrowleft");
        assert_eq!(dom_key(0xFF), "unidentified");
    }

    #[test]
    fn primary_touch_contact_drives_a_left_button_pointer() {
        let mut n = InputNormalizer::new(1000, 500);
        let touch = |id, phase, x, y| {
            let mut t = TouchEvent { point_count: 1, low_level: 1, ..Default::default() };
            t.points[0] = TouchPoint { id, x, y, phase, ..Default::default() };
            types::InputEvent { kind: input_type::TOUCH, u: InputUnion { touch: t } }
        };
        let d = n.normalize(&touch(3, touch_phase::DOWN, 0.5, 0.5), 0).expect("down");
        assert_eq!((d.kind, d.button, d.buttons, d.x, d.y), (InputKind::POINTER_DOWN, 0, BUTTONS_LEFT, 500.0, 250.0));
        assert!(n.normalize(&touch(4, touch_phase::MOVE, 0.1, 0.1), 0).is_none(), "other contacts are ignored");
        let m = n.normalize(&touch(3, touch_phase::MOVE, 0.6, 0.5), 0).expect("move");
        assert_eq!((m.kind, m.dx, m.buttons), (InputKind::POINTER_MOVE, 100.0, BUTTONS_LEFT));
        let u = n.normalize(&touch(3, touch_phase::UP, 0.6, 0.5), 0).expect("up");
        assert_eq!((u.kind, u.buttons), (InputKind::POINTER_UP, 0));
        n.normalize(&touch(5, touch_phase::DOWN, 0.0, 0.0), 0).expect("down");
        assert_eq!(n.normalize(&touch(5, touch_phase::CANCEL, 0.0, 0.0), 0).expect("cancel").kind, InputKind::CANCEL);
    }
}

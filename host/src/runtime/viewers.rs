//! Viewers with roles, on the render thread: who may drive (`--control first|shared|token`),
//! control requests, grants and hand-overs, `presence`, per-client viewport input gates and click
//! tracking, and the stream size the controlling client asks for (`setStreamSize`, clamped by
//! `--max-width/--max-height/--max-pixels`).
//!
//! Roles live in the client hub (so `/api/state` and `/metrics` read them from any thread); the
//! decisions are made here. A spectator's input is dropped with one `viewerError` `not_permitted`
//! per gesture; its messages reach handlers as usual, and a handler's call to a host service that
//! changes the session (selection, camera, stage, render settings, ...) is refused with the same
//! code (see [`MUTATING_SERVICES`]), so read-only requests still work for everyone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ovhost_plugin_api::services::{self as svc, Service};
use ovhost_plugin_api::{InputEvent, InputKind, PluginError};
use ovhost_protocol::{GrantControlPayload, PresencePayload, RequestControlPayload, Role};
use serde_json::json;

use super::hub::{ClientHub, ClientId};
use crate::protocol;

/// `viewerError.code` for what a client's role does not allow.
pub const NOT_PERMITTED: &str = "not_permitted";

/// Host services that change what every viewer sees: refused to spectators.
pub const MUTATING_SERVICES: &[&str] = &[
    <svc::SettingsSet as Service>::NAME,
    <svc::CameraSetView as Service>::NAME,
    <svc::CameraSetScheme as Service>::NAME,
    <svc::CameraFit as Service>::NAME,
    <svc::CameraFocusSelection as Service>::NAME,
    <svc::CameraUseAuthored as Service>::NAME,
    <svc::RendererSetSetting as Service>::NAME,
    <svc::RendererSetAov as Service>::NAME,
    <svc::StageOpen as Service>::NAME,
    <svc::StageSetVariant as Service>::NAME,
    <svc::SelectionSet as Service>::NAME,
    <svc::SelectionSetPickable as Service>::NAME,
];

/// Who may drive (`--control`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ControlPolicy {
    /// The first viewer owns the session; others watch until the owner grants them control.
    #[default]
    First,
    /// Every viewer drives (the first is the owner, who may still take control back).
    Shared,
    /// Only viewers that present `--control-token` (in `requestControl`) drive.
    Token,
}

impl ControlPolicy {
    pub fn name(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Shared => "shared",
            Self::Token => "token",
        }
    }
}

/// Session-wide viewer settings from the command line.
#[derive(Debug, Clone)]
pub struct ViewerConfig {
    pub control: ControlPolicy,
    pub control_token: Option<String>,
    /// The largest stream a client may ask for.
    pub max_width: u32,
    pub max_height: u32,
    pub max_pixels: u64,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        Self {
            control: ControlPolicy::First,
            control_token: None,
            max_width: 1920,
            max_height: 1080,
            max_pixels: 1920 * 1080,
        }
    }
}

impl ViewerConfig {
    /// The stream size for a request: scaled down (aspect kept) into the width, height and pixel
    /// limits, sides even and at least 16.
    pub fn clamp_size(&self, width: u32, height: u32) -> (u32, u32) {
        let (w, h) = (f64::from(width.max(16)), f64::from(height.max(16)));
        let mut scale = (f64::from(self.max_width) / w).min(f64::from(self.max_height) / h).min(1.0);
        let pixels = w * h * scale * scale;
        if pixels > self.max_pixels as f64 {
            scale *= (self.max_pixels as f64 / pixels).sqrt();
        }
        let even = |v: f64| ((v.floor() as u32) & !1).max(16);
        (even(w * scale), even(h * scale))
    }
}

/// A left-button press being judged as a click or a drag.
#[derive(Clone, Copy)]
struct Press {
    x: f32,
    y: f32,
    travel: f32,
}

#[derive(Default)]
struct ViewerInput {
    /// The viewport owns this client's pointer (`setViewportInputActive`); starts active.
    inactive: bool,
    press: Option<Press>,
    /// When this client was last told its input is not permitted (one error per gesture).
    denied_at: Option<Instant>,
}

/// A click found by [`Viewers::judge_click`]: stream pixel coordinates.
pub type Click = (f32, f32);

pub struct Viewers {
    pub config: ViewerConfig,
    input: BTreeMap<ClientId, ViewerInput>,
    /// The client whose pointer input reached the camera last (its gesture is the one a
    /// deactivation cancels).
    last_pointer: Option<ClientId>,
    /// Why the last host service call was refused (the router turns it into `not_permitted`).
    pub denied: Option<String>,
}

/// Pointer travel (stream pixels) below which a press and release is a click, not a drag.
pub const CLICK_THRESHOLD_PX: f32 = 4.0;

impl Viewers {
    pub fn new(config: ViewerConfig) -> Self {
        Self { config, input: BTreeMap::new(), last_pointer: None, denied: None }
    }

    /// Whether `client` may change the session (client 0 is the host itself).
    pub fn may_drive(hub: &ClientHub, client: ClientId) -> bool {
        client == 0 || matches!(hub.role(client), Some(Role::Owner | Role::Controller))
    }

    fn owner(hub: &ClientHub) -> Option<ClientId> {
        hub.presence().into_iter().find(|c| c.role == Role::Owner).map(|c| c.client_id)
    }

    /// A new client's role: the first is the owner (under `first` and `shared`), later ones
    /// controllers under `shared` and spectators otherwise.
    pub fn connected(&mut self, hub: &ClientHub, client: ClientId) {
        let has_owner = Self::owner(hub).is_some_and(|o| o != client);
        let role = match self.config.control {
            ControlPolicy::First if !has_owner => Role::Owner,
            ControlPolicy::Shared if !has_owner => Role::Owner,
            ControlPolicy::Shared => Role::Controller,
            ControlPolicy::First | ControlPolicy::Token => Role::Spectator,
        };
        hub.set_role(client, role);
        self.input.insert(client, ViewerInput::default());
    }

    /// A client left (already gone from the hub): when no owner remains, the oldest controller
    /// becomes the owner (under `first`, the oldest viewer, so a session is not left without a
    /// driver).
    pub fn disconnected(&mut self, hub: &ClientHub, client: ClientId) {
        self.input.remove(&client);
        if self.last_pointer == Some(client) {
            self.last_pointer = None;
        }
        if Self::owner(hub).is_none() {
            self.promote_successor(hub);
        }
        self.broadcast_presence(hub);
    }

    fn promote_successor(&self, hub: &ClientHub) {
        let clients = hub.presence();
        let next = clients.iter().find(|c| c.role == Role::Controller).or_else(|| match self.config.control {
            ControlPolicy::First => clients.first(),
            _ => None,
        });
        if let Some(next) = next {
            tracing::info!(client = next.client_id, "control passes to the next viewer");
            hub.set_role(next.client_id, Role::Owner);
        }
    }

    /// The name a client gave in `hello` (`name`, else `client`), trimmed to 64 characters.
    pub fn hello(&mut self, hub: &ClientHub, client: ClientId, name: Option<&str>) {
        if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
            hub.set_name(client, &name.chars().take(64).collect::<String>());
        }
    }

    pub fn presence_text(&self, hub: &ClientHub) -> String {
        let payload = PresencePayload { policy: self.config.control.name().into(), clients: hub.presence() };
        protocol::encode("presence", &serde_json::to_value(payload).unwrap_or_default())
    }

    /// `presence` to every greeted client of the default dialect (ovhost's own message: clients
    /// of the Kit dialect get no pushes they did not ask for).
    pub fn broadcast_presence(&self, hub: &ClientHub) {
        hub.broadcast_greeted_in("", &self.presence_text(hub));
    }

    /// Host-level control messages. `Ok(true)`: presence changed; `Err`: the `viewerError` to send.
    pub fn control_message(
        &mut self,
        hub: &ClientHub,
        client: ClientId,
        event_type: &str,
        payload: &serde_json::Value,
    ) -> Result<bool, (&'static str, String)> {
        let parse_error = |e: serde_json::Error| (protocol::codes::INVALID_INPUT, format!("{event_type}: {e}"));
        let role = hub.role(client).unwrap_or(Role::Spectator);
        match event_type {
            "requestControl" => {
                let request: RequestControlPayload = serde_json::from_value(payload.clone()).map_err(parse_error)?;
                if role != Role::Spectator {
                    return Ok(false);
                }
                let owner = Self::owner(hub);
                match self.config.control {
                    ControlPolicy::Token => {
                        let expected = self.config.control_token.as_deref();
                        if expected.is_none() || request.token.as_deref() != expected {
                            return Err((
                                NOT_PERMITTED,
                                "control needs the control token (--control token): send requestControl {token}".into(),
                            ));
                        }
                        hub.set_role(client, if owner.is_some() { Role::Controller } else { Role::Owner });
                    }
                    _ if owner.is_none() => {
                        hub.set_role(client, Role::Owner);
                    }
                    ControlPolicy::Shared => {
                        hub.set_role(client, Role::Controller);
                    }
                    ControlPolicy::First => {
                        hub.set_requested(client, true);
                        if let (Some(owner), Some(me)) =
                            (owner, hub.presence().into_iter().find(|c| c.client_id == client))
                        {
                            hub.send(owner, protocol::encode("controlRequested", &json!(me)));
                        }
                    }
                }
                Ok(true)
            }
            "grantControl" | "revokeControl" => {
                let request: GrantControlPayload = serde_json::from_value(payload.clone()).map_err(parse_error)?;
                if role != Role::Owner {
                    return Err((NOT_PERMITTED, format!("only the owner can {}", &event_type[..event_type.len() - 7])));
                }
                let target = request.client_id;
                if target == client {
                    return Err((
                        protocol::codes::INVALID_INPUT,
                        "the owner cannot grant or revoke its own control".into(),
                    ));
                }
                if hub.role(target).is_none() {
                    return Err((protocol::codes::INVALID_INPUT, format!("no connected client {target}")));
                }
                if event_type == "revokeControl" {
                    hub.set_role(target, Role::Spectator);
                } else if request.role == Some(Role::Owner) {
                    hub.set_role(target, Role::Owner);
                    hub.set_role(client, Role::Controller);
                } else if request.role == Some(Role::Spectator) {
                    return Err((protocol::codes::INVALID_INPUT, "grantControl role is controller or owner".into()));
                } else {
                    hub.set_role(target, Role::Controller);
                }
                tracing::info!(owner = client, target, event_type, "control changed");
                Ok(true)
            }
            "releaseControl" => {
                if role == Role::Spectator {
                    return Ok(false);
                }
                hub.set_role(client, Role::Spectator);
                if role == Role::Owner
                    && let Some(next) = hub.presence().into_iter().find(|c| c.role == Role::Controller)
                {
                    hub.set_role(next.client_id, Role::Owner);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Whether one input event from `client` may reach the camera now. A spectator's events are
    /// dropped; the first of a gesture earns it one `viewerError` saying why.
    pub fn admit_input(&mut self, hub: &ClientHub, client: ClientId, event: &InputEvent) -> bool {
        let pointer = matches!(
            event.kind,
            InputKind::POINTER_MOVE | InputKind::POINTER_DOWN | InputKind::POINTER_UP | InputKind::WHEEL
        );
        if !Self::may_drive(hub, client) {
            let starts_gesture = matches!(event.kind, InputKind::POINTER_DOWN | InputKind::WHEEL | InputKind::KEY_DOWN);
            let state = self.input.entry(client).or_default();
            let quiet = state.denied_at.is_some_and(|t| t.elapsed() < Duration::from_secs(2));
            if starts_gesture && !quiet {
                state.denied_at = Some(Instant::now());
                hub.send(
                    client,
                    protocol::viewer_error(
                        NOT_PERMITTED,
                        "you are watching as a spectator: your input does not move the camera; ask the owner for control",
                        Some(json!({ "role": "spectator", "event_type": "input" })),
                    ),
                );
            }
            return false;
        }
        // The viewport gate is per client: another tab's pointer leaving its viewport does not
        // mute this one. Keys and cancels pass even when inactive.
        if pointer && self.input.get(&client).is_some_and(|s| s.inactive) {
            return false;
        }
        if pointer {
            self.last_pointer = Some(client);
        }
        true
    }

    /// `setViewportInputActive` for one client. Deactivating cancels the camera gesture only when
    /// this client drove it last. Returns whether the camera should cancel.
    pub fn set_input_active(&mut self, client: ClientId, active: bool) -> bool {
        let state = self.input.entry(client).or_default();
        let was_active = !state.inactive;
        state.inactive = !active;
        was_active && !active && self.last_pointer == Some(client) && state.press.is_none()
    }

    /// Whether each client's viewport holds its input (`/api/state`).
    pub fn input_active_json(&self) -> serde_json::Value {
        json!(self.input.iter().map(|(id, s)| (id.to_string(), !s.inactive)).collect::<BTreeMap<_, _>>())
    }

    /// Tells clicks from drags per client: a left press and release (no Alt) within
    /// [`CLICK_THRESHOLD_PX`] from the same client is a click, whatever that client or others
    /// send in between or after (a touch tap's `pointerleave` no longer loses it).
    pub fn judge_click(&mut self, client: ClientId, event: &InputEvent) -> Option<Click> {
        let state = self.input.entry(client).or_default();
        match event.kind {
            InputKind::POINTER_DOWN if event.button == 0 && event.modifiers & ovhost_plugin_api::MOD_ALT == 0 => {
                state.press = Some(Press { x: event.x, y: event.y, travel: 0.0 });
            }
            InputKind::POINTER_MOVE => {
                if let Some(press) = &mut state.press {
                    press.travel += event.dx.abs() + event.dy.abs();
                }
            }
            InputKind::POINTER_UP if event.button == 0 => {
                if let Some(press) = state.press.take() {
                    let moved = (event.x - press.x).abs().max((event.y - press.y).abs()).max(press.travel);
                    if moved <= CLICK_THRESHOLD_PX {
                        return Some((event.x, event.y));
                    }
                }
            }
            InputKind::CANCEL => state.press = None,
            _ => {}
        }
        None
    }

    /// Forgets every press (a new stage).
    pub fn clear_presses(&mut self) {
        for state in self.input.values_mut() {
            state.press = None;
        }
    }

    /// Refuses a host service call that changes the session to a client that may not drive.
    pub fn check_service(&mut self, hub: &ClientHub, client: ClientId, service: &str) -> Result<(), PluginError> {
        if !MUTATING_SERVICES.contains(&service) || Self::may_drive(hub, client) {
            return Ok(());
        }
        let message = format!(
            "you are watching as a spectator: '{service}' changes the session for everyone; ask the owner for control"
        );
        self.denied = Some(message.clone());
        Err(PluginError::bad_state(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_clamped_even_and_keep_their_aspect() {
        let config = ViewerConfig::default();
        assert_eq!(config.clamp_size(960, 540), (960, 540));
        assert_eq!(config.clamp_size(961, 541), (960, 540));
        assert_eq!(config.clamp_size(2560, 1440), (1920, 1080));
        assert_eq!(config.clamp_size(780, 1688), (498, 1080));
        assert_eq!(config.clamp_size(0, 0), (16, 16));
        let budget = ViewerConfig { max_pixels: 640 * 360, ..config };
        let (w, h) = budget.clamp_size(1920, 1080);
        assert!(u64::from(w) * u64::from(h) <= 640 * 360 && w >= 636, "{w}x{h}");
    }

    #[test]
    fn first_policy_one_owner_then_spectators_and_succession() {
        let hub = ClientHub::default();
        let mut viewers = Viewers::new(ViewerConfig::default());
        let a = hub.connect().id;
        let b = hub.connect().id;
        viewers.connected(&hub, a);
        viewers.connected(&hub, b);
        assert_eq!(hub.role(a), Some(Role::Owner));
        assert_eq!(hub.role(b), Some(Role::Spectator));
        assert!(viewers.control_message(&hub, b, "grantControl", &json!({"client_id": a})).is_err());
        assert_eq!(viewers.control_message(&hub, b, "requestControl", &json!({})), Ok(true));
        assert!(hub.presence().iter().any(|c| c.client_id == b && c.requested));
        viewers.control_message(&hub, a, "grantControl", &json!({"client_id": b})).unwrap();
        assert_eq!(hub.role(b), Some(Role::Controller));
        viewers.control_message(&hub, a, "revokeControl", &json!({"client_id": b})).unwrap();
        assert_eq!(hub.role(b), Some(Role::Spectator));
        hub.disconnect(a);
        viewers.disconnected(&hub, a);
        assert_eq!(hub.role(b), Some(Role::Owner), "the remaining viewer takes over");
    }

    #[test]
    fn token_policy_needs_the_token() {
        let hub = ClientHub::default();
        let config =
            ViewerConfig { control: ControlPolicy::Token, control_token: Some("t".into()), ..Default::default() };
        let mut viewers = Viewers::new(config);
        let a = hub.connect().id;
        viewers.connected(&hub, a);
        assert_eq!(hub.role(a), Some(Role::Spectator));
        let refused = viewers.control_message(&hub, a, "requestControl", &json!({"token": "x"}));
        assert_eq!(refused.map_err(|e| e.0), Err(NOT_PERMITTED));
        viewers.control_message(&hub, a, "requestControl", &json!({"token": "t"})).unwrap();
        assert_eq!(hub.role(a), Some(Role::Owner));
    }

    #[test]
    fn a_click_is_judged_on_the_client_that_pressed() {
        let mut viewers = Viewers::new(ViewerConfig::default());
        let at = |kind, x| {
            let mut e = InputEvent::new(kind);
            e.x = x;
            e.y = 10.0;
            e
        };
        assert!(viewers.judge_click(1, &at(InputKind::POINTER_DOWN, 10.0)).is_none());
        // Another client's drag in between does not change client 1's judgement.
        assert!(viewers.judge_click(2, &at(InputKind::POINTER_DOWN, 100.0)).is_none());
        assert!(viewers.judge_click(2, &at(InputKind::POINTER_UP, 200.0)).is_none());
        // The viewport gate closing after the release does not matter either.
        viewers.set_input_active(1, false);
        assert_eq!(viewers.judge_click(1, &at(InputKind::POINTER_UP, 11.0)), Some((11.0, 10.0)));
    }
}

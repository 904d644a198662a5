//! Host services: what `HostContext::call(name, args)` does for message handlers. Every service
//! is declared once, typed, in `ovhost_plugin_api::services`; this file holds the host's side: one
//! typed function per service and the dispatch table built from those declarations. Runs on the
//! render thread against [`Core`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use abi_stable::std_types::RVec;
use ovhost_plugin_api::services::{self as svc, Service};
use ovhost_plugin_api::{CameraView, PluginError};
use serde_json::Value;

use super::camera::view_from_patch;
use super::core::Core;
use super::hub::ClientId;
use super::inbound::LoadReason;
use super::router::Services;
use super::video_options::{CONVERTER_SETTINGS_KEY, VIDEO_SETTINGS_KEY};

/// A service as the table holds it: JSON text in, JSON text out.
type Entry = fn(&mut Core, ClientId, &str) -> Result<String, PluginError>;

/// The host's side of service `S`, typed.
type Typed<S> = fn(&mut Core, ClientId, <S as Service>::Args) -> Result<<S as Service>::Answer, PluginError>;

/// Parses `S`'s arguments, runs `f`, serializes its typed answer.
fn typed<S: Service>(core: &mut Core, client: ClientId, args_json: &str, f: Typed<S>) -> Result<String, PluginError> {
    let args_json = if args_json.trim().is_empty() { "{}" } else { args_json };
    let args: S::Args = serde_json::from_str(args_json)
        .map_err(|e| PluginError::invalid_input(format!("bad arguments for host service '{}': {e}", S::NAME)))?;
    let answer = f(core, client, args)?;
    serde_json::to_string(&answer).map_err(|e| PluginError::internal(e.to_string()))
}

macro_rules! table {
    ($($service:ty => $f:expr,)*) => {{
        let mut table: BTreeMap<&'static str, (u32, Entry)> = BTreeMap::new();
        $(
            table.insert(<$service as Service>::NAME, (<$service as Service>::VERSION, |core, client, args| {
                typed::<$service>(core, client, args, $f)
            }));
        )*
        table
    }};
}

/// The dispatch table: every service declared in `ovhost_plugin_api::services::SERVICES`.
fn dispatch_table() -> &'static BTreeMap<&'static str, (u32, Entry)> {
    static TABLE: OnceLock<BTreeMap<&'static str, (u32, Entry)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        table! {
            svc::HostServices => |_, _, _| Ok(svc::ServiceList {
                services: svc::SERVICES
                    .iter()
                    .map(|s| svc::ServiceRow { name: s.name.into(), version: s.version, description: s.description.into() })
                    .collect(),
            }),
            svc::HostState => |core, _, _| Ok(core.status().to_json()),
            svc::PluginsList => |core, _, _| Ok(core.status().plugins()),
            svc::SettingsGet => |core, _, args| Ok(match args.key {
                Some(key) => core.settings().get(&key).cloned().unwrap_or(Value::Null),
                None => core.settings().all(),
            }),
            svc::SettingsSet => |core, _, args| {
                // Video options are checked before they are saved, and reach the converters.
                let video = match args.key.as_str() {
                    VIDEO_SETTINGS_KEY => Some(
                        core.video_options().with_settings(&args.value).map_err(PluginError::invalid_input)?,
                    ),
                    CONVERTER_SETTINGS_KEY if !args.value.is_object() => {
                        return Err(PluginError::invalid_input(format!(
                            "'{CONVERTER_SETTINGS_KEY}' must be an object of converter id to options"
                        )));
                    }
                    _ => None,
                };
                let converters = args.key == CONVERTER_SETTINGS_KEY;
                core.settings_mut()
                    .set(&args.key, args.value)
                    .map_err(|e| PluginError::internal(format!("cannot save settings: {e}")))?;
                if let Some(video) = video {
                    core.set_video_options(video);
                } else if converters {
                    core.converter_options_changed();
                }
                Ok(svc::Saved { saved: true })
            },
            svc::CameraStateGet => |core, _, _| Ok(core.camera_state()),
            svc::CameraView => |core, _, _| Ok(svc::View::from(&core.camera().view())),
            svc::CameraSetView => |core, _, patch| {
                let view = view_from_patch(&patch, &core.camera().view())?;
                core.set_view(view)?;
                Ok(svc::View::from(&view))
            },
            svc::CameraSchemesGet => |core, _, _| Ok(svc::CameraSchemes {
                schemes: core
                    .registry()
                    .cameras
                    .iter()
                    .map(|(id, r)| svc::SchemeInfo {
                        id: id.clone(),
                        description: r.entry.description().to_string(),
                        plugin: r.plugin.clone(),
                    })
                    .collect(),
                active: core.camera().scheme().map(str::to_string),
            }),
            svc::CameraSetScheme => |core, _, args| {
                core.set_camera_scheme(&args.scheme)?;
                Ok(core.camera_state())
            },
            svc::CameraFit => |core, _, args| core.fit_to(&args.prim_path.into_iter().collect::<Vec<_>>()),
            svc::CameraFocusSelection => |core, _, _| {
                let selection = core.selection().prims().to_vec();
                core.fit_to(&selection)
            },
            svc::CameraAuthored => |core, _, _| Ok(svc::AuthoredCameras {
                cameras: core
                    .stage()
                    .and_then(|s| s.current())
                    .map(|c| {
                        c.scene
                            .cameras
                            .iter()
                            .map(|cam| svc::AuthoredCameraInfo { path: cam.path.to_string(), fov_y_deg: cam.fov_y_deg })
                            .collect()
                    })
                    .unwrap_or_default(),
                active: core.camera().authored().map(str::to_string),
            }),
            svc::CameraUseAuthored => |core, _, args| use_authored_camera(core, &args.path),
            svc::RendererSettings => |core, _, _| {
                let text = core.renderer().instance.render_settings().into_result()?;
                serde_json::from_str(&text)
                    .map_err(|e| PluginError::internal(format!("renderer settings are not JSON: {e}")))
            },
            svc::RendererSetSetting => |core, _, args| {
                let value = args.value.to_string();
                let applies_at = core
                    .renderer_mut()
                    .instance
                    .set_render_setting(args.key.as_str().into(), value.as_str().into())
                    .into_result()?;
                Ok(svc::SettingApplied { key: args.key, applies_at: applies_at.into_string() })
            },
            svc::RendererAovs => |core, _, _| {
                let aovs: RVec<_> = core.renderer().instance.aovs().into_result()?;
                let names: Vec<String> = aovs.iter().map(|a| a.to_string()).collect();
                let active = core.renderer().aov.clone().or_else(|| names.first().cloned());
                Ok(svc::Aovs { aovs: names, active })
            },
            svc::RendererSetAov => |core, _, args| {
                let renderer = core.renderer_mut();
                renderer.instance.set_aov(args.aov.as_str().into()).into_result()?;
                renderer.aov = Some(args.aov.clone());
                core.mark_changed();
                Ok(svc::ActiveAov { active: args.aov })
            },
            svc::StageOpen => |core, _, args| stage_open(core, args),
            svc::StageInfo => |core, _, _| {
                let slot = core.stage_slot()?;
                Ok(svc::StageInfoAnswer {
                    loading: slot.is_loading(),
                    loading_url: slot.loading().map(|l| l.1.to_string()),
                    stage: slot.current().map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null)),
                    last_error: slot.last_error().map(str::to_string),
                })
            },
            svc::StageChildren => |core, _, args| {
                let rows = core.stage_slot()?.children(&args.prim_path)?;
                Ok(svc::Children {
                    children: rows
                        .into_iter()
                        .map(|r| svc::ChildRow {
                            name: r.name,
                            path: r.path,
                            type_class: r.type_class.as_str().into(),
                            children: r.has_children,
                        })
                        .collect(),
                    prim_path: args.prim_path,
                })
            },
            svc::StageProperties => |core, _, args| {
                let max_bytes = args
                    .max_bytes
                    .map_or(ovhost_stage::DEFAULT_PROPERTIES_MAX_BYTES, |v| v.clamp(256, 1 << 20) as usize);
                let properties = core.stage_slot()?.properties(&args.prim_path, max_bytes)?;
                let text = serde_json::to_string(&properties).map_err(|e| PluginError::internal(e.to_string()))?;
                serde_json::from_str(&text).map_err(|e| PluginError::internal(e.to_string()))
            },
            svc::StageVariants => |core, _, args| {
                let variants = core.stage_slot()?.variants(&args.prim_path)?;
                Ok(svc::Variants {
                    variants: variants
                        .into_iter()
                        .map(|(set, v)| (set, svc::VariantSetInfo { options: v.options, selection: v.selection }))
                        .collect(),
                    prim_path: args.prim_path,
                })
            },
            svc::StageSetVariant => |core, _, args| stage_set_variant(core, args),
            svc::StagePrimCount => |core, _, _| {
                let slot = core.stage_slot()?;
                let count = slot
                    .current()
                    .map(|c| c.info.prim_count)
                    .ok_or_else(|| PluginError::bad_state("no stage is open"))?;
                Ok(svc::Count { count: count as u64 })
            },
            svc::StageBounds => |core, _, args| {
                let bounds = core.stage_slot()?.bounds_of(std::slice::from_ref(&args.prim_path))?;
                Ok(svc::PrimBounds { prim_path: args.prim_path, min: bounds.min, max: bounds.max })
            },
            svc::StageListScenes => |core, _, _| Ok(svc::Scenes { scenes: core.stage_slot()?.list_scenes()? }),
            svc::SelectionGet => |core, _, _| {
                Ok(svc::Prims { prims: core.selection().prims().to_vec() })
            },
            svc::SelectionSet => |core, _, args| {
                let prims = if args.paths.is_empty() { Vec::new() } else { core.stage_slot()?.existing(&args.paths)? };
                core.apply_selection(prims.clone(), "request");
                Ok(svc::Prims { prims })
            },
            svc::SelectionSetPickable => |core, _, args| {
                core.stage_slot()?;
                let count = core.selection_mut().set_pickable(args.mode.as_deref().unwrap_or("add"), args.paths)?;
                Ok(svc::PickableAnswer { count })
            },
            svc::ViewportPick => |core, _, args| {
                if !args.x.is_finite() || !args.y.is_finite() {
                    return Err(PluginError::invalid_input("'x' and 'y' must be finite numbers"));
                }
                Ok(svc::Picked { path: core.pick_path(args.x, args.y)? })
            },
            svc::ViewportSetInputActive => |core, client, args| {
                core.set_input_active(client, args.active);
                Ok(args)
            },
            svc::StatsGet => |core, _, _| Ok(core.stats().to_json(core.status(), core.hub().len())),
            svc::TimelineStateGet => |core, _, _| Ok(core.timeline().state()),
            svc::TimelineSetControl => |core, _, args| {
                core.timeline_mut().control(&args)?;
                let state = core.timeline().state();
                core.raise_event::<svc::TimelineChanged>(0, &state);
                Ok(state)
            },
        }
    })
}

/// Every service name the host answers, with its version (for tests and `/api/plugins`).
pub fn served() -> Vec<(&'static str, u32)> {
    dispatch_table().iter().map(|(name, (version, _))| (*name, *version)).collect()
}

impl Services for Core {
    fn call_text(&mut self, client: ClientId, service: &str, args_json: &str) -> Result<String, PluginError> {
        let Some((_, entry)) = dispatch_table().get(service) else {
            return Err(PluginError::not_found(format!("no host service named '{service}' (the list: host.services)")));
        };
        self.check_service(client, service)?;
        entry(self, client, args_json)
    }

    fn take_denied(&mut self) -> Option<String> {
        Core::take_denied(self)
    }

    fn parked(&self) -> bool {
        self.is_parked()
    }
}

/// The view through authored camera `path` of the open stage at time code `t` (its
/// [`TrackTarget::CAMERA`](ovhost_plugin_api::TrackTarget::CAMERA) track sampled; NaN or no track:
/// the camera as extracted).
pub(super) fn authored_camera_view(core: &Core, path: &str, t: f64) -> Result<CameraView, PluginError> {
    let current = core.stage().and_then(|s| s.current());
    let (index, authored) = current
        .and_then(|c| c.scene.cameras.iter().enumerate().find(|(_, cam)| cam.path.as_str() == path))
        .ok_or_else(|| PluginError::not_found(format!("no authored camera at '{path}'")))?;
    let track = current.and_then(|c| {
        c.scene.tracks.iter().find(|k| k.target == ovhost_plugin_api::TrackTarget::CAMERA && k.mesh as usize == index)
    });
    let mut sample = [0.0f32; ovhost_plugin_api::CAMERA_TRACK_STRIDE];
    let authored = match track {
        Some(track) if track.sample_into(t, &mut sample) => authored.with_track_sample(&sample),
        _ => authored.clone(),
    };
    let m = authored.world_transform;
    let eye = [m[12], m[13], m[14]];
    let forward = [-m[8], -m[9], -m[10]];
    let distance = current
        .map(|c| {
            let size = c.info.bounds.size();
            (size[0] * size[0] + size[1] * size[1] + size[2] * size[2]).sqrt().max(1e-3)
        })
        .unwrap_or(10.0);
    let view = CameraView {
        eye,
        target: std::array::from_fn(|i| eye[i] + forward[i] * distance * 0.5),
        up: [m[4], m[5], m[6]],
        fov_y_deg: authored.fov_y_deg,
        near: authored.near,
        far: authored.far,
        projection: authored.projection,
        ortho_height: authored.ortho_height,
        lens_shift: authored.lens_shift,
    };
    if !view.is_finite() {
        return Err(PluginError::invalid_input(format!("authored camera '{path}' has a non-finite transform")));
    }
    Ok(view)
}

pub(super) fn use_authored_camera(core: &mut Core, path: &str) -> Result<svc::CameraState, PluginError> {
    let view = authored_camera_view(core, path, core.timeline().time_code())?;
    core.camera_mut().adopt_authored(path, view)?;
    core.mark_changed();
    let state = core.camera_state();
    core.raise_event::<svc::CameraChanged>(0, &state);
    Ok(state)
}

/// Tells handlers (and so the requesters) that loads were replaced by request `by`.
fn raise_superseded(core: &mut Core, superseded: Vec<(u64, String)>, by: u64) {
    for (request_id, url) in superseded {
        core.raise(
            0,
            "stageOpenFailed",
            serde_json::json!({
                "request_id": request_id,
                "url": url,
                "code": "superseded",
                "error": format!("a newer request (#{by}) replaced this load before it finished"),
            }),
        );
    }
}

fn stage_open(core: &mut Core, args: svc::OpenArgs) -> Result<svc::OpenAnswer, PluginError> {
    let url = args.url.trim().to_string();
    let slot = core.stage_slot()?;
    let same = slot.current().is_some_and(|c| c.info.url == url) && !slot.is_loading();
    if same && !args.force {
        let info = slot.current().map(|c| serde_json::to_value(&c.info).unwrap_or(Value::Null));
        return Ok(svc::OpenAnswer { status: "already_open".into(), url: None, request_id: None, stage: info });
    }
    let reason = if args.force { LoadReason::Reload } else { LoadReason::Open };
    let request_id = slot.open(&url, reason)?;
    let superseded = slot.take_superseded();
    raise_superseded(core, superseded, request_id);
    core.status().set_state(super::state::RuntimeState::Loading);
    core.raise_event::<svc::StageLoading>(0, &svc::StageLoadingPayload { url: url.clone(), request_id });
    Ok(svc::OpenAnswer { status: "loading".into(), url: Some(url), request_id: Some(request_id), stage: None })
}

fn stage_set_variant(core: &mut Core, args: svc::SetVariantArgs) -> Result<svc::LoadingAnswer, PluginError> {
    let svc::SetVariantArgs { prim_path, variant_set: set, variant_selection: selection } = args;
    let keep = core.selection().prims().to_vec();
    let slot = core.stage_slot()?;
    let current = slot.current().ok_or_else(|| PluginError::bad_state("no stage is open"))?;
    let url = current.info.url.clone();
    let variants = slot.variants(&prim_path)?;
    let options = variants
        .get(&set)
        .ok_or_else(|| PluginError::not_found(format!("prim '{prim_path}' has no variant set '{set}'")))?;
    if !options.options.contains(&selection) {
        return Err(PluginError::not_found(format!(
            "variant set '{set}' has no option '{selection}' (options: {})",
            options.options.join(", ")
        )));
    }
    let request_id = slot.set_variant(prim_path, set, selection, keep)?;
    let superseded = slot.take_superseded();
    raise_superseded(core, superseded, request_id);
    core.status().set_state(super::state::RuntimeState::Loading);
    core.raise_event::<svc::StageLoading>(0, &svc::StageLoadingPayload { url, request_id });
    Ok(svc::LoadingAnswer { status: "loading".into(), request_id })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_serves_exactly_the_declared_services() {
        let served = super::served();
        let declared: Vec<(&str, u32)> = {
            let mut d: Vec<_> = ovhost_plugin_api::services::SERVICES.iter().map(|s| (s.name, s.version)).collect();
            d.sort_unstable();
            d
        };
        assert_eq!(served, declared);
    }
}

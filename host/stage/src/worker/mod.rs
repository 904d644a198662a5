//! The worker process: reads [`protocol`](crate::protocol) requests from stdin until EOF, keeps
//! the one open `openusd` stage (which is `!Send`) on a single large-stack thread, and answers on
//! stdout. It is meant to die on parser stack overflow; the client notices and restarts it.

mod animated;
mod confined;
mod curves;
mod extents;
mod extract;
mod gprims;
mod hierarchy;
mod lights;
mod materials;
mod mesh;
mod session_layer;
mod skel;
mod tetmesh;
mod textures;
mod time;
mod values;
mod xform;

use crate::protocol::{self, Envelope, ErrorClass, OpenFacts, ReplyHeader, Request, VariantSelection};
use crate::scene_codec;
use hierarchy::Hierarchy;
use openusd::usd;
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

pub use confined::ASSET_ROOT_ENV;

/// Stack for the parsing thread. Deep but legitimate scenes fit; runaway recursion still
/// overflows and kills the process, which the client reports and recovers from.
pub const WORKER_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Entry point of the worker process (`ovhost __stage-worker`). Returns when stdin closes.
pub fn worker_main() -> ExitCode {
    if let Some(bytes) = std::env::var(crate::service::WORKER_MEMORY_ENV).ok().and_then(|v| v.parse::<u64>().ok()) {
        // The address-space limit: an allocation beyond it fails, Rust aborts with "memory
        // allocation of N bytes failed", and the client reports the limit.
        if let Err(e) = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, bytes, bytes) {
            eprintln!("ovhost stage worker: could not set its memory limit: {e}");
        }
    }
    let spawned = std::thread::Builder::new().name("usd-parser".into()).stack_size(WORKER_STACK_BYTES).spawn(serve);
    match spawned {
        Ok(handle) => handle.join().unwrap_or(ExitCode::FAILURE),
        Err(e) => {
            eprintln!("ovhost stage worker: could not start the parser thread: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A request failure: its class and a sentence for the user.
type Failure = (ErrorClass, String);

/// The open stage and everything precomputed for queries.
struct Loaded {
    stage: usd::Stage,
    hierarchy: Hierarchy,
    drawn: Vec<(String, ovhost_plugin_api::Bounds)>,
    /// Why each texture that has no pixels failed, by resolved path (for the inspector).
    texture_errors: std::collections::HashMap<String, String>,
    /// Textures sent without pixels, decoded by later `textures` requests.
    pending_textures: Option<textures::Pending>,
}

fn serve() -> ExitCode {
    let stdin = std::io::stdin().lock();
    let mut stdout = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut loaded: Option<Loaded> = None;
    let mut cache = textures::TextureCache::default();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let (id, outcome) = match serde_json::from_str::<Envelope>(&line) {
            Ok(env) => {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handle(&mut loaded, &mut cache, env.request)
                }))
                .unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "unknown panic".into());
                    Err((ErrorClass::OpenFailed, format!("the parser failed internally: {what}")))
                });
                (env.id, outcome)
            }
            Err(e) => (0, Err((ErrorClass::BadRequest, format!("the request is not valid JSON for this worker: {e}")))),
        };
        let (header, result, scene) = match outcome {
            Ok((result, scene)) => {
                let header =
                    ReplyHeader { id, error: None, result_bytes: result.len() as u64, scene_bytes: scene.len() as u64 };
                (header, result, scene)
            }
            Err(err) => (ReplyHeader { id, error: Some(err), result_bytes: 0, scene_bytes: 0 }, Vec::new(), Vec::new()),
        };
        if protocol::write_reply(&mut stdout, &header, &result, &scene).is_err() {
            break; // the client went away
        }
    }
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

fn handle(
    loaded: &mut Option<Loaded>,
    cache: &mut textures::TextureCache,
    request: Request,
) -> Result<(Vec<u8>, Vec<u8>), Failure> {
    if let Request::Open { path, variants, send_scene, asset_root, defer_textures } = request {
        let (next, facts, scene) = open(&path, &variants, send_scene, asset_root.as_deref(), defer_textures, cache)?;
        *loaded = Some(next);
        return Ok((json(&facts)?, scene));
    }
    if let Request::Textures { max_decodes } = request {
        let state = loaded.as_mut().ok_or((ErrorClass::NoStage, "no stage is open; open a stage first".to_owned()))?;
        let Some(pending) = state.pending_textures.as_mut() else {
            return Ok((json(&protocol::TexturesFacts { remaining: 0 })?, scene_codec::encode_textures(&[])));
        };
        let (batch, decoded) = cache.next_batch(pending, max_decodes);
        for (resolved, error) in decoded.errors {
            eprintln!("ovhost stage worker: texture {resolved}: {error}; the material input uses its fallback");
            state.texture_errors.insert(resolved, error);
        }
        let remaining = pending.remaining();
        if remaining == 0 {
            state.pending_textures = None;
        }
        return Ok((json(&protocol::TexturesFacts { remaining })?, scene_codec::encode_textures(&batch)));
    }
    let state = loaded.as_ref().ok_or((ErrorClass::NoStage, "no stage is open; open a stage first".to_owned()))?;
    let result = match request {
        Request::Open { .. } | Request::Textures { .. } => {
            return Err((ErrorClass::BadRequest, "open and textures are handled separately".to_owned()));
        }
        Request::Children { prim_path } => {
            json(&state.hierarchy.children(&prim_path).ok_or_else(|| no_prim(&prim_path))?)?
        }
        Request::Properties { prim_path, max_bytes } => {
            let prim = known_prim(state, &prim_path)?;
            let mut props = values::properties(&prim, max_bytes).map_err(|e| read_failed(&prim_path, e))?;
            if is_gprim(&prim) || prim.type_name().ok().flatten().is_some_and(|t| t.as_str() == "GeomSubset") {
                // The bound material first after the type, so a truncated answer still has it.
                let material = materials::MaterialTable::default().inspect(&state.stage, &prim, &state.texture_errors);
                props.properties.insert(1.min(props.properties.len()), ("material:bound".to_owned(), material));
            }
            json(&protocol::PropertiesWire::from(props))?
        }
        Request::Variants { prim_path } => {
            let prim = known_prim(state, &prim_path)?;
            json(&values::variants(&state.stage, &prim).map_err(|e| read_failed(&prim_path, e))?)?
        }
        Request::PrimCount => json(&state.hierarchy.prim_count())?,
        Request::Existing { paths } => {
            json(&paths.into_iter().filter(|p| state.hierarchy.contains(p)).collect::<Vec<_>>())?
        }
        Request::MaterialBindings { purpose } => json(&material_bindings(&state.stage, &purpose))?,
        Request::Bounds { prim_path } => {
            if !state.hierarchy.contains(&prim_path) {
                return Err(no_prim(&prim_path));
            }
            let bounds = if prim_path == "/" {
                state.drawn.iter().fold(ovhost_plugin_api::Bounds::EMPTY, |acc, (_, b)| acc.union(b))
            } else {
                let prim = known_prim(state, &prim_path)?;
                extract::subtree_bounds(&state.stage, &prim, &state.drawn)
            };
            #[derive(serde::Serialize)]
            struct Wire(#[serde(with = "crate::types::bounds_serde")] ovhost_plugin_api::Bounds);
            json(&Wire(bounds))?
        }
    };
    Ok((result, Vec::new()))
}

/// Serializes an answer straight to bytes (no intermediate `Value`, which would also sort maps).
fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(value).map_err(|e| (ErrorClass::BadRequest, format!("could not encode the answer: {e}")))
}

fn no_prim(path: &str) -> Failure {
    (ErrorClass::NoSuchPrim, format!("there is no active prim at '{path}' on the open stage"))
}

fn read_failed(path: &str, e: anyhow::Error) -> Failure {
    (ErrorClass::OpenFailed, format!("could not read prim '{path}': {e:#}"))
}

fn known_prim(state: &Loaded, path: &str) -> Result<usd::Prim, Failure> {
    if path == "/" || !state.hierarchy.contains(path) {
        return Err(no_prim(path));
    }
    let parsed = hierarchy::parse_prim_path(path).ok_or_else(|| no_prim(path))?;
    Ok(state.stage.prim(parsed))
}

/// Opens, indexes and extracts a stage; nothing is replaced unless all of it succeeds.
fn open(
    path: &str,
    variants: &[VariantSelection],
    send_scene: bool,
    asset_root: Option<&str>,
    defer_textures: bool,
    cache: &mut textures::TextureCache,
) -> Result<(Loaded, OpenFacts, Vec<u8>), Failure> {
    let failed = |message: String| (ErrorClass::OpenFailed, message);
    // Every layer, reference, payload and clip resolves inside the asset root (the client
    // passes it; a worker started by hand without it uses the root layer's directory).
    let root = std::env::var_os(confined::ASSET_ROOT_ENV)
        .map(std::path::PathBuf::from)
        .or_else(|| std::path::Path::new(path).parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default();
    let refused = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut resolver = confined::ConfinedResolver::new(&root, refused.clone())
        .map_err(|e| failed(format!("the asset root '{}' cannot be used: {e}", root.display())))?;
    let session = if variants.is_empty() { None } else { Some(session_layer::write(variants).map_err(failed)?) };
    if let Some(session) = &session {
        resolver.allow_own_file(session);
    }
    let mut builder = usd::Stage::builder().resolver(resolver);
    if let Some(session) = &session {
        builder = builder.session_layer(session.to_string_lossy().into_owned());
    }
    let stage = builder.open(path).map_err(|e| {
        let refusals = refused.borrow().join("; ");
        if refusals.is_empty() { failed(format!("{e:#}")) } else { failed(format!("{e:#} ({refusals})")) }
    })?;
    for wanted in variants {
        let Some(prim_path) = hierarchy::parse_prim_path(&wanted.prim_path) else {
            return Err(no_prim(&wanted.prim_path));
        };
        let prim = stage.prim(prim_path);
        let sets = values::variants(&stage, &prim).map_err(|e| failed(format!("{e:#}")))?;
        let Some(set) = sets.get(&wanted.set) else {
            return Err((
                ErrorClass::NoSuchPrim,
                format!("prim '{}' has no variant set '{}'", wanted.prim_path, wanted.set),
            ));
        };
        if !set.options.contains(&wanted.selection) || set.selection != wanted.selection {
            return Err((
                ErrorClass::NoSuchPrim,
                format!(
                    "variant set '{}' on '{}' has no variant '{}' (options: {})",
                    wanted.set,
                    wanted.prim_path,
                    wanted.selection,
                    set.options.join(", ")
                ),
            ));
        }
    }
    let hierarchy = Hierarchy::build(&stage).map_err(|e| failed(format!("{e:#}")))?;
    let extracted = extract::extract(&stage);
    let mut scene = extracted.scene;
    let root = asset_root.map(std::path::Path::new);
    let (texture_errors, pending_textures) = if defer_textures {
        let (placeholders, pending) = cache.defer(&extracted.materials.textures, root);
        scene.textures = placeholders.into();
        (std::collections::HashMap::new(), (pending.remaining() > 0).then_some(pending))
    } else {
        let decoded = cache.load(&extracted.materials.textures, root);
        for (resolved, error) in &decoded.errors {
            eprintln!("ovhost stage worker: texture {resolved}: {error}; the material input uses its fallback");
        }
        scene.textures = decoded.textures.into();
        (decoded.errors, None)
    };
    let up_axis = match stage.stage_metadata("upAxis") {
        Ok(Some(openusd::sdf::Value::Token(t))) => ovhost_plugin_api::UpAxis::parse(t.as_str()),
        Ok(Some(openusd::sdf::Value::String(s))) => ovhost_plugin_api::UpAxis::parse(&s),
        _ => ovhost_plugin_api::UpAxis::Y,
    };
    let meters_per_unit = match stage.stage_metadata("metersPerUnit") {
        Ok(Some(v)) => xform::numbers(&v).and_then(|n| n.first().copied()).filter(|m| *m > 0.0).unwrap_or(0.01),
        _ => 0.01,
    };
    let default_prim = stage.default_prim().map(|t| t.as_str().to_owned());
    scene.root_prim_path = hierarchy.root_prim_path(default_prim.as_deref()).into();
    scene.up_axis = up_axis;
    scene.meters_per_unit = meters_per_unit;
    let facts = OpenFacts {
        root_prim_path: scene.root_prim_path.to_string(),
        up_axis: up_axis.as_str().to_owned(),
        meters_per_unit,
        prim_count: hierarchy.prim_count(),
        bounds: scene.bounds,
        triangle_count: scene.triangle_count(),
        cameras: scene.cameras.iter().map(|c| c.path.to_string()).collect(),
        warnings: refused.borrow().clone(),
    };
    let bytes = if send_scene { scene_codec::encode(&scene) } else { Vec::new() };
    Ok((Loaded { stage, hierarchy, drawn: extracted.drawn, texture_errors, pending_textures }, facts, bytes))
}

/// Gprim schema types (what `UsdGeom.Gprim` covers).
fn is_gprim(prim: &usd::Prim) -> bool {
    let type_name = prim.type_name().ok().flatten().map(|t| t.as_str().to_owned()).unwrap_or_default();
    crate::TypeClass::of_type_name(&type_name) == crate::TypeClass::Geom && type_name != "PointInstancer"
}

/// The bound material of every gprim and `materialBind` subset on the default traversal.
fn material_bindings(stage: &usd::Stage, purpose: &str) -> std::collections::BTreeMap<String, String> {
    let mut table = materials::MaterialTable::default();
    let mut out = std::collections::BTreeMap::new();
    let mut stack = stage.prim(openusd::sdf::Path::abs_root()).children().unwrap_or_default();
    while let Some(prim) = stack.pop() {
        if !prim.is_active().unwrap_or(false)
            || !prim.is_defined().unwrap_or(false)
            || prim.is_abstract().unwrap_or(true)
        {
            continue;
        }
        if is_gprim(&prim) {
            let mut targets = vec![prim.clone()];
            targets.extend(materials::material_bind_subsets(&prim));
            for target in targets {
                let bound = table.bound_material(stage, target.path(), purpose);
                out.insert(target.path().as_str().to_owned(), bound.map(|p| p.as_str().to_owned()).unwrap_or_default());
            }
        }
        stack.extend(prim.children().unwrap_or_default());
    }
    out
}

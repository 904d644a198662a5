//! Materials as USD resolves them: which material a prim (or a face subset) is bound to, computed
//! as `UsdShadeMaterialBindingAPI::ComputeBoundMaterial` does, and the bound material's
//! UsdPreviewSurface network read into the scene's material and texture tables.
//!
//! Binding resolution, per purpose (the requested one, then all-purpose): walk from the prim to
//! the root; at each prim the first collection binding whose collection includes the prim wins
//! over that prim's direct binding; a binding found nearer the prim wins unless an ancestor's
//! binding says `bindMaterialAs = strongerThanDescendants`. Bindings are honoured whether or not
//! MaterialBindingAPI is applied (pxr warns but honours them). A target that is not a `Material`
//! prim binds nothing.
//!
//! Surfaces: the universal `outputs:surface` (through NodeGraph outputs and interface inputs).
//! A material whose universal surface is missing or is not a UsdPreviewSurface (e.g. only
//! `outputs:mtlx:surface`) falls back to displayColor; [`MaterialTable::fallback`] says why.
//! `displacement` is not read (the renderer does not displace).

use super::xform;
use openusd::{sdf, usd};
use ovhost_plugin_api::abi_stable::std_types::{RString, RVec};
use ovhost_plugin_api::{ColorSpace, FaceSubset, Material, MaterialInput, WrapMode};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// The purpose a viewer draws with (usdview and Storm use `preview`).
pub const VIEW_PURPOSE: &str = "preview";

/// The UsdPreviewSurface inputs read, with their spec fallbacks (UsdPreviewSurface 2.6).
pub const PREVIEW_INPUTS: [(&str, [f32; 4]); 13] = [
    ("diffuseColor", [0.18, 0.18, 0.18, 0.0]),
    ("emissiveColor", [0.0; 4]),
    ("useSpecularWorkflow", [0.0; 4]),
    ("specularColor", [0.0; 4]),
    ("metallic", [0.0; 4]),
    ("roughness", [0.5, 0.0, 0.0, 0.0]),
    ("clearcoat", [0.0; 4]),
    ("clearcoatRoughness", [0.01, 0.0, 0.0, 0.0]),
    ("opacity", [1.0, 0.0, 0.0, 0.0]),
    ("opacityThreshold", [0.0; 4]),
    ("ior", [1.5, 0.0, 0.0, 0.0]),
    ("normal", [0.0, 0.0, 1.0, 0.0]),
    ("occlusion", [1.0, 0.0, 0.0, 0.0]),
];

/// Connections followed before a network is taken as cyclic.
const MAX_HOPS: usize = 32;

/// A texture the materials use, before decoding: keyed by resolved path, colour space and wrap.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TextureRequest {
    pub asset_path: String,
    /// `None` when the asset path did not resolve.
    pub resolved: Option<String>,
    pub color_space: ColorSpace,
    pub wrap_s: WrapMode,
    pub wrap_t: WrapMode,
}

/// Where an input's value comes from after following connections.
enum Source {
    /// Not connected: the attribute holding the value (maybe a material interface input).
    Value(Option<sdf::Value>),
    /// A shader output: the shader prim and the output's base name.
    Output(usd::Prim, String),
}

/// The material and texture tables being built for one stage.
#[derive(Default)]
pub struct MaterialTable {
    pub materials: Vec<Material>,
    /// Per material: why it fell back to displayColor, if it did.
    pub fallbacks: Vec<Option<String>>,
    pub textures: Vec<TextureRequest>,
    by_path: HashMap<String, u32>,
    texture_by_key: HashMap<TextureRequest, u32>,
    queries: HashMap<String, Option<usd::MembershipQuery>>,
    /// Authored bindings per (prim path, purpose).
    authored: HashMap<(String, String), std::rc::Rc<AuthoredBindings>>,
}

/// How one mesh's faces map to materials, decided before the mesh is built.
pub struct MeshPlan {
    /// 1-based material of faces in no subset (0 = none).
    pub mesh_material: u32,
    /// `materialBind` subsets: (1-based material, face indices).
    pub subsets: Vec<(u32, Vec<i32>)>,
    /// The texture-coordinate primvar the materials read (first one found), if any.
    pub uv_set: Option<String>,
}

impl MeshPlan {
    /// True when the mesh draws with no material at all (displayColor everywhere).
    pub fn is_unbound(&self) -> bool {
        self.mesh_material == 0 && self.subsets.iter().all(|(m, _)| *m == 0)
    }

    /// Reorders `indices` (triangles, with `tri_faces[t]` the source face of triangle `t`) so each
    /// material's triangles are contiguous, and returns the runs. Empty when unbound.
    pub fn apply(&self, indices: &mut RVec<u32>, tri_faces: &[u32]) -> RVec<FaceSubset> {
        if self.is_unbound() {
            return RVec::new();
        }
        let mut face_material: HashMap<u32, u32> = HashMap::new();
        for (material, faces) in &self.subsets {
            for &f in faces {
                if let Ok(f) = u32::try_from(f) {
                    face_material.entry(f).or_insert(*material);
                }
            }
        }
        let material_of =
            |t: usize| tri_faces.get(t).and_then(|f| face_material.get(f)).copied().unwrap_or(self.mesh_material);
        let tri_count = indices.len() / 3;
        let mut order: Vec<u32> = Vec::new();
        for t in 0..tri_count {
            let m = material_of(t);
            if !order.contains(&m) {
                order.push(m);
            }
        }
        if order.len() <= 1 {
            let material = order.first().copied().unwrap_or(self.mesh_material);
            return vec![FaceSubset { first_index: 0, index_count: indices.len() as u32, material }].into();
        }
        let mut out = Vec::with_capacity(indices.len());
        let mut runs = RVec::new();
        for &m in &order {
            let first = out.len() as u32;
            for t in (0..tri_count).filter(|&t| material_of(t) == m) {
                out.extend_from_slice(&indices[3 * t..3 * t + 3]);
            }
            runs.push(FaceSubset { first_index: first, index_count: out.len() as u32 - first, material: m });
        }
        *indices = out.into();
        runs
    }
}

fn token_or_string(value: &sdf::Value) -> Option<String> {
    match value {
        sdf::Value::Token(t) => Some(t.as_str().to_owned()),
        sdf::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Any numeric USD value as up to four floats.
pub fn floats(value: &sdf::Value) -> Option<Vec<f32>> {
    use sdf::Value as V;
    Some(match value {
        V::Bool(b) => vec![f32::from(u8::from(*b))],
        V::Vec2f(v) => vec![v.x, v.y],
        V::Vec2d(v) => vec![v.x as f32, v.y as f32],
        V::Vec2h(v) => vec![v.x.to_f32(), v.y.to_f32()],
        V::Vec4f(v) => vec![v.x, v.y, v.z, v.w],
        V::Vec4d(v) => vec![v.x as f32, v.y as f32, v.z as f32, v.w as f32],
        V::Vec4h(v) => vec![v.x.to_f32(), v.y.to_f32(), v.z.to_f32(), v.w.to_f32()],
        other => xform::numbers(other)?.into_iter().map(|x| x as f32).collect(),
    })
}

fn pad4(v: &[f32], fill: [f32; 4]) -> [f32; 4] {
    std::array::from_fn(|i| v.get(i).copied().unwrap_or(fill[i]))
}

/// `UsdGeomGprim.doubleSided` (fallback false: back faces are culled, as usdview draws them).
pub fn double_sided(prim: &usd::Prim) -> bool {
    match get(prim, "doubleSided") {
        Some(sdf::Value::Bool(b)) => b,
        Some(other) => floats(&other).and_then(|v| v.first().copied()).is_some_and(|v| v != 0.0),
        None => false,
    }
}

fn get(prim: &usd::Prim, name: &str) -> Option<sdf::Value> {
    prim.attribute(name).get::<sdf::Value>().ok().flatten()
}

fn shader_id(prim: &usd::Prim) -> String {
    get(prim, "info:id").as_ref().and_then(token_or_string).unwrap_or_default()
}

/// Follows an attribute's connections to the shader output (or the unconnected value) it reads.
fn source_of(stage: &usd::Stage, prim: &usd::Prim, name: &str) -> Source {
    let mut attr = prim.attribute(name);
    for _ in 0..MAX_HOPS {
        let Some(target) = attr.connections().ok().and_then(|c| c.into_iter().next()) else {
            return Source::Value(attr.get::<sdf::Value>().ok().flatten());
        };
        let Some((owner, prop)) = target.split_property() else { return Source::Value(None) };
        let owner_prim = stage.prim(owner.clone());
        if let Some(output) = prop.strip_prefix("outputs:") {
            // A NodeGraph (or Material) output forwards its own connection.
            let forwarded = owner_prim.attribute(prop);
            if forwarded.connections().map(|c| !c.is_empty()).unwrap_or(false) {
                attr = forwarded;
                continue;
            }
            return Source::Output(owner_prim, output.to_owned());
        }
        attr = owner_prim.attribute(prop);
    }
    Source::Value(None)
}

/// The unconnected value an input resolves to (through interface inputs).
fn value_of(stage: &usd::Stage, prim: &usd::Prim, name: &str) -> Option<sdf::Value> {
    match source_of(stage, prim, name) {
        Source::Value(v) => v,
        Source::Output(..) => None,
    }
}

fn wrap(token: Option<String>) -> WrapMode {
    match token.as_deref() {
        Some("black") => WrapMode::BLACK,
        Some("clamp") => WrapMode::CLAMP,
        Some("repeat") => WrapMode::REPEAT,
        Some("mirror") => WrapMode::MIRROR,
        _ => WrapMode::USE_METADATA,
    }
}

impl MaterialTable {
    /// The material bound to the prim at `path` for `purpose` ("" = all-purpose), as pxr's
    /// `ComputeBoundMaterial` finds it.
    pub fn bound_material(&mut self, stage: &usd::Stage, path: &sdf::Path, purpose: &str) -> Option<sdf::Path> {
        let purposes: &[&str] = if purpose.is_empty() { &[""] } else { &[purpose, ""] };
        for &purpose in purposes {
            let mut bound: Option<sdf::Path> = None;
            let mut at = Some(path.clone());
            while let Some(p) = at.filter(|p| !p.is_abs_root() && !p.as_str().is_empty()) {
                let prim = stage.prim(p.clone());
                if let Some((material, stronger)) = self.binding_at(stage, &prim, path, purpose)
                    && (bound.is_none() || stronger)
                {
                    bound = Some(material);
                }
                at = p.parent();
            }
            if bound.is_some() {
                return bound;
            }
        }
        None
    }

    /// The binding authored on `prim` that applies to `target` for exactly `purpose`: the first
    /// matching collection binding, else the direct binding. `(material, strongerThanDescendants)`.
    fn binding_at(
        &mut self,
        stage: &usd::Stage,
        prim: &usd::Prim,
        target: &sdf::Path,
        purpose: &str,
    ) -> Option<(sdf::Path, bool)> {
        let key = (prim.path().as_str().to_owned(), purpose.to_owned());
        let authored = match self.authored.get(&key) {
            Some(a) => std::rc::Rc::clone(a),
            None => {
                let a = std::rc::Rc::new(authored_bindings(stage, prim, purpose));
                self.authored.insert(key, std::rc::Rc::clone(&a));
                a
            }
        };
        for (collection, material, stronger) in &authored.collections {
            if self.collection_includes(stage, collection, target) {
                return Some((material.clone(), *stronger));
            }
        }
        authored.direct.clone()
    }

    fn collection_includes(&mut self, stage: &usd::Stage, collection: &sdf::Path, target: &sdf::Path) -> bool {
        let key = collection.as_str().to_owned();
        let query = self.queries.entry(key).or_insert_with(|| {
            let (prim, name) = usd::is_collection_api_path(collection)?;
            usd::Collection::new(prim, name).compute_membership_query(stage).ok()
        });
        query.as_ref().is_some_and(|q| q.is_path_included(target))
    }

    /// The 1-based index of the material at `path`, reading it on first sight.
    pub fn material_index(&mut self, stage: &usd::Stage, path: &sdf::Path) -> u32 {
        if let Some(&i) = self.by_path.get(path.as_str()) {
            return i;
        }
        let (material, fallback) = self.read_material(stage, path);
        self.materials.push(material);
        self.fallbacks.push(fallback);
        let index = self.materials.len() as u32;
        self.by_path.insert(path.as_str().to_owned(), index);
        index
    }

    /// Binding plan of a gprim: its own material and its `materialBind` face subsets'.
    pub fn plan_mesh(&mut self, stage: &usd::Stage, prim: &usd::Prim) -> MeshPlan {
        let mesh_material = match self.bound_material(stage, prim.path(), VIEW_PURPOSE) {
            Some(m) => self.material_index(stage, &m),
            None => 0,
        };
        let mut subsets = Vec::new();
        for child in material_bind_subsets(prim) {
            let faces = super::mesh::ints(get(&child, "indices")).unwrap_or_default();
            let material = match self.bound_material(stage, child.path(), VIEW_PURPOSE) {
                Some(m) => self.material_index(stage, &m),
                None => 0,
            };
            subsets.push((material, faces));
        }
        let uv_set = std::iter::once(mesh_material)
            .chain(subsets.iter().map(|(m, _)| *m))
            .filter_map(|m| (m as usize).checked_sub(1).and_then(|i| self.materials.get(i)))
            .flat_map(|m| m.inputs.iter())
            .find(|i| i.texture != 0)
            .map(|i| i.uv_set.to_string());
        MeshPlan { mesh_material, subsets, uv_set }
    }

    /// Why the 1-based material fell back to displayColor, if it did.
    pub fn fallback(&self, index: u32) -> Option<&str> {
        (index as usize).checked_sub(1).and_then(|i| self.fallbacks.get(i)).and_then(|f| f.as_deref())
    }

    fn read_material(&mut self, stage: &usd::Stage, path: &sdf::Path) -> (Material, Option<String>) {
        let prim = stage.prim(path.clone());
        let mut material =
            Material { path: RString::from(path.as_str()), surface: RString::new(), inputs: RVec::new() };
        let surface = match source_of(stage, &prim, "outputs:surface") {
            Source::Output(shader, _) => Some(shader),
            Source::Value(_) => None,
        };
        let Some(shader) = surface else {
            let contexts: Vec<String> = prim
                .property_names()
                .unwrap_or_default()
                .iter()
                .filter_map(|n| n.as_str().strip_prefix("outputs:")?.strip_suffix(":surface").map(str::to_owned))
                .collect();
            let why = if contexts.is_empty() {
                format!("material {} has no surface output; drawn with displayColor", path.as_str())
            } else {
                format!(
                    "material {} has only a {} surface and no UsdPreviewSurface (universal) output; drawn with displayColor",
                    path.as_str(),
                    contexts.join(", ")
                )
            };
            material.surface = RString::from(contexts.first().map(|c| format!("{c}:surface")).unwrap_or_default());
            return (material, Some(why));
        };
        let id = shader_id(&shader);
        material.surface = RString::from(id.as_str());
        if id != "UsdPreviewSurface" {
            let why = format!(
                "material {} has a {} surface ({}), not UsdPreviewSurface; drawn with displayColor",
                path.as_str(),
                if id.is_empty() { "non-preview" } else { &id },
                shader.path().as_str()
            );
            return (material, Some(why));
        }
        for (name, fallback) in PREVIEW_INPUTS {
            let attr_name = format!("inputs:{name}");
            if let Some(input) = self.read_input(stage, &shader, name, &attr_name, fallback) {
                material.inputs.push(input);
            }
        }
        (material, None)
    }

    /// One UsdPreviewSurface input: `None` when unauthored (the renderer uses the spec fallback).
    fn read_input(
        &mut self,
        stage: &usd::Stage,
        shader: &usd::Prim,
        name: &str,
        attr_name: &str,
        fallback: [f32; 4],
    ) -> Option<MaterialInput> {
        let mut input = MaterialInput {
            name: RString::from(name),
            value: fallback,
            texture: 0,
            channels: RString::new(),
            scale: [1.0; 4],
            bias: [0.0; 4],
            uv_set: RString::from("st"),
            uv_transform: [1.0, 1.0, 0.0, 0.0, 0.0],
        };
        match source_of(stage, shader, attr_name) {
            Source::Value(None) => None,
            Source::Value(Some(v)) => {
                input.value = pad4(&floats(&v)?, fallback);
                Some(input)
            }
            Source::Output(source, output) => {
                if shader_id(&source) != "UsdUVTexture" {
                    // Another kind of node (e.g. a primvar reader): its authored value, else the
                    // spec fallback.
                    if let Some(v) = shader.attribute(attr_name).get::<sdf::Value>().ok().flatten() {
                        input.value = pad4(&floats(&v).unwrap_or_default(), fallback);
                    }
                    return Some(input);
                }
                self.read_texture(stage, &source, &output, &mut input);
                Some(input)
            }
        }
    }

    fn read_texture(&mut self, stage: &usd::Stage, tex: &usd::Prim, output: &str, input: &mut MaterialInput) {
        let num4 = |name: &str, fill: [f32; 4]| {
            value_of(stage, tex, name).as_ref().and_then(floats).map_or(fill, |v| pad4(&v, fill))
        };
        let token = |name: &str| value_of(stage, tex, name).as_ref().and_then(token_or_string);
        input.value = num4("inputs:fallback", [0.0, 0.0, 0.0, 1.0]);
        input.scale = num4("inputs:scale", [1.0; 4]);
        input.bias = num4("inputs:bias", [0.0; 4]);
        input.channels = RString::from(output);
        let color_space = match token("inputs:sourceColorSpace").as_deref() {
            Some("raw") => ColorSpace::RAW,
            Some("sRGB") => ColorSpace::SRGB,
            _ => ColorSpace::AUTO,
        };
        // texture coordinates: UsdPrimvarReader_float2, maybe through UsdTransform2d.
        if let Source::Output(mut st, _) = source_of(stage, tex, "inputs:st") {
            if shader_id(&st) == "UsdTransform2d" {
                let scale = value_of(stage, &st, "inputs:scale").as_ref().and_then(floats).unwrap_or(vec![1.0, 1.0]);
                let rotation = value_of(stage, &st, "inputs:rotation").as_ref().and_then(floats).unwrap_or(vec![0.0]);
                let translation =
                    value_of(stage, &st, "inputs:translation").as_ref().and_then(floats).unwrap_or(vec![0.0, 0.0]);
                input.uv_transform = [
                    scale.first().copied().unwrap_or(1.0),
                    scale.get(1).copied().unwrap_or(1.0),
                    rotation.first().copied().unwrap_or(0.0),
                    translation.first().copied().unwrap_or(0.0),
                    translation.get(1).copied().unwrap_or(0.0),
                ];
                match source_of(stage, &st, "inputs:in") {
                    Source::Output(reader, _) => st = reader,
                    Source::Value(_) => return self.finish_texture(stage, tex, color_space, input),
                }
            }
            if shader_id(&st).starts_with("UsdPrimvarReader")
                && let Some(name) = value_of(stage, &st, "inputs:varname").as_ref().and_then(token_or_string)
                && !name.is_empty()
            {
                input.uv_set = RString::from(name.strip_prefix("primvars:").unwrap_or(&name));
            }
        }
        self.finish_texture(stage, tex, color_space, input);
    }

    fn finish_texture(
        &mut self,
        stage: &usd::Stage,
        tex: &usd::Prim,
        color_space: ColorSpace,
        input: &mut MaterialInput,
    ) {
        let token = |name: &str| value_of(stage, tex, name).as_ref().and_then(token_or_string);
        let (asset_path, resolved) = match value_of(stage, tex, "inputs:file") {
            Some(sdf::Value::AssetPath(a)) => (a.asset_path().to_owned(), a.resolved_path().map(str::to_owned)),
            _ => (String::new(), None),
        };
        if asset_path.is_empty() {
            return; // no file: the input reads its fallback
        }
        let request = TextureRequest {
            asset_path,
            resolved,
            color_space,
            wrap_s: wrap(token("inputs:wrapS")),
            wrap_t: wrap(token("inputs:wrapT")),
        };
        input.texture = self.texture_index(request);
    }

    /// The 1-based index of a texture request (shared between inputs and lights).
    pub fn texture_index(&mut self, request: TextureRequest) -> u32 {
        if let Some(&i) = self.texture_by_key.get(&request) {
            return i;
        }
        self.textures.push(request.clone());
        let index = self.textures.len() as u32;
        self.texture_by_key.insert(request, index);
        index
    }

    /// The inspector's view of a prim's material: bound path, surface, inputs, fallback.
    pub fn inspect(&mut self, stage: &usd::Stage, prim: &usd::Prim, texture_errors: &HashMap<String, String>) -> Json {
        let Some(path) = self.bound_material(stage, prim.path(), VIEW_PURPOSE) else {
            return json!({"path": null, "purpose": VIEW_PURPOSE, "fallback": "no material is bound; drawn with displayColor"});
        };
        let index = self.material_index(stage, &path);
        let material = self.materials[index as usize - 1].clone();
        let mut inputs = serde_json::Map::new();
        for input in material.inputs.iter() {
            let entry = match (input.texture as usize).checked_sub(1).and_then(|t| self.textures.get(t)) {
                Some(tex) => {
                    let error = match tex.resolved.as_ref() {
                        None => Some(unresolved_reason(&tex.asset_path)),
                        Some(r) => texture_errors.get(r).cloned(),
                    };
                    json!({
                        "texture": tex.asset_path,
                        "resolved": tex.resolved,
                        "channels": input.channels.as_str(),
                        "uv_set": input.uv_set.as_str(),
                        "fallback": input.value,
                        "error": error,
                    })
                }
                None => json!({"value": input.value}),
            };
            inputs.insert(input.name.to_string(), entry);
        }
        json!({
            "path": path.as_str(),
            "purpose": VIEW_PURPOSE,
            "surface": material.surface.as_str(),
            "fallback": self.fallback(index),
            "inputs": inputs,
        })
    }
}

/// A prim's authored bindings for exactly one purpose, in property order.
#[derive(Default)]
struct AuthoredBindings {
    /// (collection path, material, strongerThanDescendants)
    collections: Vec<(sdf::Path, sdf::Path, bool)>,
    direct: Option<(sdf::Path, bool)>,
}

fn authored_bindings(stage: &usd::Stage, prim: &usd::Prim, purpose: &str) -> AuthoredBindings {
    let mut out = AuthoredBindings::default();
    let names = prim.property_names().unwrap_or_default();
    let prefix = "material:binding:collection:";
    for name in names.iter().map(|n| n.as_str()) {
        let Some(rest) = name.strip_prefix(prefix) else { continue };
        let binding_name = if purpose.is_empty() {
            rest
        } else {
            match rest.strip_prefix(purpose).and_then(|r| r.strip_prefix(':')) {
                Some(r) => r,
                None => continue,
            }
        };
        if binding_name.contains(':') {
            continue; // a purpose-specific binding seen while looking for all-purpose ones
        }
        let targets = prim.relationship(name).targets().unwrap_or_default();
        let [collection, material] = targets.as_slice() else { continue };
        let (collection, material) =
            if material.as_str().contains(".collection:") { (material, collection) } else { (collection, material) };
        if is_material(stage, material) {
            out.collections.push((collection.clone(), material.clone(), stronger(prim, name)));
        }
    }
    let direct = if purpose.is_empty() { "material:binding".to_owned() } else { format!("material:binding:{purpose}") };
    if let Some(material) = prim.relationship(direct.as_str()).targets().ok().and_then(|t| t.into_iter().next())
        && is_material(stage, &material)
    {
        out.direct = Some((material, stronger(prim, &direct)));
    }
    out
}

fn is_material(stage: &usd::Stage, path: &sdf::Path) -> bool {
    stage.prim(path.clone()).type_name().ok().flatten().is_some_and(|t| t.as_str() == "Material")
}

fn stronger(prim: &usd::Prim, rel_name: &str) -> bool {
    matches!(
        prim.attribute(rel_name).get_metadata::<sdf::Value>("bindMaterialAs"),
        Ok(Some(v)) if token_or_string(&v).as_deref() == Some("strongerThanDescendants")
    )
}

/// The `GeomSubset` children of family `materialBind` and element type `face`.
pub fn material_bind_subsets(prim: &usd::Prim) -> Vec<usd::Prim> {
    prim.children()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.type_name().ok().flatten().is_some_and(|t| t.as_str() == "GeomSubset"))
        .filter(|c| get(c, "familyName").as_ref().and_then(token_or_string).as_deref() == Some("materialBind"))
        .filter(|c| get(c, "elementType").as_ref().and_then(token_or_string).is_none_or(|t| t == "face"))
        .collect()
}

/// Why a texture's asset path did not resolve. The stage's resolver confines every asset to the
/// asset root (`confined.rs`), so an existing file outside it resolves to nothing: say so rather
/// than "not found" where the path shows it (absolute); otherwise the open's warnings name it.
fn unresolved_reason(asset_path: &str) -> String {
    let path = std::path::Path::new(asset_path);
    let root =
        std::env::var_os(super::confined::ASSET_ROOT_ENV).and_then(|r| std::path::Path::new(&r).canonicalize().ok());
    if let (true, Some(root), Ok(file)) = (path.is_absolute(), root, path.canonicalize())
        && !file.starts_with(&root)
    {
        return format!("'{}' is outside the asset root; refused", path.display());
    }
    "the file could not be found inside the asset root (refused dependencies are listed in the open's warnings)".into()
}

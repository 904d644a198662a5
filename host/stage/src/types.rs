//! The values the stage service returns: stage facts, hierarchy rows, properties, variants.
//! All are serde types; their JSON form is the viewer protocol's (viewer-protocol.md §2.2, §7.1).

use ovhost_plugin_api::{Bounds, StageScene, UpAxis};
use serde::{Deserialize, Serialize};

/// Stage facts the host reports to clients after an open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageInfo {
    /// The URL the client asked for.
    pub url: String,
    /// Bumped by every successful open or variant change; older results are stale.
    pub generation: u64,
    pub root_prim_path: String,
    #[serde(with = "up_axis_serde")]
    pub up_axis: UpAxis,
    pub meters_per_unit: f64,
    /// Active, defined, non-abstract prims (pxr's default traversal, instance proxies excluded).
    pub prim_count: usize,
    /// World bounds of renderable geometry (`default` + `render` purposes, visible prims).
    #[serde(with = "bounds_serde")]
    pub bounds: Bounds,
    /// Triangles drawn, counting every instance.
    pub triangle_count: usize,
    /// Paths of authored cameras.
    pub cameras: Vec<String>,
    /// Dependencies refused while opening (outside the asset root, not a regular file), one
    /// sentence each; the stage opened without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The result of an open or a variant change: facts plus the geometry renderers draw.
#[derive(Clone, Debug)]
pub struct OpenedStage {
    pub info: StageInfo,
    pub scene: StageScene,
}

/// The icon class of a prim in the hierarchy panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeClass {
    Geom,
    Camera,
    Light,
    Scope,
    Xform,
    Other,
}

impl TypeClass {
    /// Classifies a USD schema type name.
    pub fn of_type_name(type_name: &str) -> Self {
        const GEOM: [&str; 14] = [
            "Mesh",
            "Cube",
            "Sphere",
            "Cylinder",
            "Cylinder_1",
            "Cone",
            "Capsule",
            "Capsule_1",
            "Plane",
            "Points",
            "BasisCurves",
            "NurbsCurves",
            "NurbsPatch",
            "HermiteCurves",
        ];
        match type_name {
            "Camera" => Self::Camera,
            "Scope" => Self::Scope,
            "Xform" => Self::Xform,
            "TetMesh" | "PointInstancer" => Self::Geom,
            t if GEOM.contains(&t) => Self::Geom,
            t if t.ends_with("Light") => Self::Light,
            _ => Self::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Geom => "geom",
            Self::Camera => "camera",
            Self::Light => "light",
            Self::Scope => "scope",
            Self::Xform => "xform",
            Self::Other => "other",
        }
    }
}

/// One immediate child in the hierarchy, in the protocol's row form
/// `{name, path, type, children: bool}` (`children` true = expandable, not yet loaded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRow {
    pub name: String,
    pub path: String,
    #[serde(rename = "type")]
    pub type_class: TypeClass,
    #[serde(rename = "children")]
    pub has_children: bool,
}

/// A prim's properties for the inspector, capped in size. `properties` keeps order (`typeName`
/// first) and serializes as a JSON object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Properties {
    pub prim_path: String,
    #[serde(with = "ordered_map")]
    pub properties: Vec<(String, serde_json::Value)>,
    pub truncated: bool,
    pub omitted_count: usize,
}

impl Properties {
    /// Looks up one property by name.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.properties.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// One variant set of a prim: its options and the current selection (empty when none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantSet {
    pub options: Vec<String>,
    pub selection: String,
}

/// Serializes `Vec<(String, Value)>` as a JSON object in vector order.
mod ordered_map {
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(entries: &[(String, serde_json::Value)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(entries.iter().map(|(k, v)| (k, v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, serde_json::Value)>, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Vec<(String, serde_json::Value)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Ordered)
    }
}

pub(crate) mod up_axis_serde {
    use ovhost_plugin_api::UpAxis;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(axis: &UpAxis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(axis.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UpAxis, D::Error> {
        Ok(UpAxis::parse(&String::deserialize(d)?))
    }
}

/// Bounds as `{min: [x,y,z], max: [x,y,z]}`, or `null` when empty (JSON has no infinities).
pub(crate) mod bounds_serde {
    use ovhost_plugin_api::Bounds;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        min: [f64; 3],
        max: [f64; 3],
    }

    pub fn serialize<S: Serializer>(b: &Bounds, s: S) -> Result<S::Ok, S::Error> {
        if b.is_empty() { None } else { Some(Wire { min: b.min, max: b.max }) }.serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bounds, D::Error> {
        Ok(Option::<Wire>::deserialize(d)?.map_or(Bounds::EMPTY, |w| Bounds { min: w.min, max: w.max }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_classes_follow_schema_names() {
        assert_eq!(TypeClass::of_type_name("Mesh"), TypeClass::Geom);
        assert_eq!(TypeClass::of_type_name("Cube"), TypeClass::Geom);
        assert_eq!(TypeClass::of_type_name("Camera"), TypeClass::Camera);
        assert_eq!(TypeClass::of_type_name("DistantLight"), TypeClass::Light);
        assert_eq!(TypeClass::of_type_name("Scope"), TypeClass::Scope);
        assert_eq!(TypeClass::of_type_name("Xform"), TypeClass::Xform);
        assert_eq!(TypeClass::of_type_name("Material"), TypeClass::Other);
        assert_eq!(TypeClass::of_type_name(""), TypeClass::Other);
    }

    #[test]
    fn rows_and_properties_use_the_protocol_form() {
        let row = ChildRow { name: "A".into(), path: "/W/A".into(), type_class: TypeClass::Geom, has_children: false };
        assert_eq!(
            serde_json::to_string(&row).expect("json"),
            r#"{"name":"A","path":"/W/A","type":"geom","children":false}"#
        );
        let props = Properties {
            prim_path: "/W".into(),
            properties: vec![("typeName".into(), "Xform".into()), ("a".into(), 1.into())],
            truncated: false,
            omitted_count: 0,
        };
        let text = serde_json::to_string(&props).expect("json");
        assert!(text.contains(r#""properties":{"typeName":"Xform","a":1}"#), "{text}");
        let back: Properties = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, props);
    }
}

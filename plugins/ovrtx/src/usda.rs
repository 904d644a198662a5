//! The inline root layer the renderer opens (`reference/ovrtx.md` §6): it sublayers the user's
//! stage and adds everything viewer-owned under one reserved scope: the camera, the
//! RenderProduct (resolution, render mode, settings) and one RenderVar per AOV. The user's files
//! are never modified.

use ovhost_plugin_api::UpAxis;

/// Reserved scope; a name no user stage is expected to define.
pub const VIEWER_SCOPE: &str = "/__OVHostViewer";
pub const CAMERA_PATH: &str = "/__OVHostViewer/Camera";
pub const PRODUCT_PATH: &str = "/__OVHostViewer/Render/Product";
const VARS_PATH: &str = "/__OVHostViewer/Render/Vars";

/// Horizontal aperture of the viewer camera in tenths of a scene unit (the USD default, mm).
const HORIZONTAL_APERTURE: f64 = 20.955;

/// The RenderVar prim path of an AOV source name.
pub fn render_var_path(source_name: &str) -> String {
    format!("{VARS_PATH}/{source_name}")
}

/// What the layer is built from.
#[derive(Clone, Debug)]
pub struct LayerSpec<'a> {
    /// Absolute path of the user's stage.
    pub stage_path: &'a str,
    pub up_axis: UpAxis,
    pub meters_per_unit: f64,
    pub width: u32,
    pub height: u32,
    pub fov_y_deg: f64,
    /// `omni:rtx:rendermode` token.
    pub render_mode: &'a str,
    /// `omni:rtx:pt:samplesPerPixel` (PathTracing only).
    pub pt_samples_per_pixel: u32,
    /// RenderVar source names, `LdrColor` first.
    pub aovs: &'a [String],
}

/// `@path@`, or `@@@path@@@` when the path itself contains `@`; backslashes become `/`.
fn asset_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    if path.contains('@') { format!("@@@{path}@@@") } else { format!("@{path}@") }
}

/// Focal length giving `fov_y_deg` for a vertical aperture (both in the same unit).
pub fn focal_length(vertical_aperture: f64, fov_y_deg: f64) -> f64 {
    let fov = fov_y_deg.clamp(1.0, 170.0).to_radians();
    vertical_aperture / (2.0 * (fov / 2.0).tan())
}

/// Vertical aperture keeping `vertical / horizontal = height / width` (no stretching).
pub fn vertical_aperture(width: u32, height: u32) -> f64 {
    HORIZONTAL_APERTURE * f64::from(height.max(1)) / f64::from(width.max(1))
}

/// The USDA text of the inline root layer.
pub fn build(spec: &LayerSpec<'_>) -> String {
    let v_ap = vertical_aperture(spec.width, spec.height);
    let focal = focal_length(v_ap, spec.fov_y_deg);
    let vars: Vec<String> = spec.aovs.iter().map(|a| format!("<{}>", render_var_path(a))).collect();
    let mut out = String::new();
    out.push_str("#usda 1.0\n(\n");
    out.push_str(&format!("    subLayers = [\n        {}\n    ]\n", asset_path(spec.stage_path)));
    out.push_str(&format!("    upAxis = \"{}\"\n", spec.up_axis.as_str()));
    out.push_str(&format!("    metersPerUnit = {}\n", spec.meters_per_unit));
    out.push_str(")\n\n");
    out.push_str("def Scope \"__OVHostViewer\"\n{\n");
    out.push_str("    def Camera \"Camera\"\n    {\n");
    out.push_str(&format!("        float focalLength = {focal}\n"));
    out.push_str(&format!("        float horizontalAperture = {HORIZONTAL_APERTURE}\n"));
    out.push_str(&format!("        float verticalAperture = {v_ap}\n"));
    out.push_str("        float2 clippingRange = (0.01, 1000000)\n");
    out.push_str("        token projection = \"perspective\"\n");
    out.push_str("        matrix4d xformOp:transform = ( (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 5, 1) )\n");
    out.push_str("        uniform token[] xformOpOrder = [\"xformOp:transform\"]\n    }\n\n");
    out.push_str("    def Scope \"Render\"\n    {\n");
    out.push_str("        def RenderProduct \"Product\"\n        {\n");
    out.push_str(&format!("            rel camera = <{CAMERA_PATH}>\n"));
    out.push_str(&format!("            rel orderedVars = [{}]\n", vars.join(", ")));
    out.push_str(&format!("            uniform int2 resolution = ({}, {})\n", spec.width, spec.height));
    out.push_str("            uint[] deviceIds = [0]\n");
    out.push_str(&format!("            token omni:rtx:rendermode = \"{}\"\n", spec.render_mode));
    out.push_str(&format!("            uint omni:rtx:pt:samplesPerPixel = {}\n", spec.pt_samples_per_pixel));
    out.push_str("        }\n\n");
    out.push_str("        def Scope \"Vars\"\n        {\n");
    for aov in spec.aovs {
        out.push_str(&format!(
            "            def RenderVar \"{aov}\"\n            {{\n                uniform string sourceName = \"{aov}\"\n            }}\n"
        ));
    }
    out.push_str("        }\n    }\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(path: &'a str, aovs: &'a [String]) -> LayerSpec<'a> {
        LayerSpec {
            stage_path: path,
            up_axis: UpAxis::Z,
            meters_per_unit: 0.01,
            width: 1280,
            height: 720,
            fov_y_deg: 45.0,
            render_mode: "RealTimePathTracing",
            pt_samples_per_pixel: 64,
            aovs,
        }
    }

    #[test]
    fn layer_wires_camera_product_and_vars() {
        let aovs = vec!["LdrColor".to_string(), "NormalSD".to_string()];
        let text = build(&spec("/data/scene.usd", &aovs));
        assert!(text.contains("@/data/scene.usd@"), "{text}");
        assert!(text.contains("upAxis = \"Z\""), "{text}");
        assert!(text.contains(&format!("rel camera = <{CAMERA_PATH}>")), "{text}");
        assert!(
            text.contains(
                "rel orderedVars = [</__OVHostViewer/Render/Vars/LdrColor>, </__OVHostViewer/Render/Vars/NormalSD>]"
            ),
            "{text}"
        );
        assert!(text.contains("uniform int2 resolution = (1280, 720)"), "{text}");
        assert!(text.contains("uniform string sourceName = \"NormalSD\""), "{text}");
        assert!(text.contains("token omni:rtx:rendermode = \"RealTimePathTracing\""), "{text}");
    }

    #[test]
    fn asset_paths_are_escaped_and_aperture_keeps_aspect() {
        let aovs = vec!["LdrColor".to_string()];
        let text = build(&spec("C:\\a@b\\scene.usda", &aovs));
        assert!(text.contains("@@@C:/a@b/scene.usda@@@"), "{text}");
        let v = vertical_aperture(1920, 1080);
        assert!((v / HORIZONTAL_APERTURE - 1080.0 / 1920.0).abs() < 1e-12);
        let f = focal_length(v, 60.0);
        let fov = 2.0 * (v / (2.0 * f)).atan();
        assert!((fov.to_degrees() - 60.0).abs() < 1e-9);
    }
}

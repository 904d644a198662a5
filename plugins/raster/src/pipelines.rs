//! The render pipelines (background, triangles, wireframe edges, the outline passes) and their
//! bind group layouts. Built once per device; independent of output size and stage.

use bytemuck::{Pod, Zeroable};

use crate::geometry::{Instance, Vertex};

/// The scene's colour target, and the frame (the selection outline is drawn over it). Stored
/// sRGB-encoded, and the hardware does the encoding. Data AOVs pre-decode their values in
/// the shader so the stored bytes are the raw values.
pub const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;
pub const ID_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R32Uint;
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
/// The selection outline's intermediate targets (`post.wgsl`): the selected mask and the row
/// distances, both small integers.
pub const OUTLINE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R8Uint;

/// The scene pass uniform (mirrors `Globals` in `scene.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Globals {
    pub view_proj: [[f32; 4]; 4],
    pub eye: [f32; 4],
    pub depth_range: [f32; 4],
    pub bg_top: [f32; 4],
    pub bg_bottom: [f32; 4],
    pub mode: [u32; 4],
}

/// The post pass uniform (mirrors `Post` in `post.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct PostParams {
    pub flags: [u32; 4],
    pub outline_color: [f32; 4],
}

pub struct Pipelines {
    /// Group 0: globals, lights, the dome's environment texture and sampler.
    pub globals_layout: wgpu::BindGroupLayout,
    /// Group 1 of the mesh pipelines: one material (`material.rs`).
    pub material_layout: wgpu::BindGroupLayout,
    pub post_layout: wgpu::BindGroupLayout,
    pub background: wgpu::RenderPipeline,
    pub triangles: wgpu::RenderPipeline,
    /// Triangles of translucent materials: alpha-blended, no depth writes, drawn back to front.
    pub blended: wgpu::RenderPipeline,
    pub edges: wgpu::RenderPipeline,
    /// The same four for the id pass (`scene_pass.rs`): `fs_id` (the background: id 0) into the
    /// id target only.
    pub id_background: wgpu::RenderPipeline,
    pub id_triangles: wgpu::RenderPipeline,
    pub id_blended: wgpu::RenderPipeline,
    pub id_edges: wgpu::RenderPipeline,
    /// The selection outline's three passes (`post.wgsl`): mask, rows, outline.
    pub post_mask: wgpu::RenderPipeline,
    pub post_rows: wgpu::RenderPipeline,
    pub post_outline: wgpu::RenderPipeline,
}

fn uniform_entry(binding: u32, visibility: wgpu::ShaderStages) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn texture_entry(binding: u32, sample_type: wgpu::TextureSampleType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

impl Pipelines {
    pub fn new(device: &wgpu::Device) -> Self {
        let source = format!("{}\n{}", include_str!("shaders/scene.wgsl"), include_str!("shaders/pbr.wgsl"));
        let scene_shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("raster scene"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let post_shader = device.create_shader_module(wgpu::include_wgsl!("shaders/post.wgsl"));
        let globals_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("raster globals"),
            entries: &[
                uniform_entry(0, wgpu::ShaderStages::VERTEX_FRAGMENT),
                uniform_entry(1, wgpu::ShaderStages::FRAGMENT),
                texture_entry(2, wgpu::TextureSampleType::Float { filterable: true }),
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let material_layout = crate::material::layout(device);
        let post_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("raster post"),
            entries: &[
                texture_entry(0, wgpu::TextureSampleType::Uint),
                texture_entry(1, wgpu::TextureSampleType::Uint),
                texture_entry(2, wgpu::TextureSampleType::Uint),
                uniform_entry(3, wgpu::ShaderStages::FRAGMENT),
            ],
        });
        let scene_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("raster scene"),
            bind_group_layouts: &[Some(&globals_layout), Some(&material_layout)],
            immediate_size: 0,
        });
        let background_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("raster background"),
            bind_group_layouts: &[Some(&globals_layout)],
            immediate_size: 0,
        });
        let post_pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("raster post"),
            bind_group_layouts: &[Some(&post_layout)],
            immediate_size: 0,
        });
        // The colour pass writes location 0 only, the id pass location 1 only (`scene_pass.rs`).
        let scene_targets = [
            Some(wgpu::ColorTargetState { format: COLOR_FORMAT, blend: None, write_mask: wgpu::ColorWrites::ALL }),
            None,
        ];
        let id_targets =
            [None, Some(wgpu::ColorTargetState { format: ID_FORMAT, blend: None, write_mask: wgpu::ColorWrites::ALL })];
        let depth = |write: bool, compare: wgpu::CompareFunction| wgpu::DepthStencilState {
            format: DEPTH_FORMAT,
            depth_write_enabled: Some(write),
            depth_compare: Some(compare),
            stencil: wgpu::StencilState::default(),
            bias: wgpu::DepthBiasState::default(),
        };
        let blended_targets = [
            Some(wgpu::ColorTargetState {
                format: COLOR_FORMAT,
                blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            }),
            None,
        ];
        let mesh_buffers = [Some(Vertex::layout()), Some(Instance::layout())];
        let mesh_pipeline = |label: &str, topology: wgpu::PrimitiveTopology, blend: bool, ids: bool| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&scene_layout),
                vertex: wgpu::VertexState {
                    module: &scene_shader,
                    entry_point: Some("vs_mesh"),
                    compilation_options: Default::default(),
                    buffers: &mesh_buffers,
                },
                primitive: wgpu::PrimitiveState {
                    topology,
                    // Back faces of single-sided meshes are discarded in the fragment shader
                    // (per instance: `doubleSided` and mirroring transforms differ per draw).
                    cull_mode: None,
                    ..Default::default()
                },
                depth_stencil: Some(depth(!blend, wgpu::CompareFunction::LessEqual)),
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &scene_shader,
                    entry_point: Some(if ids { "fs_id" } else { "fs_mesh" }),
                    compilation_options: Default::default(),
                    targets: match (ids, blend) {
                        (true, _) => &id_targets,
                        (false, true) => &blended_targets,
                        (false, false) => &scene_targets,
                    },
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let list = wgpu::PrimitiveTopology::TriangleList;
        let lines = wgpu::PrimitiveTopology::LineList;
        let triangles = mesh_pipeline("raster triangles", list, false, false);
        let blended = mesh_pipeline("raster blended", list, true, false);
        let edges = mesh_pipeline("raster edges", lines, false, false);
        let id_triangles = mesh_pipeline("raster id triangles", list, false, true);
        let id_blended = mesh_pipeline("raster id blended", list, true, true);
        let id_edges = mesh_pipeline("raster id edges", lines, false, true);
        let background_pipeline = |label: &str, targets: &[Option<wgpu::ColorTargetState>]| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&background_layout),
                vertex: wgpu::VertexState {
                    module: &scene_shader,
                    entry_point: Some("vs_background"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                primitive: wgpu::PrimitiveState::default(),
                // Drawn after the opaque meshes at the far plane: only pixels no mesh covered (depth
                // still cleared to 1) pass, so covered pixels are rejected before shading.
                depth_stencil: Some(depth(false, wgpu::CompareFunction::LessEqual)),
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &scene_shader,
                    entry_point: Some("fs_background"),
                    compilation_options: Default::default(),
                    targets,
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let background = background_pipeline("raster background", &scene_targets);
        let id_background = background_pipeline("raster id background", &id_targets);
        let post_pipeline = |label: &str, entry: &str, format: wgpu::TextureFormat| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&post_pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &post_shader,
                    entry_point: Some("vs_main"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: None,
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &post_shader,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let post_mask = post_pipeline("raster outline mask", "fs_mask", OUTLINE_FORMAT);
        let post_rows = post_pipeline("raster outline rows", "fs_rows", OUTLINE_FORMAT);
        let post_outline = post_pipeline("raster outline", "fs_outline", COLOR_FORMAT);
        Self {
            globals_layout,
            material_layout,
            post_layout,
            background,
            triangles,
            blended,
            edges,
            id_background,
            id_triangles,
            id_blended,
            id_edges,
            post_mask,
            post_rows,
            post_outline,
        }
    }
}

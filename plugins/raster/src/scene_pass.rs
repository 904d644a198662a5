//! Recording the scene into the colour target (every frame) or the prim-id target (on demand).
//!
//! The colour pass draws the opaque meshes, then the background at the far plane where no mesh
//! was drawn (depth still 1), then translucent meshes back to front. Every pixel is written by a
//! mesh or by the background, so the colour target is never cleared, and no pixel is shaded
//! twice by the background. Ids are not written every frame: on a GPU with few graphics units
//! (the H200) clearing and writing a second full-size target cost about as much as the rest of
//! a frame. The id pass redraws the same geometry with the same vertex stage and depth test
//! into the id target only where ids are wanted (a scissor): the selection's rectangle for the
//! outline, one pixel for a pick, the whole frame for `id_image`. Its fragment stage
//! (`fs_id`) discards exactly what the colour pass's does (back faces of single-sided meshes,
//! cut-out texels), so its ids cover the same pixels, and its background writes id 0; neither
//! target is cleared (a clear covers the whole target, whatever the scissor).

use crate::aov::Aov;
use crate::geometry::GpuScene;
use crate::material::GpuMaterials;
use crate::pipelines::Pipelines;
use crate::selection::Rect;
use crate::settings::RenderMode;

/// Which target a scene pass writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Color,
    Ids,
}

/// What a scene pass draws with: borrowed from the renderer's fields.
pub struct ScenePass<'a> {
    pub pipelines: &'a Pipelines,
    pub globals_bind: &'a wgpu::BindGroup,
    pub scene: Option<&'a GpuScene>,
    pub materials: Option<&'a GpuMaterials>,
    /// Edges instead of triangles (the wireframe render mode, colour AOV).
    pub wireframe: bool,
    /// Translucent materials blend (colour shaded, not wireframe); otherwise all are opaque.
    pub blending: bool,
    /// The camera position, for sorting translucent draws.
    pub eye: [f64; 3],
}

impl<'a> ScenePass<'a> {
    /// The pass for `render_mode` and `aov`: edges in the wireframe mode (colour AOV), and
    /// translucency only where colour is shaded (data AOVs draw everything opaque).
    pub fn new(
        pipelines: &'a Pipelines,
        globals_bind: &'a wgpu::BindGroup,
        scene: Option<&'a GpuScene>,
        materials: Option<&'a GpuMaterials>,
        (render_mode, aov): (RenderMode, Aov),
        eye: [f64; 3],
    ) -> Self {
        let wireframe = render_mode == RenderMode::Wireframe && aov == Aov::LdrColor;
        let blending = aov == Aov::LdrColor && !wireframe;
        Self { pipelines, globals_bind, scene, materials, wireframe, blending, eye }
    }

    /// Records one scene pass writing `output` (`target` is its view) through `scissor`.
    pub fn encode(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        output: Output,
        target: &wgpu::TextureView,
        depth: &wgpu::TextureView,
        scissor: Option<Rect>,
        timestamp_writes: Option<wgpu::RenderPassTimestampWrites<'_>>,
    ) {
        let attachment = Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                // Every pixel (in the scissor) is drawn, a mesh or the background (id 0), so
                // nothing is cleared: a clear would cover the whole target, whatever the scissor.
                load: wgpu::LoadOp::Load,
                store: wgpu::StoreOp::Store,
            },
        });
        let attachments = match output {
            Output::Color => [attachment, None],
            Output::Ids => [None, attachment],
        };
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some(match output {
                Output::Color => "raster scene",
                Output::Ids => "raster ids",
            }),
            color_attachments: &attachments,
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: depth,
                depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(1.0), store: wgpu::StoreOp::Discard }),
                stencil_ops: None,
            }),
            timestamp_writes,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        if let Some(r) = scissor {
            pass.set_scissor_rect(r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
        }
        pass.set_bind_group(0, self.globals_bind, &[]);
        let p = self.pipelines;
        let (background, opaque, blended, edges) = match output {
            Output::Color => (&p.background, &p.triangles, &p.blended, &p.edges),
            Output::Ids => (&p.id_background, &p.id_triangles, &p.id_blended, &p.id_edges),
        };
        let mut translucent = Vec::new();
        if let (Some(scene), Some(materials)) = (self.scene.filter(|s| !s.draws.is_empty()), self.materials) {
            let (pipeline, indices) = if self.wireframe { (edges, &scene.edges) } else { (opaque, &scene.triangles) };
            pass.set_pipeline(pipeline);
            pass.set_vertex_buffer(0, scene.vertices.slice(..));
            pass.set_vertex_buffer(1, scene.instances.slice(..));
            pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
            let mut bound = usize::MAX;
            for draw in &scene.draws {
                let material = materials.index_of(draw.material);
                if self.blending && materials.traits[material].blended {
                    translucent.push((draw, material));
                    continue;
                }
                if material != bound {
                    pass.set_bind_group(1, &materials.bind_groups[material], &[]);
                    bound = material;
                }
                let range = if self.wireframe { draw.edges.clone() } else { draw.triangles.clone() };
                pass.draw_indexed(range, draw.base_vertex, draw.instances.clone());
            }
        }
        // The background where no opaque mesh was drawn (it passes the depth test at 1 only).
        pass.set_pipeline(background);
        pass.draw(0..3, 0..1);
        if let (false, Some(scene), Some(materials)) = (translucent.is_empty(), self.scene, self.materials) {
            // Back to front by the distance of each draw's first instance: colour blends over
            // what is behind; the nearest translucent surface's id ends on top.
            let eye = self.eye;
            let dist = |c: [f64; 3]| (0..3).map(|i| (c[i] - eye[i]).powi(2)).sum::<f64>();
            translucent.sort_by(|a, b| dist(b.0.center).total_cmp(&dist(a.0.center)));
            pass.set_pipeline(blended);
            pass.set_vertex_buffer(0, scene.vertices.slice(..));
            pass.set_vertex_buffer(1, scene.instances.slice(..));
            pass.set_index_buffer(scene.triangles.slice(..), wgpu::IndexFormat::Uint32);
            for (draw, material) in translucent {
                pass.set_bind_group(1, &materials.bind_groups[material], &[]);
                pass.draw_indexed(draw.triangles.clone(), draw.base_vertex, draw.instances.clone());
            }
        }
    }
}

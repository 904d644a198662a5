//! Converter chains: for each spec a sink wants, the shortest (then cheapest) sequence of
//! registered converters from the renderer's output spec, found by breadth-first search over the
//! converters' declared inputs and outputs. Instances are created lazily and kept per target.

use std::collections::{BTreeMap, VecDeque};

use abi_stable::std_types::RResult;
use ovhost_plugin_api::{ConverterBox, Frame, FrameSpec, PluginError, RendererBox};

use crate::plugins::Registry;

/// A planned chain: converter ids in order (empty = the renderer output is already the target).
pub fn plan(registry: &Registry, from: FrameSpec, to: FrameSpec) -> Option<Vec<String>> {
    if from == to {
        return Some(Vec::new());
    }
    // BFS by length; among equal lengths prefer lower total cost.
    let mut best: BTreeMap<FrameSpecKey, (usize, u64, Vec<String>)> = BTreeMap::new();
    let mut queue = VecDeque::from([(from, 0u64, Vec::<String>::new())]);
    best.insert(key(from), (0, 0, Vec::new()));
    while let Some((spec, cost, path)) = queue.pop_front() {
        if path.len() >= 4 {
            continue;
        }
        for (id, registered) in &registry.converters {
            let entry = &registered.entry;
            if entry.input() != spec || path.contains(id) {
                continue;
            }
            let next = entry.output();
            let next_cost = cost + u64::from(entry.cost());
            let mut next_path = path.clone();
            next_path.push(id.clone());
            let better = match best.get(&key(next)) {
                None => true,
                Some((len, c, _)) => next_path.len() < *len || (next_path.len() == *len && next_cost < *c),
            };
            if better {
                best.insert(key(next), (next_path.len(), next_cost, next_path.clone()));
                queue.push_back((next, next_cost, next_path));
            }
        }
    }
    best.remove(&key(to)).map(|(_, _, path)| path)
}

/// How many converters of a planned chain move the frame between host and device memory.
pub fn memory_crossings(registry: &Registry, ids: &[String]) -> usize {
    ids.iter()
        .filter_map(|id| registry.converters.get(id))
        .filter(|c| c.entry.input().location != c.entry.output().location)
        .count()
}

/// The specs of `accepted` (a sink's list, best first) that a chain can produce from `from`, with
/// their chains, in the order negotiation tries them: chains that keep the frame in the memory
/// the renderer produced it in (no copy between host and device) first, then the sink's order.
pub fn candidates(registry: &Registry, from: FrameSpec, accepted: &[FrameSpec]) -> Vec<(FrameSpec, Vec<String>)> {
    let mut found: Vec<(usize, FrameSpec, Vec<String>)> = accepted
        .iter()
        .filter_map(|to| plan(registry, from, *to).map(|ids| (memory_crossings(registry, &ids), *to, ids)))
        .collect();
    found.sort_by_key(|(crossings, _, _)| *crossings); // stable: the sink's order within a class
    found.into_iter().map(|(_, spec, ids)| (spec, ids)).collect()
}

/// The total declared cost of a planned chain (its converters' `cost`s; 0 for no converter).
pub fn cost(registry: &Registry, ids: &[String]) -> u64 {
    ids.iter().filter_map(|id| registry.converters.get(id)).map(|c| u64::from(c.entry.cost())).sum()
}

/// Which of the renderer's output specs (`offered`, its default first) to render this frame
/// from: the one from which every spec in `wanted` can be produced at the least total chain cost
/// (ties: the earlier offer). `None` when nothing is wanted, the renderer offers no choice, or
/// no offer feeds every wanted spec (the renderer's default then stays, as before 0.2.2).
///
/// One spec per frame: a renderer renders once, so sinks that want different things share
/// the source that feeds them all; an H.264-only audience gets I420 from a GPU renderer, a JPEG
/// or BGRA consumer beside it keeps everyone on RGBA.
pub fn cheapest_source(registry: &Registry, offered: &[FrameSpec], wanted: &[FrameSpec]) -> Option<FrameSpec> {
    if offered.len() < 2 || wanted.is_empty() {
        return None;
    }
    offered
        .iter()
        .filter_map(|from| {
            let total =
                wanted.iter().try_fold(0u64, |sum, to| Some(sum + cost(registry, &plan(registry, *from, *to)?)))?;
            Some((total, *from))
        })
        .min_by_key(|(total, _)| *total)
        .map(|(_, from)| from)
}

/// Before a frame: asks the renderer for the output spec [`cheapest_source`] picks for the specs
/// the sinks want now (its default when `wanted` is empty: warm-up, a still, nobody watching),
/// if that is not what it produced last (`current`). Returns the renderer's default spec (its
/// first offer; `None` for a renderer without a choice), from which the codecs a new client may
/// ask for are judged.
pub fn choose_renderer_output(
    registry: &Registry,
    renderer: &mut RendererBox,
    current: Option<FrameSpec>,
    wanted: &[FrameSpec],
) -> Option<FrameSpec> {
    let offered: Vec<FrameSpec> = match renderer.output_formats() {
        RResult::ROk(offered) => offered.into_vec(),
        RResult::RErr(e) => {
            tracing::debug!("the renderer's output formats are unknown: {e}");
            Vec::new()
        }
    };
    let default = *offered.first()?;
    let choice = cheapest_source(registry, &offered, wanted).unwrap_or(default);
    if current != Some(choice)
        && let RResult::RErr(e) = renderer.set_output_format(choice)
    {
        tracing::warn!(spec = %choice, "the renderer refused an output format it offered: {e}");
    }
    Some(default)
}

type FrameSpecKey = (u32, u32);

fn key(spec: FrameSpec) -> FrameSpecKey {
    (spec.format.0, spec.location.0)
}

/// A live chain of converter instances.
pub struct Chain {
    pub target: FrameSpec,
    pub ids: Vec<String>,
    converters: Vec<ConverterBox>,
}

impl Chain {
    /// Creates the converter instances for a planned chain.
    pub fn build(
        registry: &Registry,
        target: FrameSpec,
        ids: Vec<String>,
        config_for: impl Fn(&str) -> String,
    ) -> Result<Self, PluginError> {
        let mut converters = Vec::with_capacity(ids.len());
        for id in &ids {
            let registered = registry
                .converters
                .get(id)
                .ok_or_else(|| PluginError::not_found(format!("converter '{id}' is not registered")))?;
            let config = config_for(id);
            match (registered.entry.create())(config.as_str().into()) {
                RResult::ROk(converter) => converters.push(converter),
                RResult::RErr(e) => {
                    return Err(PluginError::new(
                        e.kind,
                        format!("converter '{id}' could not be created: {}", e.message),
                    ));
                }
            }
        }
        Ok(Self { target, ids, converters })
    }

    /// Runs a frame through every converter. The result borrows the chain (the last converter's
    /// buffer) until the next `run`. Every converter's output descriptor is validated before
    /// anything reads it: an inconsistent one (say, a length shorter than its rows) is an error.
    pub fn run<'s>(&'s mut self, input: &Frame<'s>) -> Result<Frame<'s>, PluginError> {
        self.run_counting(input, &mut 0)
    }

    /// [`Chain::run`], adding to `host_bytes` what it copied between host and device memory (a
    /// converter whose output lives elsewhere than its input: an upload or a download); nothing
    /// for a chain that keeps the frame where the renderer put it.
    pub fn run_counting<'s>(&'s mut self, input: &Frame<'s>, host_bytes: &mut u64) -> Result<Frame<'s>, PluginError> {
        let mut frame = input.clone();
        for (converter, id) in self.converters.iter_mut().zip(&self.ids) {
            let number = frame.frame_number;
            let timestamp = frame.timestamp_us;
            let (from_location, from_len) = (frame.location, frame.len_bytes());
            frame = converter
                .convert(&frame)
                .into_result()
                .map_err(|e| PluginError::new(e.kind, format!("converter '{id}': {}", e.message)))?;
            frame.validate().map_err(|e| {
                PluginError::new(e.kind, format!("converter '{id}' returned an invalid frame: {}", e.message))
            })?;
            frame.frame_number = number;
            frame.timestamp_us = timestamp;
            if frame.location != from_location {
                // The host side of the copy: what was uploaded, or what was downloaded.
                *host_bytes += if frame.location == ovhost_plugin_api::MemoryLocation::HOST {
                    frame.len_bytes()
                } else {
                    from_len
                };
            }
        }
        Ok(frame)
    }

    pub fn request_keyframe(&mut self) {
        for converter in &mut self.converters {
            if let RResult::RErr(e) = converter.request_keyframe() {
                tracing::debug!("keyframe request failed: {e}");
            }
        }
    }

    /// Configures each converter with its own options (by converter id).
    pub fn configure_each(&mut self, options_for: impl Fn(&str) -> String) {
        for (converter, id) in self.converters.iter_mut().zip(&self.ids) {
            if let RResult::RErr(e) = converter.configure(options_for(id).as_str().into()) {
                tracing::warn!(converter = %id, "configure failed: {e}");
            }
        }
    }

    pub fn configure(&mut self, options_json: &str) {
        for (converter, id) in self.converters.iter_mut().zip(&self.ids) {
            if let RResult::RErr(e) = converter.configure(options_json.into()) {
                tracing::warn!(converter = %id, "configure failed: {e}");
            }
        }
    }
}

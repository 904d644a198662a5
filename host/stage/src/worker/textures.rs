//! Texture files → 8-bit RGBA, in the worker process (a hostile image can only kill the worker).
//!
//! - **Where**: a resolved path is a file, or `package.usdz[inner/path.png]` (read from the zip).
//!   Files (or packages) outside the asset root are refused like a stage outside it.
//! - **Formats**: whatever the `image` crate is built with here (PNG, JPEG, BMP, TGA, HDR).
//!   HDR (float) images are clamped to 0..1 and stored sRGB-encoded.
//! - **Errors**: a missing, unreadable, truncated or non-image file is an error for that texture
//!   only: its pixels stay empty and the material input reads its fallback.
//! - **Memory policy**: a texture larger than [`MAX_SIDE_PX`] on a side is downscaled to fit;
//!   when the stage's textures together exceed [`BUDGET_BYTES`] of RGBA8, the largest are halved
//!   until they fit (never below 64 px on a side).
//! - **Cache**: decoded images are kept by (resolved path, size, modification time) across
//!   opens (reloads and variant switches decode nothing again), up to [`CACHE_BYTES`].
//! - Decoding runs on all cores (one scoped thread per core).
//! - **Streaming** ([`TextureCache::defer`], [`TextureCache::next_batch`]): the stage can be sent
//!   with every texture still without pixels and the textures decoded afterwards, one batch (as
//!   many misses as there are decode threads) per request, so the stage appears at once on
//!   fallbacks. Streamed decoding uses one core fewer than the machine has, at background
//!   priority (nice +10 per thread), so the host's render and encode threads keep the CPU.

use super::materials::TextureRequest;
use ovhost_plugin_api::Texture;
use ovhost_plugin_api::abi_stable::std_types::{RString, RVec};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

/// Longest side kept, in pixels.
pub const MAX_SIDE_PX: u32 = 4096;
/// Total RGBA8 bytes of one stage's textures (before mipmaps).
pub const BUDGET_BYTES: usize = 1 << 30;
/// Decoded images kept between opens.
pub const CACHE_BYTES: usize = 1 << 30;
/// Largest file read (compressed).
const MAX_FILE_BYTES: u64 = 512 << 20;

/// One decoded image.
#[derive(Debug)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgba8: Vec<u8>,
    /// True when the pixels are sRGB-encoded because the source was float (HDR).
    pub from_float: bool,
}

type CacheKey = (String, u64, Option<SystemTime>);

/// Decoded images by file identity, kept across opens.
#[derive(Default)]
pub struct TextureCache {
    entries: HashMap<CacheKey, Arc<Decoded>>,
    bytes: usize,
}

/// The stage's textures, and per resolved path the error that left one without pixels.
pub struct Loaded {
    pub textures: Vec<Texture>,
    pub errors: HashMap<String, String>,
}

/// Splits `a.usdz[inner/file.png]` into the package and the inner path.
fn split_package(resolved: &str) -> Option<(&str, &str)> {
    let inner = resolved.strip_suffix(']')?;
    let open = inner.find('[')?;
    Some((&inner[..open], &inner[open + 1..]))
}

fn inside_root(file: &Path, root: Option<&Path>) -> Result<(), String> {
    let Some(root) = root else { return Ok(()) };
    let canonical = file.canonicalize().map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    if canonical.starts_with(root) {
        Ok(())
    } else {
        Err(format!("{} is outside the asset root; refused", file.display()))
    }
}

fn identity(file: &Path) -> Result<(u64, Option<SystemTime>), String> {
    let meta = std::fs::metadata(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    Ok((meta.len(), meta.modified().ok()))
}

/// Reads the encoded bytes of a resolved texture path (a file or a packaged file).
fn read_bytes(resolved: &str) -> Result<Vec<u8>, String> {
    let too_big = |what: &str| format!("{what} is larger than {} MiB; refused", MAX_FILE_BYTES >> 20);
    if let Some((package, inner)) = split_package(resolved) {
        let file = std::fs::File::open(package).map_err(|e| format!("cannot open package {package}: {e}"))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("package {package} is not a zip archive: {e}"))?;
        let mut entry = zip.by_name(inner).map_err(|e| format!("package {package} has no {inner}: {e}"))?;
        if entry.size() > MAX_FILE_BYTES {
            return Err(too_big(resolved));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(|e| format!("cannot read {inner} in {package}: {e}"))?;
        return Ok(bytes);
    }
    let file = std::fs::File::open(resolved).map_err(|e| format!("cannot open {resolved}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read {resolved}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(resolved));
    }
    Ok(bytes)
}

/// Decodes encoded image bytes to RGBA8, downscaled to [`MAX_SIDE_PX`].
pub fn decode(bytes: &[u8], name: &str) -> Result<Decoded, String> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if reader.format().is_none() {
        return Err(format!("{name} is not an image in a supported format (PNG, JPEG, BMP, TGA, HDR)"));
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(2 << 30);
    let mut reader = reader;
    reader.limits(limits);
    let image = reader.decode().map_err(|e| format!("{name} could not be decoded: {e}"))?;
    let from_float = matches!(image.color(), image::ColorType::Rgb32F | image::ColorType::Rgba32F);
    let image = if image.width() > MAX_SIDE_PX || image.height() > MAX_SIDE_PX {
        image.resize(MAX_SIDE_PX, MAX_SIDE_PX, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    let rgba = if from_float {
        // Linear float → sRGB-encoded 8 bit, clamped.
        let f = image.to_rgba32f();
        let (w, h) = f.dimensions();
        let mut out = Vec::with_capacity((w * h * 4) as usize);
        for p in f.pixels() {
            for c in 0..3 {
                out.push(linear_to_srgb8(p[c]));
            }
            out.push((p[3].clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
        }
        Decoded { width: w, height: h, rgba8: out, from_float }
    } else {
        let rgba = image.to_rgba8();
        Decoded { width: rgba.width(), height: rgba.height(), rgba8: rgba.into_raw(), from_float }
    };
    Ok(rgba)
}

fn linear_to_srgb8(x: f32) -> u8 {
    let x = if x.is_finite() { x.clamp(0.0, 1.0) } else { 0.0 };
    let s = if x <= 0.003_130_8 { 12.92 * x } else { 1.055 * x.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0 + 0.5) as u8
}

/// Textures still to decode after the stage was sent without pixels (streamed in batches).
pub struct Pending {
    requests: Vec<TextureRequest>,
    /// Budget halvings per request, decided up front from the images' headers.
    halvings: Vec<u32>,
    next: usize,
    root: Option<std::path::PathBuf>,
}

impl Pending {
    /// Textures not yet decoded.
    pub fn remaining(&self) -> usize {
        self.requests.len() - self.next
    }
}

/// A texture without pixels (what the stage is sent with before its pixels arrive).
pub fn placeholder(request: &TextureRequest) -> Texture {
    to_texture(request, None, 0)
}

/// Width and height of an image from its header (a few bytes read), fitted to [`MAX_SIDE_PX`]
/// as decoding will; `None` when the header is unreadable (decoding will say why).
fn header_size(resolved: &str) -> Option<(u32, u32)> {
    let (w, h) = if split_package(resolved).is_some() {
        let bytes = read_bytes(resolved).ok()?;
        image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().ok()?.into_dimensions().ok()?
    } else {
        image::ImageReader::open(resolved).ok()?.with_guessed_format().ok()?.into_dimensions().ok()?
    };
    if w > MAX_SIDE_PX || h > MAX_SIDE_PX {
        let scale = f64::from(MAX_SIDE_PX) / f64::from(w.max(h));
        Some((((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1)))
    } else {
        Some((w, h))
    }
}

impl TextureCache {
    /// Defers decoding: the stage is sent with textures that have no pixels yet (inputs read
    /// their fallbacks) and [`TextureCache::next_batch`] decodes them afterwards. The memory
    /// budget is applied up front from the image headers, largest first, exactly as
    /// [`TextureCache::load`] does from decoded images.
    pub fn defer(&mut self, requests: &[TextureRequest], root: Option<&Path>) -> (Vec<Texture>, Pending) {
        let sizes: Vec<Option<(u32, u32)>> = requests
            .iter()
            .map(|r| {
                let resolved = r.resolved.as_deref()?;
                let cached = self.entries.iter().find(|(k, _)| k.0 == resolved).map(|(_, d)| (d.width, d.height));
                cached.or_else(|| header_size(resolved))
            })
            .collect();
        let halvings = budget_scales_of(&sizes);
        let placeholders = requests.iter().map(placeholder).collect();
        let pending = Pending { requests: requests.to_vec(), halvings, next: 0, root: root.map(Path::to_path_buf) };
        (placeholders, pending)
    }

    /// Decodes the next textures of `pending`: up to `max_decodes` that are not in the cache
    /// (decoded in parallel) and any cached ones on the way. Returns them with their 0-based
    /// indices, and the errors of those that failed (by resolved path).
    pub fn next_batch(&mut self, pending: &mut Pending, max_decodes: usize) -> (Vec<(u32, Texture)>, Loaded) {
        let max_decodes = if max_decodes == 0 { decode_threads(true, usize::MAX) } else { max_decodes };
        let start = pending.next;
        let mut end = start;
        let mut misses = 0;
        while end < pending.requests.len() {
            let r = &pending.requests[end];
            let cached = r.resolved.as_deref().is_some_and(|p| self.entries.keys().any(|k| k.0 == p));
            if !cached {
                if misses == max_decodes {
                    break;
                }
                misses += 1;
            }
            end += 1;
        }
        pending.next = end;
        let loaded = self.load_scaled(
            &pending.requests[start..end],
            pending.root.as_deref(),
            Some(&pending.halvings[start..end]),
        );
        let indices = (start as u32..end as u32).collect::<Vec<_>>();
        let textures = indices.iter().copied().zip(loaded.textures.iter().cloned()).collect();
        (textures, loaded)
    }

    /// Decodes (or finds in the cache) every requested texture.
    pub fn load(&mut self, requests: &[TextureRequest], root: Option<&Path>) -> Loaded {
        self.load_scaled(requests, root, None)
    }

    /// [`TextureCache::load`] with the budget halvings already decided (streamed batches).
    fn load_scaled(&mut self, requests: &[TextureRequest], root: Option<&Path>, halvings: Option<&[u32]>) -> Loaded {
        // Identify each request's file first (cheap); decode the misses in parallel.
        let keyed: Vec<Result<CacheKey, String>> = requests
            .iter()
            .map(|r| {
                let resolved = r.resolved.as_deref().ok_or_else(|| format!("{} could not be found", r.asset_path))?;
                let file = split_package(resolved).map_or(resolved, |(package, _)| package);
                inside_root(Path::new(file), root)?;
                let (len, modified) = identity(Path::new(file))?;
                Ok((resolved.to_owned(), len, modified))
            })
            .collect();
        let mut misses: Vec<&CacheKey> = keyed.iter().filter_map(|k| k.as_ref().ok()).collect();
        misses.retain(|k| !self.entries.contains_key(*k));
        misses.sort();
        misses.dedup();
        let decoded = decode_parallel(&misses, halvings.is_some());
        let mut failed: HashMap<String, String> = HashMap::new();
        for (key, result) in misses.into_iter().zip(decoded) {
            match result {
                Ok(d) => {
                    self.bytes += d.rgba8.len();
                    self.entries.insert(key.clone(), Arc::new(d));
                }
                Err(e) => {
                    failed.insert(key.0.clone(), e);
                }
            }
        }
        let mut errors = HashMap::new();
        let mut images: Vec<Option<Arc<Decoded>>> = Vec::with_capacity(requests.len());
        for (request, key) in requests.iter().zip(&keyed) {
            let name = request.resolved.clone().unwrap_or_else(|| request.asset_path.clone());
            match key {
                Ok(key) => match self.entries.get(key) {
                    Some(d) => images.push(Some(Arc::clone(d))),
                    None => {
                        let e = failed.get(&key.0).cloned().unwrap_or_else(|| "not decoded".into());
                        errors.insert(name, e);
                        images.push(None);
                    }
                },
                Err(e) => {
                    errors.insert(name, e.clone());
                    images.push(None);
                }
            }
        }
        let scales = match halvings {
            Some(h) => h.to_vec(),
            None => budget_scales(&images),
        };
        let textures = requests
            .iter()
            .zip(images)
            .zip(scales)
            .map(|((request, image), halvings)| to_texture(request, image.as_deref(), halvings))
            .collect();
        self.trim();
        Loaded { textures, errors }
    }

    /// Drops everything when the cache grows past its cap (simple and predictable).
    fn trim(&mut self) {
        if self.bytes > CACHE_BYTES {
            self.entries.clear();
            self.bytes = 0;
        }
    }
}

/// Lowers the calling thread's scheduling priority (Linux: per-thread nice +10), so decoding in
/// the background yields the CPU to the host's render and encode threads.
fn background_priority() {
    // SAFETY: setpriority has no memory effects; on Linux `who = 0` with PRIO_PROCESS names the
    // calling thread only. A failure leaves the priority as it was (nothing to clean up).
    let _ = unsafe { nix::libc::setpriority(nix::libc::PRIO_PROCESS, 0, 10) };
}

/// Decode threads: every core during an open (nothing else to do), one core fewer and at
/// background priority while streaming (the stage is on screen and must keep streaming).
fn decode_threads(background: bool, jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if background { cores.saturating_sub(1).max(1) } else { cores };
    threads.min(jobs.max(1))
}

fn decode_parallel(keys: &[&CacheKey], background: bool) -> Vec<Result<Decoded, String>> {
    let threads = decode_threads(background, keys.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<Decoded, String>>> = (0..keys.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                if background {
                    background_priority();
                }
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(key) = keys.get(i) else { break };
                    let result = read_bytes(&key.0).and_then(|bytes| decode(&bytes, &key.0));
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    results.into_iter().map(|r| r.unwrap_or_else(|| Err("the decoder thread failed".into()))).collect()
}

/// How many times each texture is halved so all of them fit [`BUDGET_BYTES`].
fn budget_scales(images: &[Option<Arc<Decoded>>]) -> Vec<u32> {
    let sizes: Vec<Option<(u32, u32)>> = images.iter().map(|d| d.as_ref().map(|d| (d.width, d.height))).collect();
    budget_scales_of(&sizes)
}

/// [`budget_scales`] from image sizes (width, height).
fn budget_scales_of(images: &[Option<(u32, u32)>]) -> Vec<u32> {
    let mut halvings = vec![0u32; images.len()];
    let size = |i: usize, h: &[u32]| {
        images[i].as_ref().map_or(0, |d| (d.0 >> h[i]).max(1) as usize * (d.1 >> h[i]).max(1) as usize * 4)
    };
    let mut total: usize = (0..images.len()).map(|i| size(i, &halvings)).sum();
    while total > BUDGET_BYTES {
        let Some(largest) = (0..images.len())
            .filter(|&i| images[i].as_ref().is_some_and(|d| (d.0.min(d.1) >> halvings[i]) > 64))
            .max_by_key(|&i| size(i, &halvings))
        else {
            break;
        };
        let before = size(largest, &halvings);
        halvings[largest] += 1;
        total = total - before + size(largest, &halvings);
    }
    halvings
}

fn to_texture(request: &TextureRequest, image: Option<&Decoded>, halvings: u32) -> Texture {
    let mut texture = Texture {
        asset_path: RString::from(request.asset_path.as_str()),
        resolved_path: RString::from(request.resolved.clone().unwrap_or_default()),
        color_space: request.color_space,
        wrap_s: request.wrap_s,
        wrap_t: request.wrap_t,
        width: 0,
        height: 0,
        rgba8: RVec::new(),
    };
    let Some(image) = image else { return texture };
    if image.from_float && request.color_space == ovhost_plugin_api::ColorSpace::AUTO {
        texture.color_space = ovhost_plugin_api::ColorSpace::SRGB;
    }
    if halvings == 0 {
        texture.width = image.width;
        texture.height = image.height;
        texture.rgba8 = RVec::from(image.rgba8.clone());
        return texture;
    }
    let (w, h) = ((image.width >> halvings).max(1), (image.height >> halvings).max(1));
    let buffer = image::RgbaImage::from_raw(image.width, image.height, image.rgba8.clone());
    if let Some(buffer) = buffer {
        let small = image::imageops::resize(&buffer, w, h, image::imageops::FilterType::Triangle);
        texture.width = w;
        texture.height = h;
        texture.rgba8 = RVec::from(small.into_raw());
    }
    texture
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_bytes_are_errors_not_panics() {
        assert!(decode(b"not an image at all", "x").unwrap_err().contains("not an image"));
        let png = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H'];
        assert!(decode(&png, "t.png").unwrap_err().contains("could not be decoded"));
    }

    #[test]
    fn package_paths_split() {
        assert_eq!(split_package("/a/b.usdz[tex/c.png]"), Some(("/a/b.usdz", "tex/c.png")));
        assert_eq!(split_package("/a/b.png"), None);
    }
}

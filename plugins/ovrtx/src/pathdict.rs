//! The renderer's path dictionary (`reference/ovrtx.md` §5.6): pick hits carry interned prim-path
//! ids; this turns them into `/A/B/C` strings (slots 9 + 8, as the official helper does) and
//! prim-path strings into ids (slot 3) for the selection outline.
//!
//! Slot 9's out-parameters are read as per-path arrays (one entry per input path): a pointer into
//! the token buffer where that path's tokens start, and that path's token count.

use ovhost_plugin_api::PluginError;

use crate::ffi::types::{OvxApiResult, OvxString, PathDictionaryInstance, PathDictionaryVtable};

/// Tokens per path the resolver accepts (the official helper's buffer size).
const MAX_TOKENS_PER_PATH: usize = 64;

pub struct PathDictionary {
    instance: PathDictionaryInstance,
}

// SAFETY: the docs state every path-dictionary slot is thread-safe and the instance lives as long
// as the renderer that owns it (and moves with it).
unsafe impl Send for PathDictionary {}

impl PathDictionary {
    pub fn new(instance: PathDictionaryInstance) -> Self {
        Self { instance }
    }

    fn vtable(&self) -> &PathDictionaryVtable {
        // SAFETY: non-null (checked in Native::path_dictionary) and valid for the renderer's life.
        unsafe { &*self.instance.vtable }
    }

    fn check(&self, slot: &str, result: OvxApiResult) -> Result<(), PluginError> {
        if result.status == 0 {
            return Ok(());
        }
        // SAFETY: a failed result's error view is owned by the dictionary until released.
        let detail = unsafe { result.error.to_string_lossy() };
        // SAFETY: release exactly the error this slot returned.
        unsafe { (self.vtable().release_error)(self.instance.context, result.error) };
        Err(PluginError::internal(format!("ovrtx path dictionary {slot} failed: {detail}")))
    }

    /// The `/A/B/C` string of a prim-path id; `None` when the dictionary cannot resolve it.
    pub fn resolve(&self, path_id: u64) -> Result<Option<String>, PluginError> {
        let mut tokens = [0u64; MAX_TOKENS_PER_PATH];
        let mut first: *mut u64 = std::ptr::null_mut();
        let mut count = 0usize;
        let mut processed = 0usize;
        // SAFETY: one input path; the token buffer has MAX_TOKENS_PER_PATH slots; the per-path
        // out-arrays have one element each (our locals).
        let r = unsafe {
            (self.vtable().get_tokens_from_paths)(
                self.instance.context,
                &path_id,
                1,
                tokens.as_mut_ptr(),
                MAX_TOKENS_PER_PATH,
                &mut first,
                &mut count,
                &mut processed,
            )
        };
        self.check("get_tokens_from_paths", r)?;
        if processed != 1 || first.is_null() || count > MAX_TOKENS_PER_PATH {
            return Ok(None);
        }
        // SAFETY: `first` points into `tokens` (or dictionary memory) holding `count` tokens.
        let path_tokens = unsafe { std::slice::from_raw_parts(first, count) }.to_vec();
        let mut names = vec![OvxString::EMPTY; path_tokens.len()];
        // SAFETY: parallel arrays of equal length; the strings are owned by the dictionary.
        let r = unsafe {
            (self.vtable().get_strings_from_tokens)(
                self.instance.context,
                path_tokens.as_ptr(),
                path_tokens.len(),
                names.as_mut_ptr(),
            )
        };
        self.check("get_strings_from_tokens", r)?;
        let mut path = String::new();
        for name in names {
            // SAFETY: dictionary-owned interned strings, valid for the dictionary's life.
            let name = unsafe { name.to_string_lossy() };
            if name.is_empty() {
                return Ok(None);
            }
            path.push('/');
            path.push_str(&name);
        }
        Ok((!path.is_empty()).then_some(path))
    }

    /// Interned ids of these prim paths.
    pub fn ids(&self, paths: &[&str]) -> Result<Vec<u64>, PluginError> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let views: Vec<OvxString> = paths.iter().map(|p| OvxString::borrow(p)).collect();
        let mut out = vec![0u64; paths.len()];
        // SAFETY: parallel arrays of equal length, alive during the call.
        let r = unsafe {
            (self.vtable().create_paths_from_strings)(
                self.instance.context,
                views.as_ptr(),
                views.len(),
                out.as_mut_ptr(),
            )
        };
        self.check("create_paths_from_strings", r)?;
        Ok(out)
    }
}

//! The default plugin set: the exact ids every stock host registers.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use ovhost::plugins::Registry;

#[test]
fn builtin_ids_are_exactly_the_default_set() {
    let mut registry = Registry::default();
    registry.add_builtins();
    assert!(registry.errors.is_empty(), "{:?}", registry.errors);
    let ids = |keys: Vec<&String>| keys.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(ids(registry.renderers.keys().collect()), ovhost::builtins::RENDERERS);
    assert_eq!(ids(registry.converters.keys().collect()), ovhost::builtins::CONVERTERS);
    assert_eq!(ids(registry.cameras.keys().collect()), ovhost::builtins::CAMERAS);
    assert_eq!(ids(registry.handlers.keys().collect()), ovhost::builtins::HANDLERS);
    assert!(registry.plugins.iter().all(|p| p.builtin && p.source.starts_with("builtin:")));
}

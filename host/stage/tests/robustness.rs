//! Bad input and parser crashes: each is a clear error, and the service keeps answering.
//! Needs no Python: the bad files are written here and the good stage is the committed sample.

mod common;

use ovhost_stage::StageError;
use std::path::PathBuf;

fn asset_root() -> PathBuf {
    let dir = common::fresh_dir("robustness");
    let sample = common::repo_root().join("examples/stages/sample_yup.usda");
    std::fs::copy(&sample, dir.join("good.usda")).expect("copy sample");
    // Nested inherits that make openusd 0.6.0 recurse until its stack overflows.
    let crash = common::repo_root().join("tests/fixtures/stages/nested_inherits_crash.usda");
    std::fs::copy(crash, dir.join("crash.usda")).expect("copy the crash stage");
    std::fs::write(dir.join("not_usd.usda"), "a shopping list\n- eggs {{{\n").expect("write");
    // A usdc header whose table of contents points past the end of the file.
    let mut truncated = b"PXR-USDC".to_vec();
    truncated.extend_from_slice(&[0, 8, 0, 0, 0, 0, 0, 0]);
    truncated.extend_from_slice(&4096u64.to_le_bytes());
    truncated.extend_from_slice(&[0u8; 40]);
    std::fs::write(dir.join("truncated.usdc"), truncated).expect("write");
    std::fs::write(dir.join("readme.txt"), "not a stage").expect("write");
    dir
}

/// The service still serves the good stage's hierarchy.
fn still_answers(service: &mut ovhost_stage::StageService) {
    let rows = service.children("/World").expect("children after an error");
    assert!(rows.iter().any(|r| r.path == "/World/Props"), "{rows:?}");
}

#[test]
fn bad_input_gives_clear_errors_and_the_service_keeps_working() {
    let root = asset_root();
    let mut service = common::service(&root);
    assert!(matches!(service.children("/World"), Err(StageError::NoStage)));
    let opened = service.open("good.usda").expect("open the good stage");
    assert_eq!(opened.info.generation, 1);

    let missing = service.open("missing.usda").expect_err("missing file");
    assert!(matches!(missing, StageError::NotFound { .. }), "{missing}");
    assert!(missing.to_string().contains("missing.usda"), "{missing}");
    still_answers(&mut service);

    for url in [
        "../good.usda",
        "/etc/passwd",
        "file:///etc/hosts.usda",
        "%2e%2e/x.usda",
        "a%2Fb.usda",
        "https://example.com/x.usda",
        "readme.txt",
    ] {
        let refused = service.open(url).expect_err(url);
        assert!(matches!(refused, StageError::Refused { .. }), "{url}: {refused}");
        assert!(refused.to_string().starts_with("refused to open"), "{refused}");
        still_answers(&mut service);
    }

    for (url, needle) in [("not_usd.usda", "not_usd.usda"), ("truncated.usdc", "truncated.usdc")] {
        let err = service.open(url).expect_err(url);
        assert!(matches!(err, StageError::OpenFailed { .. } | StageError::WorkerCrashed { .. }), "{url}: {err}");
        assert!(err.to_string().contains(needle), "{err}");
        still_answers(&mut service);
    }
    // Failed opens leave the good stage and its generation in place.
    assert_eq!(service.generation(), 1);
    let missing_prim = service.children("/World/Nope").expect_err("unknown prim");
    assert!(matches!(missing_prim, StageError::NoSuchPrim(_)), "{missing_prim}");
}

#[test]
fn a_parser_crash_is_reported_and_the_worker_restarts_with_the_last_good_stage() {
    let root = asset_root();
    let mut service = common::service(&root);
    service.open("good.usda").expect("open the good stage");
    let first_pid = service.worker_pid().expect("a worker runs");

    let err = service.open("crash.usda").expect_err("the crash stage must fail");
    let text = err.to_string();
    assert!(matches!(err, StageError::WorkerCrashed { .. }), "{text}");
    assert!(text.starts_with("the USD parser crashed while opening crash.usda:"), "{text}");
    assert!(text.contains("overflowed its stack"), "the worker really overflowed: {text}");
    assert_eq!(service.worker_pid(), None, "the dead worker is reaped");

    // The next call respawns a worker that has the good stage open again.
    still_answers(&mut service);
    let second_pid = service.worker_pid().expect("a new worker runs");
    assert_ne!(first_pid, second_pid);
    assert_eq!(service.generation(), 1, "a crash does not change the generation");
    assert_eq!(service.prim_count().expect("prim count"), 11);

    // And it opens further stages normally.
    let again = service.open("good.usda").expect("open again");
    assert_eq!(again.info.generation, 2);
    assert_eq!(again.scene.generation, 2);
}

#[test]
fn lists_only_relative_usd_names() {
    let root = asset_root();
    let service = common::service(&root);
    let scenes = service.list_scenes();
    assert_eq!(scenes, ["crash.usda", "good.usda", "not_usd.usda", "truncated.usdc"]);
    assert!(scenes.iter().all(|s| !s.starts_with('/')));
}

#[test]
fn a_worker_that_overruns_its_time_limit_is_stopped_and_replaced() {
    let root = asset_root();
    let mut service = common::service(&root);
    service.open("good.usda").expect("open the good stage");
    service.set_timeouts(std::time::Duration::from_micros(1), std::time::Duration::from_secs(30));
    let err = service.open("good.usda").expect_err("no parse finishes in a microsecond");
    assert!(matches!(err, StageError::WorkerTimedOut { .. }), "{err}");
    assert!(err.to_string().contains("did not answer within"), "{err}");
    assert_eq!(service.worker_pid(), None, "the overrunning worker was stopped");
    // Queries use the (generous) query limit: the restarted worker re-opens the last good stage.
    service.set_timeouts(std::time::Duration::from_secs(120), std::time::Duration::from_secs(30));
    still_answers(&mut service);
    assert_eq!(service.generation(), 1);
}

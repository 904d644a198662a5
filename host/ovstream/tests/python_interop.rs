//! Interop with the wheel's own Python `ovstream_utils.messaging`: our encoder's output must be
//! byte-identical to theirs (same id), their receiver must reassemble our parts, and our
//! reassembler must reassemble theirs (interleaved). Needs `scripts/ovstream/setup-venv.sh`;
//! set OVHOST_SKIP_OVSTREAM_PY=1 to skip on machines without it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use ovhost_ovstream::messaging::{Inbound, Reassembler, encode_parts};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python, or `None` when skipping is allowed. Panics with the fix otherwise.
fn python() -> Option<PathBuf> {
    let py = root().join(".venv/ovstream/bin/python");
    let module = root().join("third_party/ovstream/ovstream_utils/messaging.py");
    if py.is_file() && module.is_file() {
        return Some(py);
    }
    if std::env::var("OVHOST_SKIP_OVSTREAM_PY").as_deref() == Ok("1") {
        skip("ovstream Python venv missing and OVHOST_SKIP_OVSTREAM_PY=1");
        return None;
    }
    panic!(
        "the ovstream interop test needs {} and {}: run scripts/ovstream/setup-venv.sh \
         (or set OVHOST_SKIP_OVSTREAM_PY=1 to skip it)",
        py.display(),
        module.display()
    );
}

fn run(py: &PathBuf, mode: &str, request: &Value) -> Value {
    let mut child = Command::new(py)
        .arg(root().join("scripts/ovstream/messaging_interop.py"))
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("write request");
    let out = child.wait_with_output().expect("python output");
    assert!(out.status.success(), "python {mode} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python JSON")
}

/// (event_type, id, compact payload JSON, part size) cases covering single, split and escapes.
fn cases() -> Vec<(String, String, String, usize)> {
    let heavy: String = (0..30_000).map(|i| ['a', 'é', '"', '\n', '中', '\\', '\u{1}', '😀'][i % 8]).collect();
    let payloads = [
        json!({"stage": "a.usd", "n": 3}),
        json!({"text": "x".repeat(100_000)}),
        json!({"text": heavy, "list": [1, 2, 3], "nested": {"k": "v\t"}}),
        json!(["ü".repeat(40_000), null, true, 1.5]),
    ];
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        for (k, part_size) in [4096, 16384, 65535].into_iter().enumerate() {
            let id = format!("00000000-0000-4000-8000-{:012}", i * 10 + k);
            out.push((format!("test:case{i}"), id, serde_json::to_string(p).expect("json"), part_size));
        }
    }
    out
}

#[test]
fn our_encoder_matches_the_python_module_byte_for_byte() {
    let Some(py) = python() else { return };
    let cases = cases();
    let request = json!({"cases": cases.iter().map(|(e, id, p, s)| json!({"event_type": e, "id": id, "payload_json": p, "part_size": s})).collect::<Vec<_>>()});
    let theirs = run(&py, "encode", &request);
    let mut split_cases = 0;
    for (i, (event_type, id, payload, part_size)) in cases.iter().enumerate() {
        let ours = encode_parts(event_type, id, payload, Some(*part_size)).expect("encode");
        let theirs: Vec<String> = serde_json::from_value(theirs[i].clone()).expect("list of strings");
        if ours.len() > 1 {
            split_cases += 1;
        }
        assert_eq!(ours.len(), theirs.len(), "case {i} ({event_type}, part size {part_size}): part count differs");
        for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                a == b,
                "case {i} part {k} differs:\n ours: {}…\ntheirs: {}…",
                &a[..a.len().min(200)],
                &b[..b.len().min(200)]
            );
        }
    }
    assert!(split_cases >= 6, "expected several split cases, got {split_cases}");
}

#[test]
fn python_reassembles_our_parts() {
    let Some(py) = python() else { return };
    let mut messages = Vec::new();
    let mut expected = Vec::new();
    for (event_type, id, payload, part_size) in cases() {
        messages.extend(encode_parts(&event_type, &id, &payload, Some(part_size)).expect("encode"));
        expected.push((event_type, payload));
    }
    let received = run(&py, "decode", &json!({"messages": messages}));
    let received = received.as_array().expect("array");
    assert_eq!(received.len(), expected.len(), "python delivered {} of {} messages", received.len(), expected.len());
    for (got, (event_type, payload)) in received.iter().zip(&expected) {
        assert_eq!(got["event_type"].as_str(), Some(event_type.as_str()));
        assert_eq!(
            got["payload_json"].as_str(),
            Some(payload.as_str()),
            "{event_type}: payload differs after python reassembly"
        );
    }
}

#[test]
fn we_reassemble_python_parts_interleaved() {
    let Some(py) = python() else { return };
    let cases = cases();
    let request = json!({"cases": cases.iter().map(|(e, id, p, s)| json!({"event_type": e, "id": id, "payload_json": p, "part_size": s})).collect::<Vec<_>>()});
    let theirs = run(&py, "encode", &request);
    let lists: Vec<Vec<String>> = serde_json::from_value(theirs).expect("lists");
    // Interleave all messages round-robin, as concurrent senders might (each message's own parts
    // stay in order, but parts of different messages mix).
    let mut order = Vec::new();
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for (i, list) in lists.iter().enumerate() {
            if let Some(m) = list.get(k) {
                order.push((i, m));
            }
        }
    }
    let mut r = Reassembler::default();
    let now = Instant::now();
    let mut complete = 0;
    for (i, message) in order {
        match r.accept(message, now) {
            Inbound::Complete(text) => {
                complete += 1;
                let v: Value = serde_json::from_str(&text).expect("json");
                let (event_type, id, payload, _) = &cases[i];
                assert_eq!(v["event_type"].as_str(), Some(event_type.as_str()));
                assert_eq!(v["id"].as_str(), Some(id.as_str()));
                let want: Value = serde_json::from_str(payload).expect("payload");
                assert_eq!(v["payload"], want, "case {i}: payload differs after our reassembly");
            }
            Inbound::Pending => {}
            Inbound::Dropped(why) => panic!("case {i}: dropped: {why}"),
        }
    }
    assert_eq!(complete, cases.len());
    assert_eq!(r.pending_transfers(), 0);
}

/// Reports that the calling test cannot run here (`skipped: <reason>`), and to scripts/test's
/// tally through `OVHOST_SKIP_LOG`, so it is counted as skipped rather than passed.
fn skip(reason: &str) {
    eprintln!("skipped: {reason}");
    if let Some(path) = std::env::var_os("OVHOST_SKIP_LOG") {
        use std::io::Write as _;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(file, "{test}: {reason}");
        }
    }
}

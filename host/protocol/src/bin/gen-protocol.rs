//! Writes the generated protocol files, or with `--check` fails when they are stale.
//!
//! - `docs/protocol.schema.json`: JSON Schema of every message payload.
//! - `frontend/src/protocol/messages.gen.ts`: the TypeScript types the frontend imports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn outputs(root: &Path) -> Vec<(PathBuf, String)> {
    let schema = ovhost_protocol::schema();
    let mut schema_text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    schema_text.push('\n');
    vec![
        (root.join("docs/protocol.schema.json"), schema_text),
        (root.join("frontend/src/protocol/messages.gen.ts"), ovhost_protocol::typescript::render(&schema)),
    ]
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stale = Vec::new();
    for (path, text) in outputs(&root) {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else if let Err(e) = std::fs::write(&path, text) {
            eprintln!("gen-protocol: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        } else {
            println!("wrote {}", path.display());
        }
    }
    if !stale.is_empty() {
        eprintln!(
            "gen-protocol: generated protocol files are stale: {}\nrun `cargo run -p ovhost-protocol --bin gen-protocol` and commit the result",
            stale.join(", ")
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

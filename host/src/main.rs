//! The `ovhost` binary.

use std::process::ExitCode;

use clap::Parser;
use ovhost::cli::Cli;

fn main() -> ExitCode {
    // The stage worker: the same binary re-executed to parse USD in a separate process. Its
    // stdout is the protocol channel, so nothing else may write there.
    if std::env::args().nth(1).as_deref() == Some("__stage-worker") {
        return ovhost_stage::worker_main();
    }
    let cli = Cli::parse();
    ovhost::logging::init(cli.log_format);
    ovhost::app::run(cli)
}

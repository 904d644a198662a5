//! The `ovhost` binary.

use std::process::ExitCode;

use clap::Parser;
use ovhost::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ovhost::logging::init(cli.log_format);
    ovhost::app::run(cli)
}

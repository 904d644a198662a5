//! Start-up and shutdown of the whole host: plugins, runtime, transports, HTTP, signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::Cli;
use crate::http::{self, HttpConfig};
use crate::plugins::Registry;
use crate::runtime::{Runtime, RuntimeConfig};

/// Exit code for bad configuration or plugins that failed under `--strict-plugins`.
pub const EXIT_CONFIG: u8 = 2;

/// Builds the registry: built-ins first, then plugin dirs, then single files.
pub fn load_plugins(cli: &Cli) -> Registry {
    let mut registry = Registry::default();
    registry.add_builtins();
    for dir in &cli.plugin_dirs {
        registry.add_dir(dir);
    }
    for file in &cli.plugins {
        registry.add_file(file);
    }
    registry.log_errors();
    registry
}

/// The known transports and whether this build can start them.
fn check_transports(cli: &Cli) -> Result<(), String> {
    let mut failures = Vec::new();
    for transport in &cli.transport {
        match transport.as_str() {
            "web" => {}
            t if t.starts_with("ovstream-") => failures
                .push(format!("transport '{t}' is not available in this build (the ovstream sink is not linked yet)")),
            other => {
                return Err(format!(
                    "unknown transport '{other}'; choose from web, ovstream-webrtc, ovstream-native, ovstream-rtsp, ovstream-shm, ovstream-cudashm"
                ));
            }
        }
    }
    for failure in &failures {
        tracing::error!("{failure}");
    }
    if cli.strict_transports && !failures.is_empty() {
        return Err(format!("{} transport(s) failed to start (--strict-transports)", failures.len()));
    }
    Ok(())
}

fn frontend_dir(cli: &Cli) -> Option<PathBuf> {
    cli.frontend_dir.clone().or_else(|| Some(PathBuf::from("frontend/dist")))
}

/// Runs the host until SIGINT/SIGTERM.
pub fn run(cli: Cli) -> ExitCode {
    let registry = load_plugins(&cli);
    if cli.strict_plugins && !registry.errors.is_empty() {
        eprintln!("ovhost: {} plugin(s) failed to load (--strict-plugins):", registry.errors.len());
        for error in &registry.errors {
            eprintln!("  - [{:?}] {}", error.kind, error.message);
        }
        return ExitCode::from(EXIT_CONFIG);
    }
    if let Err(e) = check_transports(&cli) {
        eprintln!("ovhost: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let config = RuntimeConfig {
        width: cli.width,
        height: cli.height,
        fps: cli.fps,
        renderer: cli.renderer.clone(),
        camera: cli.camera.clone(),
        settings_path: cli.settings.clone(),
        strict: cli.strict_plugins,
        asset_root: Some(cli.asset_root.clone()),
        initial_stage: cli.stage.clone(),
        default_dialect: cli.dialect.clone(),
    };
    let runtime = match Runtime::build(&config, Arc::new(registry)) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ovhost: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let (handle, render_thread) = match runtime.start() {
        Ok(started) => started,
        Err(e) => {
            eprintln!("ovhost: cannot start the render thread: {e}");
            return ExitCode::FAILURE;
        }
    };
    let http_config = HttpConfig {
        bind: SocketAddr::new(cli.bind, cli.http_port),
        frontend_dir: frontend_dir(&cli),
        access_token: cli.access_token.clone(),
        allowed_origins: cli.allowed_origins.clone(),
    };
    let tokio = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ovhost: cannot start the I/O runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = tokio.block_on(http::serve(handle.clone(), http_config, shutdown_signal()));
    handle.shutdown();
    let code = match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ovhost: {e}");
            ExitCode::FAILURE
        }
    };
    join_with_timeout(render_thread, Duration::from_millis(1500));
    tokio.shutdown_timeout(Duration::from_millis(300));
    tracing::info!("ovhost stopped");
    code
}

fn join_with_timeout(thread: std::thread::JoinHandle<()>, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    while !thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if thread.is_finished() {
        let _ = thread.join();
    } else {
        tracing::warn!("render thread did not stop within {timeout:?}; exiting anyway");
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot listen for SIGTERM: {e}");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received; shutting down"),
        _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
    }
}

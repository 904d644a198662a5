fn main() -> std::process::ExitCode {
    ovhost_stage::worker_main()
}

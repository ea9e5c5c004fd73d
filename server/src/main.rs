//! The `chargebay` binary.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the bridge allocates per datagram and per row,
/// and glibc's allocator showed up as a sixth of the server's CPU under load
/// (docs/benchmarks.md, "CoAP bridge").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = server::cli::Cli::parse();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers =
        server::runtime::worker_threads(cores, cli.database_url.parse().ok(), cli.runtime_threads);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line, no backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

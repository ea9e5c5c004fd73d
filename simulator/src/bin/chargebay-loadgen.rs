//! `chargebay-loadgen`: the CoAP bridge benchmark (see docs/benchmarks.md).
//!
//! * `bench`: provisions piles, then runs each phase against a server started in its own
//!   process (the raw UDP echo baseline, libcoap's `coap-server-notls`, the chargebay bridge),
//!   with the same generator, and prints a results table; the bridge phases are checked
//!   against the database for lost and duplicated reports.
//! * `provision`: provisions piles with credentials and writes their keys to a file.
//! * `drive`: applies a load to an already running server.
//! * `echo-server`: the raw UDP echo baseline.

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use simulator::loadgen::{
    self, percentile_ms, run_load, verify, Expect, LoadOutcome, LoadSpec, ServerProcess,
    Verification,
};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};
use store::{Backend, Store};

/// chargebay's CoAP bridge load generator and benchmark.
#[derive(Debug, Parser)]
#[command(name = "chargebay-loadgen", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Provision piles, run every phase against servers it starts, print the results.
    Bench(Box<BenchArgs>),
    /// Provision piles with credentials and write `id,secret` lines to a file.
    Provision {
        /// Database (`sqlite:<path>` or `postgres://...`).
        #[arg(long)]
        database_url: String,
        /// Piles to create.
        #[arg(long, default_value_t = 100_000)]
        piles: usize,
        /// Where to write the keys.
        #[arg(long)]
        out: PathBuf,
    },
    /// Apply a load to a server that is already running.
    Drive {
        /// The server's CoAP address.
        #[arg(long)]
        target: SocketAddr,
        /// `id,secret` lines (from `provision`).
        #[arg(long)]
        piles_file: PathBuf,
        /// What answers (`baseline`: any answer completes an exchange).
        #[arg(long, value_enum, default_value = "bridge")]
        expect: Expect,
        /// Check the acknowledged reports against this database afterwards.
        #[arg(long)]
        database_url: Option<String>,
        /// Folder for worker files.
        #[arg(long, default_value = "target/bench")]
        workdir: PathBuf,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// The raw UDP echo baseline: returns every datagram to its sender, nothing else.
    EchoServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:5701")]
        addr: SocketAddr,
        /// Receive buffer in bytes (the bridge asks for 4 MiB too).
        #[arg(long, default_value_t = 4 << 20)]
        recv_buffer: usize,
    },
    /// One worker process of a load (started by `bench` and `drive`).
    #[command(hide = true)]
    Worker {
        /// Its JSON assignment.
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
struct LoadArgs {
    /// Target reports per second (0: closed loop, as fast as the answers come).
    #[arg(long, default_value_t = 20_000.0)]
    rate: f64,
    /// UDP endpoints (sockets), each with one request outstanding at most (0: one per pile).
    #[arg(long, default_value_t = 0)]
    endpoints: usize,
    /// Worker processes (0: one per 16,000 endpoints).
    #[arg(long, default_value_t = 0)]
    procs: usize,
    /// Seconds of load before the measured window: long enough for the first report of every
    /// provisioned pile, which revives its bay (a `bays` row and change events each), to be
    /// absorbed, so that the window measures a fleet that is online.
    #[arg(long, default_value_t = 30)]
    warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Seconds to wait for outstanding answers after the window.
    #[arg(long, default_value_t = 30)]
    drain: u64,
    /// Share of reports that change the bay's occupancy (and the pile's state).
    #[arg(long, default_value_t = 0.02)]
    change_ratio: f64,
    /// RFC 7252 ACK_TIMEOUT in ms.
    #[arg(long, default_value_t = 2000)]
    ack_timeout_ms: u64,
    /// RFC 7252 MAX_RETRANSMIT.
    #[arg(long, default_value_t = 4)]
    max_retransmit: u32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds between progress lines (0: none).
    #[arg(long, default_value_t = 10)]
    progress: u64,
    /// Stop when the disk of the work folder has less than this many MiB free (0: never).
    #[arg(long, default_value_t = 1024)]
    min_free_mib: u64,
    /// Niceness of the generator's worker processes (0: the same as the server's). The piles
    /// it stands for are remote and take no CPU from the server; at 10 the generator, on the
    /// same two cores, uses what the server leaves instead of preempting it
    /// (docs/benchmarks.md, run M).
    #[arg(long, default_value_t = 10, allow_negative_numbers = true)]
    generator_nice: i32,
}

impl LoadArgs {
    fn spec(&self, expect: Expect) -> LoadSpec {
        LoadSpec {
            endpoints: if self.endpoints == 0 {
                usize::MAX
            } else {
                self.endpoints
            },
            procs: self.procs,
            rate: self.rate,
            warmup: Duration::from_secs(self.warmup),
            window: Duration::from_secs(self.duration),
            drain: Duration::from_secs(self.drain),
            change_ratio: self.change_ratio,
            expect,
            ack_timeout: Duration::from_millis(self.ack_timeout_ms),
            max_retransmit: self.max_retransmit,
            seed: self.seed,
            progress_secs: self.progress,
            min_free_mib: self.min_free_mib,
            nice: self.generator_nice,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Phase {
    /// Closed loop against the raw UDP echo server.
    EchoSaturation,
    /// Closed loop against coap-server-notls.
    CoapSaturation,
    /// Closed loop against the bridge.
    BridgeSaturation,
    /// Paced (--rate) against the echo server.
    EchoPaced,
    /// Paced against coap-server-notls.
    CoapPaced,
    /// Paced against the bridge, for --duration seconds: the headline run.
    BridgePaced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Target {
    Echo,
    Coap,
    Bridge,
}

impl Phase {
    fn target(self) -> Target {
        match self {
            Phase::EchoSaturation | Phase::EchoPaced => Target::Echo,
            Phase::CoapSaturation | Phase::CoapPaced => Target::Coap,
            Phase::BridgeSaturation | Phase::BridgePaced => Target::Bridge,
        }
    }
    fn paced(self) -> bool {
        matches!(
            self,
            Phase::EchoPaced | Phase::CoapPaced | Phase::BridgePaced
        )
    }
    fn name(self) -> &'static str {
        match self {
            Phase::EchoSaturation => "echo-saturation",
            Phase::CoapSaturation => "coap-saturation",
            Phase::BridgeSaturation => "bridge-saturation",
            Phase::EchoPaced => "echo-paced",
            Phase::CoapPaced => "coap-paced",
            Phase::BridgePaced => "bridge-paced",
        }
    }
}

#[derive(Debug, Clone, Args)]
struct BenchArgs {
    /// The chargebay server binary (build it with `cargo build --release -p server`).
    #[arg(long, default_value = "target/release/chargebay")]
    server_bin: PathBuf,
    /// libcoap's server (Debian `libcoap3-bin`).
    #[arg(long, default_value = "/usr/bin/coap-server-notls")]
    coap_server_bin: PathBuf,
    /// Database for the bridge; an SQLite file is recreated unless --keep-db.
    #[arg(long, default_value = "sqlite:target/bench/bench.db")]
    database_url: String,
    /// Piles to provision.
    #[arg(long, default_value_t = 100_000)]
    piles: usize,
    /// Reuse the database and the piles file of a previous bench.
    #[arg(long)]
    keep_db: bool,
    /// `--bridge-writers` for the server (default: the server's own default).
    #[arg(long)]
    bridge_writers: Option<usize>,
    /// Server log filter.
    #[arg(long, default_value = "warn")]
    server_log: String,
    /// Phases to run, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "echo-saturation,coap-saturation,bridge-saturation,echo-paced,coap-paced,bridge-paced"
    )]
    phases: Vec<Phase>,
    /// Endpoints of the closed-loop (saturation) phases.
    #[arg(long, default_value_t = 1024)]
    saturation_endpoints: usize,
    /// Measured seconds of each saturation phase.
    #[arg(long, default_value_t = 30)]
    saturation_secs: u64,
    /// Measured seconds of the paced baselines (the paced bridge runs --duration).
    #[arg(long, default_value_t = 30)]
    baseline_secs: u64,
    /// UDP ports: echo on BASE+1, coap-server-notls on BASE+2, the bridge on BASE+3.
    #[arg(long, default_value_t = 5700)]
    port_base: u16,
    /// The server's HTTP port.
    #[arg(long, default_value_t = 3200)]
    http_port: u16,
    /// Folder for the piles file, worker files, server logs and results.
    #[arg(long, default_value = "target/bench")]
    workdir: PathBuf,
    /// Before each phase, wait up to this many seconds for the machine to be idle (other
    /// processes below 15 % of the CPU), so that a compile elsewhere does not skew a phase.
    #[arg(long, default_value_t = 900)]
    wait_idle: u64,
    /// Run a phase again (up to this many times) when other processes used more than
    /// --max-other-cores during its window; the table notes it.
    #[arg(long, default_value_t = 2)]
    busy_retries: u32,
    /// CPU cores other processes may use during a window before it is run again.
    #[arg(long, default_value_t = 0.2)]
    max_other_cores: f64,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Debug, Clone, Serialize)]
struct PhaseResult {
    phase: Phase,
    attempt: u32,
    server: Target,
    endpoints: usize,
    target_rate: f64,
    window_secs: f64,
    completed_per_sec: f64,
    offered_per_sec: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    counts: loadgen::Counts,
    codes: BTreeMap<String, u64>,
    verification: Option<Verification>,
    server_peak_rss_mib: Option<f64>,
    server_rss_end_mib: Option<f64>,
    server_cpu_us_per_report: Option<f64>,
    server_cpu_cores: Option<f64>,
    server_thread_cores: BTreeMap<String, f64>,
    generator_cpu_secs: f64,
    generator_cpu_cores: Option<f64>,
    machine_busy: Option<f64>,
    other_cpu_cores: Option<f64>,
    rss_samples_mib: Vec<(f64, f64)>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Worker { config } => std::fs::read(&config)
            .map_err(anyhow::Error::from)
            .and_then(|b| Ok(serde_json::from_slice(&b)?))
            .and_then(|cfg| loadgen::run_worker(&cfg)),
        Command::EchoServer { addr, recv_buffer } => {
            loadgen::echo_server(addr, recv_buffer).map_err(anyhow::Error::from)
        }
        other => tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(async_main(other))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn async_main(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Bench(args) => bench(&args).await,
        Command::Provision {
            database_url,
            piles,
            out,
        } => {
            let n = provision(&database_url, piles, &out).await?;
            println!("{n} piles provisioned; keys in {}", out.display());
            Ok(())
        }
        Command::Drive {
            target,
            piles_file,
            expect,
            database_url,
            workdir,
            load,
        } => {
            std::fs::create_dir_all(&workdir)?;
            let n = loadgen::read_piles_file(&piles_file)?.len();
            let exe = std::env::current_exe()?;
            let spec = load.spec(expect);
            let out =
                run_load(&exe, &workdir, "drive", target, &piles_file, n, &spec, None).await?;
            let verification = match database_url {
                Some(url) => {
                    let store = Store::connect(&url).await?;
                    let v = verify(&store, &out.piles, out.seq_base).await?;
                    store.close().await;
                    Some(v)
                }
                None => None,
            };
            print_outcome(&out, verification.as_ref());
            Ok(())
        }
        Command::Worker { .. } | Command::EchoServer { .. } => Ok(()),
    }
}

/// A plain HTTP/1.1 GET (no client library needed for one scrape).
async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
        .await??;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut body = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut body)).await??;
    Ok(body)
}

async fn wait_idle(max: Duration) {
    let deadline = std::time::Instant::now() + max;
    let mut said = false;
    loop {
        let busy = loadgen::machine_busy_over(Duration::from_secs(2))
            .await
            .unwrap_or(0.0);
        if busy < 0.15 || std::time::Instant::now() >= deadline {
            if said || busy >= 0.15 {
                eprintln!("machine {:.0} % busy; starting", busy * 100.0);
            }
            return;
        }
        if !said {
            eprintln!(
                "machine {:.0} % busy with other work; waiting for it to go idle",
                busy * 100.0
            );
            said = true;
        }
    }
}

async fn provision(database_url: &str, piles: usize, out: &Path) -> anyhow::Result<usize> {
    let started = std::time::Instant::now();
    let store = Store::connect(database_url).await?;
    let tag = loadgen::unix_ms();
    let fleet = store
        .provision_fleet(&format!("Load test {tag}"), &format!("LT{tag}"), piles, 60)
        .await?;
    store.close().await;
    loadgen::write_piles_file(out, &fleet.piles)?;
    eprintln!(
        "provisioned {piles} piles with credentials in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(fleet.piles.len())
}

fn remove_sqlite(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

async fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.workdir)?;
    let exe = std::env::current_exe()?;
    let backend: Backend = args.database_url.parse()?;
    let piles_file = args.workdir.join("piles.csv");
    let n_piles = if args.keep_db && piles_file.exists() {
        loadgen::read_piles_file(&piles_file)?.len()
    } else {
        if backend == Backend::Sqlite {
            remove_sqlite(&args.database_url);
        }
        provision(&args.database_url, args.piles, &piles_file).await?
    };
    println!("{}", machine_line());
    println!(
        "{n_piles} piles, database {}, bridge writers {}, generator nice {}",
        redact(&args.database_url),
        args.bridge_writers
            .map_or_else(|| "default".into(), |w| w.to_string()),
        args.load.generator_nice
    );

    let mut results: Vec<PhaseResult> = Vec::new();
    let mut used = false;
    for &phase in &args.phases {
        let mut attempt = 0;
        loop {
            // Every bridge phase starts from a freshly provisioned fleet, so that one phase's
            // piles (silent since, and due to go stale) do not become the next one's load.
            if phase.target() == Target::Bridge && backend == Backend::Sqlite && !args.keep_db {
                if used {
                    remove_sqlite(&args.database_url);
                    provision(&args.database_url, args.piles, &piles_file).await?;
                }
                used = true;
            }
            let mut r = run_phase(args, phase, &exe, &piles_file, n_piles).await?;
            r.attempt = attempt + 1;
            eprintln!("{}", serde_json::to_string(&summary_json(&r))?);
            let busy = r.other_cpu_cores.unwrap_or(0.0) > args.max_other_cores;
            let done = !busy || attempt >= args.busy_retries;
            if busy {
                eprintln!(
                    "other processes used {:.2} cores during {}{}",
                    r.other_cpu_cores.unwrap_or(0.0),
                    phase.name(),
                    if done {
                        "; keeping it (noted)"
                    } else {
                        "; running it again"
                    }
                );
            }
            if done {
                results.push(r);
                break;
            }
            attempt += 1;
        }
        let file = args.workdir.join("results.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&results)?)?;
    }
    println!();
    print_table(&results);
    println!(
        "\n(full results: {})",
        args.workdir.join("results.json").display()
    );
    Ok(())
}

async fn run_phase(
    args: &BenchArgs,
    phase: Phase,
    exe: &Path,
    piles_file: &Path,
    n_piles: usize,
) -> anyhow::Result<PhaseResult> {
    let ip = "127.0.0.1";
    let (program, server_args, port, ready): (PathBuf, Vec<String>, u16, u64) = match phase.target()
    {
        Target::Echo => {
            let port = args.port_base + 1;
            let a = vec![
                "echo-server".into(),
                "--addr".into(),
                format!("{ip}:{port}"),
            ];
            (exe.to_owned(), a, port, 10)
        }
        Target::Coap => {
            let port = args.port_base + 2;
            let a = ["-A", ip, "-p", &port.to_string(), "-v", "0"].map(String::from);
            (args.coap_server_bin.clone(), a.to_vec(), port, 10)
        }
        Target::Bridge => {
            let port = args.port_base + 3;
            let mut a: Vec<String> = vec![
                "--http-addr".into(),
                format!("{ip}:{}", args.http_port),
                "--coap-addr".into(),
                format!("{ip}:{port}"),
                "--database-url".into(),
                args.database_url.clone(),
                "--log-level".into(),
                args.server_log.clone(),
            ];
            if let Some(w) = args.bridge_writers {
                a.push("--bridge-writers".into());
                a.push(w.to_string());
            }
            (args.server_bin.clone(), a, port, 300)
        }
    };
    let addr: SocketAddr = format!("{ip}:{port}").parse()?;
    if phase.target() == Target::Bridge && args.load.min_free_mib > 0 {
        // About 400 bytes of database per report (event row, its two indexes, WAL slack).
        let rate = if phase.paced() {
            args.load.rate
        } else {
            30_000.0
        };
        let secs = args.load.warmup
            + if phase.paced() {
                args.load.duration
            } else {
                args.saturation_secs
            };
        let need = (rate * secs as f64 * 400.0 / 1048576.0) as u64 + args.load.min_free_mib;
        if let Some(free) = loadgen::free_mib(&args.workdir) {
            if free < need {
                anyhow::bail!(
                    "phase {} needs about {need} MiB of free disk at {}, only {free} MiB free",
                    phase.name(),
                    args.workdir.display()
                );
            }
        }
    }
    wait_idle(Duration::from_secs(args.wait_idle)).await;
    let log = args.workdir.join(format!("{}.log", phase.name()));
    eprintln!("== {} ({})", phase.name(), program.display());
    let server = ServerProcess::start(
        phase.name(),
        &program,
        &server_args,
        addr,
        &log,
        Duration::from_secs(ready),
    )
    .await
    .with_context(|| format!("phase {}", phase.name()))?;
    let expect = if phase.target() == Target::Bridge {
        Expect::Bridge
    } else {
        Expect::Baseline
    };
    let mut spec = args.load.spec(expect);
    if !phase.paced() {
        spec.rate = 0.0;
        spec.endpoints = args.saturation_endpoints;
        spec.window = Duration::from_secs(args.saturation_secs);
    } else if phase != Phase::BridgePaced {
        spec.window = Duration::from_secs(args.baseline_secs);
    }
    let out = run_load(
        exe,
        &args.workdir,
        phase.name(),
        addr,
        piles_file,
        n_piles,
        &spec,
        server.pid(),
    )
    .await;
    let peak = server.peak_rss_kib();
    let rss_end = server.pid().and_then(|p| loadgen::status_kib(p, "VmRSS"));
    if phase.target() == Target::Bridge {
        // The bridge's own view (batch sizes, commit latency, rejections), for the record.
        let http: SocketAddr = format!("{ip}:{}", args.http_port).parse()?;
        if let Ok(text) = http_get(http, "/metrics").await {
            let _ = std::fs::write(
                args.workdir.join(format!("{}.metrics.txt", phase.name())),
                text,
            );
        }
    }
    server.stop().await?;
    let out = out?;
    let verification = if phase.target() == Target::Bridge {
        let store = Store::connect(&args.database_url).await?;
        let v = verify(&store, &out.piles, out.seq_base).await?;
        store.close().await;
        Some(v)
    } else {
        None
    };
    Ok(phase_result(
        phase,
        &spec,
        &out,
        verification,
        peak,
        rss_end,
    ))
}

fn summary_json(r: &PhaseResult) -> serde_json::Value {
    serde_json::json!({
        "phase": r.phase,
        "completed_per_sec": r.completed_per_sec.round(),
        "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
        "counts": r.counts, "codes": r.codes, "verification": r.verification,
        "server_peak_rss_mib": r.server_peak_rss_mib,
        "server_thread_cores": r.server_thread_cores,
        "cores_server_generator_other": cores(r),
    })
}

fn phase_result(
    phase: Phase,
    spec: &LoadSpec,
    out: &LoadOutcome,
    verification: Option<Verification>,
    peak_kib: Option<u64>,
    rss_end_kib: Option<u64>,
) -> PhaseResult {
    let window = out.window.as_secs_f64();
    let mib = |k: u64| k as f64 / 1024.0;
    PhaseResult {
        phase,
        attempt: 1,
        server: phase.target(),
        endpoints: spec.endpoints.min(out.piles.len()),
        target_rate: spec.rate,
        window_secs: window,
        completed_per_sec: out.completed_per_sec(),
        offered_per_sec: out.counts.window_reports as f64 / window,
        p50_ms: percentile_ms(&out.latency, 0.50),
        p90_ms: percentile_ms(&out.latency, 0.90),
        p99_ms: percentile_ms(&out.latency, 0.99),
        p999_ms: percentile_ms(&out.latency, 0.999),
        max_ms: out.latency.max() as f64 / 1000.0,
        counts: out.counts.clone(),
        codes: out.codes.clone(),
        verification,
        server_peak_rss_mib: peak_kib.map(mib),
        server_rss_end_mib: rss_end_kib.map(mib),
        server_cpu_us_per_report: out
            .server_cpu_secs
            .filter(|_| out.counts.window_completed > 0)
            .map(|s| s * 1e6 / out.counts.window_completed as f64),
        server_cpu_cores: out.server_cpu_secs.map(|s| s / window),
        server_thread_cores: out
            .server_thread_cpu_secs
            .iter()
            .map(|(k, v)| (k.clone(), (v / window * 1000.0).round() / 1000.0))
            .collect(),
        generator_cpu_secs: out.generator_cpu_secs,
        generator_cpu_cores: out.generator_window_cpu_secs.map(|s| s / window),
        machine_busy: out.machine_busy,
        other_cpu_cores: out.machine_busy.map(|b| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            (b * cores
                - out.server_cpu_secs.unwrap_or(0.0) / window
                - out.generator_window_cpu_secs.unwrap_or(0.0) / window)
                .max(0.0)
        }),
        rss_samples_mib: out.rss_samples.iter().map(|(t, k)| (*t, mib(*k))).collect(),
    }
}

fn print_outcome(out: &LoadOutcome, v: Option<&Verification>) {
    println!(
        "completed/s {:.0} over {:.0} s; send-to-ACK p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        out.completed_per_sec(),
        out.window.as_secs_f64(),
        percentile_ms(&out.latency, 0.5),
        percentile_ms(&out.latency, 0.99),
        out.latency.max() as f64 / 1000.0
    );
    println!("counts {:?}", out.counts);
    println!("codes {:?}", out.codes);
    if let Some(v) = v {
        println!("verification {v:?}");
    }
}

fn print_table(results: &[PhaseResult]) {
    let best = |t: Target, paced: bool| {
        results
            .iter()
            .find(|r| r.server == t && r.phase.paced() == paced)
            .map(|r| r.completed_per_sec)
    };
    println!(
        "| phase | endpoints | offered/s | reports/s | vs echo | vs coap-server-notls | p50 ms | p99 ms | p99.9 ms | max ms | 5.03 | retransm. | timeouts | lost | dupes | peak RSS MiB | server CPU µs/report | CPU cores: server / generator / other |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        let ratio = |base: Option<f64>| {
            base.filter(|b| *b > 0.0)
                .map_or("–".into(), |b| format!("{:.2}", r.completed_per_sec / b))
        };
        let (lost, dupes) = r
            .verification
            .as_ref()
            .map_or(("–".into(), "–".into()), |v| {
                (v.lost.to_string(), v.duplicated.to_string())
            });
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.phase.name(),
            r.endpoints,
            if r.phase.paced() {
                format!("{:.0}", r.offered_per_sec)
            } else {
                "closed loop".into()
            },
            r.completed_per_sec,
            ratio(best(Target::Echo, r.phase.paced())),
            ratio(best(Target::Coap, r.phase.paced())),
            r.p50_ms,
            r.p99_ms,
            r.p999_ms,
            r.max_ms,
            r.counts.unavailable,
            r.counts.retransmissions,
            r.counts.timed_out + r.counts.unresolved,
            lost,
            dupes,
            r.server_peak_rss_mib
                .map_or("–".into(), |m| format!("{m:.0}")),
            r.server_cpu_us_per_report
                .map_or("–".into(), |c| format!("{c:.1}")),
            cores(r),
        );
    }
}

fn cores(r: &PhaseResult) -> String {
    let f = |c: Option<f64>| c.map_or("–".into(), |c| format!("{c:.2}"));
    format!(
        "{} / {} / {}",
        f(r.server_cpu_cores),
        f(r.generator_cpu_cores),
        f(r.other_cpu_cores)
    )
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0.0, |k| k as f64 / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "machine: {cpu}, {cores} cores, {mem:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

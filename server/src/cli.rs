//! Command-line flags and environment variables.

use clap::{Args, Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf};

/// chargebay: reserve an EV charging pile whose parking bay is physically free.
#[derive(Debug, Clone, Parser)]
#[command(name = "chargebay", version, about = "chargebay: reserve an EV charging pile whose parking bay is physically free", long_about = None)]
pub struct Cli {
    /// HTTP address for the web app, REST API, health and metrics.
    #[arg(
        long,
        env = "CHARGEBAY_HTTP_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub http_addr: SocketAddr,

    /// UDP address of the CoAP device bridge.
    #[arg(
        long,
        env = "CHARGEBAY_COAP_ADDR",
        default_value = "0.0.0.0:5683",
        global = true
    )]
    pub coap_addr: SocketAddr,

    /// Database: `sqlite:<path>` (embedded default) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:data/chargebay.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `server=debug,info`.
    #[arg(long, env = "CHARGEBAY_LOG", default_value = "info", global = true)]
    pub log_level: String,

    /// Folder with the built site (pkg/ with WASM, JS, CSS; public assets).
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: PathBuf,

    /// Map tile URL template for the driver map, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`.
    /// Without one the map shows markers on a plain background (works offline).
    #[arg(long, env = "CHARGEBAY_TILE_URL", global = true)]
    pub tile_url: Option<String>,

    /// Demo mode: seed a demo city once, print the demo admin's credentials, and run the
    /// built-in pile simulator against the bridge.
    #[arg(long, env = "CHARGEBAY_DEMO", global = true)]
    pub demo: bool,

    /// Demo simulator time acceleration (2 = everything happens twice as fast).
    #[arg(
        long,
        env = "CHARGEBAY_SIM_SPEED",
        default_value_t = 1.0,
        global = true
    )]
    pub sim_speed: f64,

    /// Parallel report writers in the bridge (default: 1 on SQLite, 4 on PostgreSQL).
    #[arg(long, env = "CHARGEBAY_BRIDGE_WRITERS", global = true)]
    pub bridge_writers: Option<usize>,

    /// Worker threads of the async runtime (default: one per core, less one on SQLite,
    /// whose writer thread needs a core of its own).
    #[arg(long, env = "CHARGEBAY_RUNTIME_THREADS", global = true)]
    pub runtime_threads: Option<usize>,

    /// Serve without the in-process CoAP bridge: the piles report to standalone bridges
    /// (`chargebay bridge`) on the same database.
    #[arg(long, env = "CHARGEBAY_NO_BRIDGE", global = true)]
    pub no_bridge: bool,

    /// Republish on this server's live feed the heartbeats other processes' bridges heard
    /// (default: on with `--no-bridge`, off otherwise). Pile changes, holds and alerts from
    /// other processes are always republished.
    #[arg(long, env = "CHARGEBAY_RELAY_HEARTBEATS", global = true, num_args = 0..=1, default_missing_value = "true")]
    pub relay_heartbeats: Option<bool>,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the server (web app, REST API, device bridge, workers). The default.
    Serve,
    /// Run a standalone device bridge for scale-out: CoAP, the workers, and on the HTTP
    /// address only /healthz, /readyz and /metrics. Several bridges and web servers share
    /// one database (PostgreSQL; SQLite within one machine).
    Bridge,
    /// Piles and their device credentials.
    #[command(subcommand)]
    Pile(PileCommand),
    /// User accounts.
    #[command(subcommand)]
    User(UserCommand),
}

/// `chargebay pile ...`
#[derive(Debug, Clone, Subcommand)]
pub enum PileCommand {
    /// List piles with their live state.
    List,
    /// Issue (or rotate) a pile's device credential; the key is printed once.
    IssueCredential(PileRef),
    /// Revoke a pile's device credential.
    RevokeCredential(PileRef),
}

/// A pile, by numeric id or operator code.
#[derive(Debug, Clone, Args)]
pub struct PileRef {
    /// Pile id (e.g. `17`) or code (e.g. `LAB-1`).
    pub pile: String,
}

/// `chargebay user ...`
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from CHARGEBAY_PASSWORD, or generated and printed.
    Create {
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// Shown name.
        #[arg(long, default_value = "")]
        name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
    },
}

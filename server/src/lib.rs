//! chargebay's server: configuration, start-up (migrate, seed), the HTTP routes (Leptos
//! pages and server functions, REST, live events, health, metrics), the device bridge and
//! the workers, composed in one process; or a standalone bridge (`chargebay bridge`).

mod auth;
pub mod cli;
mod commands;
pub mod demo;
mod routes;
pub mod runtime;
pub mod startup;
mod state;
mod telemetry;

pub use state::AppState;

/// Runs what the command line asks for.
pub async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    telemetry::init_tracing(&cli.log_level);
    match cli.command.clone().unwrap_or(cli::Command::Serve) {
        cli::Command::Serve => {
            let app = startup::Application::build(&cli).await?;
            app.announce();
            app.run_until_stopped().await
        }
        cli::Command::Bridge => {
            let app = startup::Application::build_bridge(&cli).await?;
            app.announce();
            app.run_until_stopped().await
        }
        cli::Command::Pile(cmd) => commands::pile(&cli, cmd).await,
        cli::Command::User(cmd) => commands::user(&cli, cmd).await,
    }
}

//! Start-up: connect and migrate the database, seed the demo, bind the HTTP listener and the
//! CoAP socket, start the bridge, the workers, the relay and (in demo mode) the pile
//! simulator. A standalone bridge is the same without the web side.

use crate::{cli::Cli, demo, routes, telemetry, AppState};
use anyhow::Context;
use device_bridge::{Bridge, BridgeConfig};
use leptos::prelude::LeptosOptions;
use service::{relay::RelayConfig, Chargebay, Settings};
use std::{net::SocketAddr, time::Duration};
use store::{Backend, Store};
use tokio::net::TcpListener;

/// A started, not yet serving, chargebay: the whole server, or a standalone bridge.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    http_addr: SocketAddr,
    /// `None` for a server without its own bridge (`--no-bridge`).
    coap_addr: Option<SocketAddr>,
    state: AppState,
    /// The web side's sessions; `None` for a standalone bridge, which serves no pages.
    sessions: Option<tower_sessions::SessionManagerLayer<crate::auth::SessionBackend>>,
    demo_admin: Option<(String, String)>,
}

impl Application {
    /// Builds the server: web app, REST API, the bridge (unless `--no-bridge`), the workers,
    /// the relay. Any failure is one clear error (bad database URL, port taken...).
    pub async fn build(cli: &Cli) -> anyhow::Result<Self> {
        if cli.demo && cli.no_bridge {
            anyhow::bail!("--demo needs the in-process bridge (its simulator reports to it); drop --no-bridge");
        }
        let store = Store::connect(&cli.database_url).await?;
        let service = Chargebay::new(store.clone(), Settings::default());

        let demo_admin = if cli.demo {
            Some(demo::seed(&store).await.context("seeding the demo")?)
        } else {
            None
        };

        let listener = bind_http(cli).await?;
        let http_addr = listener.local_addr()?;
        let sessions = crate::auth::session_layer(&cli.database_url, !http_addr.ip().is_loopback())
            .await
            .context("setting up sessions")?;

        let sims = if cli.demo {
            demo::prepare_simulator(&store)
                .await
                .context("preparing the pile simulator")?
        } else {
            Vec::new()
        };

        let coap_addr = if cli.no_bridge {
            None
        } else {
            Some(start_bridge(cli, &service).await?)
        };
        start_background(cli, &service);

        if let (true, Some(coap_addr)) = (cli.demo, coap_addr) {
            let target = if coap_addr.ip().is_unspecified() {
                SocketAddr::from(([127, 0, 0, 1], coap_addr.port()))
            } else {
                coap_addr
            };
            demo::start_simulator(sims, target, cli.sim_speed);
        }

        Ok(Application {
            listener,
            http_addr,
            coap_addr,
            state: app_state(cli, service, http_addr),
            sessions: Some(sessions),
            demo_admin,
        })
    }

    /// Builds a standalone bridge (`chargebay bridge`): the CoAP bridge, the workers and the
    /// relay (holds made on the web servers reach the piles observing them here), with
    /// `/healthz`, `/readyz` and `/metrics` on the HTTP address.
    pub async fn build_bridge(cli: &Cli) -> anyhow::Result<Self> {
        if cli.demo {
            anyhow::bail!("--demo runs with `chargebay serve`, not with a standalone bridge");
        }
        let store = Store::connect(&cli.database_url).await?;
        let service = Chargebay::new(store, Settings::default());
        let listener = bind_http(cli).await?;
        let http_addr = listener.local_addr()?;
        let coap_addr = start_bridge(cli, &service).await?;
        start_background(cli, &service);
        Ok(Application {
            listener,
            http_addr,
            coap_addr: Some(coap_addr),
            state: app_state(cli, service, http_addr),
            sessions: None,
            demo_admin: None,
        })
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The bound CoAP address (`None` without an in-process bridge).
    pub fn coap_addr(&self) -> Option<SocketAddr> {
        self.coap_addr
    }

    /// The service (for tests).
    pub fn service(&self) -> &Chargebay {
        &self.state.service
    }

    /// Prints where chargebay listens (and the demo admin), on stdout for humans.
    pub fn announce(&self) {
        match (&self.sessions, self.coap_addr) {
            (Some(_), Some(coap)) => println!(
                "chargebay is serving http://{}/  (CoAP on udp://{coap})",
                self.http_addr
            ),
            (Some(_), None) => println!(
                "chargebay is serving http://{}/  (no bridge here: piles report to `chargebay bridge`)",
                self.http_addr
            ),
            (None, coap) => println!(
                "chargebay bridge on udp://{}  (health and metrics on http://{}/)",
                coap.map_or_else(|| "-".to_owned(), |a| a.to_string()),
                self.http_addr
            ),
        }
        if let Some((email, password)) = &self.demo_admin {
            println!("demo admin: {email} / {password}");
        }
    }

    /// Serves HTTP until Ctrl-C / SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let service = self.state.service.clone();
        let router = match self.sessions {
            Some(sessions) => routes::router(self.state, sessions),
            None => routes::ops_router(self.state),
        };
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        // What the store held back is in the journal too; writing it spares the next start
        // the replay.
        service.flush_reports().await?;
        Ok(())
    }
}

async fn bind_http(cli: &Cli) -> anyhow::Result<TcpListener> {
    TcpListener::bind(cli.http_addr)
        .await
        .with_context(|| format!("cannot bind HTTP {}", cli.http_addr))
}

/// Binds and starts the CoAP bridge; returns its address.
async fn start_bridge(cli: &Cli, service: &Chargebay) -> anyhow::Result<SocketAddr> {
    let mut bridge_config = BridgeConfig::new(cli.coap_addr);
    bridge_config.writers = cli
        .bridge_writers
        .unwrap_or(match service.store().backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        });
    let bridge = Bridge::bind(bridge_config, service.clone()).await?;
    let coap_addr = bridge.local_addr()?;
    bridge.spawn();
    Ok(coap_addr)
}

/// The workers, the relay from other processes, and the gauges.
fn start_background(cli: &Cli, service: &Chargebay) {
    service::workers::spawn(service.clone(), Duration::from_secs(1));
    let heartbeats = cli.relay_heartbeats.unwrap_or(cli.no_bridge);
    service::relay::spawn(
        service.clone(),
        RelayConfig::for_backend(service.store().backend(), heartbeats),
    );
    spawn_gauges(service.clone());
}

fn app_state(cli: &Cli, service: Chargebay, http_addr: SocketAddr) -> AppState {
    let leptos_options = LeptosOptions::builder()
        .output_name("chargebay")
        .site_root(cli.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(http_addr)
        .build();
    AppState {
        tile_url: cli.tile_url.clone(),
        service,
        leptos_options,
        metrics: telemetry::metrics_handle(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Every 5 s: the stale-bays gauge, and the metrics recorder's upkeep, which folds the
/// histogram samples recorded since into their buckets. Without it the samples pile up until
/// the next scrape: at 20,000 reports/s ~100 MiB in five minutes nobody scraped.
fn spawn_gauges(service: Chargebay) {
    let metrics = telemetry::metrics_handle();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            metrics.run_upkeep();
            if let Ok(n) = service.store().count_stale_bays().await {
                metrics::gauge!("bays_stale").set(n as f64);
            }
        }
    });
}

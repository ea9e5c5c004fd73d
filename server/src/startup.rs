//! Start-up: connect and migrate the database, seed the demo, bind the HTTP listener and the
//! CoAP socket, start the bridge, the workers and (in demo mode) the pile simulator.

use crate::{cli::Cli, demo, routes, telemetry, AppState};
use anyhow::Context;
use device_bridge::{Bridge, BridgeConfig};
use leptos::prelude::LeptosOptions;
use service::{Chargebay, Settings};
use std::{net::SocketAddr, time::Duration};
use store::{Backend, Store};
use tokio::net::TcpListener;

/// A started, not yet serving, chargebay.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    http_addr: SocketAddr,
    coap_addr: SocketAddr,
    state: AppState,
    sessions: tower_sessions::SessionManagerLayer<crate::auth::SessionBackend>,
    demo_admin: Option<(String, String)>,
}

impl Application {
    /// Builds everything; any failure is one clear error (bad database URL, port taken...).
    pub async fn build(cli: &Cli) -> anyhow::Result<Self> {
        let store = Store::connect(&cli.database_url).await?;
        let service = Chargebay::new(store.clone(), Settings::default());

        let demo_admin = if cli.demo {
            Some(demo::seed(&store).await.context("seeding the demo")?)
        } else {
            None
        };

        let listener = TcpListener::bind(cli.http_addr)
            .await
            .with_context(|| format!("cannot bind HTTP {}", cli.http_addr))?;
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

        let mut bridge_config = BridgeConfig::new(cli.coap_addr);
        bridge_config.writers = cli.bridge_writers.unwrap_or(match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        });
        let bridge = Bridge::bind(bridge_config, service.clone()).await?;
        let coap_addr = bridge.local_addr()?;
        bridge.spawn();
        service::workers::spawn(service.clone(), Duration::from_secs(1));
        spawn_gauges(service.clone());

        if cli.demo {
            let target = if coap_addr.ip().is_unspecified() {
                SocketAddr::from(([127, 0, 0, 1], coap_addr.port()))
            } else {
                coap_addr
            };
            demo::start_simulator(sims, target, cli.sim_speed);
        }

        let leptos_options = LeptosOptions::builder()
            .output_name("chargebay")
            .site_root(cli.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(http_addr)
            .build();
        let state = AppState {
            tile_url: cli.tile_url.clone(),
            service,
            leptos_options,
            metrics: telemetry::metrics_handle(),
        };
        Ok(Application {
            listener,
            http_addr,
            coap_addr,
            state,
            sessions,
            demo_admin,
        })
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The bound CoAP address.
    pub fn coap_addr(&self) -> SocketAddr {
        self.coap_addr
    }

    /// The service (for tests).
    pub fn service(&self) -> &Chargebay {
        &self.state.service
    }

    /// Prints where chargebay listens (and the demo admin), on stdout for humans.
    pub fn announce(&self) {
        println!(
            "chargebay is serving http://{}/  (CoAP on udp://{})",
            self.http_addr, self.coap_addr
        );
        if let Some((email, password)) = &self.demo_admin {
            println!("demo admin: {email} / {password}");
        }
    }

    /// Serves HTTP until Ctrl-C / SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let service = self.state.service.clone();
        let router = routes::router(self.state, self.sessions);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        // What the store held back is in the journal too; writing it spares the next start
        // the replay.
        service.flush_reports().await?;
        Ok(())
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

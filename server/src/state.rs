//! The state every HTTP handler gets.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use service::Chargebay;

/// Shared application state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The service layer.
    pub service: Chargebay,
    /// Leptos rendering options.
    pub leptos_options: LeptosOptions,
    /// Map tile URL template.
    pub tile_url: Option<String>,
    /// Prometheus metrics.
    pub metrics: PrometheusHandle,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

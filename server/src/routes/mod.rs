//! The HTTP routes: one module per area, one handler per action.

mod error;
mod health;
mod live;
mod metrics;
mod piles;

use crate::AppState;
use app::{shell, App};
use axum::{routing::get, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

/// The complete router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let service = state.service.clone();
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .route("/api/v1/live", get(live::stream))
        .route("/api/v1/piles", get(piles::list))
        .route("/api/v1/piles/{id}", get(piles::show))
        .route("/api/v1/piles/{id}/events", get(piles::events))
        .leptos_routes_with_context(
            &state,
            routes,
            move || leptos::prelude::provide_context(service.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

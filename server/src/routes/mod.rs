//! The HTTP routes: one module per area, one handler per action.

mod admin;
mod auth;
mod dto;
mod error;
mod health;
mod live;
mod metrics;
mod openapi;
mod piles;
mod reservations;
mod search;
mod sites;
mod time_limit;
mod watches;

pub use error::ApiError;

use crate::auth::{admin_pages, same_origin};
use crate::AppState;
use app::{shell, App};
use axum::{
    middleware,
    routing::{get, post},
    Router,
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use time_limit::{time_limited, PAGE_TIME_LIMIT};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};
use tower_sessions::SessionManagerLayer;

/// The router of a standalone bridge: health and metrics only.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The complete router.
pub fn router(
    state: AppState,
    sessions: SessionManagerLayer<crate::auth::SessionBackend>,
) -> Router {
    let routes = generate_route_list(App);
    let service = state.service.clone();
    let options = state.leptos_options.clone();
    let tiles = app::shell::MapTiles(state.tile_url.clone());
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::prelude::provide_context(service.clone());
                leptos::prelude::provide_context(tiles.clone());
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .route("/api/v1/live", get(live::stream))
        .route("/api/v1/piles", get(piles::list))
        .route("/api/v1/piles/{id}", get(piles::show))
        .route("/api/v1/piles/{id}/events", get(piles::events))
        .route("/api/v1/sites", get(sites::list))
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/admin/analytics.csv", get(admin::analytics_csv))
        .route("/api/v1/auth/signup", post(auth::signup))
        .route("/api/v1/auth/signin", post(auth::signin))
        .route("/api/v1/auth/signout", post(auth::signout))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/me/tokens", post(auth::create_token))
        .route(
            "/api/v1/reservations",
            get(reservations::list).post(reservations::reserve),
        )
        .route("/api/v1/reservations/{id}", get(reservations::show))
        .route(
            "/api/v1/reservations/{id}/cancel",
            post(reservations::cancel),
        )
        .route(
            "/api/v1/reservations/{id}/check-in",
            post(reservations::check_in),
        )
        .route(
            "/api/v1/reservations/{id}/position",
            post(reservations::position),
        )
        .route(
            "/api/v1/watches",
            get(watches::list)
                .post(watches::add)
                .delete(watches::remove),
        )
        .merge(time_limited(pages, PAGE_TIME_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), admin_pages))
        .layer(middleware::from_fn(same_origin))
        .layer(sessions)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

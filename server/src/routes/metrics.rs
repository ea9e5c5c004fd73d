//! `GET /metrics`: Prometheus text format.

use crate::AppState;
use axum::{extract::State, http::header, response::IntoResponse};

/// Renders every metric.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

//! `/api/v1/piles`: piles with their live status and reason, and a pile's event log.

use super::{
    dto::PileDto,
    error::{ApiError, ApiQuery, ErrorBody},
};
use crate::AppState;
use axum::{
    extract::{Path, State},
    Json,
};
use domain::PileId;
use serde::Deserialize;
use store::events::Event;

/// Every pile with its live status.
#[utoipa::path(get, path = "/api/v1/piles", tag = "piles", responses((status = 200, body = [PileDto])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<PileDto>>, ApiError> {
    let now = store::now();
    Ok(Json(
        state
            .service
            .piles()
            .await?
            .into_iter()
            .map(|v| PileDto::new(v, now, None))
            .collect(),
    ))
}

/// One pile with its live status.
#[utoipa::path(get, path = "/api/v1/piles/{id}", tag = "piles", params(("id" = i64, Path)),
    responses((status = 200, body = PileDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PileDto>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(PileDto::new(
        state.service.pile(id).await?,
        store::now(),
        None,
    )))
}

/// Query of the event log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// How many events, 1–1000 (default 50).
    limit: Option<i64>,
}

/// A pile's event log, newest first: reports, bay and pile changes, staleness, holds.
#[utoipa::path(get, path = "/api/v1/piles/{id}/events", tag = "piles", params(("id" = i64, Path), EventsQuery),
    responses((status = 200, body = [Object]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let id = parse_id(&id)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    state.service.pile(id).await?;
    let events = state
        .service
        .store()
        .recent_events(Some(id), limit)
        .await
        .map_err(service::ServiceError::from)?;
    Ok(Json(events))
}

fn parse_id(raw: &str) -> Result<PileId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(PileId)
        .ok_or_else(|| ApiError::bad_request(format!("invalid pile id {raw:?}")))
}

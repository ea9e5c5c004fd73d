//! `/api/v1/piles`: piles with their live status and reason, and a pile's event log.

use super::error::ApiError;
use crate::AppState;
use axum::{
    extract::{Path, Query, State},
    Json,
};
use domain::{Availability, Occupancy, PileId};
use serde::{Deserialize, Serialize};
use store::{events::Event, piles::PileView};

/// A pile as the API shows it.
#[derive(Debug, Serialize)]
pub struct PileStatus {
    #[serde(flatten)]
    view: PileView,
    availability: Availability,
    /// OCPI 2.2.1 EVSE status.
    ocpi_status: domain::OcpiStatus,
    /// FIWARE ParkingSpot status.
    fiware_status: domain::FiwareStatus,
    occupancy: Occupancy,
}

fn status(view: PileView) -> PileStatus {
    let now = store::now();
    let availability = view.availability(now);
    let occupancy = view.occupancy(now);
    PileStatus {
        availability,
        ocpi_status: availability.ocpi(),
        fiware_status: availability.fiware(occupancy),
        occupancy,
        view,
    }
}

/// `GET /api/v1/piles`
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<PileStatus>>, ApiError> {
    Ok(Json(
        state
            .service
            .piles()
            .await?
            .into_iter()
            .map(status)
            .collect(),
    ))
}

/// `GET /api/v1/piles/{id}`
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PileStatus>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(status(state.service.pile(id).await?)))
}

/// Query of the event log.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    limit: Option<i64>,
}

/// `GET /api/v1/piles/{id}/events?limit=50`: newest first.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
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

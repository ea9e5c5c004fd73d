//! `/api/v1/reservations`: the caller's reservations, reserve, cancel, check in, position.
//! Another driver's reservation answers 404, never revealing that it exists.

use super::{
    dto::{PositionRequest, ReservationDto, ReserveRequest},
    error::{ApiError, ApiJson, ErrorBody},
};
use crate::{auth::CurrentUser, AppState};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use domain::{geo::LatLon, ReservationId};

fn parse_id(raw: &str) -> Result<ReservationId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(ReservationId)
        .ok_or_else(|| ApiError::bad_request(format!("invalid reservation id {raw:?}")))
}

/// The caller's reservations, newest first (the active hold, then history).
#[utoipa::path(get, path = "/api/v1/reservations", tag = "reservations", responses((status = 200, body = [ReservationDto]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<Vec<ReservationDto>>, ApiError> {
    let list = state
        .service
        .store()
        .reservations_of(me.id, 200)
        .await
        .map_err(service::ServiceError::from)?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Reserves an idle pile (409 with the reason when it is not idle, or when the caller already holds one).
#[utoipa::path(post, path = "/api/v1/reservations", request_body = ReserveRequest, tag = "reservations",
    responses((status = 201, body = ReservationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reserve(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ApiJson(body): ApiJson<ReserveRequest>,
) -> Result<(StatusCode, Json<ReservationDto>), ApiError> {
    let res = state.service.reserve(me.id, body.pile).await?;
    Ok((StatusCode::CREATED, Json(res.into())))
}

/// One of the caller's reservations.
#[utoipa::path(get, path = "/api/v1/reservations/{id}", tag = "reservations", params(("id" = i64, Path)),
    responses((status = 200, body = ReservationDto), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ReservationDto>, ApiError> {
    let res = state
        .service
        .store()
        .reservation_of(me.id, parse_id(&id)?)
        .await
        .map_err(service::ServiceError::from)?;
    Ok(Json(res.into()))
}

/// Cancels the caller's active hold.
#[utoipa::path(post, path = "/api/v1/reservations/{id}/cancel", tag = "reservations", params(("id" = i64, Path)),
    responses((status = 200, body = ReservationDto), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ReservationDto>, ApiError> {
    Ok(Json(
        state.service.cancel(me.id, parse_id(&id)?).await?.into(),
    ))
}

/// "I'm here": checks in to the caller's active hold.
#[utoipa::path(post, path = "/api/v1/reservations/{id}/check-in", tag = "reservations", params(("id" = i64, Path)),
    responses((status = 200, body = ReservationDto), (status = 404, body = ErrorBody)))]
pub async fn check_in(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ReservationDto>, ApiError> {
    Ok(Json(
        state.service.check_in(me.id, parse_id(&id)?).await?.into(),
    ))
}

/// Shares the caller's position during the hold.
#[utoipa::path(post, path = "/api/v1/reservations/{id}/position", request_body = PositionRequest, tag = "reservations", params(("id" = i64, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn position(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PositionRequest>,
) -> Result<StatusCode, ApiError> {
    let at = LatLon::new(body.lat, body.lon).map_err(|e| ApiError::bad_request(e.to_string()))?;
    state
        .service
        .share_position(me.id, parse_id(&id)?, at)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

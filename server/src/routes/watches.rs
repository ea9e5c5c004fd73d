//! `/api/v1/watches`: "notify me when a pile here becomes idle".

use super::{
    dto::WatchRequest,
    error::{ApiError, ApiJson, ErrorBody},
};
use crate::{auth::CurrentUser, AppState};
use axum::{extract::State, http::StatusCode, Json};
use store::watches::WatchTarget;

fn target(w: &WatchRequest) -> Result<WatchTarget, ApiError> {
    match (w.pile, w.site) {
        (Some(p), None) => Ok(WatchTarget::Pile(p)),
        (None, Some(s)) => Ok(WatchTarget::Site(s)),
        _ => Err(ApiError::bad_request("give exactly one of pile or site")),
    }
}

/// Watches a pile or a site; an alert arrives on the live feed when a pile there becomes idle.
#[utoipa::path(post, path = "/api/v1/watches", request_body = WatchRequest, tag = "reservations",
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ApiJson(body): ApiJson<WatchRequest>,
) -> Result<StatusCode, ApiError> {
    let t = target(&body)?;
    match t {
        WatchTarget::Pile(p) => {
            state.service.pile(p).await?;
        }
        WatchTarget::Site(s) => {
            state
                .service
                .store()
                .site(s)
                .await
                .map_err(service::ServiceError::from)?;
        }
    }
    state
        .service
        .store()
        .add_watch(me.id, t)
        .await
        .map_err(service::ServiceError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops watching.
#[utoipa::path(delete, path = "/api/v1/watches", request_body = WatchRequest, tag = "reservations", responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ApiJson(body): ApiJson<WatchRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .store()
        .remove_watch(me.id, target(&body)?)
        .await
        .map_err(service::ServiceError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the caller watches.
#[utoipa::path(get, path = "/api/v1/watches", tag = "reservations", responses((status = 200, body = [Object]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<Vec<WatchTarget>>, ApiError> {
    Ok(Json(
        state
            .service
            .store()
            .watches_of(me.id)
            .await
            .map_err(service::ServiceError::from)?,
    ))
}

//! `/api/v1/sites`.

use super::{dto::SiteDto, error::ApiError};
use crate::AppState;
use axum::{extract::State, Json};

/// Every site with its policies.
#[utoipa::path(get, path = "/api/v1/sites", tag = "piles", responses((status = 200, body = [SiteDto])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<SiteDto>>, ApiError> {
    let sites = state
        .service
        .store()
        .list_sites()
        .await
        .map_err(service::ServiceError::from)?;
    Ok(Json(sites.into_iter().map(Into::into).collect()))
}

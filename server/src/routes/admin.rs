//! Admin downloads: `/api/admin/analytics.csv` (admins only; the admin pages themselves are
//! Leptos routes with server functions, see `app::admin`).

use super::{error::ApiError, error::ApiQuery};
use crate::{auth::MaybeUser, AppState};
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

/// What to export: a site or a pile, over a range (`YYYY-MM-DDTHH:MM`, UTC+8; default the
/// last 24 hours).
#[derive(Debug, Deserialize)]
pub struct CsvQuery {
    site: Option<i64>,
    pile: Option<i64>,
    from: Option<String>,
    to: Option<String>,
}

/// The analytics of the admin analytics page as CSV.
pub async fn analytics_csv(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(q): ApiQuery<CsvQuery>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Err(ApiError::unauthorized("sign in first"));
    };
    if state.service.admin_user(user.id).await?.is_none() {
        return Ok((
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "code": "forbidden", "message": "admins only" })),
        )
            .into_response());
    }
    let (from, to) =
        app::admin::api::analytics::range_of(q.from.as_deref(), q.to.as_deref(), store::now().0)
            .ok_or_else(|| ApiError::bad_request("from and to must be YYYY-MM-DDTHH:MM"))?;
    let a = state
        .service
        .analytics(
            q.site.map(domain::SiteId),
            q.pile.map(domain::PileId),
            domain::Millis(from),
            domain::Millis(to),
            24,
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"analytics.csv\"",
            ),
        ],
        a.to_csv(),
    )
        .into_response())
}

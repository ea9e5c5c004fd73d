//! The OpenAPI 3 document of `/api/v1`, generated from the handlers' annotations.

use super::{auth, dto, error, piles, reservations, search, sites, watches};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "chargebay API", version = "1", description = "Reserve an EV charging pile whose parking bay is physically free. Authenticate with the session cookie (sign in) or `Authorization: Bearer <API token>`."),
    paths(
        piles::list, piles::show, piles::events, sites::list, search::search,
        auth::signup, auth::signin, auth::signout, auth::me, auth::create_token,
        reservations::list, reservations::reserve, reservations::show, reservations::cancel, reservations::check_in, reservations::position,
        watches::add, watches::remove, watches::list,
    ),
    components(schemas(search::SearchResults, dto::PileDto, dto::SiteDto, dto::ReservationDto, dto::UserDto, error::ErrorBody)),
    tags((name = "piles", description = "Piles, sites and live status"), (name = "reservations", description = "Holds and watches"), (name = "auth", description = "Accounts, sessions, API tokens")),
)]
struct ApiDoc;

/// `GET /api/v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

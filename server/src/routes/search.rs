//! `GET /api/v1/search`: piles in a map viewport (`bbox=south,west,north,east`) or within a
//! radius of a point (`lat`, `lon`, `radius_km`), nearest first, with filters, paginated.

use super::{
    dto::PileDto,
    error::{ApiError, ApiQuery, ErrorBody},
};
use crate::AppState;
use axum::{extract::State, Json};
use domain::{
    geo::LatLon,
    search::{Area, SearchQuery},
    ConnectorType,
};
use serde::{Deserialize, Serialize};

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Viewport `south,west,north,east` (degrees).
    bbox: Option<String>,
    /// Centre latitude for a radius search, and the distance reference.
    lat: Option<f64>,
    /// Centre longitude.
    lon: Option<f64>,
    /// Radius in km (with `lat`/`lon`), up to 500.
    radius_km: Option<f64>,
    /// `CCS2`, `Type2`, `GBT` or `CHAdeMO`.
    connector: Option<String>,
    /// Minimum power in kW.
    min_kw: Option<f64>,
    /// Only piles idle now.
    idle: Option<bool>,
    /// Text in the site name or address.
    q: Option<String>,
    /// Page, 0-based.
    page: Option<u32>,
    /// Results per page, 1–100 (default 20).
    per_page: Option<u32>,
}

/// A page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    items: Vec<PileDto>,
    total: u64,
    page: u32,
    per_page: u32,
}

fn query_of(p: SearchParams) -> Result<SearchQuery, ApiError> {
    let origin = match (p.lat, p.lon) {
        (Some(lat), Some(lon)) => {
            Some(LatLon::new(lat, lon).map_err(|e| ApiError::bad_request(e.to_string()))?)
        }
        (None, None) => None,
        _ => return Err(ApiError::bad_request("give both lat and lon")),
    };
    let area = match (p.bbox, p.radius_km) {
        (Some(b), None) => {
            let v: Vec<f64> = b
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    ApiError::bad_request("bbox must be four numbers: south,west,north,east")
                })?;
            let [south, west, north, east] = v[..] else {
                return Err(ApiError::bad_request(
                    "bbox must be four numbers: south,west,north,east",
                ));
            };
            Area::BBox {
                south,
                west,
                north,
                east,
            }
        }
        (None, Some(km)) => Area::Radius {
            center: origin.ok_or_else(|| ApiError::bad_request("radius_km needs lat and lon"))?,
            km,
        },
        (None, None) => Area::Anywhere,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("give bbox or radius_km, not both"))
        }
    };
    let connector = p
        .connector
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<ConnectorType>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .transpose()?;
    Ok(SearchQuery {
        area,
        origin,
        connector,
        min_kw: p.min_kw,
        idle_only: p.idle.unwrap_or(false),
        text: p.q,
        page: p.page.unwrap_or(0),
        per_page: p.per_page.unwrap_or(20),
    })
}

/// Searches piles with their live status, nearest first.
#[utoipa::path(get, path = "/api/v1/search", tag = "piles", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let q = query_of(params)?;
    let page = state.service.search(&q).await?;
    let now = store::now();
    Ok(Json(SearchResults {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        items: page
            .items
            .into_iter()
            .map(|h| PileDto::new(h.pile, now, h.distance_km))
            .collect(),
    }))
}

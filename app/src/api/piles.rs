//! Piles for the map, the list and the detail page.

use domain::{Availability, ConnectorType, Occupancy, PileId, SiteId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One pile as the map and list show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileCard {
    /// Pile id.
    pub id: PileId,
    /// Operator code.
    pub code: String,
    /// Site id.
    pub site: SiteId,
    /// Site name.
    pub site_name: String,
    /// Address.
    pub address: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Connector.
    pub connector: ConnectorType,
    /// Max power, kW.
    pub max_kw: f64,
    /// Tariff text.
    pub price_text: String,
    /// Idle or why not.
    pub availability: Availability,
    /// Effective bay occupancy.
    pub occupancy: Occupancy,
    /// When the bay was last heard (unix ms).
    pub reading_at: Option<i64>,
    /// Distance from the search origin, km.
    pub distance_km: Option<f64>,
}

/// What the driver filters by; lives in the URL query so a link reproduces the view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Connector code (`CCS2`, `Type2`, `GBT`, `CHAdeMO`).
    pub connector: Option<String>,
    /// Minimum power, kW.
    pub min_kw: Option<f64>,
    /// Only piles idle now.
    pub idle: bool,
    /// Free text on site name or address.
    pub q: Option<String>,
    /// Distance reference (the driver's position or the map centre).
    pub lat: Option<f64>,
    /// Distance reference longitude.
    pub lon: Option<f64>,
}

/// The piles matching some filters, nearest first, and the server's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileList {
    /// The piles.
    pub piles: Vec<PileCard>,
    /// Server time of the snapshot (unix ms).
    pub now: i64,
}

#[cfg(feature = "ssr")]
pub(crate) fn card(
    v: store::piles::PileView,
    now: domain::Millis,
    distance_km: Option<f64>,
) -> PileCard {
    PileCard {
        availability: v.availability(now),
        occupancy: v.occupancy(now),
        reading_at: v.telemetry.last_report_at.map(|m| m.0),
        id: v.id,
        code: v.code,
        site: v.site,
        site_name: v.site_name,
        address: v.address,
        lat: v.lat,
        lon: v.lon,
        connector: v.connector,
        max_kw: v.max_kw,
        price_text: v.price_text,
        distance_km,
    }
}

/// Most piles one list shows (the nearest ones).
pub const LIST_LIMIT: u32 = 500;

/// Searches piles: nearest first from the given position (else the centre of all sites).
#[server(endpoint = "piles", output = crate::api::codec::JsonText)]
pub async fn list_piles(filters: Filters) -> Result<PileList, ServerFnError> {
    use domain::{
        geo::LatLon,
        search::{Area, SearchQuery},
    };
    let svc = super::ctx::service()?;
    let now = store::now();
    let connector = match filters.connector.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse::<ConnectorType>()
                .map_err(|e| ServerFnError::new(e.to_string()))?,
        ),
        None => None,
    };
    let origin = match (filters.lat, filters.lon) {
        (Some(lat), Some(lon)) => {
            Some(LatLon::new(lat, lon).map_err(|e| ServerFnError::new(e.to_string()))?)
        }
        _ => {
            let sites = svc
                .store()
                .list_sites()
                .await
                .map_err(super::ctx::internal)?;
            let n = sites.len().max(1) as f64;
            let (lat, lon) = sites
                .iter()
                .fold((0.0, 0.0), |(a, b), s| (a + s.lat / n, b + s.lon / n));
            (!sites.is_empty()).then_some(LatLon { lat, lon })
        }
    };
    let mut q = SearchQuery {
        area: Area::Anywhere,
        origin,
        connector,
        min_kw: filters.min_kw.filter(|k| *k > 0.0),
        idle_only: filters.idle,
        text: filters.q.filter(|t| !t.trim().is_empty()),
        page: 0,
        per_page: 100,
    };
    let mut piles = Vec::new();
    loop {
        let page = svc
            .search(&q)
            .await
            .map_err(|e| ServerFnError::new(e.to_string()))?;
        let got = page.items.len();
        piles.extend(
            page.items
                .into_iter()
                .map(|h| card(h.pile, now, h.distance_km)),
        );
        if got == 0 || piles.len() as u64 >= page.total || piles.len() as u32 >= LIST_LIMIT {
            break;
        }
        q.page += 1;
    }
    Ok(PileList { piles, now: now.0 })
}

/// A stretch of the bay's occupancy timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    /// Start (unix ms).
    pub from: i64,
    /// End (unix ms).
    pub to: i64,
    /// What the bay was.
    pub occupancy: Occupancy,
}

/// Everything the detail page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileInfo {
    /// The pile.
    pub card: PileCard,
    /// Bay sensor kind.
    pub sensor: String,
    /// The last 3 hours of bay occupancy, oldest first.
    pub timeline: Vec<Stretch>,
    /// Server time (unix ms).
    pub now: i64,
}

/// Length of the detail page's occupancy timeline.
pub const TIMELINE_MS: i64 = 3 * 3600 * 1000;

/// One pile with its recent occupancy.
#[server(endpoint = "pile", output = crate::api::codec::JsonText)]
pub async fn pile_detail(id: i64) -> Result<PileInfo, ServerFnError> {
    let svc = super::ctx::service()?;
    let now = store::now();
    let view = svc
        .pile(PileId(id))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    let events = svc
        .store()
        .recent_changes(Some(view.id), 1000)
        .await
        .map_err(super::ctx::internal)?;
    let start = now.0 - TIMELINE_MS;
    let parse = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Occupancy>().ok())
            .unwrap_or(Occupancy::Unknown)
    };
    // Change points inside the window (newest first), and what the bay was before the oldest.
    let mut changes: Vec<(i64, Occupancy)> = Vec::new();
    let mut before = None;
    for e in events.iter().take_while(|e| e.at.0 >= start) {
        match e.kind.as_str() {
            "bay_changed" => {
                changes.push((e.at.0, parse(e.data.get("to"))));
                before = Some(parse(e.data.get("from")));
            }
            "bay_stale" | "pile_offline" => {
                changes.push((e.at.0, Occupancy::Unknown));
                before = None;
            }
            _ => {}
        }
    }
    changes.reverse();
    let current = view.occupancy(now);
    let mut state = if changes.is_empty() {
        current
    } else {
        before.unwrap_or(Occupancy::Unknown)
    };
    let mut from = start;
    let mut timeline = Vec::new();
    for (at, to) in changes {
        if at > from {
            timeline.push(Stretch {
                from,
                to: at,
                occupancy: state,
            });
        }
        state = to;
        from = at;
    }
    timeline.push(Stretch {
        from,
        to: now.0,
        occupancy: current,
    });
    let sensor = view.sensor.clone();
    Ok(PileInfo {
        card: card(view, now, None),
        sensor,
        timeline,
        now: now.0,
    })
}

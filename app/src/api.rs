//! Server functions and the data they return.

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
}

/// Every pile with its live state, and the server's clock (for "seen … ago").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileList {
    /// The piles, by site then code.
    pub piles: Vec<PileCard>,
    /// Server time of the snapshot (unix ms).
    pub now: i64,
}

/// Lists every pile with its live state.
#[server(endpoint = "piles")]
pub async fn list_piles() -> Result<PileList, ServerFnError> {
    let svc = expect_context::<service::Chargebay>();
    let now = store::now();
    let piles = svc
        .piles()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(PileList {
        now: now.0,
        piles: piles
            .into_iter()
            .map(|v| PileCard {
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
            })
            .collect(),
    })
}

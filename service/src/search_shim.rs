//! Temporary: nearest idle pile by a scan, until the indexed search lands.

use crate::{Chargebay, ServiceError};
use domain::{geo::LatLon, ConnectorType, PileId};

/// A pile found near a point.
pub struct SearchHit {
    /// The pile.
    pub pile: store::piles::PileView,
    /// Distance from the origin.
    pub distance_km: Option<f64>,
}

impl Chargebay {
    /// The nearest idle pile (scan).
    pub async fn nearest_idle(
        &self,
        from: LatLon,
        connector: Option<ConnectorType>,
        exclude: Option<PileId>,
    ) -> Result<Option<SearchHit>, ServiceError> {
        let now = store::now();
        let mut best: Option<SearchHit> = None;
        for p in self.store.list_piles().await? {
            if Some(p.id) == exclude
                || connector.is_some_and(|c| c != p.connector)
                || !p.availability(now).is_idle()
            {
                continue;
            }
            let d = from.distance_km(LatLon {
                lat: p.lat,
                lon: p.lon,
            });
            if best
                .as_ref()
                .is_none_or(|b| b.distance_km.unwrap_or(f64::MAX) > d)
            {
                best = Some(SearchHit {
                    pile: p,
                    distance_km: Some(d),
                });
            }
        }
        Ok(best)
    }
}

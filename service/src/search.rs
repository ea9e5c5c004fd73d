//! Finding piles: area searches with filters and pages, and the nearest idle pile (e.g. to
//! suggest another when a driver's pile is taken).

use crate::{Chargebay, ServiceError};
use domain::{geo::LatLon, search::SearchQuery, ConnectorType, PileId};
use store::search::{SearchHit, SearchPage};

impl Chargebay {
    /// Searches piles at the server's current time. An invalid query is
    /// [`ServiceError::Invalid`] with a message that says what is wrong.
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage, ServiceError> {
        q.validate()
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(self.store.search_piles(q, store::now()).await?)
    }

    /// The idle pile nearest to `from` (optionally with `connector`, other than `exclude`),
    /// or `None` when no pile is idle.
    pub async fn nearest_idle(
        &self,
        from: LatLon,
        connector: Option<ConnectorType>,
        exclude: Option<PileId>,
    ) -> Result<Option<SearchHit>, ServiceError> {
        let from = LatLon::new(from.lat, from.lon)
            .map_err(|e| ServiceError::Invalid(format!("position: {e}")))?;
        Ok(self
            .store
            .nearest_idle(from, connector, exclude, store::now())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Settings;
    use domain::{report::BayReading, search::Area, PileState, Report};
    use store::{
        piles::NewPile,
        reports::IncomingReport,
        sites::{NewSite, SitePolicy},
        testing::TestDb,
    };

    async fn service_with_two_piles() -> (TestDb, Chargebay, PileId, PileId) {
        let db = TestDb::sqlite().await.unwrap();
        let svc = Chargebay::new(db.store.clone(), Settings::default());
        let site = db
            .store
            .create_site(&NewSite {
                name: "Futian Civic Car Park".into(),
                address: "1 Fuzhong Rd".into(),
                position: LatLon::new(22.54, 114.06).unwrap(),
                timezone: "Asia/Shanghai".into(),
                policy: SitePolicy::default(),
            })
            .await
            .unwrap();
        let mut ids = Vec::new();
        for code in ["FT-1", "FT-2"] {
            ids.push(
                db.store
                    .create_pile(&NewPile {
                        site,
                        code: code.into(),
                        connector: ConnectorType::Ccs2,
                        max_kw: 120.0,
                        price_text: String::new(),
                        heartbeat_secs: 60,
                        sensor: "radar".into(),
                    })
                    .await
                    .unwrap(),
            );
        }
        let (a, b) = (ids[0], ids[1]);
        svc.record_reports(&[IncomingReport {
            pile: a,
            report: Report {
                seq: 1,
                bay: BayReading::Free,
                pile: PileState::Available,
                battery: None,
                quality: None,
            },
            received_at: store::now(),
            from: "127.0.0.1:1".into(),
        }])
        .await
        .unwrap();
        (db, svc, a, b)
    }

    #[tokio::test]
    async fn search_validates_then_searches() {
        let (db, svc, a, _) = service_with_two_piles().await;
        let bad = SearchQuery {
            area: Area::Radius {
                center: LatLon::new(22.54, 114.06).unwrap(),
                km: 0.0,
            },
            ..SearchQuery::default()
        };
        let err = svc.search(&bad).await.unwrap_err();
        assert!(
            matches!(&err, ServiceError::Invalid(m) if m.contains("radius must be more than 0")),
            "{err:?}"
        );
        let page = svc
            .search(&SearchQuery {
                area: Area::BBox {
                    south: 22.5,
                    west: 114.0,
                    north: 22.6,
                    east: 114.1,
                },
                ..SearchQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 2);
        let idle = svc
            .search(&SearchQuery {
                idle_only: true,
                ..SearchQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(
            idle.items.iter().map(|h| h.pile.id).collect::<Vec<_>>(),
            vec![a]
        );
        db.drop_db().await;
    }

    #[tokio::test]
    async fn nearest_idle_checks_the_position() {
        let (db, svc, a, _) = service_with_two_piles().await;
        let here = LatLon::new(22.55, 114.06).unwrap();
        let hit = svc.nearest_idle(here, None, None).await.unwrap().unwrap();
        assert_eq!(hit.pile.id, a);
        assert!(svc
            .nearest_idle(here, None, Some(a))
            .await
            .unwrap()
            .is_none());
        let err = svc
            .nearest_idle(
                LatLon {
                    lat: 123.0,
                    lon: 0.0,
                },
                None,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Invalid(_)), "{err:?}");
        db.drop_db().await;
    }
}

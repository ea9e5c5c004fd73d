//! Time-driven bay transitions, run by a worker on the server's clock: a bay silent past its
//! freshness limit becomes stale (`unknown`), a pile silent past its offline limit goes
//! offline, and a flapping bay that stayed quiet for a full window settles. Each is an event.

use crate::{
    events::{insert_event, NewEvent},
    Store, StoreError,
};
use domain::{Millis, PileId, SiteId};
use sqlx::Row;

/// A pile whose derived state changed in a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweptPile {
    /// The pile.
    pub pile: PileId,
    /// Its site.
    pub site: SiteId,
    /// Which transition: `bay_stale`, `pile_offline` or `bay_settled`.
    pub kind: &'static str,
}

impl Store {
    /// Applies every transition due at `now` and returns the piles it changed.
    pub async fn sweep(
        &self,
        now: Millis,
        flap_window_ms: i64,
    ) -> Result<Vec<SweptPile>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut out = Vec::new();
        let sweeps: [(&'static str, &str, &str); 3] = [
            ("bay_stale", "b.stale = 0 AND b.stale_at <= $1", "stale = 1"),
            (
                "pile_offline",
                "b.offline = 0 AND b.offline_at <= $1",
                "offline = 1",
            ),
            (
                "bay_settled",
                "b.flapping = 1 AND b.last_flip_at <= $1",
                "flapping = 0, rapid_flips = 0",
            ),
        ];
        for (kind, due, set) in sweeps {
            let threshold = if kind == "bay_settled" {
                now.0 - flap_window_ms
            } else {
                now.0
            };
            let rows = sqlx::query(&format!(
                "SELECT b.pile_id, p.site_id FROM bays b JOIN piles p ON p.id = b.pile_id WHERE {due} LIMIT 5000"
            ))
            .bind(threshold)
            .fetch_all(&mut *tx)
            .await?;
            for r in rows {
                let pile = PileId(r.try_get("pile_id")?);
                let site = SiteId(r.try_get("site_id")?);
                let guard = due.replace("b.", "");
                let done = sqlx::query(&format!(
                    "UPDATE bays SET {set} WHERE pile_id = $2 AND {guard}"
                ))
                .bind(threshold)
                .bind(pile.0)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    continue;
                }
                insert_event(
                    &mut tx,
                    &NewEvent {
                        at: now,
                        kind,
                        site: Some(site),
                        pile: Some(pile),
                        cause: "timer".into(),
                        ..NewEvent::default()
                    },
                )
                .await?;
                out.push(SweptPile { pile, site, kind });
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

//! The raw facts the admin analytics are computed from: a pile's state and bay changes and
//! its report times in a time range (plus what it was just before), and reservation
//! outcomes.

use crate::{Store, StoreError};

// A pile's events are read through `events_pile_time (pile_id, at, id)`; the query-plan test
// in `events` keeps these three on it.
/// A pile's last event of a kind before a time.
pub(crate) const KIND_BEFORE: &str = "SELECT data FROM events WHERE pile_id = $1 AND kind = $2 \
     AND at < $3 ORDER BY at DESC, id DESC LIMIT 1";
/// A pile's state and bay changes in a time range, oldest first.
pub(crate) const CHANGES_BETWEEN: &str = "SELECT at, kind, data FROM events WHERE pile_id = $1 \
     AND kind IN ('pile_state_changed', 'bay_changed') AND at >= $2 AND at < $3 ORDER BY at, id";
/// When a pile last had an event of a kind.
pub(crate) const LAST_OF_KIND: &str = "SELECT MAX(at) FROM events WHERE pile_id = $1 AND kind = $2";
use domain::{Millis, PileId, SiteId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// One pile's history in a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileHistory {
    /// The pile.
    pub pile: PileId,
    /// The pile's reported state just before the range (`available`, `charging`, `faulted`).
    pub state_before: Option<String>,
    /// The bay's occupancy just before the range (`free`, `occupied`, `unknown`).
    pub bay_before: Option<String>,
    /// The last report before the range.
    pub report_before: Option<Millis>,
    /// State changes in the range, oldest first: (when, new state).
    pub states: Vec<(Millis, String)>,
    /// Bay changes in the range, oldest first: (when, new occupancy).
    pub bays: Vec<(Millis, String)>,
    /// Report times in the range, oldest first.
    pub reports: Vec<Millis>,
}

fn to_of(data: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(data)
        .ok()
        .and_then(|v| v.get("to").and_then(|t| t.as_str()).map(str::to_owned))
}

impl Store {
    /// `pile`'s history in `[from, to)`.
    pub async fn pile_history(
        &self,
        pile: PileId,
        from: Millis,
        to: Millis,
    ) -> Result<PileHistory, StoreError> {
        let before = |kind: &'static str| {
            sqlx::query_scalar::<_, String>(KIND_BEFORE)
                .bind(pile.0)
                .bind(kind)
                .bind(from.0)
        };
        let state_before = before("pile_state_changed")
            .fetch_optional(self.pool())
            .await?
            .and_then(|d| to_of(&d));
        let bay_before = before("bay_changed")
            .fetch_optional(self.pool())
            .await?
            .and_then(|d| to_of(&d));
        let (reports, report_before) = self.pile_report_times(pile, from, to).await?;
        let rows = sqlx::query(CHANGES_BETWEEN)
            .bind(pile.0)
            .bind(from.0)
            .bind(to.0)
            .fetch_all(self.pool())
            .await?;
        let mut h = PileHistory {
            pile,
            state_before,
            bay_before,
            report_before,
            states: Vec::new(),
            bays: Vec::new(),
            reports,
        };
        for r in &rows {
            let at = Millis(r.try_get("at")?);
            let kind: String = r.try_get("kind")?;
            let Some(to) = to_of(&r.try_get::<String, _>("data")?) else {
                continue;
            };
            if kind == "bay_changed" {
                h.bays.push((at, to));
            } else {
                h.states.push((at, to));
            }
        }
        Ok(h)
    }

    /// Reservations taken in `[from, to)` at `site` or on `pile`, counted by status.
    pub async fn reservation_outcomes(
        &self,
        site: Option<SiteId>,
        pile: Option<PileId>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let (filter, id) = match (pile, site) {
            (Some(p), _) => ("r.pile_id = $3", p.0),
            (None, Some(s)) => ("p.site_id = $3", s.0),
            (None, None) => ("r.pile_id <> $3", 0),
        };
        let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT r.status, COUNT(*) FROM reservations r JOIN piles p ON p.id = r.pile_id \
             WHERE r.created_at >= $1 AND r.created_at < $2 AND {filter} \
             GROUP BY r.status ORDER BY r.status"
        ))
        .bind(from.0)
        .bind(to.0)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }
}

impl Store {
    /// When `pile` last had an event of `kind`.
    pub async fn last_event_at(
        &self,
        pile: PileId,
        kind: &str,
    ) -> Result<Option<Millis>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar(LAST_OF_KIND)
            .bind(pile.0)
            .bind(kind)
            .fetch_one(self.pool())
            .await?;
        Ok(at.map(Millis))
    }
}

//! The append-only event log: every state change with its cause.

use crate::{Store, StoreError};
use domain::{Millis, PileId, ReservationId, SiteId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

/// An event to append.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    /// When it happened.
    pub at: Millis,
    /// What happened (`report`, `bay_changed`, `pile_state_changed`, `bay_stale`, ...).
    pub kind: &'static str,
    /// Site concerned.
    pub site: Option<SiteId>,
    /// Pile concerned.
    pub pile: Option<PileId>,
    /// Reservation concerned.
    pub reservation: Option<ReservationId>,
    /// User concerned.
    pub user: Option<UserId>,
    /// The report's sequence number, for `report` events (unique per pile).
    pub report_seq: Option<i64>,
    /// What caused it: `report:<seq>`, `timer`, `user:<id>`, `admin`, ...
    pub cause: String,
    /// Details.
    pub data: serde_json::Value,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log.
    pub id: i64,
    /// When it happened.
    pub at: Millis,
    /// What happened.
    pub kind: String,
    /// Site concerned.
    pub site: Option<SiteId>,
    /// Pile concerned.
    pub pile: Option<PileId>,
    /// Reservation concerned.
    pub reservation: Option<ReservationId>,
    /// User concerned.
    pub user: Option<UserId>,
    /// What caused it.
    pub cause: String,
    /// Details.
    pub data: serde_json::Value,
}

/// Appends `e` inside `tx`. Returns false when it is a report already recorded (same pile
/// and sequence number), which makes applying a report idempotent.
pub(crate) async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    e: &NewEvent,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO events (at, kind, site_id, pile_id, reservation_id, user_id, report_seq, cause, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(e.at.0)
    .bind(e.kind)
    .bind(e.site.map(|x| x.0))
    .bind(e.pile.map(|x| x.0))
    .bind(e.reservation.map(|x| x.0))
    .bind(e.user.map(|x| x.0))
    .bind(e.report_seq)
    .bind(&e.cause)
    .bind(e.data.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Event rows per multi-row `INSERT` (9 parameters each: far below SQLite's and PostgreSQL's
/// limits on bound parameters).
const INSERT_CHUNK: usize = 200;

/// Appends `events` inside `tx`, in order, many rows per statement. Reports already recorded
/// (same pile and sequence number) are skipped, as in [`insert_event`].
pub(crate) async fn insert_events(
    tx: &mut Transaction<'_, Any>,
    events: &[NewEvent],
) -> Result<(), StoreError> {
    use std::fmt::Write;
    for chunk in events.chunks(INSERT_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO events (at, kind, site_id, pile_id, reservation_id, user_id, report_seq, cause, data) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            let _ = write!(
                sql,
                "{}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                if i == 0 { "" } else { ", " },
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            );
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.at.0)
                .bind(e.kind)
                .bind(e.site.map(|x| x.0))
                .bind(e.pile.map(|x| x.0))
                .bind(e.reservation.map(|x| x.0))
                .bind(e.user.map(|x| x.0))
                .bind(e.report_seq)
                .bind(e.cause.clone())
                .bind(e.data.to_string());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Appends one event in its own transaction.
    pub async fn append_event(&self, e: &NewEvent) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_event(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest events, optionally for one pile, newest first.
    pub async fn recent_events(
        &self,
        pile: Option<PileId>,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, kind, site_id, pile_id, reservation_id, user_id, cause, data FROM events \
             WHERE ($1 IS NULL OR pile_id = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(pile.map(|p| p.0))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Event {
                    id: r.try_get("id")?,
                    at: Millis(r.try_get("at")?),
                    kind: r.try_get("kind")?,
                    site: r.try_get::<Option<i64>, _>("site_id")?.map(SiteId),
                    pile: r.try_get::<Option<i64>, _>("pile_id")?.map(PileId),
                    reservation: r
                        .try_get::<Option<i64>, _>("reservation_id")?
                        .map(ReservationId),
                    user: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
                    cause: r.try_get("cause")?,
                    data: serde_json::from_str(&r.try_get::<String, _>("data")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }
}

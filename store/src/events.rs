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
    let sql = format!("{INSERT_EVENTS} {} ON CONFLICT DO NOTHING", placeholders(0));
    let done = bind_event(sqlx::query(&sql), e).execute(&mut **tx).await?;
    Ok(done.rows_affected() == 1)
}

/// The columns every event insert writes, in [`bind_event`]'s order.
const INSERT_EVENTS: &str = "INSERT INTO events (at, kind, site_id, pile_id, reservation_id, \
     user_id, report_seq, cause, data) VALUES";

/// Parameters per event row.
const EVENT_PARAMS: usize = 9;

/// `($n+1, …, $n+9)` for the event row whose parameters start after `n`.
fn placeholders(n: usize) -> String {
    let params: Vec<String> = (1..=EVENT_PARAMS).map(|k| format!("${}", n + k)).collect();
    format!("({})", params.join(", "))
}

/// Binds `e`'s values, in [`INSERT_EVENTS`]' column order.
fn bind_event<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    e: &NewEvent,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    q.bind(e.at.0)
        .bind(e.kind)
        .bind(e.site.map(|x| x.0))
        .bind(e.pile.map(|x| x.0))
        .bind(e.reservation.map(|x| x.0))
        .bind(e.user.map(|x| x.0))
        .bind(e.report_seq)
        .bind(e.cause.clone())
        .bind(e.data.to_string())
}

/// Event rows per multi-row `INSERT` (far below SQLite's and PostgreSQL's limits on bound
/// parameters).
const INSERT_CHUNK: usize = 200;

/// Appends `events` inside `tx`, in order, many rows per statement. Reports already recorded
/// (same pile and sequence number) are skipped, as in [`insert_event`].
pub(crate) async fn insert_events(
    tx: &mut Transaction<'_, Any>,
    events: &[NewEvent],
) -> Result<(), StoreError> {
    for chunk in events.chunks(INSERT_CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| placeholders(i * EVENT_PARAMS))
            .collect();
        let sql = format!("{INSERT_EVENTS} {} ON CONFLICT DO NOTHING", rows.join(", "));
        let q = chunk
            .iter()
            .fold(sqlx::query(&sql), |q, e| bind_event(q, e));
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

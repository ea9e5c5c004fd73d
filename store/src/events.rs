//! The append-only event log: every state change with its cause. The reports themselves are
//! in the journal (`report_log`); [`Store::recent_events`] shows both.

use crate::{
    bulk::{self, Col},
    report_log::LoggedReport,
    Backend, Store, StoreError,
};
use domain::{Millis, PileId, ReservationId, SiteId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

/// An event to append.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    /// When it happened.
    pub at: Millis,
    /// What happened (`bay_changed`, `pile_state_changed`, `bay_stale`, ...).
    pub kind: &'static str,
    /// Site concerned.
    pub site: Option<SiteId>,
    /// Pile concerned.
    pub pile: Option<PileId>,
    /// Reservation concerned.
    pub reservation: Option<ReservationId>,
    /// User concerned.
    pub user: Option<UserId>,
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

/// Which store instance appended an event: each [`Store::connect`] draws its own, so that a
/// process can tell the events other processes wrote from its own (`service::relay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Origin(pub i64);

impl Origin {
    /// A new random origin (positive, so never confused with a missing one).
    pub(crate) fn random() -> Self {
        Origin(i64::from(rand::random::<u32>()) + 1)
    }
}

/// Appends `e` inside `tx`, as written by `origin`.
pub(crate) async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    origin: Origin,
    e: &NewEvent,
) -> Result<(), StoreError> {
    // One row: numbered placeholders, which both backends accept.
    let sql = crate::multi_row_insert(Backend::Postgres, INSERT_EVENTS, EVENT_PARAMS, 1);
    bind_event(sqlx::query(&sql), origin, e)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The columns every event insert writes, in [`bind_event`]'s order.
const INSERT_EVENTS: &str = "INSERT INTO events (at, kind, site_id, pile_id, reservation_id, \
     user_id, cause, data, origin) VALUES ";

/// Parameters per event row.
const EVENT_PARAMS: usize = 9;

/// The newest changes of all piles.
const CHANGES: &str = "SELECT id, at, kind, site_id, pile_id, reservation_id, user_id, cause, \
     data FROM events ORDER BY id DESC LIMIT $1";
/// Events after an id that another origin wrote, oldest first (the relay's tail).
const FOREIGN_AFTER: &str = "SELECT id, at, kind, site_id, pile_id, reservation_id, user_id, \
     cause, data FROM events WHERE id > $1 AND (origin IS NULL OR origin <> $2) ORDER BY id \
     LIMIT $3";
/// One pile's newest changes (`events_pile_time`, no sort).
const PILE_CHANGES: &str = "SELECT id, at, kind, site_id, pile_id, reservation_id, user_id, \
     cause, data FROM events WHERE pile_id = $1 ORDER BY at DESC, id DESC LIMIT $2";

/// Binds `e`'s values, in [`INSERT_EVENTS`]' column order.
fn bind_event<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    origin: Origin,
    e: &NewEvent,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    q.bind(e.at.0)
        .bind(e.kind)
        .bind(e.site.map(|x| x.0))
        .bind(e.pile.map(|x| x.0))
        .bind(e.reservation.map(|x| x.0))
        .bind(e.user.map(|x| x.0))
        .bind(e.cause.clone())
        .bind(e.data.to_string())
        .bind(origin.0)
}

/// The columns of [`insert_events`]' JSON rows.
const EVENT_COLS: [Col; EVENT_PARAMS] = [
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
];

/// An event row, in [`INSERT_EVENTS`]' column order.
type EventRow<'a> = (
    i64,
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    &'a str,
    String,
    i64,
);

/// Appends `events` inside `tx`, in order, in one statement (rows as one JSON parameter).
pub(crate) async fn insert_events(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    origin: Origin,
    events: &[NewEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    bulk::execute_all(tx, backend, vec![events_write(backend, origin, events)?]).await
}

/// The statement that appends `events` (for [`bulk::execute_all`]).
pub(crate) fn events_write(
    backend: Backend,
    origin: Origin,
    events: &[NewEvent],
) -> Result<bulk::Write, StoreError> {
    let rows: Vec<EventRow<'_>> = events
        .iter()
        .map(|e| {
            (
                e.at.0,
                e.kind,
                e.site.map(|x| x.0),
                e.pile.map(|x| x.0),
                e.reservation.map(|x| x.0),
                e.user.map(|x| x.0),
                e.cause.as_str(),
                e.data.to_string(),
                origin.0,
            )
        })
        .collect();
    let columns = INSERT_EVENTS.trim_end_matches("VALUES ");
    let sql = format!("{columns}{}", bulk::select_rows(backend, &EVENT_COLS));
    bulk::Write::rows(sql, &rows)
}

impl From<LoggedReport> for Event {
    /// A journal entry in the event log's shape (its `id` is its position in the journal).
    fn from(r: LoggedReport) -> Self {
        let mut data = serde_json::json!({
            "seq": r.seq,
            "bay": r.occupancy,
            "pile": r.pile_state,
            "from": r.peer,
            "applied": r.applied,
        });
        if let Some(b) = r.battery {
            data["bat"] = b.into();
        }
        if let Some(q) = r.quality {
            data["q"] = q.into();
        }
        Event {
            id: r.id,
            at: r.at,
            kind: "report".into(),
            site: None,
            pile: Some(r.pile),
            reservation: None,
            user: None,
            cause: format!("report:{}", r.seq),
            data,
        }
    }
}

impl Store {
    /// Appends one event in its own transaction.
    pub async fn append_event(&self, e: &NewEvent) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_event(&mut tx, self.origin, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest events, optionally for one pile, newest first: state changes and the
    /// reports of the journal (kind `report`) together.
    pub async fn recent_events(
        &self,
        pile: Option<PileId>,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let mut events = self.recent_changes(pile, limit).await?;
        let reports = match pile {
            Some(p) => {
                self.pile_reports(p, Millis(i64::MIN), usize::try_from(limit).unwrap_or(0))
                    .await?
            }
            None => self.latest_reports(limit).await?,
        };
        let site: Option<i64> = match pile {
            Some(p) if !reports.is_empty() => {
                sqlx::query_scalar("SELECT site_id FROM piles WHERE id = $1")
                    .bind(p.0)
                    .fetch_optional(self.pool())
                    .await?
            }
            _ => None,
        };
        events.extend(reports.into_iter().map(|r| Event {
            site: site.map(SiteId),
            ..Event::from(r)
        }));
        // Newest first; a report comes after (below) the changes it caused.
        events.sort_by(|a, b| {
            b.at.cmp(&a.at)
                .then_with(|| (a.kind == "report").cmp(&(b.kind == "report")))
                .then_with(|| b.id.cmp(&a.id))
        });
        events.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(events)
    }

    /// The newest state changes (everything in the event log but the reports themselves),
    /// optionally for one pile, newest first (a pile's by time, through `events_pile_time`).
    pub async fn recent_changes(
        &self,
        pile: Option<PileId>,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = match pile {
            Some(p) => sqlx::query(PILE_CHANGES).bind(p.0),
            None => sqlx::query(CHANGES),
        }
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The events other store instances (other processes) appended after id `after`, oldest
    /// first, at most `limit`: what [`Store::origin`]'s own process has not published.
    pub async fn foreign_events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(FOREIGN_AFTER)
            .bind(after)
            .bind(self.origin.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The ids in `(after, upto]` of the events other store instances appended: what a
    /// tail re-checks for transactions that committed after it read past their ids.
    pub async fn foreign_event_ids_between(
        &self,
        after: i64,
        upto: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM events WHERE id > $1 AND id <= $2 \
             AND (origin IS NULL OR origin <> $3) ORDER BY id",
        )
        .bind(after)
        .bind(upto)
        .bind(self.origin.0)
        .fetch_all(self.pool())
        .await?)
    }

    /// The events with these ids, oldest first.
    pub async fn events_by_ids(&self, ids: &[i64]) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, at, kind, site_id, pile_id, reservation_id, user_id, cause, data \
                 FROM events WHERE id IN ({}) ORDER BY id",
                marks.join(",")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                events.push(event_from_row(&r)?);
            }
        }
        Ok(events)
    }

    /// The largest event id (0 for an empty log).
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
                .fetch_one(self.pool())
                .await?,
        )
    }
}

fn event_from_row(r: &sqlx::any::AnyRow) -> Result<Event, StoreError> {
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
}

#[cfg(test)]
mod tests {
    use crate::{admin::analytics, testing::TestDb};
    use sqlx::Row;

    /// Every per-pile read of the event log seeks `events_pile_time` and needs no sort, so
    /// one pile-keyed index is enough (each extra one costs every state change a page).
    #[tokio::test]
    async fn per_pile_reads_seek_the_pile_time_index_without_sorting() {
        let db = TestDb::sqlite().await.expect("sqlite");
        for sql in [
            super::PILE_CHANGES,
            analytics::KIND_BEFORE,
            analytics::CHANGES_BETWEEN,
            analytics::LAST_OF_KIND,
        ] {
            let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind(1_i64)
                .bind("bay_changed")
                .bind(0_i64)
                .bind(0_i64)
                .fetch_all(db.store.pool())
                .await
                .expect("plan")
                .iter()
                .map(|r| r.try_get::<String, _>("detail").expect("detail"))
                .collect();
            let plan = plan.join("; ");
            assert!(
                plan.contains("USING INDEX events_pile_time (pile_id=?"),
                "{sql}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }
}

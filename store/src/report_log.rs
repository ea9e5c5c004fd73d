//! The report journal: every report with a new sequence number, appended in arrival order
//! (late ones too, marked not applied).
//!
//! It has no secondary index on purpose. With a fleet reporting at random, an index keyed by
//! pile puts every report on a page of its own, and a commit of a thousand reports then
//! writes megabytes of WAL (measured: 12,000 reports/s with such an index against 66,000
//! without, docs/benchmarks.md). A pile's entries are chained instead: each row names the
//! same pile's previous entry (`prev_id`), and `bay_seen.last_log_id` is the chain's head,
//! so "this pile's last N reports" is N primary-key lookups.

use crate::{
    bulk::{self, Col},
    Backend, Store, StoreError,
};
use domain::{Millis, PileId};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

/// One journal entry to append.
#[derive(Debug, Clone)]
pub(crate) struct NewEntry<'a> {
    pub id: i64,
    pub pile: PileId,
    pub seq: i64,
    pub at: Millis,
    pub occupancy: &'static str,
    pub pile_state: &'static str,
    pub battery: Option<u8>,
    pub quality: Option<u8>,
    pub peer: &'a str,
    pub applied: bool,
    pub prev: Option<i64>,
}

/// A stored journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedReport {
    /// Position in the journal.
    pub id: i64,
    /// The pile that sent it.
    pub pile: PileId,
    /// Its sequence number.
    pub seq: i64,
    /// When the bridge received it.
    pub at: Millis,
    /// The bay reading it carried (`free` / `occupied`).
    pub occupancy: String,
    /// The pile state it carried.
    pub pile_state: String,
    /// Sensor battery in percent, if sent.
    pub battery: Option<i64>,
    /// Sensor quality in percent, if sent.
    pub quality: Option<i64>,
    /// The UDP peer it came from.
    pub peer: String,
    /// False for a late report (below the pile's last sequence number): kept, not applied.
    pub applied: bool,
    /// The same pile's previous entry.
    pub prev: Option<i64>,
}

const SELECT: &str = "SELECT id, pile_id, seq, at, occupancy, pile_state, battery, quality, \
     peer, applied, prev_id FROM report_log";

fn from_row(r: &sqlx::any::AnyRow) -> Result<LoggedReport, StoreError> {
    Ok(LoggedReport {
        id: r.try_get("id")?,
        pile: PileId(r.try_get("pile_id")?),
        seq: r.try_get("seq")?,
        at: Millis(r.try_get("at")?),
        occupancy: r.try_get("occupancy")?,
        pile_state: r.try_get("pile_state")?,
        battery: r.try_get("battery")?,
        quality: r.try_get("quality")?,
        peer: r.try_get("peer")?,
        applied: r.try_get::<i64, _>("applied")? != 0,
        prev: r.try_get("prev_id")?,
    })
}

/// The largest journal id, as a scalar subquery ([`crate::bulk::aggregate_rows`]): what
/// [`reserve_ids`] needs on SQLite, read with the batch's first statement.
pub(crate) const LAST_ID: &str = "(SELECT COALESCE(MAX(id), 0) FROM report_log)";

/// Reserves `n` new journal ids inside the write transaction `tx`, in increasing order.
/// SQLite's write lock makes "after the largest" safe (`last`: [`LAST_ID`], read inside `tx`
/// with the batch's piles); PostgreSQL draws from the sequence (`last` unused).
pub(crate) async fn reserve_ids(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    n: usize,
    last: Option<i64>,
) -> Result<Vec<i64>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    match backend {
        Backend::Sqlite => {
            let last = last.ok_or_else(|| {
                StoreError::Corrupt("the journal's last id was not read inside the batch".into())
            })?;
            Ok((last + 1..=last + count).collect())
        }
        Backend::Postgres => {
            let mut ids: Vec<i64> = sqlx::query_scalar(
                "SELECT nextval(pg_get_serial_sequence('report_log', 'id')) \
                 FROM generate_series(1, $1)",
            )
            .bind(count)
            .fetch_all(&mut **tx)
            .await?;
            ids.sort_unstable();
            Ok(ids)
        }
    }
}

const INSERT: &str = "INSERT INTO report_log (id, pile_id, seq, at, occupancy, pile_state, \
     battery, quality, peer, applied, prev_id) ";
const COLS: [Col; 11] = [
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
];
/// A journal row, in [`INSERT`]'s column order.
type LogRow<'a> = (
    i64,
    i64,
    i64,
    i64,
    &'static str,
    &'static str,
    Option<u8>,
    Option<u8>,
    &'a str,
    i64,
    Option<i64>,
);

/// The statement that appends `entries` (for [`crate::bulk::execute_all`]).
pub(crate) fn append_write(
    backend: Backend,
    entries: &[NewEntry<'_>],
) -> Result<bulk::Write, StoreError> {
    let rows: Vec<LogRow<'_>> = entries
        .iter()
        .map(|e| {
            (
                e.id,
                e.pile.0,
                e.seq,
                e.at.0,
                e.occupancy,
                e.pile_state,
                e.battery,
                e.quality,
                e.peer,
                i64::from(e.applied),
                e.prev,
            )
        })
        .collect();
    let sql = format!("{INSERT}{}", bulk::select_rows(backend, &COLS));
    bulk::Write::rows(sql, &rows)
}

/// Whether the chain starting at `head` holds `seq`. The applied entries' sequence numbers
/// fall along a chain (late ones sit between them), so the walk stops at the first applied
/// entry below `seq`, or after `max_steps`.
pub(crate) async fn chain_has(
    tx: &mut Transaction<'_, Any>,
    head: Option<i64>,
    seq: i64,
    max_steps: usize,
) -> Result<bool, StoreError> {
    let mut next = head;
    for _ in 0..max_steps {
        let Some(id) = next else { return Ok(false) };
        let Some(row) = sqlx::query("SELECT seq, applied, prev_id FROM report_log WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Ok(false);
        };
        let at: i64 = row.try_get("seq")?;
        if at == seq {
            return Ok(true);
        }
        if at < seq && row.try_get::<i64, _>("applied")? != 0 {
            return Ok(false);
        }
        next = row.try_get("prev_id")?;
    }
    Ok(false)
}

impl Store {
    /// Walks `pile`'s chain from its newest entry back, one key lookup per entry, handing
    /// each to `visit` until it returns false or the chain ends.
    pub(crate) async fn walk_chain(
        &self,
        pile: PileId,
        mut visit: impl FnMut(&LoggedReport) -> bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        let mut next: Option<i64> =
            sqlx::query_scalar("SELECT last_log_id FROM bay_seen WHERE pile_id = $1")
                .bind(pile.0)
                .fetch_optional(&mut *conn)
                .await?
                .flatten();
        let one = format!("{SELECT} WHERE id = $1");
        while let Some(id) = next {
            let Some(row) = sqlx::query(&one)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
            else {
                break;
            };
            let entry = from_row(&row)?;
            if !visit(&entry) {
                break;
            }
            next = entry.prev;
        }
        Ok(())
    }

    /// `pile`'s newest reports, newest first: at most `limit`, none received before `since`.
    pub async fn pile_reports(
        &self,
        pile: PileId,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<LoggedReport>, StoreError> {
        let mut out = Vec::new();
        self.walk_chain(pile, |entry| {
            let wanted = out.len() < limit && entry.at >= since;
            if wanted {
                out.push(entry.clone());
            }
            wanted
        })
        .await?;
        Ok(out)
    }

    /// When `pile`'s reports in `[from, to)` arrived, oldest first, and when the last one
    /// before `from` did.
    pub async fn pile_report_times(
        &self,
        pile: PileId,
        from: Millis,
        to: Millis,
    ) -> Result<(Vec<Millis>, Option<Millis>), StoreError> {
        let mut times = Vec::new();
        let mut before = None;
        self.walk_chain(pile, |entry| {
            if entry.at < from {
                before = Some(entry.at);
                return false;
            }
            if entry.at < to {
                times.push(entry.at);
            }
            true
        })
        .await?;
        times.reverse();
        Ok((times, before))
    }

    /// The newest reports of the whole fleet, newest first.
    pub async fn latest_reports(&self, limit: i64) -> Result<Vec<LoggedReport>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The journal after entry `after`, at most `limit` entries of it, folded per pile: when
    /// each pile was last heard (from an applied report; `None` when all its entries were
    /// late), and the last entry id read (`after` when there were none). The relay's tail
    /// for heartbeats heard by other processes (`service::relay`).
    pub async fn heard_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<(PileId, Option<Millis>)>, i64), StoreError> {
        let rows = sqlx::query(
            "SELECT pile_id, MAX(id) AS last, MAX(CASE WHEN applied = 1 THEN at END) AS heard \
             FROM (SELECT id, pile_id, at, applied FROM report_log WHERE id > $1 ORDER BY id \
             LIMIT $2) AS t GROUP BY pile_id",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut last = after;
        let mut heard = Vec::with_capacity(rows.len());
        for r in &rows {
            last = last.max(r.try_get::<i64, _>("last")?);
            heard.push((
                PileId(r.try_get("pile_id")?),
                r.try_get::<Option<i64>, _>("heard")?.map(Millis),
            ));
        }
        Ok((heard, last))
    }

    /// The last journal entry's id (0 for an empty journal).
    pub async fn last_report_id(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM report_log")
                .fetch_one(self.pool())
                .await?,
        )
    }
}

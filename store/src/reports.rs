//! Applying pile reports: many at once, in one transaction (group commit), idempotent on
//! (pile, sequence number), never letting an older report overwrite newer state. Why the
//! writes are split the way they are: migrations/sqlite/0005_report_log.sql.

use crate::{
    bulk::{self, Col},
    events::{events_write, NewEvent},
    report_log,
    seen::{SeenRow, Undo, REPLAY_AFTER},
    Backend, Store, StoreError,
};
use domain::{BayTelemetry, Millis, PileId, ReadingChange, Report, SiteId};
use serde::Deserialize;
use sqlx::{Any, Transaction};
use std::{
    collections::{HashMap, HashSet},
    time::Instant,
};

/// A validated report from an authenticated pile, as the bridge received it.
#[derive(Debug, Clone)]
pub struct IncomingReport {
    /// The pile that sent it.
    pub pile: PileId,
    /// What it says.
    pub report: Report,
    /// When the bridge received it.
    pub received_at: Millis,
    /// The UDP peer it came from (`ip:port`).
    pub from: String,
}

/// What became of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Recorded; the bay's state changed as described (possibly just a heartbeat).
    Applied {
        /// The pile's site.
        site: SiteId,
        /// What changed.
        change: ReadingChange,
        /// The bay was stale or the pile offline before this report.
        revived: bool,
    },
    /// Older than the pile's last applied report (late or reordered): journaled as not
    /// applied, state unchanged.
    OutOfOrder,
    /// This (pile, seq) was recorded before: nothing done.
    Duplicate,
    /// No such pile.
    UnknownPile,
}

/// What the first pass of [`Store::apply_reports`] decided about a report.
enum Fate {
    /// Nothing to write.
    Decided(Applied),
    /// Not seen before: journaled, and applied unless older than the pile's last report.
    New,
}

struct Loaded {
    site: SiteId,
    telemetry: BayTelemetry,
    /// The bay was stale or the pile offline.
    silent: bool,
    last_addr: Option<String>,
    /// Head of the pile's journal chain.
    last_log_id: Option<i64>,
    /// `bay_seen.last_report_at` as stored (a newer row may be waiting: [`crate::seen`]).
    durable_at: Option<i64>,
    /// The pile's first journal entry in this batch.
    first_id: Option<i64>,
    /// A report was journaled: `bay_seen` is written.
    seen: bool,
    /// The bay's state, the flags or the peer changed: `bays` is written too.
    bay_changed: bool,
}

/// What a report needs of its pile, in [`LoadRow`]'s order.
const LOAD_COLUMNS: [&str; 15] = [
    "b.pile_id",
    "p.site_id",
    "bs.last_seq",
    "bs.last_report_at",
    "b.pile_state",
    "b.occupancy",
    "b.occupancy_since",
    "b.last_flip_at",
    "b.rapid_flips",
    "b.flapping",
    "bs.battery",
    "bs.quality",
    "b.stale + b.offline",
    "b.last_addr",
    "bs.last_log_id",
];

/// One pile as [`load_many`] reads it (a JSON array in [`LOAD_COLUMNS`]' order).
#[derive(Deserialize)]
struct LoadRow {
    pile: i64,
    site: i64,
    last_seq: Option<i64>,
    last_report_at: Option<i64>,
    pile_state: Option<String>,
    occupancy: String,
    occupancy_since: Option<i64>,
    last_flip_at: Option<i64>,
    rapid_flips: i64,
    flapping: i64,
    battery: Option<i64>,
    quality: Option<i64>,
    silent: i64,
    last_addr: Option<String>,
    last_log_id: Option<i64>,
}

impl LoadRow {
    fn into_loaded(self) -> Result<(PileId, Loaded), StoreError> {
        let corrupt = |e: domain::pile::UnknownValue| StoreError::Corrupt(e.to_string());
        let percent = |v: Option<i64>| v.and_then(|x| u8::try_from(x).ok());
        let telemetry = BayTelemetry {
            last_seq: self.last_seq,
            last_report_at: self.last_report_at.map(Millis),
            pile_state: self
                .pile_state
                .map(|s| s.parse())
                .transpose()
                .map_err(corrupt)?,
            occupancy: self.occupancy.parse().map_err(corrupt)?,
            occupancy_since: self.occupancy_since.map(Millis),
            last_flip_at: self.last_flip_at.map(Millis),
            rapid_flips: self.rapid_flips,
            flapping: self.flapping != 0,
            battery: percent(self.battery),
            quality: percent(self.quality),
        };
        let loaded = Loaded {
            site: SiteId(self.site),
            telemetry,
            silent: self.silent != 0,
            last_addr: self.last_addr,
            last_log_id: self.last_log_id,
            durable_at: self.last_report_at,
            first_id: None,
            seen: false,
            bay_changed: false,
        };
        Ok((PileId(self.pile), loaded))
    }
}

impl Loaded {
    /// Takes what a waiting `bay_seen` row says over what the table holds.
    fn overlay(&mut self, row: &SeenRow) {
        crate::seen::overlay(&mut self.telemetry, row);
        self.last_log_id = row.5;
    }

    /// The `bay_seen` row of `pile` as this batch leaves it.
    fn seen_row(&self, pile: PileId) -> SeenRow {
        let t = &self.telemetry;
        (
            pile.0,
            t.last_seq,
            t.last_report_at.map(|m| m.0),
            t.battery.map(i64::from),
            t.quality.map(i64::from),
            self.last_log_id,
        )
    }
}

/// Journal entries a duplicate check walks back at most before calling a report older than
/// what the journal keeps in reach (it is ignored either way; only the answer's words differ).
const DUPLICATE_WALK: usize = 64;

/// What a batch reads besides its piles, in the same statement.
struct BatchFacts {
    /// The journal's largest id (SQLite: [`report_log::reserve_ids`] continues from it).
    last_log_id: Option<i64>,
    /// [`crate::staleness::min_freshness_secs`] now.
    min_freshness_secs: i64,
}

/// The bays of `piles` (unknown piles are simply absent), in one statement for a whole
/// batch: the ids go in as one JSON parameter and the rows come back as one JSON value
/// ([`bulk`]), with the [`BatchFacts`] beside them. On PostgreSQL the rows stay locked until
/// the commit, in pile order, so that two bridge instances never apply reports of the same
/// pile at once.
async fn load_many(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    piles: &[PileId],
) -> Result<(HashMap<PileId, Loaded>, BatchFacts), StoreError> {
    let from = "FROM bays b JOIN bay_seen bs ON bs.pile_id = b.pile_id \
                JOIN piles p ON p.id = b.pile_id";
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " ORDER BY b.pile_id FOR UPDATE OF bs",
    };
    let inner = format!(
        "SELECT {} {from} WHERE b.pile_id IN ({}){lock}",
        bulk::aliased(&LOAD_COLUMNS),
        crate::json_ids(backend, "$1")
    );
    let last_id = match backend {
        Backend::Sqlite => report_log::LAST_ID,
        Backend::Postgres => "NULL::BIGINT",
    };
    let extras = [last_id, crate::staleness::SITES_MIN_FRESHNESS];
    let sql = bulk::aggregate_rows(backend, LOAD_COLUMNS.len(), &inner, &extras);
    let ids = format!("[{}]", crate::join_ids(piles.iter().map(|p| p.0)));
    let (rows, [last_log_id, sites_freshness]) =
        bulk::fetch_rows_and::<LoadRow, 2>(tx, &sql, ids).await?;
    let facts = BatchFacts {
        last_log_id,
        min_freshness_secs: crate::staleness::min_freshness_secs(sites_freshness),
    };
    let piles = rows
        .into_iter()
        .map(LoadRow::into_loaded)
        .collect::<Result<_, _>>()?;
    Ok((piles, facts))
}

/// Whether `next` differs from `before` in what the `bays` row keeps.
fn bay_state_differs(before: &BayTelemetry, next: &BayTelemetry) -> bool {
    before.pile_state != next.pile_state
        || before.occupancy != next.occupancy
        || before.occupancy_since != next.occupancy_since
        || before.last_flip_at != next.last_flip_at
        || before.rapid_flips != next.rapid_flips
        || before.flapping != next.flapping
}

/// `bay_seen`: what every applied report writes. Every row exists (the batch loaded it), so
/// the upsert always updates, by primary key, and never moves a bay back to an older
/// sequence number (a late report moves only the chain's head).
const SEEN_INSERT: &str =
    "INSERT INTO bay_seen (pile_id, last_seq, last_report_at, battery, quality, last_log_id) ";
const SEEN_COLS: [Col; 6] = [Col::Int; 6];
const SEEN_UPSERT: &str = " ON CONFLICT (pile_id) DO UPDATE SET last_seq = excluded.last_seq, \
     last_report_at = excluded.last_report_at, battery = excluded.battery, \
     quality = excluded.quality, last_log_id = excluded.last_log_id \
     WHERE bay_seen.last_seq IS NULL OR bay_seen.last_seq <= excluded.last_seq";
/// `bays`: written only when the bay's state, its flags or its peer changed.
const BAY_INSERT: &str = "INSERT INTO bays (pile_id, pile_state, occupancy, occupancy_since, \
     last_flip_at, rapid_flips, flapping, last_addr, stale, offline) ";
const BAY_COLS: [Col; 10] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
];
const BAY_UPSERT: &str = " ON CONFLICT (pile_id) DO UPDATE SET pile_state = excluded.pile_state, \
     occupancy = excluded.occupancy, occupancy_since = excluded.occupancy_since, \
     last_flip_at = excluded.last_flip_at, rapid_flips = excluded.rapid_flips, \
     flapping = excluded.flapping, last_addr = excluded.last_addr, stale = 0, offline = 0";
/// A `bays` row, in [`BAY_INSERT`]'s column order.
type BayRow<'a> = (
    i64,
    Option<&'static str>,
    &'static str,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<&'a str>,
    i64,
    i64,
);

/// Writes `rows` to `bay_seen` and `bound` as the new replay bound ([`seen_writes`]).
pub(crate) async fn save_seen(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    rows: Vec<SeenRow>,
    bound: Option<i64>,
) -> Result<(), StoreError> {
    bulk::execute_all(tx, backend, seen_writes(backend, rows, bound)?).await
}

/// The statements that write `rows` to `bay_seen`, in pile order (concurrent writers on
/// PostgreSQL touch rows in the same order), and `bound` as the new replay bound
/// ([`crate::seen`]) when given.
fn seen_writes(
    backend: Backend,
    mut rows: Vec<SeenRow>,
    bound: Option<i64>,
) -> Result<Vec<bulk::Write>, StoreError> {
    rows.sort_unstable_by_key(|r| r.0);
    let sql = format!(
        "{SEEN_INSERT}{}{SEEN_UPSERT}",
        bulk::select_rows(backend, &SEEN_COLS)
    );
    Ok(vec![
        bulk::Write::rows(sql, &rows)?,
        crate::meta::set_write(REPLAY_AFTER, bound.map(|b| b.to_string())),
    ])
}

/// The statement that writes the `bays` rows a batch changed.
fn bays_write(
    backend: Backend,
    piles: &HashMap<PileId, Loaded>,
) -> Result<bulk::Write, StoreError> {
    let mut changed: Vec<(PileId, &Loaded)> = piles
        .iter()
        .filter(|(_, l)| l.seen && l.bay_changed)
        .map(|(p, l)| (*p, l))
        .collect();
    changed.sort_unstable_by_key(|d| d.0);
    let rows: Vec<BayRow<'_>> = changed
        .iter()
        .map(|(pile, l)| {
            let t = &l.telemetry;
            (
                pile.0,
                t.pile_state.map(|s| s.as_str()),
                t.occupancy.as_str(),
                t.occupancy_since.map(|m| m.0),
                t.last_flip_at.map(|m| m.0),
                t.rapid_flips,
                i64::from(t.flapping),
                l.last_addr.as_deref(),
                0,
                0,
            )
        })
        .collect();
    let sql = format!(
        "{BAY_INSERT}{}{BAY_UPSERT}",
        bulk::select_rows(backend, &BAY_COLS)
    );
    bulk::Write::rows(sql, &rows)
}

fn change_events(r: &IncomingReport, site: SiteId, c: &ReadingChange) -> Vec<NewEvent> {
    let base = || NewEvent {
        at: r.received_at,
        site: Some(site),
        pile: Some(r.pile),
        cause: format!("report:{}", r.report.seq),
        ..NewEvent::default()
    };
    let mut out = Vec::new();
    if let Some((from, to)) = c.occupancy {
        out.push(NewEvent {
            kind: "bay_changed",
            data: serde_json::json!({ "from": from, "to": to }),
            ..base()
        });
    }
    if let Some((from, to)) = c.pile_state {
        out.push(NewEvent {
            kind: "pile_state_changed",
            data: serde_json::json!({ "from": from, "to": to }),
            ..base()
        });
    }
    if let Some(flapping) = c.flapping {
        out.push(NewEvent {
            kind: if flapping {
                "bay_flapping"
            } else {
                "bay_settled"
            },
            ..base()
        });
    }
    out
}

/// Records how long a phase of [`Store::apply_reports`] took since `since` and starts the
/// next one (`store_report_phase_seconds`; the commit's sync is `store_report_sync_seconds`).
fn phase_done(phase: &'static str, since: Instant) -> Instant {
    let now = Instant::now();
    metrics::histogram!("store_report_phase_seconds", "phase" => phase)
        .record(now.duration_since(since).as_secs_f64());
    now
}

impl Store {
    /// Applies `batch` in one transaction and says what became of each report, in order.
    /// Either every report of the batch is durably recorded, or (on error) none is.
    ///
    /// A report not seen before is appended to the journal (`report_log`). When its sequence
    /// number is above the pile's last one it is applied: it refreshes `bay_seen` and, when
    /// the bay's state changed, rewrites `bays` and adds change events; a late one changes no
    /// state. A report seen before changes nothing, which makes the write idempotent on
    /// (pile, sequence number).
    pub async fn apply_reports(
        &self,
        batch: &[IncomingReport],
        flap_window_ms: i64,
    ) -> Result<Vec<Applied>, StoreError> {
        let begun = Instant::now();
        let mut tx = self.begin_write().await?;
        let loading = phase_done("begin", begun);
        let mut wanted: Vec<PileId> = batch.iter().map(|r| r.pile).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (mut piles, facts) = load_many(&mut tx, self.backend, &wanted).await?;
        let deciding = phase_done("load", loading);
        if let Some(deferred) = &self.seen {
            let deferred = crate::seen::lock(deferred);
            for (pile, l) in piles.iter_mut() {
                if let Some(row) = deferred.get(pile.0) {
                    l.overlay(row);
                }
            }
        }
        // First pass: which reports are new. Their journal ids are reserved in one go.
        let mut seen: HashSet<(PileId, i64)> = HashSet::with_capacity(batch.len());
        let mut fates = Vec::with_capacity(batch.len());
        for r in batch {
            let Some(l) = piles.get(&r.pile) else {
                fates.push(Fate::Decided(Applied::UnknownPile));
                continue;
            };
            let seq = r.report.seq;
            let last = l.telemetry.last_seq;
            let seen_before = !seen.insert((r.pile, seq))
                || last == Some(seq)
                // Rare (the bridge's dedup cache answers most retransmissions): was this one
                // recorded, or is it an older report arriving late?
                || (last.is_some_and(|last| seq < last)
                    && report_log::chain_has(&mut tx, l.last_log_id, seq, DUPLICATE_WALK).await?);
            let fate = if seen_before {
                Fate::Decided(Applied::Duplicate)
            } else {
                Fate::New
            };
            fates.push(fate);
        }
        let new = fates.iter().filter(|f| matches!(f, Fate::New)).count();
        let mut ids = report_log::reserve_ids(&mut tx, self.backend, new, facts.last_log_id)
            .await?
            .into_iter();
        // Second pass, in arrival order: apply, journal, collect change events.
        let mut entries = Vec::with_capacity(new);
        let mut events = Vec::new();
        let mut out = Vec::with_capacity(batch.len());
        for (r, fate) in batch.iter().zip(fates) {
            if let Fate::Decided(a) = fate {
                out.push(a);
                continue;
            }
            // New reports have a loaded pile and a reserved id each.
            let (Some(l), Some(id)) = (piles.get_mut(&r.pile), ids.next()) else {
                out.push(Applied::UnknownPile);
                continue;
            };
            let mut next = l.telemetry.clone();
            let change = next.apply(&r.report, r.received_at, flap_window_ms);
            let applied = !change.out_of_order;
            entries.push(report_log::NewEntry {
                id,
                pile: r.pile,
                seq: r.report.seq,
                at: r.received_at,
                occupancy: r.report.bay.occupancy().as_str(),
                pile_state: r.report.pile.as_str(),
                battery: r.report.battery,
                quality: r.report.quality,
                peer: &r.from,
                applied,
                prev: l.last_log_id,
            });
            l.last_log_id = Some(id);
            l.first_id.get_or_insert(id);
            l.seen = true;
            if !applied {
                out.push(Applied::OutOfOrder);
                continue;
            }
            events.extend(change_events(r, l.site, &change));
            let revived = std::mem::take(&mut l.silent);
            l.bay_changed |= revived
                || bay_state_differs(&l.telemetry, &next)
                || l.last_addr.as_deref() != Some(r.from.as_str());
            l.last_addr = Some(r.from.clone());
            l.telemetry = next;
            out.push(Applied::Applied {
                site: l.site,
                change,
                revived,
            });
        }
        // A heartbeat's row may wait half the shortest freshness limit.
        let horizon_ms = facts.min_freshness_secs * 500;
        let newest = entries.last().map(|e| e.id);
        let (rows, undo) = self.plan_seen(&piles, horizon_ms, newest);
        let bound = undo.as_ref().and_then(|(_, b)| *b);
        let writing = phase_done("decide", deciding);
        let written = async {
            // One round trip on SQLite for all four tables ([`bulk::execute_all`]).
            let mut writes = vec![
                report_log::append_write(self.backend, &entries)?,
                events_write(self.backend, self.origin, &events)?,
            ];
            writes.extend(seen_writes(self.backend, rows, bound)?);
            writes.push(bays_write(self.backend, &piles)?);
            bulk::execute_all(&mut tx, self.backend, writes).await?;
            let syncing = phase_done("write", writing);
            tx.commit().await?;
            // The durable part of a report batch's commit: the database's own sync.
            metrics::histogram!("store_report_sync_seconds")
                .record(syncing.elapsed().as_secs_f64());
            Ok::<(), StoreError>(())
        }
        .await;
        self.settle_seen(undo.map(|(u, _)| u), bound, written.is_ok());
        written.map(|()| out)
    }

    /// Which `bay_seen` rows this batch writes: those whose bay changed, those held back as
    /// long as they may be, and a slice of the waiting ones ([`crate::seen`]); the rest wait.
    /// Returns the undo record and the replay bound to store when rows are deferred.
    fn plan_seen(
        &self,
        piles: &HashMap<PileId, Loaded>,
        horizon_ms: i64,
        newest: Option<i64>,
    ) -> (Vec<SeenRow>, Option<(Undo, Option<i64>)>) {
        let journaled = piles.iter().filter(|(_, l)| l.seen);
        let Some(deferred) = &self.seen else {
            return (journaled.map(|(p, l)| l.seen_row(*p)).collect(), None);
        };
        let mut d = crate::seen::lock(deferred);
        let mut undo = d.begin();
        if let Some(newest) = newest {
            d.journaled(newest);
        }
        let mut rows = Vec::new();
        for (pile, l) in journaled {
            let row = l.seen_row(*pile);
            let may_wait = match (l.durable_at, l.telemetry.last_report_at, l.first_id) {
                (Some(stored), Some(last), Some(first)) if !l.bay_changed => {
                    (last.0 - stored <= horizon_ms).then_some(first)
                }
                _ => None,
            };
            match may_wait {
                Some(first) => d.hold(&mut undo, row, first),
                None => {
                    d.written(&mut undo, pile.0);
                    rows.push(row);
                }
            }
        }
        let now = Instant::now();
        rows.extend(d.slice(&mut undo, now));
        let bound = d.bound_to_write(now);
        (rows, Some((undo, bound)))
    }

    /// After a transaction planned by [`Store::plan_seen`] or [`Store::flush_seen`]: takes
    /// its changes to the waiting rows back when it did not commit.
    pub(crate) fn settle_seen(&self, undo: Option<Undo>, bound: Option<i64>, committed: bool) {
        let (Some(deferred), Some(undo)) = (&self.seen, undo) else {
            return;
        };
        let mut d = crate::seen::lock(deferred);
        if committed {
            if let Some(bound) = bound {
                d.written_bound = Some((bound, Instant::now()));
            }
        } else {
            d.restore(undo);
        }
    }

    /// Writes every waiting `bay_seen` row now (an idle bridge writer and a shutdown call
    /// this; on PostgreSQL nothing waits).
    pub async fn flush_seen(&self) -> Result<(), StoreError> {
        let Some(deferred) = &self.seen else {
            return Ok(());
        };
        if crate::seen::lock(deferred).len() == 0 {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let (rows, undo, bound) = {
            let mut d = crate::seen::lock(deferred);
            let mut undo = d.begin();
            let rows = d.drain(&mut undo);
            (rows, undo, d.bound_to_write(Instant::now()))
        };
        let written = async {
            save_seen(&mut tx, self.backend, rows, bound).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        }
        .await;
        self.settle_seen(Some(undo), bound, written.is_ok());
        written
    }
}

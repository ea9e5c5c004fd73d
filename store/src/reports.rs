//! Applying pile reports: many at once, in one transaction (group commit), idempotent on
//! (pile, sequence number), never letting an older report overwrite newer state.

use crate::{
    events::{insert_events, NewEvent},
    piles::telemetry_from_row,
    Store, StoreError,
};
use domain::{
    availability::{default_freshness_secs, offline_secs},
    report::RawReport,
    BayTelemetry, Millis, PileId, ReadingChange, Report, SiteId,
};
use sqlx::{Any, Row, Transaction};
use std::collections::{HashMap, HashSet};

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
    /// Recorded, but an equal or newer sequence number was already applied: state unchanged.
    OutOfOrder,
    /// This (pile, seq) was recorded before: nothing done.
    Duplicate,
    /// No such pile.
    UnknownPile,
}

struct Loaded {
    site: SiteId,
    telemetry: BayTelemetry,
    freshness_secs: i64,
    offline_secs: i64,
    silent: bool,
    dirty: Option<(Millis, String)>,
}

/// The columns a report needs, for `WHERE b.pile_id IN (...)`.
const LOAD_SELECT: &str = "SELECT b.pile_id, p.site_id, p.heartbeat_secs, \
     s.freshness_secs AS site_freshness, b.last_seq, b.last_report_at, b.pile_state, \
     b.occupancy, b.occupancy_since, b.last_flip_at, b.rapid_flips, b.flapping, b.battery, \
     b.quality, b.stale + b.offline AS silent \
     FROM bays b JOIN piles p ON p.id = b.pile_id JOIN sites s ON s.id = p.site_id";

/// Piles looked up per statement.
const LOAD_CHUNK: usize = 500;

/// The bays of `piles` (unknown piles are simply absent), a few statements for a whole batch.
async fn load_many(
    tx: &mut Transaction<'_, Any>,
    piles: &[PileId],
) -> Result<HashMap<PileId, Loaded>, StoreError> {
    let mut out = HashMap::with_capacity(piles.len());
    for chunk in piles.chunks(LOAD_CHUNK) {
        let ids = crate::join_ids(chunk.iter().map(|p| p.0));
        let rows = sqlx::query(&format!("{LOAD_SELECT} WHERE b.pile_id IN ({ids})"))
            .fetch_all(&mut **tx)
            .await?;
        for r in &rows {
            out.insert(PileId(r.try_get("pile_id")?), loaded_from_row(r)?);
        }
    }
    Ok(out)
}

fn loaded_from_row(r: &sqlx::any::AnyRow) -> Result<Loaded, StoreError> {
    let heartbeat: i64 = r.try_get("heartbeat_secs")?;
    let freshness_secs = r
        .try_get::<Option<i64>, _>("site_freshness")?
        .unwrap_or_else(|| default_freshness_secs(heartbeat));
    Ok(Loaded {
        site: SiteId(r.try_get("site_id")?),
        telemetry: telemetry_from_row(r)?,
        freshness_secs,
        offline_secs: offline_secs(heartbeat).max(freshness_secs),
        silent: r.try_get::<i64, _>("silent")? != 0,
        dirty: None,
    })
}

/// Whether the event log already has this report.
async fn already_recorded(
    tx: &mut Transaction<'_, Any>,
    pile: PileId,
    seq: i64,
) -> Result<bool, StoreError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE pile_id = $1 AND report_seq = $2")
            .bind(pile.0)
            .bind(seq)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}

async fn save(tx: &mut Transaction<'_, Any>, pile: PileId, l: &Loaded) -> Result<(), StoreError> {
    let Some((at, from)) = &l.dirty else {
        return Ok(());
    };
    let t = &l.telemetry;
    sqlx::query(
        "UPDATE bays SET last_seq = $1, last_report_at = $2, pile_state = $3, occupancy = $4, \
         occupancy_since = $5, last_flip_at = $6, rapid_flips = $7, flapping = $8, battery = $9, \
         quality = $10, last_addr = $11, stale = 0, stale_at = $12, offline = 0, offline_at = $13 \
         WHERE pile_id = $14 AND (last_seq IS NULL OR last_seq < $1)",
    )
    .bind(t.last_seq)
    .bind(t.last_report_at.map(|m| m.0))
    .bind(t.pile_state.map(|s| s.as_str()))
    .bind(t.occupancy.as_str())
    .bind(t.occupancy_since.map(|m| m.0))
    .bind(t.last_flip_at.map(|m| m.0))
    .bind(t.rapid_flips)
    .bind(i64::from(t.flapping))
    .bind(t.battery.map(i64::from))
    .bind(t.quality.map(i64::from))
    .bind(from)
    .bind(at.plus_secs(l.freshness_secs).0)
    .bind(at.plus_secs(l.offline_secs).0)
    .bind(pile.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
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

impl Store {
    /// Applies `batch` in one transaction and says what became of each report, in order.
    /// Either every report of the batch is durably recorded, or (on error) none is.
    pub async fn apply_reports(
        &self,
        batch: &[IncomingReport],
        flap_window_ms: i64,
    ) -> Result<Vec<Applied>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut wanted: Vec<PileId> = batch.iter().map(|r| r.pile).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut piles = load_many(&mut tx, &wanted).await?;
        let mut seen: HashSet<(PileId, i64)> = HashSet::with_capacity(batch.len());
        let mut events = Vec::with_capacity(batch.len() + batch.len() / 8);
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            let Some(l) = piles.get_mut(&r.pile) else {
                out.push(Applied::UnknownPile);
                continue;
            };
            // A recorded report either moved `last_seq` up to its own number or was older
            // than it, and `last_seq` never goes down: so a report newer than `last_seq` was
            // never recorded, and only the rare older-or-equal one is looked up.
            let seq = r.report.seq;
            let duplicate = !seen.insert((r.pile, seq))
                || (l.telemetry.last_seq.is_some_and(|last| seq <= last)
                    && already_recorded(&mut tx, r.pile, seq).await?);
            if duplicate {
                out.push(Applied::Duplicate);
                continue;
            }
            let mut next = l.telemetry.clone();
            let change = next.apply(&r.report, r.received_at, flap_window_ms);
            let mut data = serde_json::to_value(RawReport::from(&r.report))
                .unwrap_or_else(|_| serde_json::json!({}));
            data["from"] = r.from.clone().into();
            data["applied"] = (!change.out_of_order).into();
            events.push(NewEvent {
                at: r.received_at,
                kind: "report",
                site: Some(l.site),
                pile: Some(r.pile),
                report_seq: Some(seq),
                cause: format!("report:{seq}"),
                data,
                ..NewEvent::default()
            });
            if change.out_of_order {
                out.push(Applied::OutOfOrder);
                continue;
            }
            events.extend(change_events(r, l.site, &change));
            l.telemetry = next;
            l.dirty = Some((r.received_at, r.from.clone()));
            let revived = std::mem::take(&mut l.silent);
            out.push(Applied::Applied {
                site: l.site,
                change,
                revived,
            });
        }
        // The events in arrival order, many rows per statement (`ON CONFLICT DO NOTHING`
        // stays as the guard against another bridge instance recording the same report).
        insert_events(&mut tx, &events).await?;
        for (pile, l) in &piles {
            save(&mut tx, *pile, l).await?;
        }
        tx.commit().await?;
        Ok(out)
    }
}

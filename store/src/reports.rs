//! Applying pile reports: many at once, in one transaction (group commit), idempotent on
//! (pile, sequence number), never letting an older report overwrite newer state.

use crate::{
    events::{insert_event, NewEvent},
    piles::telemetry_from_row,
    Store, StoreError,
};
use domain::{
    availability::{default_freshness_secs, offline_secs},
    report::RawReport,
    BayTelemetry, Millis, PileId, ReadingChange, Report, SiteId,
};
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

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

async fn load(tx: &mut Transaction<'_, Any>, pile: PileId) -> Result<Option<Loaded>, StoreError> {
    let row = sqlx::query(
        "SELECT p.site_id, p.heartbeat_secs, s.freshness_secs AS site_freshness, b.last_seq, \
         b.last_report_at, b.pile_state, b.occupancy, b.occupancy_since, b.last_flip_at, \
         b.rapid_flips, b.flapping, b.battery, b.quality, b.stale + b.offline AS silent \
         FROM bays b JOIN piles p ON p.id = b.pile_id JOIN sites s ON s.id = p.site_id \
         WHERE b.pile_id = $1",
    )
    .bind(pile.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let heartbeat: i64 = r.try_get("heartbeat_secs")?;
    let freshness_secs = r
        .try_get::<Option<i64>, _>("site_freshness")?
        .unwrap_or_else(|| default_freshness_secs(heartbeat));
    Ok(Some(Loaded {
        site: SiteId(r.try_get("site_id")?),
        telemetry: telemetry_from_row(&r)?,
        freshness_secs,
        offline_secs: offline_secs(heartbeat).max(freshness_secs),
        silent: r.try_get::<i64, _>("silent")? != 0,
        dirty: None,
    }))
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
        let mut piles: HashMap<PileId, Option<Loaded>> = HashMap::new();
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            if let std::collections::hash_map::Entry::Vacant(slot) = piles.entry(r.pile) {
                slot.insert(load(&mut tx, r.pile).await?);
            }
            let Some(Some(l)) = piles.get_mut(&r.pile) else {
                out.push(Applied::UnknownPile);
                continue;
            };
            // Decide on a copy: a duplicate must leave the telemetry untouched.
            let mut next = l.telemetry.clone();
            let change = next.apply(&r.report, r.received_at, flap_window_ms);
            let mut data = serde_json::to_value(RawReport::from(&r.report))
                .unwrap_or_else(|_| serde_json::json!({}));
            data["from"] = r.from.clone().into();
            data["applied"] = (!change.out_of_order).into();
            let recorded = insert_event(
                &mut tx,
                &NewEvent {
                    at: r.received_at,
                    kind: "report",
                    site: Some(l.site),
                    pile: Some(r.pile),
                    report_seq: Some(r.report.seq),
                    cause: format!("report:{}", r.report.seq),
                    data,
                    ..NewEvent::default()
                },
            )
            .await?;
            if !recorded {
                out.push(Applied::Duplicate);
                continue;
            }
            if change.out_of_order {
                out.push(Applied::OutOfOrder);
                continue;
            }
            for e in change_events(r, l.site, &change) {
                insert_event(&mut tx, &e).await?;
            }
            l.telemetry = next;
            l.dirty = Some((r.received_at, r.from.clone()));
            let revived = std::mem::take(&mut l.silent);
            out.push(Applied::Applied {
                site: l.site,
                change,
                revived,
            });
        }
        for (pile, l) in &piles {
            if let Some(l) = l {
                save(&mut tx, *pile, l).await?;
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

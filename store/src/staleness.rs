//! Time-driven bay transitions, run by a worker on the server's clock: a bay silent past its
//! freshness limit becomes stale (`unknown`), a pile silent past its offline limit goes
//! offline, and a flapping bay that stayed quiet for a full window settles. Each is an event.
//!
//! Due bays are found by reads outside the write lock, so the bridge's commits never wait
//! behind a fleet scan. The scan reads the narrow `bay_seen` rows and joins the rest only for
//! bays silent longer than the smallest freshness limit in use, which in a healthy fleet is
//! next to none. Each transition is then written with a guard (no report since the read).

use crate::{
    events::{insert_events, NewEvent},
    Store, StoreError,
};
use domain::{
    availability::{default_freshness_secs, offline_secs},
    Millis, PileId, SiteId,
};
use sqlx::Row;
use std::collections::HashMap;

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

/// Most transitions of one kind written per sweep (the next sweep takes the rest).
const SWEEP_LIMIT: i64 = 5000;

/// The write guard of the stale and offline transitions: no report since `$2`.
const STILL_SILENT: &str =
    " AND (SELECT last_report_at FROM bay_seen WHERE pile_id = bays.pile_id) <= $2";

/// A transition found due by the read phase.
struct Due {
    pile: PileId,
    site: SiteId,
    kind: &'static str,
}

/// SQL for a pile's freshness limit in seconds (the site's override, else the domain's
/// default from the heartbeat), with `p` the pile and `s` its site.
fn freshness_sql() -> String {
    let base = default_freshness_secs(0);
    let slope = default_freshness_secs(1) - base;
    format!("COALESCE(s.freshness_secs, {slope} * p.heartbeat_secs + {base})")
}

/// SQL for a pile's offline limit in seconds: five heartbeats, never below its freshness.
fn offline_sql() -> String {
    let slope = offline_secs(1) - offline_secs(0);
    let base = offline_secs(0);
    let fresh = freshness_sql();
    format!(
        "CASE WHEN {slope} * p.heartbeat_secs + {base} > {fresh} \
         THEN {slope} * p.heartbeat_secs + {base} ELSE {fresh} END"
    )
}

/// The smallest freshness limit a site sets, as a scalar subquery (NULL when none sets one).
pub(crate) const SITES_MIN_FRESHNESS: &str = "(SELECT MIN(freshness_secs) FROM sites)";

/// The smallest freshness limit any pile can have, in seconds, given
/// [`SITES_MIN_FRESHNESS`].
pub(crate) fn min_freshness_secs(sites: Option<i64>) -> i64 {
    // `heartbeat_secs > 0`, and the default grows with the heartbeat.
    let piles = default_freshness_secs(1);
    sites.map_or(piles, |s| s.min(piles))
}

impl Store {
    /// The smallest freshness limit any pile can have now, in seconds: a lower bound that
    /// lets the sweep skip every bay heard from more recently.
    pub(crate) async fn min_freshness_secs(&self) -> Result<i64, StoreError> {
        let sites: Option<i64> = sqlx::query_scalar(&format!("SELECT {SITES_MIN_FRESHNESS}"))
            .fetch_one(self.pool())
            .await?;
        Ok(min_freshness_secs(sites))
    }

    async fn due_silent(
        &self,
        now: Millis,
        floor: i64,
        kind: &'static str,
        flag: &str,
        limit_sql: &str,
    ) -> Result<Vec<Due>, StoreError> {
        // `CROSS JOIN` keeps SQLite scanning `bay_seen` first; PostgreSQL plans freely.
        let rows = sqlx::query(&format!(
            "SELECT bs.pile_id, p.site_id, bs.last_report_at FROM bay_seen bs \
             CROSS JOIN bays b CROSS JOIN piles p CROSS JOIN sites s \
             WHERE bs.last_report_at <= $1 AND b.pile_id = bs.pile_id AND b.{flag} = 0 \
             AND p.id = bs.pile_id AND s.id = p.site_id \
             AND bs.last_report_at <= $2 - 1000 * ({limit_sql}) LIMIT $3"
        ))
        .bind(now.0 - floor * 1000)
        .bind(now.0)
        .bind(SWEEP_LIMIT)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Due {
                    pile: PileId(r.try_get("pile_id")?),
                    site: SiteId(r.try_get("site_id")?),
                    kind,
                })
            })
            .collect()
    }

    async fn due_settled(&self, threshold: i64) -> Result<Vec<Due>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.pile_id, p.site_id FROM bays b JOIN piles p ON p.id = b.pile_id \
             WHERE b.flapping = 1 AND b.last_flip_at <= $1 LIMIT $2",
        )
        .bind(threshold)
        .bind(SWEEP_LIMIT)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Due {
                    pile: PileId(r.try_get("pile_id")?),
                    site: SiteId(r.try_get("site_id")?),
                    kind: "bay_settled",
                })
            })
            .collect()
    }

    /// Applies every transition due at `now` and returns the piles it changed.
    pub async fn sweep(
        &self,
        now: Millis,
        flap_window_ms: i64,
    ) -> Result<Vec<SweptPile>, StoreError> {
        let floor = self.min_freshness_secs().await?;
        let settle_threshold = now.0 - flap_window_ms;
        let mut due = self
            .due_silent(now, floor, "bay_stale", "stale", &freshness_sql())
            .await?;
        due.extend(
            self.due_silent(now, floor, "pile_offline", "offline", &offline_sql())
                .await?,
        );
        if let Some(deferred) = &self.seen {
            // A bay with a `bay_seen` row still waiting reported after what the scan read.
            let deferred = crate::seen::lock(deferred);
            due.retain(|d| !deferred.is_waiting(d.pile.0));
        }
        due.extend(self.due_settled(settle_threshold).await?);
        if due.is_empty() {
            return Ok(Vec::new());
        }
        // Each kind is written by one statement for all its bays, guarded so that a bay that
        // reported since the read stays as it is (its report is newer than `floor` seconds,
        // which every freshness and offline limit is at least): a sweep that wrote one bay at
        // a time held SQLite's write lock for seconds when a fleet went silent at once.
        let silent_since = now.0 - floor * 1000;
        let mut tx = self.begin_write().await?;
        let mut out = Vec::new();
        for kind in ["bay_stale", "pile_offline", "bay_settled"] {
            let of_kind: HashMap<PileId, SiteId> = due
                .iter()
                .filter(|d| d.kind == kind)
                .map(|d| (d.pile, d.site))
                .collect();
            if of_kind.is_empty() {
                continue;
            }
            let ids = format!("[{}]", crate::join_ids(of_kind.keys().map(|p| p.0)));
            // What to set, guarded, and the guard's bound.
            let (set, bound) = match kind {
                "bay_stale" => (
                    format!("stale = 1 WHERE stale = 0{STILL_SILENT}"),
                    silent_since,
                ),
                "pile_offline" => (
                    format!("offline = 1 WHERE offline = 0{STILL_SILENT}"),
                    silent_since,
                ),
                _ => (
                    "flapping = 0, rapid_flips = 0 WHERE flapping = 1 AND last_flip_at <= $2"
                        .into(),
                    settle_threshold,
                ),
            };
            let sql = format!(
                "UPDATE bays SET {set} AND pile_id IN ({}) RETURNING pile_id",
                crate::json_ids(self.backend, "$1")
            );
            let mut done: Vec<i64> = sqlx::query_scalar(&sql)
                .bind(ids)
                .bind(bound)
                .fetch_all(&mut *tx)
                .await?;
            done.sort_unstable();
            let swept: Vec<SweptPile> = done
                .into_iter()
                .filter_map(|id| {
                    let pile = PileId(id);
                    of_kind.get(&pile).map(|site| SweptPile {
                        pile,
                        site: *site,
                        kind,
                    })
                })
                .collect();
            let events: Vec<NewEvent> = swept
                .iter()
                .map(|s| NewEvent {
                    at: now,
                    kind,
                    site: Some(s.site),
                    pile: Some(s.pile),
                    cause: "timer".into(),
                    ..NewEvent::default()
                })
                .collect();
            insert_events(&mut tx, self.backend, self.origin, &events).await?;
            out.extend(swept);
        }
        tx.commit().await?;
        Ok(out)
    }
}

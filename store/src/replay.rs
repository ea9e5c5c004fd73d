//! Rebuilding what `bay_seen` lacks after a crash, from the journal (SQLite, where rows may
//! wait in memory: [`crate::seen`]). Runs when a store connects, before anything reads.

use crate::{
    reports::save_seen,
    seen::{SeenRow, REPLAY_AFTER},
    Backend, Store, StoreError,
};
use std::collections::BTreeMap;

/// A journal entry as the replay reads it: id, pile, seq, at, battery, quality, applied.
type Entry = (i64, i64, i64, i64, Option<i64>, Option<i64>, i64);

/// What the replayed entries say about one pile.
#[derive(Debug, Default)]
struct Replayed {
    /// The newest entry: the chain's head.
    head: i64,
    /// The newest applied entry: seq, at, battery, quality.
    applied: Option<(i64, i64, Option<i64>, Option<i64>)>,
}

/// Folds `entries` (in id order) into one [`Replayed`] per pile.
fn fold(entries: &[Entry]) -> BTreeMap<i64, Replayed> {
    let mut out: BTreeMap<i64, Replayed> = BTreeMap::new();
    for &(id, pile, seq, at, battery, quality, applied) in entries {
        let r = out.entry(pile).or_default();
        r.head = r.head.max(id);
        if applied != 0 {
            r.applied = Some((seq, at, battery, quality));
        }
    }
    out
}

/// `stored` brought up to date with `r`: never to an older sequence number.
fn merge(stored: SeenRow, r: &Replayed) -> SeenRow {
    let (pile, mut seq, mut at, mut battery, mut quality, head) = stored;
    if let Some((s, a, b, q)) = r.applied {
        if seq.is_none_or(|old| old < s) {
            (seq, at, battery, quality) = (Some(s), Some(a), b, q);
        }
    }
    let head = Some(head.map_or(r.head, |h| h.max(r.head)));
    (pile, seq, at, battery, quality, head)
}

impl Store {
    /// Writes into `bay_seen` what the journal holds past the stored bound, then moves the
    /// bound to the journal's end. Returns how many bays it brought up to date.
    pub(crate) async fn replay_seen(&self) -> Result<usize, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let bound = crate::meta::get_in(&mut tx, REPLAY_AFTER)
            .await?
            .map(|b| b.parse::<i64>())
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("{REPLAY_AFTER}: {e}")))?;
        let newest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM report_log")
            .fetch_one(&mut *tx)
            .await?;
        let mut rows: Vec<SeenRow> = Vec::new();
        if let Some(after) = bound.filter(|b| *b < newest) {
            let entries: Vec<Entry> = sqlx::query_as(
                "SELECT id, pile_id, seq, at, battery, quality, applied FROM report_log \
                 WHERE id > $1 ORDER BY id",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            let replayed = fold(&entries);
            let ids = format!("[{}]", crate::join_ids(replayed.keys().copied()));
            let stored: Vec<SeenRow> = sqlx::query_as(&format!(
                "SELECT pile_id, last_seq, last_report_at, battery, quality, last_log_id \
                 FROM bay_seen WHERE pile_id IN ({})",
                crate::json_ids(self.backend, "$1")
            ))
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
            // Only rows the journal is ahead of: entries just after a bound that lags (it is
            // stored at most once a second) are usually in the table already.
            rows = stored
                .into_iter()
                .filter_map(|row| {
                    let merged = merge(row, replayed.get(&row.0)?);
                    (merged != row).then_some(merged)
                })
                .collect();
        }
        let brought = rows.len();
        let moved = (bound != Some(newest)).then_some(newest);
        save_seen(&mut tx, self.backend, rows, moved).await?;
        tx.commit().await?;
        if brought > 0 {
            tracing::info!(
                bays = brought,
                "bay_seen brought up to date from the journal"
            );
        }
        Ok(brought)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_applied_entry_wins_and_late_ones_only_move_the_head() {
        let entries = [
            (10, 1, 5, 500, Some(90), None, 1),
            (11, 2, 7, 700, None, None, 1),
            (12, 1, 6, 600, Some(80), Some(70), 1),
            (13, 1, 3, 300, None, None, 0),
            (14, 3, 2, 200, None, None, 0),
        ];
        let r = fold(&entries);
        assert_eq!(r[&1].head, 13);
        assert_eq!(r[&1].applied, Some((6, 600, Some(80), Some(70))));
        assert_eq!(r[&3].applied, None);
        assert_eq!(
            merge((1, Some(4), Some(400), None, None, Some(9)), &r[&1]),
            (1, Some(6), Some(600), Some(80), Some(70), Some(13))
        );
        // Stored state already newer (written by a slice): only the head moves, never back.
        assert_eq!(
            merge((1, Some(8), Some(800), None, None, Some(20)), &r[&1]),
            (1, Some(8), Some(800), None, None, Some(20))
        );
        assert_eq!(
            merge((3, Some(4), Some(400), None, None, Some(1)), &r[&3]),
            (3, Some(4), Some(400), None, None, Some(14))
        );
    }
}

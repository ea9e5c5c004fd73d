//! Deferred `bay_seen` writes (SQLite). A heartbeat changes only a bay's narrow `bay_seen`
//! row, and with a fleet reporting at random each of those rows sits on a page of its own:
//! writing them with every commit put one 4 KiB page into the WAL per report, and at 20,000
//! reports/s the fsyncs queued behind checkpoint writeback (docs/benchmarks.md, run J).
//!
//! So a heartbeat's row waits here and goes to disk in slices taken in pile order (many rows
//! per page), within a pass of [`SeenPolicy::pass`]; each slice rides along with a writer's
//! commit. What it loses in a crash is rebuilt from the journal, which every report reaches
//! before it is acknowledged: the meta key [`REPLAY_AFTER`] names the journal id up to which
//! `bay_seen` is complete, and [`crate::Store::connect`] replays what follows.
//!
//! Rules that keep everyone else right without looking here:
//! - a report that changes the bay's state (or revives it) is written at once;
//! - a row is never held back further than half the smallest freshness limit, so a bay that
//!   keeps reporting never looks stale to a reader of `bay_seen`;
//! - with few rows waiting (a quiet fleet) every commit writes them all, so nothing lags;
//! - readers in this process (the report writer, the sweep) see the waiting rows.
//!
//! PostgreSQL writes every row at once: its instances share the database, not this memory.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

/// Meta key: the journal id after which `bay_seen` may lack what the journal says.
pub(crate) const REPLAY_AFTER: &str = "bay_seen_replay_after";

/// How often a moving replay bound is stored, at most.
const BOUND_EVERY: Duration = Duration::from_secs(1);

/// A `bay_seen` row: pile, last_seq, last_report_at, battery, quality, last_log_id.
pub(crate) type SeenRow = (
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// How long rows may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenPolicy {
    /// With this many rows waiting or fewer, a commit writes them all.
    pub write_all_up_to: usize,
    /// A full pass over the waiting rows takes about this long.
    pub pass: Duration,
}

impl Default for SeenPolicy {
    fn default() -> Self {
        SeenPolicy {
            write_all_up_to: 512,
            pass: Duration::from_secs(2),
        }
    }
}

/// A row waiting, with the journal id of the oldest entry it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Waiting {
    row: SeenRow,
    first_id: i64,
}

/// How to take back what one transaction did to [`Deferred`] if it does not commit.
#[derive(Debug, Default)]
pub(crate) struct Undo {
    rows: Vec<(i64, Option<Waiting>)>,
    cursor: i64,
    last_slice: Option<Instant>,
    newest_id: Option<i64>,
}

/// The rows waiting to be written.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    waiting: BTreeMap<i64, Waiting>,
    /// `(first_id, pile)` of every waiting row: the smallest bounds the replay.
    by_first: BTreeSet<(i64, i64)>,
    /// Where the next slice starts (a pile id).
    cursor: i64,
    last_slice: Option<Instant>,
    /// The newest journal id this process committed.
    newest_id: Option<i64>,
    /// The replay bound last written to meta, and when.
    pub(crate) written_bound: Option<(i64, Instant)>,
    policy: SeenPolicy,
}

impl Deferred {
    /// An empty set under `policy`.
    pub(crate) fn new(policy: SeenPolicy) -> Self {
        Deferred {
            policy,
            ..Deferred::default()
        }
    }

    /// A new undo record for one transaction.
    pub(crate) fn begin(&self) -> Undo {
        Undo {
            rows: Vec::new(),
            cursor: self.cursor,
            last_slice: self.last_slice,
            newest_id: self.newest_id,
        }
    }

    /// The waiting row of `pile`, if any: newer than what `bay_seen` holds.
    pub(crate) fn get(&self, pile: i64) -> Option<&SeenRow> {
        self.waiting.get(&pile).map(|w| &w.row)
    }

    /// Whether `pile` has a row waiting.
    pub(crate) fn is_waiting(&self, pile: i64) -> bool {
        self.waiting.contains_key(&pile)
    }

    /// How many rows wait.
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }

    fn take(&mut self, undo: &mut Undo, pile: i64) -> Option<Waiting> {
        let old = self.waiting.remove(&pile);
        if let Some(w) = &old {
            self.by_first.remove(&(w.first_id, pile));
        }
        undo.rows.push((pile, old.clone()));
        old
    }

    /// Lets `row` wait; `first_id` is its pile's oldest journal entry in this transaction
    /// (an older waiting row keeps its own).
    pub(crate) fn hold(&mut self, undo: &mut Undo, row: SeenRow, first_id: i64) {
        let pile = row.0;
        let first_id = self
            .take(undo, pile)
            .map_or(first_id, |old| old.first_id.min(first_id));
        self.by_first.insert((first_id, pile));
        self.waiting.insert(pile, Waiting { row, first_id });
    }

    /// `pile`'s row is being written by this transaction: it no longer waits.
    pub(crate) fn written(&mut self, undo: &mut Undo, pile: i64) {
        if self.waiting.contains_key(&pile) {
            self.take(undo, pile);
        }
    }

    /// Notes the newest journal id a transaction reserved.
    pub(crate) fn journaled(&mut self, newest: i64) {
        self.newest_id = Some(self.newest_id.map_or(newest, |n| n.max(newest)));
    }

    /// The rows a commit at `now` writes along: all of them when few wait, else the next
    /// ones in pile order, as many as keep a full pass within the policy's time.
    pub(crate) fn slice(&mut self, undo: &mut Undo, now: Instant) -> Vec<SeenRow> {
        let waiting = self.waiting.len();
        let count = if waiting <= self.policy.write_all_up_to {
            waiting
        } else {
            let pass = self.policy.pass.as_secs_f64().max(f64::EPSILON);
            // The first slice is empty: it starts the clock.
            let elapsed = self
                .last_slice
                .map_or(0.0, |t| now.duration_since(t).as_secs_f64())
                .min(pass);
            // Truncated on purpose: a zero-length slice is fine, the next commit catches up.
            (waiting as f64 * elapsed / pass) as usize
        };
        self.last_slice = Some(now);
        let mut piles: Vec<i64> = self
            .waiting
            .range(self.cursor..)
            .map(|(p, _)| *p)
            .take(count)
            .collect();
        if piles.len() < count {
            let more = count - piles.len();
            piles.extend(
                self.waiting
                    .range(..self.cursor)
                    .map(|(p, _)| *p)
                    .take(more),
            );
        }
        if let Some(last) = piles.last() {
            self.cursor = last + 1;
        }
        piles
            .into_iter()
            .filter_map(|p| self.take(undo, p).map(|w| w.row))
            .collect()
    }

    /// Every waiting row (an idle writer or a shutdown writes them all).
    pub(crate) fn drain(&mut self, undo: &mut Undo) -> Vec<SeenRow> {
        let piles: Vec<i64> = self.waiting.keys().copied().collect();
        piles
            .into_iter()
            .filter_map(|p| self.take(undo, p).map(|w| w.row))
            .collect()
    }

    /// The journal id up to which `bay_seen` is complete once this transaction commits, if
    /// known and due to be stored at `now`: when it moved and the stored one is a second
    /// old. A stored bound that lags is still right (the replay only goes further back), so
    /// a busy writer does not rewrite it with every commit.
    pub(crate) fn bound_to_write(&self, now: Instant) -> Option<i64> {
        let bound = match self.by_first.first() {
            Some((first, _)) => Some(first - 1),
            None => self.newest_id,
        };
        match (bound, self.written_bound) {
            (Some(b), Some((w, _))) if b == w => None,
            (Some(_), Some((_, at))) if now.duration_since(at) < BOUND_EVERY => None,
            (b, _) => b,
        }
    }

    /// Takes back what the transaction behind `undo` did.
    pub(crate) fn restore(&mut self, undo: Undo) {
        for (pile, old) in undo.rows.into_iter().rev() {
            if let Some(w) = self.waiting.remove(&pile) {
                self.by_first.remove(&(w.first_id, pile));
            }
            if let Some(w) = old {
                self.by_first.insert((w.first_id, pile));
                self.waiting.insert(pile, w);
            }
        }
        self.cursor = undo.cursor;
        self.last_slice = undo.last_slice;
        self.newest_id = undo.newest_id;
    }
}

/// `t` as the waiting `row` has it (the journal head aside).
pub(crate) fn overlay(t: &mut domain::BayTelemetry, row: &SeenRow) {
    let percent = |v: Option<i64>| v.and_then(|x| u8::try_from(x).ok());
    t.last_seq = row.1;
    t.last_report_at = row.2.map(domain::Millis);
    t.battery = percent(row.3);
    t.quality = percent(row.4);
}

/// Locks the waiting rows (never held across an `.await`; a panic elsewhere leaves them
/// usable, since every change is whole before the lock is released).
pub(crate) fn lock(m: &Mutex<Deferred>) -> MutexGuard<'_, Deferred> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pile: i64, seq: i64) -> SeenRow {
        (pile, Some(seq), Some(seq * 1000), None, None, Some(seq))
    }

    fn policy(write_all_up_to: usize) -> SeenPolicy {
        SeenPolicy {
            write_all_up_to,
            pass: Duration::from_secs(2),
        }
    }

    #[test]
    fn few_waiting_rows_are_all_written() {
        let mut d = Deferred::new(policy(4));
        let mut undo = d.begin();
        d.hold(&mut undo, row(1, 1), 1);
        d.hold(&mut undo, row(2, 2), 2);
        assert_eq!(
            d.slice(&mut undo, Instant::now()),
            vec![row(1, 1), row(2, 2)]
        );
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn slices_go_round_in_pile_order_and_scale_with_the_time_since_the_last() {
        let mut d = Deferred::new(policy(0));
        let mut undo = d.begin();
        for p in 1..=10 {
            d.hold(&mut undo, row(p, p), p);
        }
        let t0 = Instant::now();
        assert_eq!(
            d.slice(&mut undo, t0),
            vec![],
            "the first slice starts the clock"
        );
        let half = d.slice(&mut undo, t0 + Duration::from_secs(1));
        assert_eq!(
            half.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        d.hold(&mut undo, row(2, 20), 20);
        let rest = d.slice(&mut undo, t0 + Duration::from_millis(1400));
        // 6 waiting, 0.4 s of a 2 s pass: 1 row, from the cursor on.
        assert_eq!(rest.iter().map(|r| r.0).collect::<Vec<_>>(), vec![6]);
        // More than a pass later: all of them, wrapping round.
        let wrap = d.slice(&mut undo, t0 + Duration::from_secs(4));
        assert_eq!(
            wrap.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![7, 8, 9, 10, 2]
        );
    }

    #[test]
    fn the_replay_bound_is_just_before_the_oldest_waiting_entry() {
        let mut d = Deferred::new(policy(0));
        let mut undo = d.begin();
        let t0 = Instant::now();
        d.journaled(7);
        assert_eq!(d.bound_to_write(t0), Some(7));
        d.hold(&mut undo, row(5, 3), 3);
        d.hold(&mut undo, row(6, 4), 4);
        // A newer row for pile 5 stands for its older entries too.
        d.hold(&mut undo, row(5, 9), 9);
        assert_eq!(d.bound_to_write(t0), Some(2));
        d.written(&mut undo, 5);
        assert_eq!(d.bound_to_write(t0), Some(3));
        d.written_bound = Some((3, t0));
        assert_eq!(d.bound_to_write(t0), None, "unchanged: nothing to write");
        d.written(&mut undo, 6);
        assert_eq!(d.bound_to_write(t0), None, "moved, but stored a moment ago");
        assert_eq!(d.bound_to_write(t0 + BOUND_EVERY), Some(7));
    }

    #[test]
    fn restore_takes_a_failed_transaction_back() {
        let mut d = Deferred::new(policy(0));
        let mut first = d.begin();
        d.hold(&mut first, row(1, 1), 1);
        d.hold(&mut first, row(2, 2), 2);
        let before: Vec<_> = d.waiting.clone().into_iter().collect();
        let mut undo = d.begin();
        d.hold(&mut undo, row(1, 5), 5);
        d.hold(&mut undo, row(3, 6), 6);
        d.written(&mut undo, 2);
        d.journaled(6);
        let _ = d.slice(&mut undo, Instant::now());
        d.restore(undo);
        assert_eq!(d.waiting.clone().into_iter().collect::<Vec<_>>(), before);
        assert_eq!(d.by_first.len(), 2);
        assert_eq!(d.newest_id, None);
        assert_eq!(d.get(1), Some(&row(1, 1)));
    }
}

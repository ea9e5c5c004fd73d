-- One pile-keyed index on `events` instead of two (SQLite flavour; keep in step with
-- ../postgres/0006_events_pile_time.sql).
--
-- Every state change appends events, and each pile-keyed index entry lands on its own page
-- (piles change at random), which the checkpoint then writes back. `(pile_id, at, id)`
-- serves every per-pile read: a pile's newest changes (newest first by time), its history in
-- a time range, its last event of a kind. Why: docs/benchmarks.md, run K.
DROP INDEX events_pile_kind_at;
DROP INDEX events_pile_at;
CREATE INDEX events_pile_time ON events (pile_id, at, id);

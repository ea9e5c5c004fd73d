-- The report journal and the hot/cold split of bay telemetry (SQLite flavour; keep in step
-- with ../postgres/0005_report_log.sql). Why: docs/architecture.md, "The write path".
--
-- Every report used to be a row of `events` with three indexes keyed by pile, and it
-- rewrote the wide `bays` row and four of its indexes. With 100,000 piles reporting at
-- random, each of those touched its own page, so a commit of 1,000 reports wrote several
-- megabytes of WAL. Now a report appends one row to `report_log` (no secondary index: a
-- pile's entries are chained through `prev_id`) and updates its narrow `bay_seen` row; the
-- wide `bays` row and `events` change only when the bay's state does.

-- What the last applied report said, one narrow row per bay, written by every report.
CREATE TABLE bay_seen (
    pile_id INTEGER PRIMARY KEY REFERENCES piles (id),
    last_seq BIGINT,
    last_report_at BIGINT,
    battery BIGINT,
    quality BIGINT,
    -- The pile's newest `report_log` entry: the head of its chain.
    last_log_id BIGINT
);

-- Every report with a new sequence number, in arrival order, append-only. A late one (below
-- the pile's last) is kept too, with `applied = 0`: it never changed the bay's state.
CREATE TABLE report_log (
    id INTEGER PRIMARY KEY,
    pile_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    occupancy TEXT NOT NULL,
    pile_state TEXT NOT NULL,
    battery BIGINT,
    quality BIGINT,
    peer TEXT NOT NULL,
    applied BIGINT NOT NULL DEFAULT 1,
    -- The same pile's previous entry (NULL for its first).
    prev_id BIGINT
);

INSERT INTO report_log (id, pile_id, seq, at, occupancy, pile_state, battery, quality, peer, applied, prev_id)
SELECT id, pile_id, report_seq, at,
       COALESCE(json_extract(data, '$.bay'), 'unknown'),
       COALESCE(json_extract(data, '$.pile'), 'available'),
       json_extract(data, '$.bat'), json_extract(data, '$.q'),
       COALESCE(json_extract(data, '$.from'), ''),
       COALESCE(json_extract(data, '$.applied'), 1),
       LAG(id) OVER (PARTITION BY pile_id ORDER BY id)
FROM events
WHERE kind = 'report' AND pile_id IS NOT NULL AND report_seq IS NOT NULL;

INSERT INTO bay_seen (pile_id, last_seq, last_report_at, battery, quality, last_log_id)
SELECT b.pile_id, b.last_seq, b.last_report_at, b.battery, b.quality, m.last_id
FROM bays b
LEFT JOIN (SELECT pile_id, MAX(id) AS last_id FROM report_log GROUP BY pile_id) m
    ON m.pile_id = b.pile_id;

DELETE FROM events WHERE kind = 'report';
DROP INDEX events_report_once;

DROP INDEX bays_idle;
DROP INDEX bays_stale_due;
DROP INDEX bays_offline_due;
ALTER TABLE bays DROP COLUMN last_seq;
ALTER TABLE bays DROP COLUMN last_report_at;
ALTER TABLE bays DROP COLUMN stale_at;
ALTER TABLE bays DROP COLUMN offline_at;
ALTER TABLE bays DROP COLUMN battery;
ALTER TABLE bays DROP COLUMN quality;

-- Bays whose state can make the pile idle; freshness comes from `bay_seen`. An entry moves
-- only when the bay's state changes, never on a heartbeat.
CREATE INDEX bays_idle ON bays (pile_id, pile_state, occupancy, flapping)
    WHERE pile_state = 'available' AND occupancy = 'free' AND flapping = 0;

-- Credential caches (the bridge's) poll for what changed instead of reloading the fleet.
ALTER TABLE device_credentials ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE device_credentials SET changed_at = COALESCE(revoked_at, issued_at);
CREATE INDEX device_credentials_changed ON device_credentials (changed_at);

-- chargebay schema, SQLite flavour (keep in step with ../postgres/0001_init.sql).
-- Times are unix milliseconds (BIGINT); flags are 0/1 integers on both backends.

CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    hold_secs BIGINT NOT NULL DEFAULT 900 CHECK (hold_secs > 0),
    grace_secs BIGINT NOT NULL DEFAULT 120 CHECK (grace_secs >= 0),
    freshness_secs BIGINT CHECK (freshness_secs > 0),
    reservations_allowed BIGINT NOT NULL DEFAULT 1,
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX sites_lat_lon ON sites (lat, lon);

CREATE TABLE piles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    code TEXT NOT NULL UNIQUE,
    connector TEXT NOT NULL,
    max_kw REAL NOT NULL CHECK (max_kw > 0),
    price_text TEXT NOT NULL DEFAULT '',
    heartbeat_secs BIGINT NOT NULL DEFAULT 60 CHECK (heartbeat_secs > 0),
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX piles_site ON piles (site_id);

-- One bay per pile: its sensor, and the live telemetry the pile reports over CoAP.
CREATE TABLE bays (
    pile_id BIGINT PRIMARY KEY REFERENCES piles (id),
    sensor TEXT NOT NULL DEFAULT 'magnetometer',
    last_seq BIGINT,
    last_report_at BIGINT,
    pile_state TEXT,
    occupancy TEXT NOT NULL DEFAULT 'unknown',
    occupancy_since BIGINT,
    last_flip_at BIGINT,
    rapid_flips BIGINT NOT NULL DEFAULT 0,
    flapping BIGINT NOT NULL DEFAULT 0,
    stale BIGINT NOT NULL DEFAULT 1,
    stale_at BIGINT,
    offline BIGINT NOT NULL DEFAULT 1,
    offline_at BIGINT,
    battery BIGINT,
    quality BIGINT,
    last_addr TEXT
);
-- The staleness worker finds due bays through these without scanning the fleet.
CREATE INDEX bays_stale_due ON bays (stale_at) WHERE stale = 0;
CREATE INDEX bays_offline_due ON bays (offline_at) WHERE offline = 0;
CREATE INDEX bays_flapping ON bays (last_flip_at) WHERE flapping = 1;

CREATE TABLE device_credentials (
    pile_id BIGINT PRIMARY KEY REFERENCES piles (id),
    key_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('driver', 'admin')),
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    pile_id BIGINT NOT NULL REFERENCES piles (id),
    status TEXT NOT NULL CHECK (status IN ('held', 'fulfilled', 'cancelled', 'expired', 'blocked', 'voided')),
    created_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL,
    ended_at BIGINT,
    end_cause TEXT
);
-- A pile is held by at most one driver; a driver holds at most one pile.
CREATE UNIQUE INDEX reservations_one_hold_per_pile ON reservations (pile_id) WHERE status = 'held';
CREATE UNIQUE INDEX reservations_one_hold_per_user ON reservations (user_id) WHERE status = 'held';
CREATE INDEX reservations_user ON reservations (user_id, created_at);

-- Append-only log of every state change with its cause. Reports carry their sequence
-- number; the unique index makes applying a report idempotent on (pile, seq).
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    site_id BIGINT,
    pile_id BIGINT,
    reservation_id BIGINT,
    user_id BIGINT,
    report_seq BIGINT,
    cause TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX events_report_once ON events (pile_id, report_seq);
CREATE INDEX events_pile_at ON events (pile_id, id);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Hold lifecycle facts, "notify me" watches and API tokens (SQLite flavour; keep in step
-- with ../postgres/0003_holds.sql).

ALTER TABLE reservations ADD COLUMN checked_in_at BIGINT;
ALTER TABLE reservations ADD COLUMN driver_lat REAL;
ALTER TABLE reservations ADD COLUMN driver_lon REAL;
ALTER TABLE reservations ADD COLUMN driver_pos_at BIGINT;
CREATE INDEX reservations_held_deadline ON reservations (deadline) WHERE status = 'held';

-- A driver watches a pile or a whole site and is alerted when a pile there becomes idle.
CREATE TABLE watches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    pile_id BIGINT REFERENCES piles (id),
    site_id BIGINT REFERENCES sites (id),
    created_at BIGINT NOT NULL,
    CHECK ((pile_id IS NULL AND site_id IS NOT NULL) OR (pile_id IS NOT NULL AND site_id IS NULL))
);
CREATE UNIQUE INDEX watches_user_pile ON watches (user_id, pile_id) WHERE pile_id IS NOT NULL;
CREATE UNIQUE INDEX watches_user_site ON watches (user_id, site_id) WHERE site_id IS NOT NULL;
CREATE INDEX watches_pile ON watches (pile_id);
CREATE INDEX watches_site ON watches (site_id);

-- Bearer tokens for integrations; only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

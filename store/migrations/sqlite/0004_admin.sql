-- Operator admin pages (SQLite flavour; keep in step with ../postgres/0004_admin.sql).

-- Every admin action: who (the admin), what (action + target + details) and when.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    admin_id BIGINT NOT NULL REFERENCES users (id),
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit (at);

-- Analytics read one pile's events of one kind in a time range.
CREATE INDEX events_pile_kind_at ON events (pile_id, kind, at);
-- Reservation search by time range.
CREATE INDEX reservations_created ON reservations (created_at);

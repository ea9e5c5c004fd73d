-- Which store instance appended an event (keep in step with the other backend's 0007).
-- Every process tails the event log to republish on its own live feed what other processes
-- changed (service::relay); it skips its own events, which it published when it made them.
-- NULL for events written before this migration: treated as foreign.
ALTER TABLE events ADD COLUMN origin BIGINT;

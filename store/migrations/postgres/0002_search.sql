-- Indexes for pile search (PostgreSQL flavour; keep in step with ../sqlite/0002_search.sql).
-- A viewport search reads only these: sites in the box with what the idle rule needs from
-- them, their piles with every filter column and the code (the tie-break of the order), and
-- the bays that can be idle. Only the page's piles are then read in full.

CREATE INDEX sites_search ON sites (lat, lon, enabled, freshness_secs);
CREATE INDEX piles_search ON piles (site_id, enabled, connector, max_kw, heartbeat_secs, code, id);
-- Bays whose last reading can make the pile idle; the search's three equality terms match
-- this predicate word for word, so both backends can use it. Covering, so no row is read.
CREATE INDEX bays_idle ON bays (pile_id, last_report_at, pile_state, occupancy, flapping)
    WHERE pile_state = 'available' AND occupancy = 'free' AND flapping = 0;
-- "Is this pile held?" answered from the index alone.
CREATE INDEX reservations_held_pile ON reservations (pile_id, status) WHERE status = 'held';

//! The live feed across processes. Each process publishes what it changes on its own hub
//! ([`crate::Hub`]) at once; the relay republishes there what *other* processes changed, by
//! tailing the store: the event log (state changes, holds, watch alerts; each event names the
//! store instance that wrote it, so a process skips its own) and, optionally, the report
//! journal (heartbeats). That is what lets a standalone bridge (`chargebay bridge`) and the
//! web servers share one database: a driver's reservation made on a web server reaches the
//! pile observing it on a bridge, and a bay a bridge heard change reaches the drivers' maps.
//!
//! Polling the store rather than a notification channel: it works the same on SQLite and on
//! PostgreSQL, loses nothing while a process is busy or a connection drops, and costs one
//! indexed range read per interval.

use crate::{Chargebay, ServiceError};
use domain::{live::HoldChange, LiveEvent, Outcome, ReservationStatus, SiteId};
use std::{
    collections::{BTreeSet, VecDeque},
    time::{Duration, Instant},
};
use store::{events::Event, Backend};
use tokio::task::JoinHandle;

/// Events read per poll, at most.
const PAGE: i64 = 2_000;
/// Journal entries read per poll, at most.
const JOURNAL_PAGE: i64 = 50_000;

/// How the relay runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// How often it reads the store.
    pub every: Duration,
    /// Also republish heartbeats other processes heard (for a web server whose piles report
    /// to other processes' bridges).
    pub heartbeats: bool,
    /// How long a transaction may hold an event id before it commits. PostgreSQL hands out
    /// ids from a sequence to concurrent writers, so a lower id may become visible after a
    /// higher one; the relay looks back this far. SQLite writes one transaction at a time,
    /// in id order, and needs none.
    pub settle: Duration,
}

impl RelayConfig {
    /// The relay for `backend`: every 200 ms, looking back 5 s on PostgreSQL.
    pub fn for_backend(backend: Backend, heartbeats: bool) -> Self {
        RelayConfig {
            every: Duration::from_millis(200),
            heartbeats,
            settle: match backend {
                Backend::Sqlite => Duration::ZERO,
                Backend::Postgres => Duration::from_secs(5),
            },
        }
    }
}

/// Starts the relay; it runs until the runtime shuts down.
pub fn spawn(service: Chargebay, config: RelayConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut relay = loop {
            match Relay::start(&service, config).await {
                Ok(r) => break r,
                Err(e) => {
                    tracing::warn!(error = %e, "relay cannot start; retrying");
                    tokio::time::sleep(config.every.max(Duration::from_secs(1))).await;
                }
            }
        };
        let mut tick = tokio::time::interval(config.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = relay.step(&service).await {
                tracing::warn!(error = %e, "relay step failed");
            }
        }
    })
}

/// The relay's position in the store.
#[derive(Debug)]
struct Relay {
    events: Tail,
    /// The last journal entry read.
    journal: i64,
    config: RelayConfig,
}

impl Relay {
    /// Starts at the store's present: what happened before is not news.
    async fn start(service: &Chargebay, config: RelayConfig) -> Result<Self, ServiceError> {
        let store = service.store();
        Ok(Relay {
            events: Tail::new(store.last_event_id().await?, config.settle),
            journal: store.last_report_id().await?,
            config,
        })
    }

    /// One poll: republishes what other processes changed since the last one.
    async fn step(&mut self, service: &Chargebay) -> Result<(), ServiceError> {
        let store = service.store();
        let head = store.last_event_id().await?;
        let now = Instant::now();
        // Ids in the look-back window that committed after the tail read past them.
        let mut fresh = Vec::new();
        if self.events.cursor > self.events.floor {
            let ids = store
                .foreign_event_ids_between(self.events.floor, self.events.cursor)
                .await?;
            let late = self.events.undelivered(&ids);
            if !late.is_empty() {
                fresh = self.events.fresh(store.events_by_ids(&late).await?);
            }
        }
        let page = store.foreign_events_after(self.events.cursor, PAGE).await?;
        let full = page.len() as i64 >= PAGE;
        fresh.extend(self.events.fresh(page));
        self.events.advance(now, head, full);
        if !fresh.is_empty() {
            metrics::counter!("relay_events_total").increment(fresh.len() as u64);
            republish(service, &fresh).await?;
        }
        if self.config.heartbeats {
            self.heartbeats(service).await?;
        }
        Ok(())
    }

    /// Republishes the heartbeats of the journal since the last poll (nobody listening: only
    /// moves on). Entries another process's writer commits late are skipped, which costs a
    /// heartbeat nothing: the next one comes.
    async fn heartbeats(&mut self, service: &Chargebay) -> Result<(), ServiceError> {
        let store = service.store();
        if !service.hub().has_pile_subscribers() {
            self.journal = store.last_report_id().await?;
            return Ok(());
        }
        let (heard, last) = store.heard_after(self.journal, JOURNAL_PAGE).await?;
        self.journal = last;
        for (pile, at) in heard {
            if let Some(at) = at {
                service.hub().publish(LiveEvent::Heartbeat { pile, at });
            }
        }
        Ok(())
    }
}

/// Republishes `events` (another process's, oldest first) on this process's hub.
async fn republish(service: &Chargebay, events: &[Event]) -> Result<(), ServiceError> {
    let hub = service.hub();
    let mut piles = Vec::new();
    for e in events {
        if let Some(p) = e.pile {
            piles.push(p);
        }
        match (e.kind.as_str(), e.pile, e.reservation, e.user) {
            ("reservation_held" | "reservation_ended", Some(pile), Some(res), Some(user)) => {
                let Some(status) = hold_status(e) else {
                    continue;
                };
                let change = HoldChange {
                    pile,
                    reservation: res,
                    user,
                    status,
                };
                hold(service, change).await?;
            }
            ("watch_alerted", Some(pile), _, Some(user)) => {
                hub.publish(LiveEvent::Watched {
                    user,
                    pile,
                    site: e.site.unwrap_or(SiteId(0)),
                });
            }
            _ => {}
        }
    }
    if hub.has_pile_subscribers() {
        piles.sort_unstable();
        piles.dedup();
        // The process that made the change alerted the watchers (`watch_alerted` above).
        service.publish_views(&piles, false).await?;
    }
    Ok(())
}

/// Publishes a hold change another process made, as that process did.
async fn hold(service: &Chargebay, change: HoldChange) -> Result<(), ServiceError> {
    // Only a driver's live feed shows the alternative; without one, spare the search.
    let alternative = match change.status {
        ReservationStatus::Ended(Outcome::Blocked | Outcome::Voided)
            if service.hub().has_pile_subscribers() =>
        {
            service.alternative_for(change.pile).await?
        }
        _ => None,
    };
    service.hold_changed(change, alternative);
    Ok(())
}

/// What a reservation event says the hold became.
fn hold_status(e: &Event) -> Option<ReservationStatus> {
    match e.kind.as_str() {
        "reservation_held" => Some(ReservationStatus::Held),
        _ => e.data.get("outcome")?.as_str()?.parse().ok(),
    }
}

/// Where the relay is in an id-ordered log whose ids may become visible out of order for up
/// to `settle`: everything up to `floor` is done; everything up to `cursor` was read once, and
/// the ids in between that were delivered are remembered until the floor passes them.
#[derive(Debug)]
struct Tail {
    floor: i64,
    cursor: i64,
    delivered: BTreeSet<i64>,
    /// The log's head as read at each poll, oldest first; the floor moves to one once it is
    /// `settle` old.
    marks: VecDeque<(Instant, i64)>,
    settle: Duration,
}

impl Tail {
    fn new(start: i64, settle: Duration) -> Self {
        Tail {
            floor: start,
            cursor: start,
            delivered: BTreeSet::new(),
            marks: VecDeque::new(),
            settle,
        }
    }

    /// Which of `ids` (read in the window above the floor) were not delivered yet.
    fn undelivered(&self, ids: &[i64]) -> Vec<i64> {
        ids.iter()
            .copied()
            .filter(|id| *id > self.floor && !self.delivered.contains(id))
            .collect()
    }

    /// The events of `events` not delivered yet, now counted delivered; the cursor moves
    /// past them.
    fn fresh(&mut self, events: Vec<Event>) -> Vec<Event> {
        let fresh: Vec<Event> = events
            .into_iter()
            .filter(|e| e.id > self.floor && self.delivered.insert(e.id))
            .collect();
        if let Some(last) = fresh.iter().map(|e| e.id).max() {
            self.cursor = self.cursor.max(last);
        }
        fresh
    }

    /// After a poll that read `head` at `now` before its page: unless the page was `full`
    /// (the rest is still to be read), everything up to `head` has been read once. The floor
    /// moves to the newest head at least `settle` old, never past the cursor.
    fn advance(&mut self, now: Instant, head: i64, full: bool) {
        if !full {
            self.cursor = self.cursor.max(head);
        }
        self.marks.push_back((now, head));
        while let Some(&(at, h)) = self.marks.front() {
            if now.duration_since(at) < self.settle || h > self.cursor {
                break;
            }
            self.floor = self.floor.max(h);
            self.marks.pop_front();
        }
        let floor = self.floor;
        self.delivered.retain(|id| *id > floor);
    }
}

#[cfg(test)]
mod tests {
    use super::Tail;
    use std::time::{Duration, Instant};
    use store::events::Event;

    fn ev(id: i64) -> Event {
        Event {
            id,
            at: domain::Millis(0),
            kind: "bay_changed".into(),
            site: None,
            pile: None,
            reservation: None,
            user: None,
            cause: String::new(),
            data: serde_json::Value::Null,
        }
    }

    fn ids(events: &[Event]) -> Vec<i64> {
        events.iter().map(|e| e.id).collect()
    }

    #[test]
    fn without_settle_the_floor_follows_the_head() {
        let mut t = Tail::new(10, Duration::ZERO);
        let now = Instant::now();
        assert_eq!(ids(&t.fresh(vec![ev(11), ev(12)])), [11, 12]);
        // Ids 13 and 14 are this process's own: read past, not delivered.
        t.advance(now, 14, false);
        assert_eq!((t.floor, t.cursor), (14, 14));
        assert!(t.delivered.is_empty());
    }

    #[test]
    fn a_late_commit_below_a_delivered_id_is_delivered_once() {
        let settle = Duration::from_secs(5);
        let mut t = Tail::new(10, settle);
        let t0 = Instant::now();
        // Id 11 is still in flight while 12 is visible.
        assert_eq!(ids(&t.fresh(vec![ev(12)])), [12]);
        t.advance(t0, 12, false);
        assert_eq!(
            (t.floor, t.cursor),
            (10, 12),
            "the floor waits for the settle time"
        );
        // 11 commits: the window's re-check finds it, and only it.
        assert_eq!(t.undelivered(&[11, 12]), [11]);
        assert_eq!(ids(&t.fresh(vec![ev(11)])), [11]);
        t.advance(t0 + Duration::from_secs(1), 12, false);
        assert!(t.undelivered(&[11, 12]).is_empty());
        // After the settle time the floor passes both and forgets them.
        t.advance(t0 + settle, 12, false);
        assert_eq!(t.floor, 12);
        assert!(t.delivered.is_empty());
    }

    #[test]
    fn a_full_page_holds_cursor_and_floor_at_its_last_id() {
        let mut t = Tail::new(0, Duration::ZERO);
        let now = Instant::now();
        assert_eq!(ids(&t.fresh(vec![ev(1), ev(2)])), [1, 2]);
        t.advance(now, 100, true);
        assert_eq!(
            (t.floor, t.cursor),
            (0, 2),
            "ids 3..=100 are still to be read"
        );
        assert_eq!(ids(&t.fresh(vec![ev(3)])), [3]);
        t.advance(now, 100, false);
        assert_eq!((t.floor, t.cursor), (100, 100));
    }

    /// On PostgreSQL a transaction can hold a lower event id while a higher one commits; the
    /// relay reads past it, then finds it in its look-back window when it commits.
    #[tokio::test]
    async fn a_postgres_transaction_that_commits_late_is_relayed_once() {
        use super::{Relay, RelayConfig};
        use domain::ReservationId;
        let Some(db) = store::testing::TestDb::postgres().await.expect("pg") else {
            return;
        };
        let service = crate::Chargebay::new(db.store.clone(), crate::Settings::default());
        let config = RelayConfig::for_backend(store::Backend::Postgres, false);
        let mut relay = Relay::start(&service, config).await.expect("relay");
        let mut holds = service.hub().subscribe_holds();
        // Another process: its own connections, its own origin.
        let other = sqlx::AnyPool::connect(&db.url).await.expect("pool");
        let insert = "INSERT INTO events (at, kind, pile_id, reservation_id, user_id, cause, \
                      data, origin) VALUES (1, 'reservation_held', $1, $2, 7, 'test', '{}', -1)";
        let mut late = other.begin().await.expect("begin");
        sqlx::query(insert)
            .bind(1_i64)
            .bind(100_i64)
            .execute(&mut *late)
            .await
            .expect("the lower id, not committed yet");
        sqlx::query(insert)
            .bind(2_i64)
            .bind(200_i64)
            .execute(&other)
            .await
            .expect("a higher id, committed");

        relay.step(&service).await.expect("step");
        assert_eq!(
            holds.try_recv().expect("one").reservation,
            ReservationId(200)
        );
        assert!(holds.try_recv().is_err());
        late.commit().await.expect("commit");
        relay.step(&service).await.expect("step");
        assert_eq!(
            holds.try_recv().expect("late one").reservation,
            ReservationId(100)
        );
        relay.step(&service).await.expect("step");
        assert!(holds.try_recv().is_err(), "each delivered once");
        other.close().await;
        db.drop_db().await;
    }
}

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
use domain::{
    live::HoldChange, LiveEvent, Outcome, PileId, ReservationId, ReservationStatus, SiteId, UserId,
};
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
        let page = store.foreign_events_after(self.events.floor, PAGE).await?;
        let truncated = (page.len() as i64 >= PAGE).then(|| page.last().map_or(head, |e| e.id));
        let fresh = self.events.fresh(page);
        self.events.advance(now, head, truncated);
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
                hold(service, pile, res, user, status).await?;
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
async fn hold(
    service: &Chargebay,
    pile: PileId,
    reservation: ReservationId,
    user: UserId,
    status: ReservationStatus,
) -> Result<(), ServiceError> {
    let hub = service.hub();
    hub.publish_hold(HoldChange {
        pile,
        reservation,
        user,
        status,
    });
    if hub.has_pile_subscribers() {
        let alternative = match status {
            ReservationStatus::Ended(Outcome::Blocked | Outcome::Voided) => {
                service.alternative_for(pile).await?
            }
            _ => None,
        };
        hub.publish(LiveEvent::Hold {
            user,
            reservation,
            pile,
            status,
            alternative,
        });
    }
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
/// to `settle`: everything up to `floor` is done, and the ids above it already delivered are
/// remembered until the floor passes them.
#[derive(Debug)]
struct Tail {
    floor: i64,
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
            delivered: BTreeSet::new(),
            marks: VecDeque::new(),
            settle,
        }
    }

    /// The events of `page` (read after `floor`) not delivered yet, now counted delivered.
    fn fresh(&mut self, page: Vec<Event>) -> Vec<Event> {
        page.into_iter()
            .filter(|e| e.id > self.floor && self.delivered.insert(e.id))
            .collect()
    }

    /// Records `head`, read at `now` before the page was, and moves the floor to the newest
    /// head at least `settle` old, never past `truncated` (the last id of a full page: the
    /// rest is still to be read).
    fn advance(&mut self, now: Instant, head: i64, truncated: Option<i64>) {
        self.marks.push_back((now, head));
        let mut settled = None;
        while let Some(&(at, h)) = self.marks.front() {
            if now.duration_since(at) < self.settle {
                break;
            }
            settled = Some(h);
            if truncated.is_some_and(|t| h > t) {
                break; // this mark moves the floor once the rest is read
            }
            self.marks.pop_front();
        }
        if let Some(h) = settled {
            let target = truncated.map_or(h, |t| h.min(t));
            self.floor = self.floor.max(target);
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
        t.advance(now, 12, None);
        assert_eq!(t.floor, 12);
        assert!(t.delivered.is_empty());
    }

    #[test]
    fn a_late_commit_below_a_delivered_id_is_delivered_once() {
        let settle = Duration::from_secs(5);
        let mut t = Tail::new(10, settle);
        let t0 = Instant::now();
        // Id 11 is still in flight while 12 is visible.
        assert_eq!(ids(&t.fresh(vec![ev(12)])), [12]);
        t.advance(t0, 12, None);
        assert_eq!(t.floor, 10, "the floor waits for the settle time");
        // 11 commits; the next page has both, only 11 is news.
        assert_eq!(ids(&t.fresh(vec![ev(11), ev(12)])), [11]);
        t.advance(t0 + Duration::from_secs(1), 12, None);
        assert!(t.fresh(vec![ev(11), ev(12)]).is_empty());
        // After the settle time the floor passes both and forgets them.
        t.advance(t0 + settle, 12, None);
        assert_eq!(t.floor, 12);
        assert!(t.delivered.is_empty());
    }

    #[test]
    fn a_full_page_holds_the_floor_at_its_last_id() {
        let mut t = Tail::new(0, Duration::ZERO);
        let now = Instant::now();
        assert_eq!(ids(&t.fresh(vec![ev(1), ev(2)])), [1, 2]);
        t.advance(now, 100, Some(2));
        assert_eq!(t.floor, 2, "ids 3..=100 are still to be read");
        assert_eq!(ids(&t.fresh(vec![ev(3)])), [3]);
        t.advance(now, 100, None);
        assert_eq!(t.floor, 100);
    }
}

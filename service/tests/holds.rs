//! The reservation lifecycle through the service, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use domain::{
    geo::LatLon, report::BayReading, ConnectorType, LiveEvent, Outcome, PileId, PileState, Report,
    ReservationStatus, UserId,
};
use service::{Chargebay, ServiceError, Settings};
use std::time::Duration;
use store::{
    backend_tests,
    piles::NewPile,
    reports::IncomingReport,
    sites::{NewSite, SitePolicy},
    users::Role,
    watches::WatchTarget,
    Store,
};

struct World {
    svc: Chargebay,
    piles: Vec<PileId>,
    seq: std::sync::atomic::AtomicI64,
}

async fn world(store: Store, hold_secs: i64, grace_secs: i64) -> World {
    let svc = Chargebay::new(store.clone(), Settings::default());
    let mut piles = Vec::new();
    for (i, (lat, lon)) in [(22.50, 114.00), (22.51, 114.00), (22.60, 114.10)]
        .into_iter()
        .enumerate()
    {
        let site = store
            .create_site(&NewSite {
                name: format!("Site {i}"),
                address: format!("{i} Road"),
                position: LatLon::new(lat, lon).unwrap(),
                timezone: "Asia/Shanghai".into(),
                policy: SitePolicy {
                    hold_secs,
                    grace_secs,
                    ..SitePolicy::default()
                },
            })
            .await
            .unwrap();
        let pile = store
            .create_pile(&NewPile {
                site,
                code: format!("P{i}"),
                connector: if i == 2 {
                    ConnectorType::Type2
                } else {
                    ConnectorType::Ccs2
                },
                max_kw: 60.0,
                price_text: String::new(),
                heartbeat_secs: 60,
                sensor: "radar".into(),
            })
            .await
            .unwrap();
        piles.push(pile);
    }
    let w = World {
        svc,
        piles,
        seq: std::sync::atomic::AtomicI64::new(1),
    };
    for p in w.piles.clone() {
        w.report(p, BayReading::Free, PileState::Available).await;
    }
    w
}

impl World {
    async fn report(&self, pile: PileId, bay: BayReading, state: PileState) {
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let r = IncomingReport {
            pile,
            report: Report {
                seq,
                bay,
                pile: state,
                battery: None,
                quality: None,
            },
            received_at: store::now(),
            from: "127.0.0.1:1".into(),
        };
        self.svc.record_reports(&[r]).await.unwrap();
    }

    async fn driver(&self, name: &str) -> UserId {
        self.svc
            .store()
            .create_user(
                &format!("{name}@example.com"),
                name,
                "password123",
                Role::Driver,
            )
            .await
            .unwrap()
    }

    async fn status(&self, user: UserId, id: domain::ReservationId) -> ReservationStatus {
        self.svc
            .store()
            .reservation_of(user, id)
            .await
            .unwrap()
            .status
    }
}

async fn one_hold_per_pile_and_per_driver(store: Store) {
    let w = world(store, 900, 120).await;
    let (ann, bob) = (w.driver("ann").await, w.driver("bob").await);
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    assert_eq!(res.status, ReservationStatus::Held);
    assert!(res.deadline.0 - res.created_at.0 == 900_000);
    assert!(
        matches!(w.svc.reserve(bob, w.piles[0]).await, Err(ServiceError::Conflict(m)) if m.contains("reserved"))
    );
    assert!(
        matches!(w.svc.reserve(ann, w.piles[1]).await, Err(ServiceError::Conflict(m)) if m.contains("already"))
    );
    // Another driver cannot cancel (or even see) it.
    assert!(matches!(
        w.svc.cancel(bob, res.id).await,
        Err(ServiceError::NotFound(_))
    ));
    assert_eq!(
        w.svc.cancel(ann, res.id).await.unwrap().status,
        ReservationStatus::Ended(Outcome::Cancelled)
    );
    assert!(w.svc.reserve(bob, w.piles[0]).await.is_ok());
}

async fn only_idle_piles_can_be_held(store: Store) {
    let w = world(store, 900, 120).await;
    let ann = w.driver("ann").await;
    w.report(w.piles[0], BayReading::Occupied, PileState::Available)
        .await;
    let err = w.svc.reserve(ann, w.piles[0]).await.unwrap_err();
    assert!(
        matches!(&err, ServiceError::Conflict(m) if m.contains("blocked")),
        "{err:?}"
    );
    assert!(matches!(
        w.svc.reserve(ann, PileId(999)).await,
        Err(ServiceError::NotFound(_))
    ));
}

async fn concurrent_attempts_win_exactly_once_per_pile(store: Store) {
    let w = world(store, 900, 120).await;
    let mut users = Vec::new();
    for i in 0..40 {
        users.push(w.driver(&format!("d{i}")).await);
    }
    let mut tasks = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let svc = w.svc.clone();
        let pile = w.piles[i % 2];
        let user = *user;
        tasks.push(tokio::spawn(async move { svc.reserve(user, pile).await }));
    }
    let mut wins = std::collections::HashMap::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => *wins.entry(r.pile).or_insert(0) += 1,
            Err(ServiceError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error under contention: {e}"),
        }
    }
    assert_eq!(wins.get(&w.piles[0]), Some(&1));
    assert_eq!(wins.get(&w.piles[1]), Some(&1));
}

async fn check_in_then_arrival_fulfils(store: Store) {
    let w = world(store, 900, 120).await;
    let ann = w.driver("ann").await;
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    w.svc.check_in(ann, res.id).await.unwrap();
    assert_eq!(w.status(ann, res.id).await, ReservationStatus::Held);
    w.report(w.piles[0], BayReading::Occupied, PileState::Available)
        .await;
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Ended(Outcome::Fulfilled)
    );
}

async fn charging_fulfils(store: Store) {
    let w = world(store, 900, 120).await;
    let ann = w.driver("ann").await;
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    w.report(w.piles[0], BayReading::Occupied, PileState::Charging)
        .await;
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Ended(Outcome::Fulfilled)
    );
}

async fn someone_else_in_the_bay_blocks_after_grace_with_alternative(store: Store) {
    let w = world(store, 900, 1).await;
    let ann = w.driver("ann").await;
    let mut feed = w.svc.hub().subscribe();
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    w.report(w.piles[0], BayReading::Occupied, PileState::Available)
        .await;
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Held,
        "grace not over yet"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.svc.evaluate_holds(None).await.unwrap();
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Ended(Outcome::Blocked)
    );
    let alert = loop {
        match feed.recv().await.unwrap() {
            LiveEvent::Hold {
                status: ReservationStatus::Ended(o),
                alternative,
                user,
                ..
            } => break (o, alternative, user),
            _ => continue,
        }
    };
    assert_eq!(alert.0, Outcome::Blocked);
    assert_eq!(alert.2, ann);
    // The nearest idle CCS2 pile is P1 (P2 is Type 2).
    assert_eq!(alert.1.map(|a| a.pile), Some(w.piles[1]));
}

async fn far_driver_is_blocked_at_once(store: Store) {
    let w = world(store, 900, 120).await;
    let ann = w.driver("ann").await;
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    w.svc
        .share_position(ann, res.id, LatLon::new(23.0, 114.0).unwrap())
        .await
        .unwrap();
    w.report(w.piles[0], BayReading::Occupied, PileState::Available)
        .await;
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Ended(Outcome::Blocked)
    );
}

async fn fault_voids(store: Store) {
    let w = world(store, 900, 120).await;
    let ann = w.driver("ann").await;
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    w.report(w.piles[0], BayReading::Free, PileState::Faulted)
        .await;
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Ended(Outcome::Voided)
    );
}

async fn no_show_expires_and_is_idempotent(store: Store) {
    let w = world(store, 1, 120).await;
    let ann = w.driver("ann").await;
    let res = w.svc.reserve(ann, w.piles[0]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.svc.evaluate_holds(None).await.unwrap();
    w.svc.evaluate_holds(None).await.unwrap();
    assert_eq!(
        w.status(ann, res.id).await,
        ReservationStatus::Ended(Outcome::Expired)
    );
    let events = w
        .svc
        .store()
        .recent_events(Some(w.piles[0]), 100)
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "reservation_ended")
            .count(),
        1
    );
    let ended = events
        .iter()
        .find(|e| e.kind == "reservation_ended")
        .unwrap();
    assert!(ended.cause.starts_with("timer"), "{}", ended.cause);
}

async fn watchers_hear_when_a_pile_becomes_idle(store: Store) {
    let w = world(store, 900, 120).await;
    let ann = w.driver("ann").await;
    w.report(w.piles[2], BayReading::Occupied, PileState::Charging)
        .await;
    w.svc
        .store()
        .add_watch(ann, WatchTarget::Pile(w.piles[2]))
        .await
        .unwrap();
    let mut feed = w.svc.hub().subscribe();
    w.report(w.piles[2], BayReading::Free, PileState::Available)
        .await;
    let got = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let LiveEvent::Watched { user, pile, .. } = feed.recv().await.unwrap() {
                return (user, pile);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got, (ann, w.piles[2]));
    assert!(
        w.svc.store().watches_of(ann).await.unwrap().is_empty(),
        "a watch alerts once"
    );
}

backend_tests! {
    one_hold => one_hold_per_pile_and_per_driver;
    idle_only => only_idle_piles_can_be_held;
    contention => concurrent_attempts_win_exactly_once_per_pile;
    check_in => check_in_then_arrival_fulfils;
    charging => charging_fulfils;
    blocked => someone_else_in_the_bay_blocks_after_grace_with_alternative;
    far => far_driver_is_blocked_at_once;
    voided => fault_voids;
    expired => no_show_expires_and_is_idempotent;
    watch => watchers_hear_when_a_pile_becomes_idle;
}

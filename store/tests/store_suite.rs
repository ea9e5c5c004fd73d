//! The store suite: every test runs on SQLite and on PostgreSQL with a fresh database.

use domain::{
    geo::LatLon, report::BayReading, Availability, ConnectorType, Millis, Occupancy, PileId,
    PileState, Reason, Report,
};
use store::{
    backend_tests,
    piles::NewPile,
    reports::{Applied, IncomingReport},
    sites::{NewSite, SitePolicy},
    users::Role,
    Store, StoreError,
};

async fn site_and_pile(store: &Store, code: &str) -> PileId {
    let site = store
        .create_site(&NewSite {
            name: "Futian Civic Car Park".into(),
            address: "1 Fuzhong Rd".into(),
            position: LatLon::new(22.54, 114.06).expect("valid"),
            timezone: "Asia/Shanghai".into(),
            policy: SitePolicy::default(),
        })
        .await
        .expect("site");
    store
        .create_pile(&NewPile {
            site,
            code: code.into(),
            connector: ConnectorType::Ccs2,
            max_kw: 120.0,
            price_text: "1.2 CNY/kWh".into(),
            heartbeat_secs: 60,
            sensor: "magnetometer".into(),
        })
        .await
        .expect("pile")
}

fn incoming(pile: PileId, seq: i64, bay: BayReading, state: PileState, at: i64) -> IncomingReport {
    IncomingReport {
        pile,
        report: Report {
            seq,
            bay,
            pile: state,
            battery: Some(90),
            quality: Some(99),
        },
        received_at: Millis(at),
        from: "127.0.0.1:40000".into(),
    }
}

async fn sites_and_piles_round_trip(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let sites = store.list_sites().await.expect("sites");
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].policy.hold_secs, 900);
    assert!((sites[0].lat - 22.54).abs() < 1e-9);
    let view = store.pile(pile).await.expect("pile");
    assert_eq!(view.code, "FT-1");
    assert_eq!(view.connector, ConnectorType::Ccs2);
    assert_eq!(view.freshness_secs, 150);
    assert!(!view.held);
    // Never heard from: offline, and the bay is unknown.
    assert_eq!(
        view.availability(store::now()),
        Availability::Busy(Reason::Offline)
    );
    assert_eq!(view.telemetry.occupancy, Occupancy::Unknown);
    assert!(matches!(
        store.pile(PileId(9999)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn duplicate_pile_code_is_a_conflict(store: Store) {
    let p = site_and_pile(&store, "FT-1").await;
    let site = store.pile(p).await.expect("pile").site;
    let again = store
        .create_pile(&NewPile {
            site,
            code: "FT-1".into(),
            connector: ConnectorType::Type2,
            max_kw: 7.0,
            price_text: String::new(),
            heartbeat_secs: 60,
            sensor: "radar".into(),
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.count_piles().await.expect("count"), 1);
}

async fn report_applies_once_and_in_order(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let now = store::now().0;
    let res = store
        .apply_reports(
            &[incoming(
                pile,
                5,
                BayReading::Free,
                PileState::Available,
                now,
            )],
            10_000,
        )
        .await
        .expect("apply");
    assert!(
        matches!(&res[0], Applied::Applied { change, .. } if change.occupancy == Some((Occupancy::Unknown, Occupancy::Free)))
    );
    let view = store.pile(pile).await.expect("pile");
    assert_eq!(view.availability(Millis(now)), Availability::Idle);
    assert_eq!(view.last_addr.as_deref(), Some("127.0.0.1:40000"));

    // The same (pile, seq) again: a duplicate, nothing recorded twice.
    let res = store
        .apply_reports(
            &[incoming(
                pile,
                5,
                BayReading::Occupied,
                PileState::Available,
                now + 1,
            )],
            10_000,
        )
        .await
        .expect("apply");
    assert_eq!(res, vec![Applied::Duplicate]);
    // An older sequence: recorded as a report but never overwrites the state.
    let res = store
        .apply_reports(
            &[incoming(
                pile,
                3,
                BayReading::Occupied,
                PileState::Available,
                now + 2,
            )],
            10_000,
        )
        .await
        .expect("apply");
    assert_eq!(res, vec![Applied::OutOfOrder]);
    let view = store.pile(pile).await.expect("pile");
    assert_eq!(view.telemetry.occupancy, Occupancy::Free);
    assert_eq!(view.telemetry.last_seq, Some(5));

    let events = store.recent_events(Some(pile), 50).await.expect("events");
    let reports = events.iter().filter(|e| e.kind == "report").count();
    assert_eq!(reports, 2, "{events:?}");
    assert!(events.iter().any(|e| e.kind == "bay_changed"));
    assert!(events.iter().any(|e| e.kind == "pile_state_changed"));
}

async fn batch_with_many_reports_for_one_pile(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let now = store::now().0;
    let batch = vec![
        incoming(pile, 1, BayReading::Free, PileState::Available, now),
        incoming(
            pile,
            2,
            BayReading::Occupied,
            PileState::Available,
            now + 10,
        ),
        incoming(
            pile,
            2,
            BayReading::Occupied,
            PileState::Available,
            now + 11,
        ),
        incoming(pile, 3, BayReading::Occupied, PileState::Charging, now + 20),
        incoming(
            PileId(424242),
            1,
            BayReading::Free,
            PileState::Available,
            now,
        ),
    ];
    let res = store.apply_reports(&batch, 10_000).await.expect("apply");
    assert!(matches!(res[0], Applied::Applied { .. }));
    assert!(matches!(res[1], Applied::Applied { .. }));
    assert_eq!(res[2], Applied::Duplicate);
    assert!(matches!(res[3], Applied::Applied { .. }));
    assert_eq!(res[4], Applied::UnknownPile);
    let view = store.pile(pile).await.expect("pile");
    assert_eq!(view.telemetry.last_seq, Some(3));
    assert_eq!(
        view.availability(Millis(now + 20)),
        Availability::Busy(Reason::Charging)
    );
}

async fn sweep_marks_stale_and_offline_once(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let t0 = store::now().0;
    store
        .apply_reports(
            &[incoming(
                pile,
                1,
                BayReading::Free,
                PileState::Available,
                t0,
            )],
            10_000,
        )
        .await
        .expect("apply");
    assert!(store
        .sweep(Millis(t0 + 1000), 10_000)
        .await
        .expect("sweep")
        .is_empty());
    let swept = store
        .sweep(Millis(t0 + 151_000), 10_000)
        .await
        .expect("sweep");
    assert_eq!(swept.len(), 1);
    assert_eq!(swept[0].kind, "bay_stale");
    assert!(store
        .sweep(Millis(t0 + 152_000), 10_000)
        .await
        .expect("sweep")
        .is_empty());
    let swept = store
        .sweep(Millis(t0 + 301_000), 10_000)
        .await
        .expect("sweep");
    assert_eq!(
        swept.iter().map(|s| s.kind).collect::<Vec<_>>(),
        vec!["pile_offline"]
    );
    let view = store.pile(pile).await.expect("pile");
    assert_eq!(
        view.availability(Millis(t0 + 301_000)),
        Availability::Busy(Reason::Offline)
    );
    let events = store.recent_events(Some(pile), 10).await.expect("events");
    assert!(events
        .iter()
        .any(|e| e.kind == "bay_stale" && e.cause == "timer"));
}

async fn sweep_takes_a_silent_fleet_at_once_and_spares_bays_heard_since(store: Store) {
    let fleet = store
        .provision_fleet("Silent", "SL", 50, 60)
        .await
        .expect("fleet");
    let piles: Vec<PileId> = fleet.piles.iter().map(|(p, _)| *p).collect();
    let t0 = store::now().0;
    let first: Vec<IncomingReport> = piles
        .iter()
        .map(|p| incoming(*p, 1, BayReading::Free, PileState::Available, t0))
        .collect();
    store.apply_reports(&first, 10_000).await.expect("apply");
    // One pile keeps reporting: 140 s later it is still fresh at 151 s.
    let heard = piles[7];
    store
        .apply_reports(
            &[incoming(
                heard,
                2,
                BayReading::Free,
                PileState::Available,
                t0 + 140_000,
            )],
            10_000,
        )
        .await
        .expect("apply");
    let swept = store
        .sweep(Millis(t0 + 151_000), 10_000)
        .await
        .expect("sweep");
    assert_eq!(swept.len(), 49);
    assert!(swept
        .iter()
        .all(|s| s.kind == "bay_stale" && s.pile != heard));
    assert!(store
        .sweep(Millis(t0 + 152_000), 10_000)
        .await
        .expect("sweep")
        .is_empty());
    for p in [piles[0], piles[49]] {
        let events = store.recent_events(Some(p), 10).await.expect("events");
        assert_eq!(events.iter().filter(|e| e.kind == "bay_stale").count(), 1);
    }
    let events = store.recent_events(Some(heard), 10).await.expect("events");
    assert!(events.iter().all(|e| e.kind != "bay_stale"));
}

async fn credentials_issue_rotate_revoke(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let first = store.issue_credential(pile).await.expect("issue");
    assert_eq!(first.secret.len(), 32);
    let hashes = store.active_key_hashes().await.expect("hashes");
    assert_eq!(hashes.len(), 1);
    assert!(hashes[0].1.verifies(&first.secret));
    let second = store.issue_credential(pile).await.expect("rotate");
    let hashes = store.active_key_hashes().await.expect("hashes");
    assert_eq!(hashes.len(), 1);
    assert!(
        !hashes[0].1.verifies(&first.secret),
        "rotation invalidates the old key"
    );
    assert!(hashes[0].1.verifies(&second.secret));
    assert_eq!(
        store.credential_info(pile).await.expect("info").fingerprint,
        second.fingerprint
    );
    store.revoke_credential(pile).await.expect("revoke");
    assert!(store.active_key_hashes().await.expect("hashes").is_empty());
    assert!(matches!(
        store.issue_credential(PileId(777)).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn users_hash_and_authenticate(store: Store) {
    store
        .create_user("Ada@Example.com", "Ada", "correct horse", Role::Admin)
        .await
        .expect("user");
    let dup = store
        .create_user("ada@example.com", "Ada 2", "x", Role::Driver)
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let user = store
        .authenticate("ada@example.com", "correct horse")
        .await
        .expect("auth");
    assert_eq!(user.map(|u| u.role), Some(Role::Admin));
    assert!(store
        .authenticate("ada@example.com", "wrong")
        .await
        .expect("auth")
        .is_none());
    assert!(store
        .authenticate("nobody@example.com", "x")
        .await
        .expect("auth")
        .is_none());
}

async fn meta_values(store: Store) {
    assert_eq!(store.meta("demo").await.expect("meta"), None);
    store.set_meta("demo", "v1").await.expect("set");
    store.set_meta("demo", "v2").await.expect("set");
    assert_eq!(
        store.meta("demo").await.expect("meta").as_deref(),
        Some("v2")
    );
    store.ping().await.expect("ping");
}

async fn journal_keeps_every_report_chained_by_pile(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let other = site_and_pile(&store, "FT-2").await;
    let t0 = store::now().0;
    let free = |seq, at| incoming(pile, seq, BayReading::Free, PileState::Available, at);
    // Interleave another pile's reports: the chain must skip them.
    for seq in 1..=4 {
        store
            .apply_reports(
                &[
                    free(seq * 10, t0 + seq * 1000),
                    incoming(other, seq, BayReading::Occupied, PileState::Charging, t0),
                ],
                10_000,
            )
            .await
            .expect("apply");
    }
    // A late report (below the last, never seen) is journaled, not applied; its
    // retransmission, and one of an applied report further back, are duplicates.
    let res = store
        .apply_reports(&[free(25, t0 + 5000)], 10_000)
        .await
        .expect("late");
    assert_eq!(res, vec![Applied::OutOfOrder]);
    let res = store
        .apply_reports(&[free(25, t0 + 5001), free(20, t0 + 5002)], 10_000)
        .await
        .expect("again");
    assert_eq!(res, vec![Applied::Duplicate, Applied::Duplicate]);
    let view = store.pile(pile).await.expect("pile");
    assert_eq!(view.telemetry.last_seq, Some(40));
    assert_eq!(view.telemetry.last_report_at, Some(Millis(t0 + 4000)));

    let all = store
        .pile_reports(pile, Millis(0), 100)
        .await
        .expect("reports");
    let seqs: Vec<i64> = all.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [25, 40, 30, 20, 10], "newest first");
    assert!(all.iter().all(|r| r.pile == pile));
    assert_eq!(
        all.iter().map(|r| r.applied).collect::<Vec<_>>(),
        [false, true, true, true, true]
    );
    assert_eq!(all[1].battery, Some(90));
    assert_eq!(all[1].peer, "127.0.0.1:40000");
    let newest = store.pile_reports(pile, Millis(0), 2).await.expect("two");
    assert_eq!(newest.iter().map(|r| r.seq).collect::<Vec<_>>(), [25, 40]);
    let recent = store
        .pile_reports(pile, Millis(t0 + 3000), 100)
        .await
        .expect("since");
    assert_eq!(
        recent.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [25, 40, 30]
    );
    let (times, before) = store
        .pile_report_times(pile, Millis(t0 + 2000), Millis(t0 + 4000))
        .await
        .expect("times");
    assert_eq!(times, [Millis(t0 + 2000), Millis(t0 + 3000)]);
    assert_eq!(before, Some(Millis(t0 + 1000)));
    assert_eq!(
        store.report_seqs_since(pile, 20).await.expect("seqs"),
        [20, 30, 40, 25]
    );
    let other_seqs: Vec<i64> = store
        .pile_reports(other, Millis(0), 100)
        .await
        .expect("other")
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(other_seqs, [4, 3, 2, 1]);
    let fleet = store.latest_reports(3).await.expect("fleet");
    assert_eq!(fleet.len(), 3);
    assert!(fleet.windows(2).all(|w| w[0].id > w[1].id));
}

async fn report_log_merges_into_the_event_log(store: Store) {
    let pile = site_and_pile(&store, "FT-1").await;
    let t0 = store::now().0;
    store
        .apply_reports(
            &[
                incoming(pile, 1, BayReading::Free, PileState::Available, t0),
                incoming(pile, 2, BayReading::Free, PileState::Available, t0 + 10),
                incoming(pile, 3, BayReading::Occupied, PileState::Available, t0 + 20),
            ],
            10_000,
        )
        .await
        .expect("apply");
    let events = store.recent_events(Some(pile), 50).await.expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    // Newest first; a change comes before the report that caused it.
    assert_eq!(
        kinds,
        [
            "bay_changed",
            "report",
            "report",
            "pile_state_changed",
            "bay_changed",
            "report"
        ],
        "{events:?}"
    );
    assert_eq!(events[1].cause, "report:3");
    assert_eq!(events[1].data["bay"], "occupied");
    assert_eq!(events[1].data["applied"], true);
    let changes = store.recent_changes(Some(pile), 50).await.expect("changes");
    assert!(changes.iter().all(|e| e.kind != "report"));
    assert_eq!(changes.len(), 3);
    assert_eq!(
        store.recent_events(Some(pile), 2).await.expect("two").len(),
        2
    );
}

backend_tests! {
    sites_and_piles => sites_and_piles_round_trip;
    duplicate_code => duplicate_pile_code_is_a_conflict;
    report_once_in_order => report_applies_once_and_in_order;
    batch_many => batch_with_many_reports_for_one_pile;
    sweep => sweep_marks_stale_and_offline_once;
    sweep_fleet => sweep_takes_a_silent_fleet_at_once_and_spares_bays_heard_since;
    credentials => credentials_issue_rotate_revoke;
    users => users_hash_and_authenticate;
    meta => meta_values;
    journal_chain => journal_keeps_every_report_chained_by_pile;
    journal_in_event_log => report_log_merges_into_the_event_log;
}

/// Two instances on one database (two processes): each sees the events the other appended,
/// never its own, and the journal's tail tells when each pile was last heard.
async fn instances_see_each_others_events(a: Store, b: Store) {
    assert_ne!(a.origin(), b.origin());
    let pile = site_and_pile(&a, "TWO-1").await;
    let start = a.last_event_id().await.expect("head");
    let journal = a.last_report_id().await.expect("journal head");

    // `a` records a report that changes the bay (events), `b` a late one and a fresh one.
    a.apply_reports(
        &[incoming(
            pile,
            1,
            BayReading::Occupied,
            PileState::Available,
            1_000,
        )],
        10_000,
    )
    .await
    .expect("a reports");
    b.apply_reports(
        &[
            incoming(pile, 3, BayReading::Occupied, PileState::Available, 3_000),
            incoming(pile, 2, BayReading::Free, PileState::Available, 3_500),
        ],
        10_000,
    )
    .await
    .expect("b reports");
    let user = a
        .create_user(
            "two@example.com",
            "Two",
            "correct horse battery",
            Role::Driver,
        )
        .await
        .expect("user");
    a.add_watch(user, store::watches::WatchTarget::Pile(pile))
        .await
        .expect("watch");
    let site = a.pile(pile).await.expect("pile").site;
    assert_eq!(
        a.take_watchers(pile, site, Millis(4_000))
            .await
            .expect("take"),
        [user]
    );
    assert!(b
        .take_watchers(pile, site, Millis(4_001))
        .await
        .expect("again")
        .is_empty());

    let seen_by_b: Vec<String> = b
        .foreign_events_after(start, 100)
        .await
        .expect("b's tail")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        seen_by_b,
        ["bay_changed", "pile_state_changed", "watch_alerted"]
    );
    let from_a = b.foreign_events_after(start, 100).await.expect("tail");
    let alert = from_a.last().expect("alert");
    assert_eq!(
        (alert.user, alert.pile, alert.site),
        (Some(user), Some(pile), Some(site))
    );
    assert!(
        a.foreign_events_after(start, 100)
            .await
            .expect("a's tail")
            .is_empty(),
        "b's reports changed nothing, and a never sees its own events"
    );
    // A page ends at `limit`; the next starts after its last id.
    let first = b.foreign_events_after(start, 1).await.expect("page");
    assert_eq!(first.len(), 1);
    assert_eq!(
        b.foreign_events_after(first[0].id, 100)
            .await
            .expect("rest")
            .len(),
        2
    );

    // The ids-only re-check of a window, and reading rows back by id.
    let ids = b
        .foreign_event_ids_between(start, i64::MAX)
        .await
        .expect("ids");
    assert_eq!(ids, from_a.iter().map(|e| e.id).collect::<Vec<_>>());
    assert!(a
        .foreign_event_ids_between(start, i64::MAX)
        .await
        .expect("own")
        .is_empty());
    let again = b.events_by_ids(&[ids[2], ids[0]]).await.expect("by id");
    assert_eq!(again, [from_a[0].clone(), from_a[2].clone()]);

    let (heard, last) = a.heard_after(journal, 100).await.expect("heard");
    assert_eq!(
        heard,
        [(pile, Some(Millis(3_000)))],
        "the late report is not a hearing"
    );
    assert_eq!(last, a.last_report_id().await.expect("head"));
    let (none, same) = a.heard_after(last, 100).await.expect("nothing new");
    assert!(none.is_empty());
    assert_eq!(same, last);
}

/// Runs [`instances_see_each_others_events`] with `db`'s store and a second one on it.
async fn two_instances_on(db: store::testing::TestDb) {
    let other = Store::connect(&db.url).await.expect("second instance");
    instances_see_each_others_events(db.store.clone(), other.clone()).await;
    other.close().await;
    db.drop_db().await;
}

mod two_instances {
    #[tokio::test]
    async fn sqlite() {
        let db = store::testing::TestDb::sqlite().await.expect("sqlite");
        super::two_instances_on(db).await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some(db) = store::testing::TestDb::postgres().await.expect("postgres") else {
            return;
        };
        super::two_instances_on(db).await;
    }
}

//! Deferred `bay_seen` writes (SQLite): heartbeats wait in memory and still count for
//! duplicates, views and the sweep; state changes and long silences are written at once; a
//! restart without a flush rebuilds everything from the journal.

use domain::{report::BayReading, Availability, Millis, Occupancy, PileId, PileState, Report};
use std::time::Duration;
use store::{
    reports::{Applied, IncomingReport},
    seen::SeenPolicy,
    testing::TestDb,
    Store,
};

/// Rows wait until flushed: no commit writes any along.
const NEVER: SeenPolicy = SeenPolicy {
    write_all_up_to: 0,
    pass: Duration::from_secs(86_400),
};

/// A fresh database with `piles` piles (heartbeat 60 s: freshness 150 s) and a store that
/// defers heartbeats under `policy`.
async fn fleet_with(piles: usize, policy: SeenPolicy) -> (TestDb, Store, Vec<PileId>) {
    let db = TestDb::sqlite().await.expect("sqlite");
    let fleet = db
        .store
        .provision_fleet("Deferred", "DF", piles, 60)
        .await
        .expect("fleet");
    let ids = fleet.piles.iter().map(|(p, _)| *p).collect();
    let store = db
        .store
        .clone()
        .with_seen_policy(policy)
        .await
        .expect("policy");
    (db, store, ids)
}

/// [`fleet_with`] under [`NEVER`].
async fn fleet(piles: usize) -> (TestDb, Store, Vec<PileId>) {
    fleet_with(piles, NEVER).await
}

fn report(pile: PileId, seq: i64, bay: BayReading, at: i64) -> IncomingReport {
    IncomingReport {
        pile,
        report: Report {
            seq,
            bay,
            pile: PileState::Available,
            battery: Some(u8::try_from(seq % 100).expect("percent")),
            quality: Some(99),
        },
        received_at: Millis(at),
        from: "127.0.0.1:40000".into(),
    }
}

async fn apply(store: &Store, r: IncomingReport) -> Applied {
    store
        .apply_reports(&[r], 10_000)
        .await
        .expect("apply")
        .remove(0)
}

/// What the `bay_seen` table holds for `pile` (last_seq, last_report_at), read past the store.
async fn stored(db: &TestDb, pile: PileId) -> (Option<i64>, Option<i64>) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("connect");
    let row: (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT last_seq, last_report_at FROM bay_seen WHERE pile_id = $1")
            .bind(pile.0)
            .fetch_one(&mut conn)
            .await
            .expect("bay_seen");
    conn.close().await.expect("close");
    row
}

#[tokio::test]
async fn heartbeats_wait_yet_count_and_a_restart_replays_them() {
    let (db, store, piles) = fleet(2).await;
    let (p, q) = (piles[0], piles[1]);
    let t0 = store::now().0;
    assert!(matches!(
        apply(&store, report(p, 1, BayReading::Free, t0)).await,
        Applied::Applied { .. }
    ));
    assert!(matches!(
        apply(&store, report(p, 2, BayReading::Free, t0 + 5_000)).await,
        Applied::Applied { .. }
    ));
    apply(&store, report(q, 1, BayReading::Free, t0)).await;
    // This process sees the waiting row: views, duplicates, late reports.
    let view = store.pile(p).await.expect("pile");
    assert_eq!(view.telemetry.last_seq, Some(2));
    assert_eq!(view.telemetry.battery, Some(2));
    assert_eq!(
        apply(&store, report(p, 2, BayReading::Free, t0 + 5_100)).await,
        Applied::Duplicate
    );
    assert_eq!(
        apply(&store, report(p, 1, BayReading::Free, t0 + 5_200)).await,
        Applied::Duplicate
    );
    assert_eq!(stored(&db, p).await, (Some(1), Some(t0)), "the table lags");
    // A crash: the waiting rows are gone with the process; a restart replays the journal.
    apply(&store, report(p, 3, BayReading::Free, t0 + 6_000)).await;
    drop(store);
    let restarted = Store::connect(&db.url).await.expect("restart");
    assert_eq!(stored(&db, p).await, (Some(3), Some(t0 + 6_000)));
    assert_eq!(stored(&db, q).await, (Some(1), Some(t0)));
    assert_eq!(
        apply(&restarted, report(p, 2, BayReading::Free, t0 + 7_000)).await,
        Applied::Duplicate,
        "a retransmission after the restart is still recognised"
    );
    assert!(matches!(
        apply(&restarted, report(p, 4, BayReading::Free, t0 + 8_000)).await,
        Applied::Applied { .. }
    ));
    let chain: Vec<i64> = restarted
        .pile_reports(p, Millis(0), 10)
        .await
        .expect("reports")
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(chain, vec![4, 3, 2, 1], "the chain is whole");
    db.drop_db().await;
}

#[tokio::test]
async fn state_changes_and_long_silences_are_written_at_once() {
    let (db, store, piles) = fleet(1).await;
    let p = piles[0];
    let t0 = store::now().0;
    apply(&store, report(p, 1, BayReading::Free, t0)).await;
    apply(&store, report(p, 2, BayReading::Occupied, t0 + 5_000)).await;
    assert_eq!(
        stored(&db, p).await.0,
        Some(2),
        "a state change does not wait"
    );
    apply(&store, report(p, 3, BayReading::Occupied, t0 + 10_000)).await;
    assert_eq!(stored(&db, p).await.0, Some(2), "a heartbeat waits");
    // 17 s after the stored row: past half the smallest freshness limit (32 s).
    apply(&store, report(p, 4, BayReading::Occupied, t0 + 22_000)).await;
    assert_eq!(stored(&db, p).await, (Some(4), Some(t0 + 22_000)));
    assert_eq!(
        store
            .pile(p)
            .await
            .expect("pile")
            .occupancy(Millis(t0 + 22_000)),
        Occupancy::Occupied
    );
    db.drop_db().await;
}

#[tokio::test]
async fn the_sweep_spares_a_bay_whose_row_waits_and_a_flush_writes_it() {
    let (db, store, piles) = fleet(2).await;
    let (p, q) = (piles[0], piles[1]);
    let t0 = store::now().0;
    for pile in [p, q] {
        apply(&store, report(pile, 1, BayReading::Free, t0)).await;
    }
    apply(&store, report(p, 2, BayReading::Free, t0 + 10_000)).await;
    // 151 s after t0: q is stale; p's stored row says so too, but its waiting one does not.
    let swept = store
        .sweep(Millis(t0 + 151_000), 10_000)
        .await
        .expect("sweep");
    assert_eq!(
        swept.iter().map(|s| (s.pile, s.kind)).collect::<Vec<_>>(),
        vec![(q, "bay_stale")]
    );
    assert_eq!(stored(&db, p).await, (Some(1), Some(t0)));
    store.flush_seen().await.expect("flush");
    assert_eq!(stored(&db, p).await, (Some(2), Some(t0 + 10_000)));
    assert!(store
        .sweep(Millis(t0 + 152_000), 10_000)
        .await
        .expect("sweep")
        .is_empty());
    assert_eq!(
        store
            .pile(p)
            .await
            .expect("pile")
            .availability(Millis(t0 + 152_000)),
        Availability::Idle
    );
    db.drop_db().await;
}

#[tokio::test]
async fn slices_write_waiting_rows_in_pile_order_over_a_pass() {
    let policy = SeenPolicy {
        write_all_up_to: 0,
        pass: Duration::from_millis(200),
    };
    let (db, store, piles) = fleet_with(40, policy).await;
    let t0 = store::now().0;
    let first: Vec<IncomingReport> = piles
        .iter()
        .map(|p| report(*p, 1, BayReading::Free, t0))
        .collect();
    store.apply_reports(&first, 10_000).await.expect("apply");
    let beats: Vec<IncomingReport> = piles
        .iter()
        .map(|p| report(*p, 2, BayReading::Free, t0 + 1_000))
        .collect();
    store.apply_reports(&beats, 10_000).await.expect("apply");
    // Commits more than a pass apart write every waiting row along.
    let other = piles[0];
    for k in 0..3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        apply(
            &store,
            report(other, 3 + k, BayReading::Free, t0 + 2_000 + k),
        )
        .await;
    }
    for p in &piles[1..] {
        assert_eq!(stored(&db, *p).await.0, Some(2), "pile {}", p.0);
    }
    assert_eq!(stored(&db, other).await.0, Some(5));
    db.drop_db().await;
}

//! Admin use cases on SQLite and PostgreSQL: the CSV fleet import (good file, bad rows,
//! duplicate codes, one transaction), the audit log, and disabling a held pile.
#![allow(clippy::unwrap_used)]

use domain::{geo::LatLon, report::BayReading, ConnectorType, PileId, PileState, Report};
use service::{admin::SiteInput, Chargebay, Settings};
use store::{
    piles::NewPile,
    reports::IncomingReport,
    sites::{NewSite, SitePolicy},
    users::Role,
    Store,
};

async fn admin_of(store: &Store) -> domain::UserId {
    store
        .create_user(
            "boss@example.com",
            "Boss",
            "correct horse battery",
            Role::Admin,
        )
        .await
        .unwrap()
}

const GOOD: &str = "\
site,address,lat,lon,timezone,code,connector,max_kw,price,heartbeat_secs,sensor
Harbour Depot,1 Quay St,22.51,114.02,Asia/Shanghai,HD-1,CCS2,120,1.20/kWh,30,radar
Harbour Depot,,,,,HD-2,Type2,22,0.90/kWh,,
Hill Car Park,9 Hill Rd,22.60,114.10,,,,,,,
Existing Site,,,,,EX-9,GBT,60,,,camera
";

async fn import_good_file(store: Store) {
    let svc = Chargebay::new(store.clone(), Settings::default());
    let admin = admin_of(&store).await;
    store
        .create_site(&NewSite {
            name: "Existing Site".into(),
            address: "2 Old Rd".into(),
            position: LatLon::new(22.5, 114.0).unwrap(),
            timezone: "UTC".into(),
            policy: SitePolicy::default(),
        })
        .await
        .unwrap();
    let before = store.list_piles().await.unwrap().len();

    let dry = svc.import_fleet(admin, GOOD, true).await.unwrap();
    assert!(dry.is_valid(), "{dry:?}");
    assert!(!dry.committed);
    assert_eq!((dry.new_sites, dry.new_piles), (2, 3));
    assert_eq!(dry.rows.len(), 4);
    assert!(dry.rows[0].new_site && dry.rows[0].new_pile);
    assert!(!dry.rows[1].new_site && dry.rows[1].new_pile);
    assert!(dry.rows[2].new_site && !dry.rows[2].new_pile);
    assert_eq!(dry.rows[3].line, 5);
    assert_eq!(
        store.list_piles().await.unwrap().len(),
        before,
        "dry run writes nothing"
    );

    let done = svc.import_fleet(admin, GOOD, false).await.unwrap();
    assert!(done.committed, "{done:?}");
    let piles = store.list_piles().await.unwrap();
    assert_eq!(piles.len(), before + 3);
    let hd2 = piles.iter().find(|p| p.code == "HD-2").unwrap();
    assert_eq!(hd2.site_name, "Harbour Depot");
    assert_eq!(hd2.connector, ConnectorType::Type2);
    assert_eq!(
        (hd2.heartbeat_secs, hd2.sensor.as_str()),
        (60, "magnetometer")
    );
    let ex = piles.iter().find(|p| p.code == "EX-9").unwrap();
    assert_eq!(ex.site_name, "Existing Site");
    let sites = store.list_sites().await.unwrap();
    let hill = sites.iter().find(|s| s.name == "Hill Car Park").unwrap();
    assert_eq!(hill.timezone, "UTC");
    let log = svc.audit_log(None, 10).await.unwrap();
    assert_eq!(log[0].action, "fleet_imported");
    assert_eq!(log[0].admin, admin);

    // The same file again: every pile code is now taken, nothing is written.
    let again = svc.import_fleet(admin, GOOD, false).await.unwrap();
    assert!(!again.committed);
    let taken: Vec<u64> = again
        .rows
        .iter()
        .filter(|r| {
            r.errors
                .iter()
                .any(|e| e.field == "code" && e.code == "taken")
        })
        .map(|r| r.line)
        .collect();
    assert_eq!(taken, vec![2, 3, 5]);
    assert_eq!(store.list_piles().await.unwrap().len(), before + 3);
}

async fn import_bad_rows_writes_nothing(store: Store) {
    let svc = Chargebay::new(store.clone(), Settings::default());
    let admin = admin_of(&store).await;
    let csv = "\
code,site,address,lat,lon,connector,max_kw
A-1,New Site,1 Road,22.5,114.0,CCS2,50
A-2,New Site,,,,Tesla,50
A-1,New Site,,,,CCS2,50
B-1,Nowhere,,95,200,CCS2,abc
bad code,New Site,,,,CCS2,50
,,,,,,
A-3,\"New Site\",,,,CHAdeMO,50
";
    let r = svc.import_fleet(admin, csv, false).await.unwrap();
    assert!(!r.committed);
    let errs = |line: u64| -> Vec<(String, String)> {
        r.rows
            .iter()
            .find(|x| x.line == line)
            .unwrap()
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.code.clone()))
            .collect()
    };
    assert!(errs(2).is_empty());
    assert_eq!(errs(3), vec![("connector".into(), "connector".into())]);
    assert_eq!(errs(4), vec![("code".into(), "duplicate_in_file:2".into())]);
    let b1 = errs(5);
    assert!(
        b1.contains(&("address".into(), "required".into())),
        "{b1:?}"
    );
    assert!(b1.contains(&("lat".into(), "range".into())), "{b1:?}");
    assert!(b1.contains(&("lon".into(), "range".into())), "{b1:?}");
    assert!(b1.contains(&("max_kw".into(), "number".into())), "{b1:?}");
    assert_eq!(errs(6), vec![("code".into(), "code_format".into())]);
    assert!(
        errs(8).is_empty(),
        "blank line 7 skipped, quoted site reused"
    );
    assert_eq!(r.rows.len(), 6);
    assert!(
        store.list_sites().await.unwrap().is_empty(),
        "one transaction: nothing written"
    );
    assert!(store.list_piles().await.unwrap().is_empty());
    assert!(svc.audit_log(None, 10).await.unwrap().is_empty());

    // File-level problems.
    let r = svc
        .import_fleet(admin, "name,colour\nx,y\n", false)
        .await
        .unwrap();
    let codes: Vec<(&str, &str)> = r
        .file_errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("name", "unknown_column"),
            ("colour", "unknown_column"),
            ("site", "missing_column"),
            ("code", "missing_column")
        ]
    );
    let r = svc.import_fleet(admin, "site,code\n", false).await.unwrap();
    assert_eq!(r.file_errors[0].code, "empty");
}

async fn site_edit_and_disabling_a_held_pile_voids_the_hold(store: Store) {
    let svc = Chargebay::new(store.clone(), Settings::default());
    let admin = admin_of(&store).await;
    let input = SiteInput {
        name: "Depot".into(),
        address: "1 Road".into(),
        lat: "22.5".into(),
        lon: "114.0".into(),
        timezone: "Asia/Shanghai".into(),
        reservations_allowed: true,
        ..SiteInput::default()
    };
    let site = svc.save_site(admin, None, &input).await.unwrap();
    let edited = SiteInput {
        hold_secs: "600".into(),
        ..input.clone()
    };
    svc.save_site(admin, Some(site), &edited).await.unwrap();
    assert_eq!(store.site(site).await.unwrap().policy.hold_secs, 600);
    let pile = store
        .create_pile(&NewPile {
            site,
            code: "D-1".into(),
            connector: ConnectorType::Ccs2,
            max_kw: 60.0,
            price_text: String::new(),
            heartbeat_secs: 60,
            sensor: "radar".into(),
        })
        .await
        .unwrap();
    report(&svc, pile, 1).await;
    let driver = store
        .create_user("d@example.com", "D", "correct horse battery", Role::Driver)
        .await
        .unwrap();
    let mut alerts = svc.hub().subscribe();
    let res = svc.reserve(driver, pile).await.unwrap();
    svc.set_pile_enabled(admin, pile, false).await.unwrap();
    let ended = store.reservation_of(driver, res.id).await.unwrap();
    assert_eq!(ended.status.as_str(), "voided");
    let mut saw_voided = false;
    while let Ok(e) = alerts.try_recv() {
        if let domain::LiveEvent::Hold { status, user, .. } = e {
            saw_voided |= user == driver && status.as_str() == "voided";
        }
    }
    assert!(saw_voided, "the driver is alerted");
    let log = svc.audit_log(None, 10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["pile_disabled", "site_updated", "site_created"]
    );
    assert_eq!(log[0].target, format!("pile:{}", pile.0));
}

async fn report(svc: &Chargebay, pile: PileId, seq: i64) {
    svc.record_reports(&[IncomingReport {
        pile,
        report: Report {
            seq,
            bay: BayReading::Free,
            pile: PileState::Available,
            battery: Some(15),
            quality: Some(90),
        },
        received_at: store::now(),
        from: "127.0.0.1:9".into(),
    }])
    .await
    .unwrap();
}

store::backend_tests! {
    import_good => import_good_file;
    import_bad => import_bad_rows_writes_nothing;
    disable_voids_hold => site_edit_and_disabling_a_held_pile_voids_the_hold;
}

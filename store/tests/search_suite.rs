//! Pile search: every test runs on SQLite and on PostgreSQL with a fresh database.
#![allow(clippy::unwrap_used)]

use domain::{
    geo::LatLon,
    report::BayReading,
    search::{Area, SearchQuery},
    Availability, ConnectorType, Millis, PileId, PileState, Reason, Report, UserId,
};
use store::{
    backend_tests,
    piles::NewPile,
    reports::IncomingReport,
    search::SearchPage,
    sites::{NewSite, SitePolicy},
    users::Role,
    Store,
};

/// Kilometres per degree of latitude (the haversine's Earth radius).
const KM_PER_DEG: f64 = 6371.0088 * std::f64::consts::PI / 180.0;

/// Futian, Shenzhen: the reference point of most tests.
const LAT0: f64 = 22.54;
const LON0: f64 = 114.06;

fn ll(lat: f64, lon: f64) -> LatLon {
    LatLon::new(lat, lon).unwrap()
}

async fn site_at(store: &Store, name: &str, address: &str, at: LatLon) -> domain::SiteId {
    site_with(store, name, address, at, SitePolicy::default()).await
}

async fn site_with(
    store: &Store,
    name: &str,
    address: &str,
    at: LatLon,
    policy: SitePolicy,
) -> domain::SiteId {
    store
        .create_site(&NewSite {
            name: name.into(),
            address: address.into(),
            position: at,
            timezone: "Asia/Shanghai".into(),
            policy,
        })
        .await
        .unwrap()
}

async fn pile(
    store: &Store,
    site: domain::SiteId,
    code: &str,
    connector: ConnectorType,
    kw: f64,
) -> PileId {
    pile_hb(store, site, code, connector, kw, 60).await
}

async fn pile_hb(
    store: &Store,
    site: domain::SiteId,
    code: &str,
    connector: ConnectorType,
    kw: f64,
    heartbeat_secs: i64,
) -> PileId {
    store
        .create_pile(&NewPile {
            site,
            code: code.into(),
            connector,
            max_kw: kw,
            price_text: "1.2 CNY/kWh".into(),
            heartbeat_secs,
            sensor: "magnetometer".into(),
        })
        .await
        .unwrap()
}

/// One site with one CCS2 120 kW pile at `at`.
async fn pile_at(store: &Store, code: &str, at: LatLon) -> PileId {
    let site = site_at(store, &format!("Site {code}"), "Somewhere Rd", at).await;
    pile(store, site, code, ConnectorType::Ccs2, 120.0).await
}

fn report(pile: PileId, seq: i64, bay: BayReading, state: PileState, at: i64) -> IncomingReport {
    IncomingReport {
        pile,
        report: Report {
            seq,
            bay,
            pile: state,
            battery: None,
            quality: None,
        },
        received_at: Millis(at),
        from: "127.0.0.1:40000".into(),
    }
}

/// Makes `piles` idle at `now` with a fresh `free`/`available` report.
async fn make_idle(store: &Store, piles: &[PileId], now: i64) {
    let batch: Vec<_> = piles
        .iter()
        .map(|p| report(*p, 1, BayReading::Free, PileState::Available, now - 1000))
        .collect();
    store.apply_reports(&batch, 10_000).await.unwrap();
}

fn bbox(south: f64, west: f64, north: f64, east: f64) -> SearchQuery {
    SearchQuery {
        area: Area::BBox {
            south,
            west,
            north,
            east,
        },
        per_page: 100,
        ..SearchQuery::default()
    }
}

fn radius(center: LatLon, km: f64) -> SearchQuery {
    SearchQuery {
        area: Area::Radius { center, km },
        per_page: 100,
        ..SearchQuery::default()
    }
}

async fn search(store: &Store, q: &SearchQuery, now: i64) -> SearchPage {
    q.validate().unwrap();
    store.search_piles(q, Millis(now)).await.unwrap()
}

fn codes(page: &SearchPage) -> Vec<&str> {
    page.items.iter().map(|h| h.pile.code.as_str()).collect()
}

async fn bbox_includes_and_excludes(store: Store) {
    let now = store::now().0;
    pile_at(&store, "IN-CENTRE", ll(LAT0, LON0)).await;
    pile_at(&store, "IN-CORNER", ll(22.59, 114.11)).await;
    // Exactly on the edges: a box is closed.
    pile_at(&store, "IN-EDGE", ll(22.50, 114.00)).await;
    pile_at(&store, "OUT-NORTH", ll(22.61, LON0)).await;
    pile_at(&store, "OUT-EAST", ll(LAT0, 114.13)).await;
    pile_at(&store, "OUT-FAR", ll(39.9, 116.4)).await;
    let page = search(&store, &bbox(22.50, 114.00, 22.60, 114.12), now).await;
    let mut got = codes(&page);
    got.sort_unstable();
    assert_eq!(got, vec!["IN-CENTRE", "IN-CORNER", "IN-EDGE"]);
    assert_eq!(page.total, 3);
    // Distances are great-circle distances from the box centre.
    let centre = ll(22.55, 114.06);
    for h in &page.items {
        let d = h.distance_km.unwrap();
        assert!((d - centre.distance_km(ll(h.pile.lat, h.pile.lon))).abs() < 1e-9);
    }
    // An empty area.
    let page = search(&store, &bbox(0.0, 0.0, 1.0, 1.0), now).await;
    assert!(page.items.is_empty());
    assert_eq!(page.total, 0);
    // Anywhere: everything, by code when there is no origin.
    let page = search(
        &store,
        &SearchQuery {
            per_page: 100,
            ..SearchQuery::default()
        },
        now,
    )
    .await;
    assert_eq!(page.total, 6);
    assert_eq!(
        codes(&page),
        vec![
            "IN-CENTRE",
            "IN-CORNER",
            "IN-EDGE",
            "OUT-EAST",
            "OUT-FAR",
            "OUT-NORTH"
        ]
    );
    assert!(page.items.iter().all(|h| h.distance_km.is_none()));
}

async fn bbox_across_the_antimeridian(store: Store) {
    let now = store::now().0;
    pile_at(&store, "FIJI-E", ll(-17.8, 179.9)).await;
    pile_at(&store, "FIJI-W", ll(-17.8, -179.8)).await;
    pile_at(&store, "GREENWICH", ll(-17.8, 0.0)).await;
    // 179.5E .. 179.5W, centred on the antimeridian: the eastern one (0.1° away) comes first.
    let page = search(&store, &bbox(-18.0, 179.5, -17.5, -179.5), now).await;
    assert_eq!(codes(&page), vec!["FIJI-E", "FIJI-W"]);
    let d = page.items[1].distance_km.unwrap();
    assert!(d < 25.0, "the short way round: {d}");
    // A circle across the antimeridian, measured the short way round.
    let page = search(&store, &radius(ll(-17.8, 179.95), 30.0), now).await;
    assert_eq!(codes(&page), vec!["FIJI-E", "FIJI-W"]);
    let d = page.items[1].distance_km.unwrap();
    assert!(d > 25.0 && d < 30.0, "{d}");
    let page = search(&store, &radius(ll(-17.8, 179.95), 20.0), now).await;
    assert_eq!(codes(&page), vec!["FIJI-E"]);
}

async fn radius_is_exact(store: Store) {
    let now = store::now().0;
    let c = ll(LAT0, LON0);
    // Due north, the great-circle distance is exactly Δlat in degrees × km per degree.
    let north = |km: f64| ll(LAT0 + km / KM_PER_DEG, LON0);
    pile_at(&store, "N-9.9", north(9.9)).await;
    pile_at(&store, "N-9.999", north(9.999)).await;
    pile_at(&store, "N-10.001", north(10.001)).await;
    pile_at(&store, "N-12", north(12.0)).await;
    // In the corner of the circle's bounding box, but 13 km away.
    let dlon = 9.2 / (KM_PER_DEG * LAT0.to_radians().cos());
    pile_at(&store, "CORNER", ll(LAT0 + 9.2 / KM_PER_DEG, LON0 + dlon)).await;
    pile_at(&store, "CENTRE", c).await;
    let page = search(&store, &radius(c, 10.0), now).await;
    assert_eq!(codes(&page), vec!["CENTRE", "N-9.9", "N-9.999"]);
    assert_eq!(page.total, 3);
    for h in &page.items {
        assert!(h.distance_km.unwrap() <= 10.0);
    }
    assert!((page.items[2].distance_km.unwrap() - 9.999).abs() < 1e-6);
    let corner = store
        .list_piles()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.code == "CORNER")
        .unwrap();
    assert!(c.distance_km(ll(corner.lat, corner.lon)) > 12.0);
    // A larger circle takes them all in.
    let page = search(&store, &radius(c, 14.0), now).await;
    assert_eq!(page.total, 6);
}

/// A grid of sites over a large high-latitude circle (where the approximation is worst),
/// checked against a brute-force haversine over every pile.
async fn radius_matches_brute_force(store: Store) {
    let now = store::now().0;
    let c = ll(60.0, 10.0);
    let km = 300.0;
    let mut n = 0;
    for i in -7..=7 {
        for j in -12..=12 {
            let at = ll(60.0 + f64::from(i) * 0.4, 10.0 + f64::from(j) * 0.45);
            pile_at(&store, &format!("G{i:+}{j:+}"), at).await;
            n += 1;
        }
    }
    let all = store.list_piles().await.unwrap();
    assert_eq!(all.len(), n);
    let mut expect: Vec<(f64, String)> = all
        .iter()
        .map(|p| (c.distance_km(ll(p.lat, p.lon)), p.code.clone()))
        .filter(|(d, _)| *d <= km)
        .collect();
    expect.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    assert!(expect.len() > 100 && expect.len() < n, "{}", expect.len());
    let mut got = Vec::new();
    for page in 0.. {
        let mut q = radius(c, km);
        q.per_page = 50;
        q.page = page;
        let p = search(&store, &q, now).await;
        assert_eq!(p.total, expect.len() as u64);
        if p.items.is_empty() {
            break;
        }
        got.extend(p.items.into_iter().map(|h| h.pile.code));
    }
    let mut got_sorted = got.clone();
    got_sorted.sort_unstable();
    let mut want: Vec<String> = expect.iter().map(|e| e.1.clone()).collect();
    want.sort_unstable();
    assert_eq!(got_sorted, want, "the same set");
    // The order follows the exact distances except between near-ties (the approximation
    // is good to well under 1 %).
    let dist: std::collections::HashMap<&str, f64> =
        expect.iter().map(|(d, code)| (code.as_str(), *d)).collect();
    for w in got.windows(2) {
        let (a, b) = (dist[w[0].as_str()], dist[w[1].as_str()]);
        assert!(a <= b * 1.01, "{} {a} before {} {b}", w[0], w[1]);
    }
}

async fn sorted_by_distance_then_code(store: Store) {
    let now = store::now().0;
    let near = site_at(&store, "Near", "1 Near St", ll(LAT0 + 0.01, LON0)).await;
    for code in ["NEAR-B", "NEAR-A", "NEAR-C"] {
        pile(&store, near, code, ConnectorType::Type2, 7.0).await;
    }
    pile_at(&store, "MID", ll(LAT0, LON0 - 0.03)).await;
    pile_at(&store, "FAR", ll(LAT0 - 0.05, LON0 + 0.02)).await;
    pile_at(&store, "FURTHEST", ll(LAT0 + 0.09, LON0 + 0.09)).await;
    let mut q = bbox(LAT0 - 0.1, LON0 - 0.1, LAT0 + 0.1, LON0 + 0.1);
    q.origin = Some(ll(LAT0, LON0));
    let page = search(&store, &q, now).await;
    assert_eq!(
        codes(&page),
        vec!["NEAR-A", "NEAR-B", "NEAR-C", "MID", "FAR", "FURTHEST"]
    );
    let d: Vec<f64> = page.items.iter().map(|h| h.distance_km.unwrap()).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
    // Another origin, another order.
    q.origin = Some(ll(LAT0 + 0.09, LON0 + 0.09));
    let page = search(&store, &q, now).await;
    assert_eq!(codes(&page)[0], "FURTHEST");
    assert!(page.items[0].distance_km.unwrap() < 1e-9);
    // Anywhere, with an origin: the whole fleet by distance.
    let page = search(
        &store,
        &SearchQuery {
            origin: Some(ll(LAT0 - 0.05, LON0 + 0.02)),
            per_page: 100,
            ..SearchQuery::default()
        },
        now,
    )
    .await;
    assert_eq!(codes(&page)[0], "FAR");
    assert_eq!(page.total, 6);
}

async fn connector_and_power_filters(store: Store) {
    let now = store::now().0;
    let s = site_at(&store, "Hub", "2 Hub Rd", ll(LAT0, LON0)).await;
    pile(&store, s, "CCS-60", ConnectorType::Ccs2, 60.0).await;
    pile(&store, s, "CCS-120", ConnectorType::Ccs2, 120.0).await;
    pile(&store, s, "T2-7", ConnectorType::Type2, 7.0).await;
    pile(&store, s, "GBT-120", ConnectorType::GbT, 120.0).await;
    pile(&store, s, "CHA-50", ConnectorType::Chademo, 50.0).await;
    let area = bbox(LAT0 - 0.1, LON0 - 0.1, LAT0 + 0.1, LON0 + 0.1);
    let q = SearchQuery {
        connector: Some(ConnectorType::Ccs2),
        ..area.clone()
    };
    assert_eq!(
        codes(&search(&store, &q, now).await),
        vec!["CCS-120", "CCS-60"]
    );
    let q = SearchQuery {
        min_kw: Some(60.0),
        ..area.clone()
    };
    let page = search(&store, &q, now).await;
    assert_eq!(codes(&page), vec!["CCS-120", "CCS-60", "GBT-120"]);
    assert_eq!(page.total, 3);
    let q = SearchQuery {
        min_kw: Some(100.0),
        connector: Some(ConnectorType::GbT),
        ..area.clone()
    };
    assert_eq!(codes(&search(&store, &q, now).await), vec!["GBT-120"]);
    let q = SearchQuery {
        min_kw: Some(500.0),
        ..area
    };
    assert_eq!(search(&store, &q, now).await.total, 0);
}

/// Every state a pile can be in, and the rule's verdict on each, side by side with search.
async fn idle_only_matches_the_rule(store: Store) {
    let now = store::now().0;
    let s = site_at(&store, "States", "3 State St", ll(LAT0, LON0)).await;
    let mk = |code: &'static str| {
        let store = store.clone();
        async move { pile(&store, s, code, ConnectorType::Ccs2, 60.0).await }
    };
    let idle = mk("IDLE").await;
    let _never = mk("NEVER-HEARD").await;
    let blocked = mk("BLOCKED").await;
    let charging = mk("CHARGING").await;
    let faulted = mk("FAULTED").await;
    let stale = mk("STALE").await;
    let offline = mk("OFFLINE").await;
    let flapping = mk("FLAPPING").await;
    let held = mk("HELD").await;
    let edge = mk("FRESH-EDGE").await;
    let past_edge = mk("PAST-EDGE").await;
    let settled = mk("SETTLED").await;
    // A pile with a 20 s heartbeat: freshness 70 s (offline after 100 s).
    let quick = pile_hb(&store, s, "QUICK-HB", ConnectorType::Ccs2, 60.0, 20).await;
    // A site whose policy shortens freshness to 40 s.
    let strict = site_with(
        &store,
        "Strict",
        "4 Strict St",
        ll(LAT0 + 0.001, LON0),
        SitePolicy {
            freshness_secs: Some(40),
            ..SitePolicy::default()
        },
    )
    .await;
    let strict_stale = pile(&store, strict, "STRICT-STALE", ConnectorType::Ccs2, 60.0).await;
    let strict_idle = pile(&store, strict, "STRICT-IDLE", ConnectorType::Ccs2, 60.0).await;

    let free = |p, seq, at| report(p, seq, BayReading::Free, PileState::Available, at);
    let batch = vec![
        free(idle, 1, now - 5_000),
        report(
            blocked,
            1,
            BayReading::Occupied,
            PileState::Available,
            now - 5_000,
        ),
        report(
            charging,
            1,
            BayReading::Occupied,
            PileState::Charging,
            now - 5_000,
        ),
        report(
            faulted,
            1,
            BayReading::Free,
            PileState::Faulted,
            now - 5_000,
        ),
        // 200 s ago: older than the 150 s freshness, younger than the 300 s offline limit.
        free(stale, 1, now - 200_000),
        free(offline, 1, now - 400_000),
        // Quick flips: the third makes the bay flap (the last reading says free).
        report(
            flapping,
            1,
            BayReading::Occupied,
            PileState::Available,
            now - 4_000,
        ),
        free(flapping, 2, now - 3_000),
        report(
            flapping,
            3,
            BayReading::Occupied,
            PileState::Available,
            now - 2_000,
        ),
        free(flapping, 4, now - 1_000),
        free(held, 1, now - 5_000),
        // Exactly at the freshness limit: still fresh; one millisecond later: stale.
        free(edge, 1, now - 150_000),
        free(past_edge, 1, now - 150_001),
        // Flips far apart never flap.
        report(
            settled,
            1,
            BayReading::Occupied,
            PileState::Available,
            now - 100_000,
        ),
        free(settled, 2, now - 50_000),
        free(quick, 1, now - 80_000),
        free(strict_stale, 1, now - 45_000),
        free(strict_idle, 1, now - 35_000),
    ];
    store.apply_reports(&batch, 10_000).await.unwrap();
    let user = store
        .create_user("driver@example.com", "Driver", "pw", Role::Driver)
        .await
        .unwrap();
    store.reserve(user, held, Millis(now)).await.unwrap();

    let area = bbox(LAT0 - 0.1, LON0 - 0.1, LAT0 + 0.1, LON0 + 0.1);
    let all = search(&store, &area, now).await;
    assert_eq!(all.total, 15);
    let q = SearchQuery {
        idle_only: true,
        ..area
    };
    let idle_page = search(&store, &q, now).await;
    let mut got = codes(&idle_page);
    got.sort_unstable();
    assert_eq!(got, vec!["FRESH-EDGE", "IDLE", "SETTLED", "STRICT-IDLE"]);
    assert_eq!(idle_page.total, 4);
    // Page by page, the SQL alone decides the total: it must agree with the rule too.
    let mut one_by_one = Vec::new();
    for page in 0..6 {
        let p = search(
            &store,
            &SearchQuery {
                page,
                per_page: 1,
                ..q.clone()
            },
            now,
        )
        .await;
        assert_eq!(p.total, 4, "page {page}");
        one_by_one.extend(p.items.into_iter().map(|h| h.pile.code));
    }
    one_by_one.sort_unstable();
    assert_eq!(one_by_one, got);
    // The rule, pile by pile: returned ⇔ idle.
    let returned: Vec<PileId> = idle_page.items.iter().map(|h| h.pile.id).collect();
    for h in &all.items {
        let a = h.pile.availability(Millis(now));
        assert_eq!(
            a.is_idle(),
            returned.contains(&h.pile.id),
            "{} is {a:?}",
            h.pile.code
        );
    }
    let reason = |code: &str| {
        all.items
            .iter()
            .find(|h| h.pile.code == code)
            .unwrap()
            .pile
            .availability(Millis(now))
    };
    assert_eq!(reason("NEVER-HEARD"), Availability::Busy(Reason::Offline));
    assert_eq!(reason("BLOCKED"), Availability::Busy(Reason::Blocked));
    assert_eq!(reason("CHARGING"), Availability::Busy(Reason::Charging));
    assert_eq!(reason("FAULTED"), Availability::Busy(Reason::Faulted));
    assert_eq!(reason("STALE"), Availability::Busy(Reason::Stale));
    assert_eq!(reason("OFFLINE"), Availability::Busy(Reason::Offline));
    assert_eq!(reason("FLAPPING"), Availability::Busy(Reason::Stale));
    assert_eq!(reason("HELD"), Availability::Busy(Reason::Reserved));
    assert_eq!(reason("PAST-EDGE"), Availability::Busy(Reason::Stale));
    assert_eq!(reason("QUICK-HB"), Availability::Busy(Reason::Stale));
    assert_eq!(reason("STRICT-STALE"), Availability::Busy(Reason::Stale));

    // Time moves on: at now + 1 ms the edge pile is stale too, and search agrees.
    let later = search(&store, &q, now + 1).await;
    let mut got = codes(&later);
    got.sort_unstable();
    assert_eq!(got, vec!["IDLE", "SETTLED", "STRICT-IDLE"]);
    // Ending the hold makes the held pile findable again.
    let hold = store.hold_on_pile(held).await.unwrap().unwrap();
    store
        .end_hold(
            hold.id,
            Some(user),
            domain::Outcome::Cancelled,
            "test",
            Millis(now),
        )
        .await
        .unwrap();
    let page = search(&store, &q, now).await;
    assert!(codes(&page).contains(&"HELD"));
}

async fn text_search(store: Store) {
    let now = store::now().0;
    let a = site_at(
        &store,
        "Futian Civic Car Park",
        "1 Fuzhong Rd",
        ll(LAT0, LON0),
    )
    .await;
    let b = site_at(
        &store,
        "Coastal City Mall",
        "33 Wenxin 5th Rd",
        ll(LAT0, LON0 - 0.1),
    )
    .await;
    let c = site_at(
        &store,
        "100% Green Depot",
        "Futian Bonded Zone",
        ll(LAT0 + 0.1, LON0),
    )
    .await;
    let d = site_at(&store, "深圳湾停车场", "滨海大道", ll(LAT0 - 0.05, LON0)).await;
    pile(&store, a, "A-1", ConnectorType::Ccs2, 60.0).await;
    pile(&store, b, "B-1", ConnectorType::Ccs2, 60.0).await;
    pile(&store, c, "C-1", ConnectorType::Ccs2, 60.0).await;
    pile(&store, d, "D-1", ConnectorType::Ccs2, 60.0).await;
    let q = |text: &str| SearchQuery {
        text: Some(text.into()),
        per_page: 100,
        ..SearchQuery::default()
    };
    let sorted = |p: SearchPage| {
        let mut v: Vec<String> = p.items.into_iter().map(|h| h.pile.code).collect();
        v.sort_unstable();
        v
    };
    // Name or address, any case.
    assert_eq!(
        sorted(search(&store, &q("fUTIAN"), now).await),
        vec!["A-1", "C-1"]
    );
    assert_eq!(sorted(search(&store, &q("wenxin"), now).await), vec!["B-1"]);
    assert_eq!(sorted(search(&store, &q("MALL"), now).await), vec!["B-1"]);
    // Wildcards are literal.
    assert_eq!(sorted(search(&store, &q("100%"), now).await), vec!["C-1"]);
    assert!(search(&store, &q("%"), now).await.items.len() == 1);
    assert!(search(&store, &q("_"), now).await.items.is_empty());
    // Non-Latin text.
    assert_eq!(sorted(search(&store, &q("深圳湾"), now).await), vec!["D-1"]);
    assert_eq!(sorted(search(&store, &q("大道"), now).await), vec!["D-1"]);
    // Blank text is no filter; unknown text finds nothing.
    assert_eq!(search(&store, &q("   "), now).await.total, 4);
    assert_eq!(search(&store, &q("nowhere"), now).await.total, 0);
    // Combined with an area.
    let mut in_area = bbox(LAT0 - 0.01, LON0 - 0.01, LAT0 + 0.01, LON0 + 0.01);
    in_area.text = Some("futian".into());
    assert_eq!(sorted(search(&store, &in_area, now).await), vec!["A-1"]);
}

async fn pagination_and_total(store: Store) {
    let now = store::now().0;
    let mut ids = Vec::new();
    for i in 0..23 {
        // Each a little further north.
        ids.push(
            pile_at(
                &store,
                &format!("P{i:02}"),
                ll(LAT0 + f64::from(i) * 0.001, LON0),
            )
            .await,
        );
    }
    // Every third pile idle.
    let idle: Vec<PileId> = ids.iter().copied().step_by(3).collect();
    make_idle(&store, &idle, now).await;
    let mut q = radius(ll(LAT0, LON0), 50.0);
    q.per_page = 10;
    let mut seen = Vec::new();
    for (page, len) in [(0, 10), (1, 10), (2, 3), (3, 0), (1000, 0)] {
        q.page = page;
        let p = search(&store, &q, now).await;
        assert_eq!(p.items.len(), len, "page {page}");
        assert_eq!(p.total, 23, "page {page}");
        assert_eq!((p.page, p.per_page), (page, 10));
        seen.extend(p.items.into_iter().map(|h| h.pile.code));
    }
    let want: Vec<String> = (0..23).map(|i| format!("P{i:02}")).collect();
    assert_eq!(seen, want, "nearest first, no gaps, no repeats");
    // Idle only: 8 idle piles, pages of 3.
    q.idle_only = true;
    q.per_page = 3;
    let mut seen = Vec::new();
    for page in 0..4 {
        q.page = page;
        let p = search(&store, &q, now).await;
        assert_eq!(p.total, 8);
        seen.extend(p.items.into_iter().map(|h| h.pile.id));
    }
    assert_eq!(seen, idle);
    // Past the end of a bounding-box search too.
    let mut q = bbox(LAT0 - 1.0, LON0 - 1.0, LAT0 + 1.0, LON0 + 1.0);
    q.per_page = 5;
    q.page = 7;
    let p = search(&store, &q, now).await;
    assert!(p.items.is_empty());
    assert_eq!(p.total, 23);
}

async fn nearest_idle_with_connector_and_exclude(store: Store) {
    let now = store::now().0;
    let me = ll(LAT0, LON0);
    let near = site_at(&store, "Near", "1 Near Rd", ll(LAT0 + 0.002, LON0)).await;
    let near_t2 = pile(&store, near, "NEAR-T2", ConnectorType::Type2, 7.0).await;
    let near_busy = pile(&store, near, "NEAR-BUSY", ConnectorType::Ccs2, 60.0).await;
    let mid_ccs = pile_at(&store, "MID-CCS", ll(LAT0 + 0.03, LON0)).await;
    let far_ccs = pile_at(&store, "FAR-CCS", ll(LAT0 + 0.3, LON0)).await;
    // 700 km away: beyond every ring, found by the search everywhere.
    let remote = site_at(&store, "Remote", "9 Far Rd", ll(LAT0 + 6.3, LON0)).await;
    let remote_gbt = pile(&store, remote, "REMOTE-GBT", ConnectorType::GbT, 60.0).await;
    make_idle(&store, &[near_t2, mid_ccs, far_ccs, remote_gbt], now).await;
    store
        .apply_reports(
            &[report(
                near_busy,
                1,
                BayReading::Occupied,
                PileState::Available,
                now - 1000,
            )],
            10_000,
        )
        .await
        .unwrap();
    let nearest = |connector, exclude| {
        let store = store.clone();
        async move {
            store
                .nearest_idle(me, connector, exclude, Millis(now))
                .await
                .unwrap()
                .map(|h| (h.pile.code, h.distance_km.unwrap()))
        }
    };
    let (code, d) = nearest(None, None).await.unwrap();
    assert_eq!(code, "NEAR-T2");
    assert!((d - 0.002 * KM_PER_DEG).abs() < 1e-6, "{d}");
    assert_eq!(
        nearest(Some(ConnectorType::Ccs2), None).await.unwrap().0,
        "MID-CCS"
    );
    assert_eq!(
        nearest(Some(ConnectorType::Ccs2), Some(mid_ccs))
            .await
            .unwrap()
            .0,
        "FAR-CCS"
    );
    assert_eq!(nearest(None, Some(near_t2)).await.unwrap().0, "MID-CCS");
    let (code, d) = nearest(Some(ConnectorType::GbT), None).await.unwrap();
    assert_eq!(code, "REMOTE-GBT");
    assert!(d > 690.0 && d < 710.0, "{d}");
    assert_eq!(nearest(Some(ConnectorType::Chademo), None).await, None);
    // A hold takes a pile out.
    let user: UserId = store
        .create_user("d@example.com", "D", "pw", Role::Driver)
        .await
        .unwrap();
    store.reserve(user, near_t2, Millis(now)).await.unwrap();
    assert_eq!(nearest(None, None).await.unwrap().0, "MID-CCS");
    assert_eq!(
        nearest(Some(ConnectorType::GbT), Some(remote_gbt)).await,
        None
    );
}

backend_tests! {
    bbox_in_out => bbox_includes_and_excludes;
    bbox_antimeridian => bbox_across_the_antimeridian;
    radius_exact => radius_is_exact;
    radius_brute_force => radius_matches_brute_force;
    sort_order => sorted_by_distance_then_code;
    filters => connector_and_power_filters;
    idle_only => idle_only_matches_the_rule;
    text => text_search;
    pages => pagination_and_total;
    nearest => nearest_idle_with_connector_and_exclude;
}

/// A disabled pile or site is never idle. The store has no API to disable one yet, so this
/// test sets the flags with SQL on both backends.
async fn disabled_is_never_idle(db: &store::testing::TestDb) {
    use sqlx::Connection;
    let store = &db.store;
    let now = store::now().0;
    let a = pile_at(store, "PILE-OFF", ll(LAT0, LON0)).await;
    let b = pile_at(store, "SITE-OFF", ll(LAT0, LON0 + 0.01)).await;
    let c = pile_at(store, "ON", ll(LAT0, LON0 + 0.02)).await;
    make_idle(store, &[a, b, c], now).await;
    let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE piles SET enabled = 0 WHERE id = $1")
        .bind(a.0)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE sites SET enabled = 0 WHERE id = (SELECT site_id FROM piles WHERE id = $1)",
    )
    .bind(b.0)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let mut q = bbox(LAT0 - 0.1, LON0 - 0.1, LAT0 + 0.1, LON0 + 0.1);
    assert_eq!(search(store, &q, now).await.total, 3);
    q.idle_only = true;
    assert_eq!(codes(&search(store, &q, now).await), vec!["ON"]);
    for p in [a, b] {
        assert_eq!(
            store.pile(p).await.unwrap().availability(Millis(now)),
            Availability::Busy(Reason::Disabled)
        );
    }
    assert_eq!(
        store
            .nearest_idle(ll(LAT0, LON0), None, None, Millis(now))
            .await
            .unwrap()
            .map(|h| h.pile.code),
        Some("ON".into())
    );
}

mod disabled {
    #[tokio::test]
    async fn sqlite() {
        let db = store::testing::TestDb::sqlite()
            .await
            .expect("sqlite test db");
        super::disabled_is_never_idle(&db).await;
        db.drop_db().await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some(db) = store::testing::TestDb::postgres()
            .await
            .expect("postgres test db")
        else {
            return;
        };
        super::disabled_is_never_idle(&db).await;
        db.drop_db().await;
    }
}

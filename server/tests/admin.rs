//! The operator admin pages and their server functions over real HTTP: every admin server
//! function and route refuses anonymous callers (401 / redirect to sign-in) and drivers
//! (403) and changes nothing for them; a demoted admin loses access at once; an admin's
//! actions work and are written to the audit log; the analytics CSV export.
#![allow(clippy::unwrap_used)]

use clap::Parser;
use domain::{geo::LatLon, ConnectorType, PileId, SiteId};
use reqwest::{header, redirect::Policy, Client, StatusCode};
use serde_json::{json, Value};
use server::{cli::Cli, startup::Application};
use store::{
    piles::NewPile,
    sites::{NewSite, SitePolicy},
    testing::TestDb,
    users::Role,
};

mod serial;

struct App {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    base: String,
    db: TestDb,
    svc: service::Chargebay,
}

const PASSWORD: &str = "correct horse battery";

async fn spawn() -> App {
    let serial = serial::SERIAL.lock().await;
    let db = TestDb::sqlite().await.unwrap();
    let cli = Cli::parse_from([
        "chargebay",
        "--http-addr",
        "127.0.0.1:0",
        "--coap-addr",
        "127.0.0.1:0",
        "--database-url",
        &db.url,
        "--log-level",
        "error",
    ]);
    let app = Application::build(&cli).await.unwrap();
    let base = format!("http://{}", app.http_addr());
    let svc = app.service().clone();
    tokio::spawn(app.run_until_stopped());
    App {
        _serial: serial,
        base,
        db,
        svc,
    }
}

impl App {
    fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// A client signed in as a new user with `role`.
    async fn user(&self, email: &str, role: Role) -> Client {
        self.db
            .store
            .create_user(email, "Someone", PASSWORD, role)
            .await
            .unwrap();
        let c = self.client();
        let r = c
            .post(format!("{}/api/v1/auth/signin", self.base))
            .header("Origin", &self.base)
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        c
    }

    /// Calls a server function as the page does: a same-origin form POST.
    async fn call(&self, c: &Client, endpoint: &str, form: &str) -> reqwest::Response {
        c.post(format!("{}/api/{endpoint}", self.base))
            .header("Origin", &self.base)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(form.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn page(&self, c: &Client, path: &str) -> reqwest::Response {
        c.get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
    }

    async fn site_and_pile(&self) -> (SiteId, PileId) {
        let store = &self.db.store;
        let site = store
            .create_site(&NewSite {
                name: "Depot".into(),
                address: "1 Road".into(),
                position: LatLon::new(22.5, 114.0).unwrap(),
                timezone: "Asia/Shanghai".into(),
                policy: SitePolicy::default(),
            })
            .await
            .unwrap();
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
        (site, pile)
    }
}

/// Every admin server function with arguments that would succeed for an admin.
fn admin_calls(site: SiteId, pile: PileId, user: i64) -> Vec<(&'static str, String)> {
    let (s, p) = (site.0, pile.0);
    vec![
        ("admin_sites", String::new()),
        ("admin_site", format!("id={s}")),
        ("admin_site_names", String::new()),
        (
            "admin_save_site",
            "id=0&name=Evil&address=X&lat=1&lon=2&timezone=UTC&hold_secs=&grace_secs=&freshness_secs=".into(),
        ),
        ("admin_set_site_enabled", format!("id={s}&enabled=false")),
        ("admin_piles", String::new()),
        ("admin_pile", format!("id={p}")),
        (
            "admin_save_pile",
            format!("id=0&site={s}&code=EVIL-1&connector=CCS2&max_kw=50&price_text=&heartbeat_secs=&sensor="),
        ),
        ("admin_set_pile_enabled", format!("id={p}&enabled=false")),
        ("admin_issue_credential", format!("pile={p}")),
        ("admin_revoke_credential", format!("pile={p}")),
        ("admin_import", "csv=site%2Ccode%0AEvil%2CEVIL-2&dry_run=false".into()),
        ("admin_health", String::new()),
        ("admin_reservations", String::new()),
        ("admin_cancel_reservation", "id=1&reason=because".into()),
        ("admin_users", String::new()),
        ("admin_set_role", format!("id={user}&admin=true")),
        ("admin_set_user_disabled", format!("id={user}&disabled=true")),
        ("admin_analytics", format!("site={s}")),
        ("admin_audit", String::new()),
    ]
}

const PAGES: [&str; 13] = [
    "/admin",
    "/admin/sites",
    "/admin/sites/new",
    "/admin/sites/1",
    "/admin/piles",
    "/admin/piles/new",
    "/admin/piles/1",
    "/admin/import",
    "/admin/health",
    "/admin/reservations",
    "/admin/users",
    "/admin/analytics",
    "/admin/audit",
];

#[tokio::test]
async fn anonymous_and_drivers_are_refused_everywhere_and_change_nothing() {
    let app = spawn().await;
    let (site, pile) = app.site_and_pile().await;
    let anonymous = app.client();
    let driver = app.user("driver@example.com", Role::Driver).await;
    let me: Value = driver
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let driver_id = me["id"].as_i64().unwrap();

    for (endpoint, form) in admin_calls(site, pile, driver_id) {
        let r = app.call(&anonymous, endpoint, &form).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "anonymous {endpoint}");
        let r = app.call(&driver, endpoint, &form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "driver {endpoint}");
    }
    // Nothing changed.
    let store = &app.db.store;
    assert_eq!(store.list_sites().await.unwrap().len(), 1);
    let piles = store.list_piles().await.unwrap();
    assert_eq!(piles.len(), 1);
    assert!(piles[0].enabled);
    assert!(store.credential_info(pile).await.is_err());
    let d = store.user(domain::UserId(driver_id)).await.unwrap();
    assert_eq!((d.role, d.disabled), (Role::Driver, false));
    assert!(store.audit_log(None, 10).await.unwrap().is_empty());

    for path in PAGES {
        let r = app.page(&anonymous, path).await;
        assert_eq!(r.status(), StatusCode::FOUND, "anonymous {path}");
        assert_eq!(
            r.headers()[header::LOCATION],
            format!("/signin?next={path}").as_str(),
            "{path}"
        );
        let r = app.page(&driver, path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "driver {path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("admin-forbidden"), "{path}");
        assert!(!html.contains("data-testid=\"admin\""), "{path}");
    }
    // The CSV export.
    let csv = format!("/api/admin/analytics.csv?site={}", site.0);
    assert_eq!(
        app.page(&anonymous, &csv).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.page(&driver, &csv).await.status(),
        StatusCode::FORBIDDEN
    );

    // The gate says why, without failing.
    let gate: Value = app
        .call(&anonymous, "admin_gate", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gate, json!("SignIn"));
    let gate: Value = app
        .call(&driver, "admin_gate", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gate, json!("Forbidden"));
}

#[tokio::test]
async fn admins_get_every_page_and_a_demoted_admin_loses_access_at_once() {
    let app = spawn().await;
    let (site, pile) = app.site_and_pile().await;
    let admin = app.user("boss@example.com", Role::Admin).await;
    for path in PAGES {
        let r = app.page(&admin, path).await;
        assert_eq!(r.status(), StatusCode::OK, "admin {path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("data-testid=\"admin\""), "{path}");
    }
    let html = app
        .page(&admin, &format!("/admin/piles/{}", pile.0))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("D-1 · Depot"), "pile page is server-rendered");
    let r = app.call(&admin, "admin_sites", "").await;
    assert_eq!(r.status(), StatusCode::OK);
    let sites: Value = r.json().await.unwrap();
    assert_eq!(sites[0]["name"], "Depot");
    assert_eq!(sites[0]["piles"], 1);

    // Another admin demotes this one: the session still says admin, the database does not.
    let boss_id = app.db.store.search_users("boss@", 10).await.unwrap()[0]
        .user
        .id;
    app.db
        .store
        .admin_set_role(
            boss_id,
            Role::Driver,
            &store::admin::AuditEntry::new(boss_id, "user_demoted", format!("user:{}", boss_id.0)),
        )
        .await
        .unwrap();
    let r = app.call(&admin, "admin_sites", "").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.page(&admin, "/admin").await.status(),
        StatusCode::FORBIDDEN
    );
    let _ = site;
}

#[tokio::test]
async fn admin_actions_work_and_are_audited() {
    let app = spawn().await;
    let (site, pile) = app.site_and_pile().await;
    let admin = app.user("boss@example.com", Role::Admin).await;

    // Create a site: invalid fields come back by name, then a valid one is saved.
    let r: Value = app
        .call(
            &admin,
            "admin_save_site",
            "id=0&name=&address=2+Road&lat=95&lon=114&timezone=Mars%2FBase&hold_secs=&grace_secs=&freshness_secs=",
        )
        .await
        .json()
        .await
        .unwrap();
    let fields: Vec<&str> = r["Err"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["name", "lat", "timezone"]);
    let r: Value = app
        .call(
            &admin,
            "admin_save_site",
            "id=0&name=Harbour&address=2+Road&lat=22.51&lon=114.02&timezone=Asia%2FShanghai&hold_secs=600&grace_secs=60&freshness_secs=&reservations_allowed=on",
        )
        .await
        .json()
        .await
        .unwrap();
    let new_site = r["Ok"].as_i64().unwrap();
    let s = app.db.store.site(SiteId(new_site)).await.unwrap();
    assert_eq!(
        (s.policy.hold_secs, s.policy.reservations_allowed),
        (600, true)
    );

    // A pile there, with a taken code refused.
    let r: Value = app
        .call(
            &admin,
            "admin_save_pile",
            &format!("id=0&site={new_site}&code=D-1&connector=CCS2&max_kw=50&price_text=&heartbeat_secs=&sensor="),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["Err"][0], json!({"field": "code", "code": "taken"}));
    let r: Value = app
        .call(
            &admin,
            "admin_save_pile",
            &format!("id=0&site={new_site}&code=H-1&connector=Type2&max_kw=22&price_text=1+CNY&heartbeat_secs=30&sensor=radar"),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_pile = r["Ok"].as_i64().unwrap();

    // Credential: issued once with its key, then only the fingerprint.
    let key: Value = app
        .call(
            &admin,
            "admin_issue_credential",
            &format!("pile={new_pile}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(key["key"].as_str().unwrap().len(), 32);
    let detail: Value = app
        .call(&admin, "admin_pile", &format!("id={new_pile}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["credential"]["fingerprint"], key["fingerprint"]);
    assert!(!detail.to_string().contains(key["key"].as_str().unwrap()));
    assert_eq!(detail["problems"][0]["kind"], "never_heard");
    let r = app
        .call(
            &admin,
            "admin_revoke_credential",
            &format!("pile={new_pile}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Disable the first pile; health and the filtered list agree.
    let r = app
        .call(
            &admin,
            "admin_set_pile_enabled",
            &format!("id={}&enabled=false", pile.0),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = app
        .call(&admin, "admin_piles", "state=disabled")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["piles"].as_array().unwrap().len(), 1);
    assert_eq!(list["piles"][0]["code"], "D-1");

    // Import (dry run and real).
    let csv = "site%2Ccode%2Cconnector%2Cmax_kw%0AHarbour%2CH-2%2CCCS2%2C120%0AHarbour%2CH-2%2CCCS2%2C120";
    let r: Value = app
        .call(&admin, "admin_import", &format!("csv={csv}&dry_run=true"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["rows"][1]["errors"][0]["code"], "duplicate_in_file:2");
    let csv = "site%2Ccode%2Cconnector%2Cmax_kw%0AHarbour%2CH-2%2CCCS2%2C120";
    let r: Value = app
        .call(&admin, "admin_import", &format!("csv={csv}&dry_run=false"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["committed"], true);

    // Users: promote a driver, refuse to demote oneself.
    app.db
        .store
        .create_user("d@example.com", "D", PASSWORD, Role::Driver)
        .await
        .unwrap();
    let users: Value = app
        .call(&admin, "admin_users", "q=d%40example")
        .await
        .json()
        .await
        .unwrap();
    let d = users[0]["id"].as_i64().unwrap();
    let r = app
        .call(&admin, "admin_set_role", &format!("id={d}&admin=true"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let me = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["is_me"] == true)
        .map(|u| u["id"].as_i64().unwrap());
    assert!(me.is_none(), "search filtered to the driver");
    let all: Value = app
        .call(&admin, "admin_users", "")
        .await
        .json()
        .await
        .unwrap();
    let me = all
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["is_me"] == true)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .call(&admin, "admin_set_role", &format!("id={me}&admin=false"))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Analytics and its CSV.
    let a: Value = app
        .call(&admin, "admin_analytics", &format!("site={}", site.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["buckets"].as_array().unwrap().len(), 24);
    let r = app
        .page(&admin, &format!("/api/admin/analytics.csv?site={}", site.0))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = r.text().await.unwrap();
    assert!(body.starts_with("kind,name,from,to,utilisation"), "{body}");
    assert!(body.contains("\npile,D-1,"), "{body}");

    // Every action is in the audit log, by this admin, newest first.
    let log: Value = app
        .call(&admin, "admin_audit", "")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "user_promoted",
            "fleet_imported",
            "pile_disabled",
            "credential_revoked",
            "credential_issued",
            "pile_created",
            "site_created"
        ]
    );
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["admin"] == "boss@example.com" && a["at"].as_i64().unwrap() > 0));
}

#[tokio::test]
async fn admin_cancels_a_drivers_hold_with_a_reason() {
    use domain::{report::BayReading, PileState, Report};
    let app = spawn().await;
    let (_, pile) = app.site_and_pile().await;
    app.svc
        .record_reports(&[store::reports::IncomingReport {
            pile,
            report: Report {
                seq: 1,
                bay: BayReading::Free,
                pile: PileState::Available,
                battery: None,
                quality: None,
            },
            received_at: store::now(),
            from: "127.0.0.1:9".into(),
        }])
        .await
        .unwrap();
    let driver = app
        .db
        .store
        .create_user("d@example.com", "D", PASSWORD, Role::Driver)
        .await
        .unwrap();
    let mut live = app.svc.hub().subscribe();
    let res = app.svc.reserve(driver, pile).await.unwrap();
    let admin = app.user("boss@example.com", Role::Admin).await;

    let list: Value = app
        .call(
            &admin,
            "admin_reservations",
            "status=held&email=d%40example",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["rows"].as_array().unwrap().len(), 1);
    assert_eq!(list["rows"][0]["id"], res.id.0);
    assert_eq!(list["rows"][0]["code"], "D-1");
    let r = app
        .call(
            &admin,
            "admin_cancel_reservation",
            &format!("id={}&reason=", res.id.0),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a reason is required");
    let r = app
        .call(
            &admin,
            "admin_cancel_reservation",
            &format!("id={}&reason=bay+closed+for+works", res.id.0),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = app
        .call(&admin, "admin_reservations", "email=d%40example")
        .await
        .json()
        .await
        .unwrap();
    let row = &list["rows"][0];
    assert_eq!(row["status"], "cancelled");
    let cause = row["end_cause"].as_str().unwrap();
    assert!(
        cause.starts_with("admin:") && cause.ends_with(": bay closed for works"),
        "{cause}"
    );
    // The driver's live feed carried the cancellation.
    let mut alerted = false;
    while let Ok(e) = live.try_recv() {
        if let domain::LiveEvent::Hold { user, status, .. } = e {
            alerted |= user == driver && status.as_str() == "cancelled";
        }
    }
    assert!(alerted);
    let log = app.db.store.audit_log(None, 5).await.unwrap();
    assert_eq!(log[0].action, "reservation_cancelled");
    assert_eq!(log[0].detail["reason"], "bay closed for works");
    // Cancelling again: nothing to cancel.
    let r = app
        .call(
            &admin,
            "admin_cancel_reservation",
            &format!("id={}&reason=again", res.id.0),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

//! The REST API as an integration would use it: accounts, sessions, tokens, reservations,
//! errors, CSRF and the OpenAPI document. Real HTTP on port 0, fresh SQLite database.
#![allow(clippy::unwrap_used)]

use clap::Parser;
use domain::{geo::LatLon, report::BayReading, ConnectorType, PileId, PileState, Report};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use server::{cli::Cli, startup::Application};
use store::{
    piles::NewPile,
    reports::IncomingReport,
    sites::{NewSite, SitePolicy},
    testing::TestDb,
};

mod serial;

struct App {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    base: String,
    db: TestDb,
    svc: service::Chargebay,
}

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
        "warn",
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
        Client::builder().cookie_store(true).build().unwrap()
    }

    /// A same-origin POST, as a browser would send it.
    async fn post(&self, c: &Client, path: &str, body: Value) -> reqwest::Response {
        c.post(format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, c: &Client, path: &str) -> reqwest::Response {
        c.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    async fn signed_up(&self, email: &str) -> Client {
        let c = self.client();
        let r = self
            .post(
                &c,
                "/api/v1/auth/signup",
                json!({"email": email, "password": "correct horse battery", "name": "Driver"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        c
    }

    /// An idle pile (fresh free/available report through the service).
    async fn idle_pile(&self, code: &str) -> PileId {
        let store = &self.db.store;
        let site = store
            .create_site(&NewSite {
                name: format!("Site {code}"),
                address: "1 Test Rd".into(),
                position: LatLon::new(22.5, 114.0).unwrap(),
                timezone: "Asia/Shanghai".into(),
                policy: SitePolicy::default(),
            })
            .await
            .unwrap();
        let pile = store
            .create_pile(&NewPile {
                site,
                code: code.into(),
                connector: ConnectorType::Ccs2,
                max_kw: 60.0,
                price_text: String::new(),
                heartbeat_secs: 60,
                sensor: "radar".into(),
            })
            .await
            .unwrap();
        self.report(pile, 1, BayReading::Free).await;
        pile
    }

    async fn report(&self, pile: PileId, seq: i64, bay: BayReading) {
        let r = IncomingReport {
            pile,
            report: Report {
                seq,
                bay,
                pile: PileState::Available,
                battery: None,
                quality: None,
            },
            received_at: store::now(),
            from: "127.0.0.1:9".into(),
        };
        self.svc.record_reports(&[r]).await.unwrap();
    }
}

#[tokio::test]
async fn sign_up_sign_in_sign_out() {
    let app = spawn().await;
    let c = app.signed_up("ann@example.com").await;
    let me: Value = app.get(&c, "/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["email"], "ann@example.com");
    assert_eq!(me["role"], "driver");
    assert_eq!(
        app.post(&c, "/api/v1/auth/signout", json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&c, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let r = app
        .post(
            &c,
            "/api/v1/auth/signin",
            json!({"email": "ann@example.com", "password": "wrong password!"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "wrong email or password");
    let r = app
        .post(
            &c,
            "/api/v1/auth/signin",
            json!({"email": "ANN@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.get(&c, "/api/v1/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_up_errors_name_the_field() {
    let app = spawn().await;
    let c = app.client();
    let r = app
        .post(
            &c,
            "/api/v1/auth/signup",
            json!({"email": "not-an-email", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "email");
    let r = app
        .post(
            &c,
            "/api/v1/auth/signup",
            json!({"email": "a@example.com", "password": "short"}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "password");
    app.signed_up("taken@example.com").await;
    let r = app
        .post(
            &c,
            "/api/v1/auth/signup",
            json!({"email": "taken@example.com", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = c
        .post(format!("{}/api/v1/auth/signup", app.base))
        .header("Origin", &app.base)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "bad_request");
}

#[tokio::test]
async fn reserve_cancel_and_the_rules_around_it() {
    let app = spawn().await;
    let (p1, p2) = (app.idle_pile("A-1").await, app.idle_pile("B-1").await);
    let ann = app.signed_up("ann@example.com").await;
    let bob = app.signed_up("bob@example.com").await;

    // Anonymous callers must sign in.
    assert_eq!(
        app.post(&app.client(), "/api/v1/reservations", json!({"pile": p1.0}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let r = app
        .post(&ann, "/api/v1/reservations", json!({"pile": p1.0}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["status"], "held");
    let id = res["id"].as_i64().unwrap();
    assert_eq!(
        res["deadline"].as_i64().unwrap() - res["created_at"].as_i64().unwrap(),
        900_000
    );

    // The pile is now reserved for everyone else, and ann cannot hold a second one.
    let pile: Value = app
        .get(&bob, &format!("/api/v1/piles/{}", p1.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pile["availability"]["reason"], "reserved");
    let r = app
        .post(&bob, "/api/v1/reservations", json!({"pile": p1.0}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("reserved"));
    assert_eq!(
        app.post(&ann, "/api/v1/reservations", json!({"pile": p2.0}))
            .await
            .status(),
        StatusCode::CONFLICT
    );

    // Bob can neither see nor cancel ann's reservation: 404, as if it did not exist.
    assert_eq!(
        app.get(&bob, &format!("/api/v1/reservations/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &bob,
            &format!("/api/v1/reservations/{id}/cancel"),
            json!({})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&bob, "/api/v1/reservations")
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .len(),
        0
    );

    let r = app
        .post(
            &ann,
            &format!("/api/v1/reservations/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    let mine: Vec<Value> = app
        .get(&ann, "/api/v1/reservations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);

    // Unknown pile → 404; bad input → 400.
    assert_eq!(
        app.post(&bob, "/api/v1/reservations", json!({"pile": 424242}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&bob, "/api/v1/reservations", json!({"pile": "x"}))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get(&bob, "/api/v1/reservations/abc").await.status(),
        StatusCode::BAD_REQUEST
    );
    let r = app
        .post(&bob, "/api/v1/reservations", json!({"pile": p2.0}))
        .await;
    let bid = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = app
        .post(
            &bob,
            &format!("/api/v1/reservations/{bid}/position"),
            json!({"lat": 123.0, "lon": 0.0}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("out of range"));
}

#[tokio::test]
async fn busy_pile_cannot_be_reserved_and_says_why() {
    let app = spawn().await;
    let p = app.idle_pile("A-1").await;
    app.report(p, 2, BayReading::Occupied).await;
    let ann = app.signed_up("ann@example.com").await;
    let r = app
        .post(&ann, "/api/v1/reservations", json!({"pile": p.0}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "pile is not idle: blocked"
    );
}

#[tokio::test]
async fn api_tokens_authenticate_integrations() {
    let app = spawn().await;
    let p = app.idle_pile("A-1").await;
    let ann = app.signed_up("ann@example.com").await;
    let r = app
        .post(&ann, "/api/v1/me/tokens", json!({"name": "fleet app"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = Client::new();
    let r = plain
        .post(format!("{}/api/v1/reservations", app.base))
        .bearer_auth(&token)
        .json(&json!({"pile": p.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = plain
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth("cbt_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cross_origin_cookie_posts_are_refused() {
    let app = spawn().await;
    let p = app.idle_pile("A-1").await;
    let ann = app.signed_up("ann@example.com").await;
    let r = ann
        .post(format!("{}/api/v1/reservations", app.base))
        .header("Origin", "http://evil.example")
        .json(&json!({"pile": p.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = ann
        .post(format!("{}/api/v1/reservations", app.base))
        .json(&json!({"pile": p.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "no Origin nor Referer with a cookie"
    );
    let pile: Value = app
        .get(&ann, &format!("/api/v1/piles/{}", p.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        pile["availability"]["status"], "idle",
        "nothing was reserved"
    );
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let app = spawn().await;
    let doc: Value = app
        .get(&app.client(), "/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/piles",
        "/api/v1/piles/{id}",
        "/api/v1/reservations",
        "/api/v1/reservations/{id}/cancel",
        "/api/v1/auth/signin",
        "/api/v1/watches",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert!(doc["components"]["schemas"]["PileDto"].is_object());
}

#[tokio::test]
async fn live_feed_keeps_hold_alerts_private() {
    let app = spawn().await;
    let p = app.idle_pile("A-1").await;
    let ann = app.signed_up("ann@example.com").await;
    let bob = app.signed_up("bob@example.com").await;
    let mut ann_feed = app.get(&ann, "/api/v1/live").await;
    let mut bob_feed = app.get(&bob, "/api/v1/live").await;
    app.post(&ann, "/api/v1/reservations", json!({"pile": p.0}))
        .await;
    let ann_text = drain(&mut ann_feed).await;
    let bob_text = drain(&mut bob_feed).await;
    assert!(ann_text.contains(r#""type":"hold""#), "{ann_text}");
    assert!(!bob_text.contains(r#""type":"hold""#), "{bob_text}");
    assert!(
        bob_text.contains(r#""type":"pile""#),
        "public pile change reaches everyone: {bob_text}"
    );
}

/// Everything a streaming response sends until it is quiet for 800 ms.
async fn drain(r: &mut reqwest::Response) -> String {
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(std::time::Duration::from_millis(800), r.chunk()).await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

#[tokio::test]
async fn search_finds_idle_piles_nearest_first_and_rejects_bad_input() {
    let app = spawn().await;
    let p = app.idle_pile("A-1").await;
    let q = app.idle_pile("B-1").await;
    app.report(q, 2, BayReading::Occupied).await;
    let c = app.client();
    let body: Value = app
        .get(
            &c,
            "/api/v1/search?lat=22.5&lon=114.0&radius_km=5&idle=true",
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![p.0], "only the idle pile: {body}");
    assert_eq!(body["total"], 1);
    assert!(body["items"][0]["distance_km"].as_f64().unwrap() < 0.01);
    let body: Value = app
        .get(&c, "/api/v1/search?bbox=22,113,23,115&connector=CCS2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 2);
    for bad in [
        "/api/v1/search?bbox=1,2,3",
        "/api/v1/search?lat=95&lon=0&radius_km=1",
        "/api/v1/search?lat=1",
        "/api/v1/search?connector=J1772",
        "/api/v1/search?per_page=1000",
        "/api/v1/search?min_kw=abc",
    ] {
        let r = app.get(&c, bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["code"],
            "bad_request",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_at_once() {
    let app = spawn().await;
    let ann = app.signed_up("ann@example.com").await;
    assert_eq!(app.get(&ann, "/api/v1/me").await.status(), StatusCode::OK);
    let admin = app
        .db
        .store
        .create_user(
            "boss@example.com",
            "Boss",
            "correct horse battery",
            store::users::Role::Admin,
        )
        .await
        .unwrap();
    let me: Value = app.get(&ann, "/api/v1/me").await.json().await.unwrap();
    let ann_id = domain::UserId(me["id"].as_i64().unwrap());
    app.db
        .store
        .admin_set_user_disabled(
            ann_id,
            true,
            &store::admin::audit::AuditEntry::new(
                admin,
                "user_disabled",
                format!("user:{}", ann_id.0),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        app.get(&ann, "/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "the live session no longer counts"
    );
}

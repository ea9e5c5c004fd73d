//! The server end to end over real sockets: HTTP on port 0 and CoAP on port 0, each test with
//! a fresh database (zero-to-production's `spawn_app`).
#![allow(clippy::unwrap_used)]

use clap::Parser;
use domain::{report::BayReading, PileId, PileState, Report};
use server::{cli::Cli, startup::Application};
use simulator::PileClient;
use std::{net::SocketAddr, time::Duration};
use store::testing::TestDb;

mod fixtures;
mod serial;

struct TestApp {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    base: String,
    coap: SocketAddr,
    db: TestDb,
    http: reqwest::Client,
}

async fn spawn_app_on(db: TestDb, demo: bool) -> TestApp {
    let serial = serial::SERIAL.lock().await;
    let mut args = vec![
        "chargebay".to_string(),
        "--http-addr".into(),
        "127.0.0.1:0".into(),
        "--coap-addr".into(),
        "127.0.0.1:0".into(),
        "--database-url".into(),
        db.url.clone(),
        "--log-level".into(),
        "warn".into(),
    ];
    if demo {
        args.push("--demo".into());
    }
    let app = Application::build(&Cli::parse_from(args))
        .await
        .expect("app builds");
    let base = format!("http://{}", app.http_addr());
    let coap = app.coap_addr().expect("in-process bridge");
    tokio::spawn(app.run_until_stopped());
    TestApp {
        _serial: serial,
        base,
        coap,
        db,
        http: reqwest::Client::new(),
    }
}

async fn spawn_app() -> TestApp {
    spawn_app_on(TestDb::sqlite().await.unwrap(), false).await
}

impl TestApp {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn pile_with_key(&self, code: &str) -> (PileId, String) {
        fixtures::pile_with_key(&self.db.store, code).await
    }
}

fn report(seq: i64, bay: BayReading) -> Report {
    Report {
        seq,
        bay,
        pile: PileState::Available,
        battery: Some(80),
        quality: Some(95),
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn api_errors_are_json_with_code_and_message() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/piles/999").await;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["message"], "pile not found");
    let r = app.get("/api/v1/piles/abc").await;
    assert_eq!(r.status(), 400);
    let (pile, _) = app.pile_with_key("T-1").await;
    let r = app
        .get(&format!("/api/v1/piles/{}/events?limit=0", pile.0))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(app.get("/no/such/page").await.status(), 404);
}

/// The acceptance path of the device bridge: a provisioned pile reports over CoAP, and the
/// REST side, the event log, the rendered map page and the metrics all show it.
#[tokio::test]
async fn coap_report_reaches_rest_events_page_and_metrics() {
    let app = spawn_app().await;
    let (pile, key) = app.pile_with_key("T-1").await;
    // The bridge loaded credentials at start, before this pile existed: wait for the reload.
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let mut client = PileClient::connect(app.coap, pile, key).await.unwrap();
    client
        .send(&report(1, BayReading::Free))
        .await
        .expect("acknowledged");

    let status: serde_json::Value = app
        .get(&format!("/api/v1/piles/{}", pile.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["availability"]["status"], "idle", "{status}");
    assert_eq!(status["ocpi_status"], "AVAILABLE");
    assert_eq!(status["occupancy"], "free");

    let events: serde_json::Value = app
        .get(&format!("/api/v1/piles/{}/events", pile.0))
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"report") && kinds.contains(&"bay_changed"),
        "{kinds:?}"
    );

    let html = app.get("/").await.text().await.unwrap();
    assert!(
        html.contains("T-1") && html.contains(r#"data-state="idle""#),
        "map page shows the pile idle"
    );

    client
        .send(&report(2, BayReading::Occupied))
        .await
        .expect("acknowledged");
    let status: serde_json::Value = app
        .get(&format!("/api/v1/piles/{}", pile.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["availability"]["reason"], "blocked");

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("coap_reports_accepted_total"), "{metrics}");
    assert!(metrics.contains("coap_report_commit_seconds"));
}

#[tokio::test]
async fn live_feed_streams_pile_changes() {
    let app = spawn_app().await;
    let (pile, key) = app.pile_with_key("T-1").await;
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let mut sse = app.get("/api/v1/live").await;
    assert_eq!(sse.status(), 200);
    let mut client = PileClient::connect(app.coap, pile, key).await.unwrap();
    client.send(&report(1, BayReading::Free)).await.unwrap();
    let chunk = tokio::time::timeout(Duration::from_secs(2), sse.chunk())
        .await
        .expect("event within 2 s")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(
        text.contains(r#""type":"pile""#) && text.contains(&format!(r#""pile":{}"#, pile.0)),
        "{text}"
    );
}

#[tokio::test]
async fn server_function_lists_piles() {
    let app = spawn_app().await;
    app.pile_with_key("T-7").await;
    // Server functions take their arguments form-encoded (nested as `filters[field]`).
    let call = |form: &'static str| {
        app.http
            .post(format!("{}/api/piles", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let r = call("filters[idle]=false").await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["piles"][0]["code"], "T-7");
    assert_eq!(body["piles"][0]["availability"]["reason"], "offline");
    // "Idle now" leaves the never-heard pile out.
    let body: serde_json::Value = call("filters[idle]=true")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["piles"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn demo_seed_survives_restart_without_duplicates() {
    let db = TestDb::sqlite().await.unwrap();
    let url = db.url.clone();
    let app = spawn_app_on(db, true).await;
    let first = app.db.store.count_piles().await.unwrap();
    assert!(first >= 150, "{first}");
    let cli = Cli::parse_from([
        "chargebay",
        "--http-addr",
        "127.0.0.1:0",
        "--coap-addr",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--demo",
    ]);
    let again = Application::build(&cli).await.unwrap();
    assert_eq!(again.service().store().count_piles().await.unwrap(), first);
}

#[tokio::test]
async fn postgres_backend_serves_too() {
    let Some(db) = TestDb::postgres().await.unwrap() else {
        return;
    };
    let app = spawn_app_on(db, false).await;
    let (pile, key) = app.pile_with_key("PG-1").await;
    tokio::time::sleep(Duration::from_millis(5200)).await;
    let mut client = PileClient::connect(app.coap, pile, key).await.unwrap();
    client
        .send(&report(1, BayReading::Occupied))
        .await
        .expect("acknowledged");
    let status: serde_json::Value = app
        .get(&format!("/api/v1/piles/{}", pile.0))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["availability"]["reason"], "blocked", "{status}");
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200);
}

fn run_binary(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chargebay"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn bad_database_url_is_one_clear_line() {
    let out = run_binary(&[
        "--database-url",
        "mysql://nope/db",
        "--http-addr",
        "127.0.0.1:0",
        "--coap-addr",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("DATABASE_URL"),
        "{err}"
    );

    let out = run_binary(&[
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "--http-addr",
        "127.0.0.1:0",
        "--coap-addr",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot connect to the database"), "{err}");
}

#[test]
fn taken_port_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("cb-port-{}", std::process::id()));
    let url = format!("sqlite:{}/db.sqlite", dir.display());
    let out = run_binary(&[
        "--database-url",
        &url,
        "--http-addr",
        &port,
        "--coap-addr",
        "127.0.0.1:0",
        "--log-level",
        "error",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot bind HTTP") && !err.contains("panicked"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

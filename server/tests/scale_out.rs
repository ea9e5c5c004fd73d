//! Scale-out: a standalone bridge (`chargebay bridge`) and a web server without a bridge
//! (`chargebay serve --no-bridge`) on one database, as two instances that share nothing but
//! it. What each changes reaches the other's live side through the relay: a bay the bridge
//! heard reaches the web server's live feed and REST API; a hold taken on the web server
//! reaches the pile observing it on the bridge within a second; watch alerts and heartbeats
//! cross too. On SQLite (one file, as on one machine) and on PostgreSQL.
#![allow(clippy::unwrap_used)]

use clap::Parser;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use domain::{LiveEvent, Occupancy, PileId, ReservationStatus};
use server::{cli::Cli, startup::Application};
use std::{net::SocketAddr, time::Duration};
use store::{testing::TestDb, users::Role, watches::WatchTarget};
use tokio::{net::UdpSocket, sync::broadcast, time::timeout};

mod fixtures;
mod serial;

/// Within this, a change made by one instance is live on the other (the relay polls every
/// 200 ms; the bridge's observers want it within a second).
const LIVE_WITHIN: Duration = Duration::from_secs(1);

async fn build(db: &TestDb, bridge: bool) -> Application {
    let mut args = vec![
        "chargebay",
        "--http-addr",
        "127.0.0.1:0",
        "--coap-addr",
        "127.0.0.1:0",
        "--database-url",
        db.url.as_str(),
        "--log-level",
        "warn",
    ];
    if bridge {
        args.push("bridge");
        Application::build_bridge(&Cli::parse_from(args))
            .await
            .unwrap()
    } else {
        args.push("--no-bridge");
        Application::build(&Cli::parse_from(args)).await.unwrap()
    }
}

/// A pile's CoAP side, written against the protocol (coap-lite as the codec only).
struct Pile {
    socket: UdpSocket,
    bridge: SocketAddr,
    id: PileId,
    key: String,
    mid: u16,
}

impl Pile {
    async fn new(bridge: SocketAddr, id: PileId, key: String) -> Pile {
        Pile {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            bridge,
            id,
            key,
            mid: 1,
        }
    }

    fn request(&mut self, method: RequestType, path: &str, payload: &[u8]) -> Packet {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(method);
        self.mid += 1;
        p.header.message_id = self.mid;
        p.set_token(self.mid.to_be_bytes().to_vec());
        p.add_option(CoapOption::UriPath, path.as_bytes().to_vec());
        p.add_option(CoapOption::UriPath, self.id.0.to_string().into_bytes());
        p.add_option(CoapOption::UriQuery, format!("k={}", self.key).into_bytes());
        if !payload.is_empty() {
            p.add_option(CoapOption::ContentFormat, vec![50]);
            p.payload = payload.to_vec();
        }
        p
    }

    async fn recv(&self, wait: Duration) -> Option<Packet> {
        let mut buf = [0u8; 1500];
        let (n, _) = timeout(wait, self.socket.recv_from(&mut buf))
            .await
            .ok()?
            .unwrap();
        Some(Packet::from_bytes(&buf[..n]).unwrap())
    }

    async fn exchange(&self, p: &Packet) -> Packet {
        self.socket
            .send_to(&p.to_bytes().unwrap(), self.bridge)
            .await
            .unwrap();
        loop {
            let r = self.recv(Duration::from_secs(5)).await.expect("an answer");
            if r.header.message_id == p.header.message_id {
                return r;
            }
        }
    }

    async fn report(&mut self, seq: i64, bay: &str) {
        self.report_state(seq, bay, "available").await;
    }

    async fn report_state(&mut self, seq: i64, bay: &str, state: &str) {
        let body = format!(r#"{{"seq":{seq},"bay":"{bay}","pile":"{state}"}}"#);
        let req = self.request(RequestType::Post, "r", body.as_bytes());
        let r = self.exchange(&req).await;
        assert_eq!(r.header.code, MessageClass::Response(ResponseType::Changed));
    }

    /// Observes the pile's hold; returns the first representation.
    async fn observe_hold(&mut self) -> serde_json::Value {
        let mut req = self.request(RequestType::Get, "h", b"");
        req.set_observe_value(0);
        let r = self.exchange(&req).await;
        assert_eq!(r.header.code, MessageClass::Response(ResponseType::Content));
        assert!(r.get_observe_value().is_some(), "registered");
        serde_json::from_slice(&r.payload).unwrap()
    }

    /// The next notification, acknowledged.
    async fn notification(&self, wait: Duration) -> serde_json::Value {
        let n = self.recv(wait).await.expect("a notification in time");
        let mut ack = Packet::new();
        ack.header.set_type(MessageType::Acknowledgement);
        ack.header.code = MessageClass::Empty;
        ack.header.message_id = n.header.message_id;
        self.socket
            .send_to(&ack.to_bytes().unwrap(), self.bridge)
            .await
            .unwrap();
        serde_json::from_slice(&n.payload).unwrap()
    }
}

/// The next event on `feed` that `pick` accepts, within `wait`.
async fn next_event<T>(
    feed: &mut broadcast::Receiver<LiveEvent>,
    wait: Duration,
    mut pick: impl FnMut(&LiveEvent) -> Option<T>,
) -> Option<T> {
    timeout(wait, async {
        loop {
            match feed.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(&e) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    })
    .await
    .ok()
}

async fn bridge_and_web_share_the_live_feed(db: TestDb) {
    let _serial = serial::SERIAL.lock().await;
    let (pile_id, key) = fixtures::pile_with_key(&db.store, "SCALE-1").await;
    let bridge = build(&db, true).await;
    let web = build(&db, false).await;
    assert!(
        web.coap_addr().is_none(),
        "--no-bridge binds no CoAP socket"
    );
    let coap = bridge.coap_addr().unwrap();
    let web_http = web.http_addr();
    let bridge_http = bridge.http_addr();
    let web_svc = web.service().clone();
    let mut feed = web_svc.hub().subscribe();
    tokio::spawn(bridge.run_until_stopped());
    tokio::spawn(web.run_until_stopped());
    let http = reqwest::Client::new();

    // The bridge's HTTP side is health and metrics only.
    let ok = http
        .get(format!("http://{bridge_http}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let metrics = http
        .get(format!("http://{bridge_http}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let page = http
        .get(format!("http://{bridge_http}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404, "no web app on a standalone bridge");

    // A bay the bridge hears change is live on the web server.
    let mut pile = Pile::new(coap, pile_id, key).await;
    pile.report(1, "occupied").await;
    let occupied = next_event(&mut feed, LIVE_WITHIN, |e| match e {
        LiveEvent::Pile {
            pile, occupancy, ..
        } if *pile == pile_id => Some(*occupancy),
        _ => None,
    })
    .await;
    assert_eq!(
        occupied,
        Some(Occupancy::Occupied),
        "the web feed has the bridge's change"
    );
    let rest: serde_json::Value = http
        .get(format!("http://{web_http}/api/v1/piles/{}", pile_id.0))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["occupancy"], "occupied", "{rest}");

    // A heartbeat too (the web server has no bridge, so it relays them).
    pile.report(2, "occupied").await;
    let beat = next_event(&mut feed, LIVE_WITHIN, |e| match e {
        LiveEvent::Heartbeat { pile, at } if *pile == pile_id => Some(*at),
        _ => None,
    })
    .await;
    assert!(beat.is_some(), "the heartbeat reached the web feed");

    // A driver watching the pile on the web server is alerted when the bridge hears it free
    // up; the bridge alerted, once, and the web server delivers it.
    let driver = db
        .store
        .create_user(
            "scale@example.com",
            "Scale",
            "correct horse battery",
            Role::Driver,
        )
        .await
        .unwrap();
    web_svc
        .store()
        .add_watch(driver, WatchTarget::Pile(pile_id))
        .await
        .unwrap();
    pile.report(3, "free").await;
    let alerted = next_event(&mut feed, LIVE_WITHIN, |e| match e {
        LiveEvent::Watched { user, pile, .. } if *pile == pile_id => Some(*user),
        _ => None,
    })
    .await;
    assert_eq!(
        alerted,
        Some(driver),
        "the watch alert crossed to the web server"
    );
    assert!(
        db.store.watches_of(driver).await.unwrap().is_empty(),
        "alerted once, watch ended"
    );

    // The pile observes its hold on the bridge; the driver reserves on the web server.
    assert_eq!(pile.observe_hold().await["state"], "free");
    let res = web_svc.reserve(driver, pile_id).await.unwrap();
    let held = pile.notification(LIVE_WITHIN).await;
    assert_eq!(held["state"], "held", "{held}");
    assert_eq!(held["id"], res.id.0);
    web_svc.cancel(driver, res.id).await.unwrap();
    let freed = pile.notification(LIVE_WITHIN).await;
    assert_eq!(freed["state"], "free", "{freed}");

    // A hold the bridge ends (the pile faults) reaches the driver on the web server.
    let res = web_svc.reserve(driver, pile_id).await.unwrap();
    assert_eq!(pile.notification(LIVE_WITHIN).await["state"], "held");
    pile.report_state(4, "free", "faulted").await;
    let ended = next_event(&mut feed, Duration::from_secs(3), |e| match e {
        LiveEvent::Hold {
            reservation,
            status: status @ ReservationStatus::Ended(_),
            ..
        } if *reservation == res.id => Some(*status),
        _ => None,
    })
    .await;
    assert_eq!(
        ended,
        Some(ReservationStatus::Ended(domain::Outcome::Voided)),
        "the bridge's decision reached the driver"
    );
    assert_eq!(pile.notification(LIVE_WITHIN).await["state"], "free");
}

#[tokio::test]
async fn sqlite() {
    bridge_and_web_share_the_live_feed(TestDb::sqlite().await.unwrap()).await;
}

#[tokio::test]
async fn postgres() {
    let Some(db) = TestDb::postgres().await.unwrap() else {
        return;
    };
    bridge_and_web_share_the_live_feed(db).await;
}

/// The real binary: `chargebay bridge` announces its addresses, answers CoAP discovery and
/// health, and stops on SIGTERM; `--demo` with it is one clear error.
#[tokio::test]
async fn the_binary_runs_a_standalone_bridge() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("cb-bridge-{}", std::process::id()));
    let url = format!("sqlite:{}/bridge.db", dir.display());
    /// Kills the bridge if the test fails half way.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_chargebay"))
            .args(["--http-addr", "127.0.0.1:0", "--coap-addr", "127.0.0.1:0"])
            .args(["--database-url", &url, "--log-level", "warn", "bridge"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "chargebay bridge on udp://A  (health and metrics on http://B/)"
    let coap: SocketAddr = line
        .split("udp://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("announces its CoAP address: {line}"))
        .parse()
        .unwrap();
    let http = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("announces its HTTP address: {line}"))
        .to_owned();

    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut get = Packet::new();
    get.header.set_type(MessageType::Confirmable);
    get.header.code = MessageClass::Request(RequestType::Get);
    get.header.message_id = 7;
    get.add_option(CoapOption::UriPath, b".well-known".to_vec());
    get.add_option(CoapOption::UriPath, b"core".to_vec());
    socket
        .send_to(&get.to_bytes().unwrap(), coap)
        .await
        .unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("the bridge answers")
        .unwrap();
    let answer = Packet::from_bytes(&buf[..n]).unwrap();
    assert_eq!(
        answer.header.code,
        MessageClass::Response(ResponseType::Content)
    );
    let links = String::from_utf8_lossy(&answer.payload).into_owned();
    assert!(links.contains(r#"</r>;rt="chargebay.report""#), "{links}");

    let health = reqwest::get(format!("http://{http}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let pid = child.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "stops cleanly on SIGTERM: {status}");
    let _ = std::fs::remove_dir_all(&dir);

    let out = Command::new(env!("CARGO_BIN_EXE_chargebay"))
        .args(["--demo", "--database-url", &url, "bridge"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("--demo"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

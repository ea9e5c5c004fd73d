//! Shared by the bridge's integration tests: a fresh database with one site, pile and
//! credential, a real bridge on 127.0.0.1 port 0, and a tiny CoAP client over a real socket.

#![allow(dead_code, clippy::unwrap_used)]

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use device_bridge::{Bridge, BridgeConfig};
use domain::{geo::LatLon, ConnectorType, PileId, UserId};
use service::{Chargebay, Settings};
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use store::{
    piles::{NewPile, PileView},
    sites::{NewSite, SitePolicy},
    testing::TestDb,
    users::Role,
    Store,
};
use tokio::{net::UdpSocket, task::JoinHandle};

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running bridge over a fresh database holding one site and one pile with a credential.
pub struct Env {
    db: TestDb,
    pub store: Store,
    pub service: Chargebay,
    pub pile: PileId,
    pub key: String,
    pub addr: SocketAddr,
    bridge: JoinHandle<()>,
}

impl Env {
    /// A fresh environment on `backend`, or `None` when PostgreSQL is unreachable outside
    /// CI (`TestDb::postgres` has already said so loudly; under `CI=true` it panics instead).
    pub async fn start(backend: Backend) -> Option<Env> {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite().await.expect("sqlite test db"),
            Backend::Postgres => TestDb::postgres().await.expect("postgres test db")?,
        };
        let store = db.store.clone();
        let site = store
            .create_site(&NewSite {
                name: "Bridge Test Car Park".into(),
                address: "1 Loopback Rd".into(),
                position: LatLon::new(22.54, 114.06).expect("valid position"),
                timezone: "Asia/Shanghai".into(),
                policy: SitePolicy::default(),
            })
            .await
            .expect("site");
        let pile = store
            .create_pile(&NewPile {
                site,
                code: "UDP-1".into(),
                connector: ConnectorType::Ccs2,
                max_kw: 120.0,
                price_text: "test".into(),
                heartbeat_secs: 60,
                sensor: "magnetometer".into(),
            })
            .await
            .expect("pile");
        let key = store
            .issue_credential(pile)
            .await
            .expect("credential")
            .secret;
        let service = Chargebay::new(store.clone(), Settings::default());
        let bridge = Bridge::bind(
            BridgeConfig::new("127.0.0.1:0".parse().expect("addr")),
            service.clone(),
        )
        .await
        .expect("bind bridge");
        let addr = bridge.local_addr().expect("local addr");
        let bridge = bridge.spawn();
        Some(Env {
            db,
            store,
            service,
            pile,
            key,
            addr,
            bridge,
        })
    }

    /// Stops the bridge's receive loop and removes the database.
    pub async fn finish(self) {
        self.bridge.abort();
        self.db.drop_db().await;
    }

    /// The pile as the store has it now.
    pub async fn view(&self) -> PileView {
        self.store.pile(self.pile).await.expect("pile view")
    }

    /// The pile's `report` events (newest first).
    pub async fn report_events(&self) -> Vec<store::events::Event> {
        self.store
            .recent_events(Some(self.pile), 1000)
            .await
            .expect("events")
            .into_iter()
            .filter(|e| e.kind == "report")
            .collect()
    }

    /// `/r/<pile>`
    pub fn report_path(&self) -> String {
        format!("r/{}", self.pile.0)
    }

    /// `/h/<pile>`
    pub fn hold_path(&self) -> String {
        format!("h/{}", self.pile.0)
    }

    /// `k=<key>`
    pub fn key_query(&self) -> String {
        format!("k={}", self.key)
    }

    /// A driver account (argon2 hashing makes this the slowest part of a setup).
    pub async fn driver(&self) -> UserId {
        self.store
            .create_user("driver@example.com", "Driver", "password", Role::Driver)
            .await
            .expect("user")
    }
}

/// Declares, for each scenario `async fn(Env)`, one test on SQLite and one on PostgreSQL.
#[macro_export]
macro_rules! scenarios {
    ($($name:ident => $body:ident;)+) => {
        $(
            mod $name {
                use super::common::{Backend, Env};

                #[tokio::test]
                async fn sqlite() {
                    let env = Env::start(Backend::Sqlite).await.expect("sqlite env");
                    super::$body(&env).await;
                    env.finish().await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some(env) = Env::start(Backend::Postgres).await else {
                        return;
                    };
                    super::$body(&env).await;
                    env.finish().await;
                }
            }
        )+
    };
}

/// How long a test waits for an answer that must come.
pub const ANSWER: Duration = Duration::from_secs(5);

/// A CoAP endpoint on its own UDP socket.
pub struct Client {
    pub socket: UdpSocket,
    pub server: SocketAddr,
    mid: u16,
    token: u32,
}

impl Client {
    /// A client of the bridge at `server`.
    pub async fn new(server: SocketAddr) -> Client {
        Client {
            socket: UdpSocket::bind("127.0.0.1:0").await.expect("client socket"),
            server,
            mid: rand::random(),
            token: rand::random(),
        }
    }

    /// A request with a fresh message id and token. `path` is split on `/`; `format` is the
    /// raw Content-Format number (`None`: no option).
    pub fn request(
        &mut self,
        kind: MessageType,
        method: RequestType,
        path: &str,
        query: &[&str],
        format: Option<u16>,
        payload: &[u8],
    ) -> Packet {
        self.mid = self.mid.wrapping_add(1);
        self.token = self.token.wrapping_add(1);
        let mut p = Packet::new();
        p.header.set_type(kind);
        p.header.message_id = self.mid;
        p.header.code = MessageClass::Request(method);
        p.set_token(self.token.to_be_bytes().to_vec());
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
        }
        if let Some(f) = format {
            p.add_option(CoapOption::ContentFormat, uint(u32::from(f)));
        }
        for q in query {
            p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
        }
        p.payload = payload.to_vec();
        p
    }

    /// A confirmable POST.
    pub fn post(
        &mut self,
        path: &str,
        query: &[&str],
        format: Option<u16>,
        payload: &[u8],
    ) -> Packet {
        self.request(
            MessageType::Confirmable,
            RequestType::Post,
            path,
            query,
            format,
            payload,
        )
    }

    /// Sends raw bytes.
    pub async fn send_bytes(&self, bytes: &[u8]) {
        self.socket.send_to(bytes, self.server).await.expect("send");
    }

    /// Sends a packet.
    pub async fn send(&self, p: &Packet) {
        self.send_bytes(&p.to_bytes().expect("encode")).await;
    }

    /// The next datagram within `wait`, raw and parsed.
    pub async fn recv(&self, wait: Duration) -> Option<(Vec<u8>, Packet)> {
        let mut buf = vec![0u8; 2048];
        let (n, from) = tokio::time::timeout(wait, self.socket.recv_from(&mut buf))
            .await
            .ok()?
            .expect("recv");
        assert_eq!(from, self.server, "datagram from an unexpected peer");
        buf.truncate(n);
        let p = Packet::from_bytes(&buf).expect("the bridge sent a well-formed CoAP message");
        Some((buf, p))
    }

    /// Sends `p` and returns the response matching its token (raw bytes too).
    pub async fn exchange_raw(&self, p: &Packet) -> (Vec<u8>, Packet) {
        self.send(p).await;
        let deadline = Instant::now() + ANSWER;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (bytes, r) = self.recv(left).await.unwrap_or_else(|| {
                panic!(
                    "no response to mid {} within {ANSWER:?}",
                    p.header.message_id
                )
            });
            if r.get_token() == p.get_token() && matches!(r.header.code, MessageClass::Response(_))
            {
                return (bytes, r);
            }
        }
    }

    /// Sends `p` and returns the response matching its token.
    pub async fn exchange(&self, p: &Packet) -> Packet {
        self.exchange_raw(p).await.1
    }

    /// Asserts that nothing arrives within `wait`.
    pub async fn assert_silent(&self, wait: Duration, what: &str) {
        if let Some((_, p)) = self.recv(wait).await {
            panic!(
                "expected silence ({what}), got {:?} {:?} {:?}",
                p.header.get_type(),
                p.header.code,
                String::from_utf8_lossy(&p.payload)
            );
        }
    }
}

/// A CoAP uint option value (RFC 7252 §3.2: shortest big-endian, 0 is empty).
pub fn uint(v: u32) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    bytes[skip..].to_vec()
}

/// The response code of `p` (panics on a non-response).
pub fn code(p: &Packet) -> ResponseType {
    match p.header.code {
        MessageClass::Response(c) => c,
        other => panic!("not a response: {other:?}"),
    }
}

/// The payload of `p` as text.
pub fn text(p: &Packet) -> String {
    String::from_utf8_lossy(&p.payload).into_owned()
}

/// The raw Content-Format of `p`, if any.
pub fn content_format(p: &Packet) -> Option<u32> {
    p.get_first_option(CoapOption::ContentFormat)
        .map(|v| v.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

/// A JSON report.
pub fn json_report(seq: i64, bay: &str, pile: &str) -> Vec<u8> {
    format!(r#"{{"seq":{seq},"bay":"{bay}","pile":"{pile}","bat":88,"q":97}}"#).into_bytes()
}

/// Whether `CI=true`: missing interop tools are then a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

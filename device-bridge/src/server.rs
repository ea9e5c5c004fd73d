//! The bridge itself: the UDP socket, the receive loop that validates and routes each
//! request, and the background tasks (writers, observer notifications, maintenance).

use crate::{
    auth::Credentials,
    codec::{decode_report, DecodeError},
    config::BridgeConfig,
    dedup::{Dedup, Seen},
    message::{diagnostic, empty, encode, response, salvage_exchange, Exchange},
    observe::Observers,
    routes::{key_param, route, Resource, RouteError, WELL_KNOWN_CORE},
    writer::{self, Job},
};
use coap_lite::{CoapOption, ContentFormat, MessageClass, MessageType, Packet, ResponseType};
use domain::PileId;
use service::Chargebay;
use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use store::reports::IncomingReport;
use tokio::{net::UdpSocket, sync::mpsc, task::JoinHandle};

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The UDP address could not be bound (taken, or not local).
    #[error("cannot bind CoAP UDP {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The credentials could not be loaded.
    #[error("cannot load device credentials: {0}")]
    Store(#[from] store::StoreError),
}

/// State shared by the bridge's tasks.
#[derive(Debug)]
pub struct Shared {
    socket: UdpSocket,
    pub(crate) service: Chargebay,
    pub(crate) config: BridgeConfig,
    credentials: Credentials,
    dedup: Mutex<Dedup>,
    observers: Mutex<Observers>,
    mid: AtomicU16,
}

impl Shared {
    pub(crate) fn next_mid(&self) -> u16 {
        self.mid.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) async fn send(&self, bytes: &[u8], peer: SocketAddr) {
        if let Err(e) = self.socket.send_to(bytes, peer).await {
            tracing::debug!(%peer, error = %e, "send failed");
        }
    }

    /// Sends each datagram of `out` to its peer, in a few system calls ([`crate::send_batch`]).
    pub(crate) async fn send_many(&self, out: &[(Vec<u8>, SocketAddr)]) {
        crate::send_batch::send_all(&self.socket, out).await;
    }

    pub(crate) fn remember(&self, peer: SocketAddr, mid: u16, bytes: &[u8]) {
        self.dedup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .answered(peer, mid, bytes);
    }

    pub(crate) fn forget(&self, peer: SocketAddr, mid: u16) {
        self.dedup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .forget(peer, mid);
    }

    /// Sends `p` as the answer to `ex` and remembers it for retransmissions of `ex`.
    async fn answer(&self, peer: SocketAddr, ex: &Exchange, p: &Packet) {
        let bytes = encode(p);
        self.remember(peer, ex.mid, &bytes);
        self.send(&bytes, peer).await;
    }

    fn observers(&self) -> std::sync::MutexGuard<'_, Observers> {
        self.observers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A bound bridge, ready to run.
#[derive(Debug)]
pub struct Bridge {
    shared: Arc<Shared>,
}

impl Bridge {
    /// Binds the UDP socket and loads the credentials.
    pub async fn bind(config: BridgeConfig, service: Chargebay) -> Result<Self, BridgeError> {
        let addr = config.addr;
        let socket = bind_socket(addr, config.recv_buffer)
            .map_err(|source| BridgeError::Bind { addr, source })?;
        let credentials = Credentials::default();
        let n = credentials.reload(service.store()).await?;
        tracing::info!(credentials = n, "device credentials loaded");
        let dedup = Dedup::new(config.dedup_per_peer, config.exchange_lifetime);
        let shared = Shared {
            socket,
            service,
            config,
            credentials,
            dedup: Mutex::new(dedup),
            observers: Mutex::new(Observers::default()),
            mid: AtomicU16::new(rand::random()),
        };
        Ok(Bridge {
            shared: Arc::new(shared),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.shared.socket.local_addr()
    }

    /// Starts every task of the bridge; they run until the runtime stops.
    pub fn spawn(self) -> JoinHandle<()> {
        let shared = self.shared;
        let writers: Vec<mpsc::Sender<Job>> = (0..shared.config.writers.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(shared.config.queue_capacity);
                tokio::spawn(writer::run(shared.clone(), rx));
                tx
            })
            .collect();
        tokio::spawn(notify_observers(shared.clone()));
        tokio::spawn(maintenance(shared.clone()));
        tokio::spawn(receive_loop(shared, writers))
    }
}

fn bind_socket(addr: SocketAddr, recv_buffer: usize) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: the kernel may cap it (net.core.rmem_max).
    let _ = socket.set_recv_buffer_size(recv_buffer);
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

async fn receive_loop(shared: Arc<Shared>, writers: Vec<mpsc::Sender<Job>>) {
    let mut buf = vec![0u8; 2048];
    loop {
        match shared.socket.recv_from(&mut buf).await {
            Ok((n, peer)) => handle_datagram(&shared, &writers, &buf[..n], peer).await,
            Err(e) => {
                // ICMP port unreachable from a vanished peer shows up here on Linux: not fatal.
                tracing::debug!(error = %e, "recv_from failed");
            }
        }
    }
}

fn reject(reason: &'static str) {
    metrics::counter!("coap_reports_rejected_total", "reason" => reason).increment(1);
}

async fn handle_datagram(
    shared: &Arc<Shared>,
    writers: &[mpsc::Sender<Job>],
    buf: &[u8],
    peer: SocketAddr,
) {
    let received = Instant::now();
    let packet = match Packet::from_bytes(buf) {
        Ok(p) => p,
        Err(e) => {
            reject("malformed");
            if let Some(ex) = salvage_exchange(buf) {
                let msg = format!("malformed CoAP message: {e}");
                shared
                    .send(
                        &encode(&diagnostic(
                            &ex,
                            shared.next_mid(),
                            ResponseType::BadRequest,
                            &msg,
                        )),
                        peer,
                    )
                    .await;
            }
            return;
        }
    };
    // RFC 7252 §3: a message with an unknown version number is silently ignored.
    if packet.header.get_version() != 1 {
        return;
    }
    let kind = packet.header.get_type();
    let method = match (kind, packet.header.code) {
        (MessageType::Acknowledgement, _) => {
            shared.observers().acked(peer, packet.header.message_id);
            return;
        }
        (MessageType::Reset, _) => {
            shared.observers().reset(peer, packet.header.message_id);
            return;
        }
        (MessageType::Confirmable, MessageClass::Empty) => {
            // CoAP ping: answer with Reset (RFC 7252 §4.3).
            shared
                .send(
                    &encode(&empty(MessageType::Reset, packet.header.message_id)),
                    peer,
                )
                .await;
            return;
        }
        (_, MessageClass::Request(m)) => m,
        _ => return,
    };
    let ex = Exchange::of(&packet);
    let seen = shared
        .dedup
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .check(peer, ex.mid, &ex.token, received);
    match seen {
        Seen::New => {}
        Seen::InFlight => {
            metrics::counter!("coap_dedup_hits_total").increment(1);
            return;
        }
        Seen::Answered(bytes) => {
            metrics::counter!("coap_dedup_hits_total").increment(1);
            shared.send(&bytes, peer).await;
            return;
        }
    }
    let resource = match route(&packet, method) {
        Ok(r) => r,
        Err(RouteError::NotFound) => {
            reject("not_found");
            let p = diagnostic(
                &ex,
                shared.next_mid(),
                ResponseType::NotFound,
                "no such resource; see /.well-known/core",
            );
            return shared.answer(peer, &ex, &p).await;
        }
        Err(RouteError::MethodNotAllowed(m)) => {
            reject("method");
            let p = diagnostic(
                &ex,
                shared.next_mid(),
                ResponseType::MethodNotAllowed,
                &format!("method not allowed; use {m}"),
            );
            return shared.answer(peer, &ex, &p).await;
        }
    };
    match resource {
        Resource::WellKnownCore => {
            let p = response(
                &ex,
                shared.next_mid(),
                ResponseType::Content,
                Some(ContentFormat::ApplicationLinkFormat),
                WELL_KNOWN_CORE.as_bytes().to_vec(),
            );
            shared.answer(peer, &ex, &p).await;
        }
        Resource::Report(pile) => {
            let shard = usize::try_from(pile.0).unwrap_or(0) % writers.len();
            // Shed load before the costly steps (key hash, payload decode) once the writer's
            // queue is full: under overload every cycle spent on a report that cannot be
            // queued is taken from the commits that would drain the queue.
            if writers[shard].capacity() == 0 {
                return busy(shared, peer, &ex).await;
            }
            if let Err(p) = authenticate(shared, &packet, &ex, pile) {
                return shared.answer(peer, &ex, &p).await;
            }
            let format = match content_format(&packet) {
                Ok(f) => f,
                Err(p) => {
                    return shared
                        .answer(
                            peer,
                            &ex,
                            &diagnostic(&ex, shared.next_mid(), ResponseType::BadOption, p),
                        )
                        .await
                }
            };
            let report = match decode_report(format, &packet.payload, shared.config.max_payload) {
                Ok(r) => r,
                Err(e) => {
                    let code = match e {
                        DecodeError::UnsupportedFormat(_) => ResponseType::UnsupportedContentFormat,
                        DecodeError::TooLarge(..) => ResponseType::RequestEntityTooLarge,
                        DecodeError::Empty | DecodeError::Invalid(_) => ResponseType::BadRequest,
                    };
                    reject("invalid_payload");
                    return shared
                        .answer(
                            peer,
                            &ex,
                            &diagnostic(&ex, shared.next_mid(), code, &e.to_string()),
                        )
                        .await;
                }
            };
            let job = Job {
                report: IncomingReport {
                    pile,
                    report,
                    received_at: store::now(),
                    from: peer.to_string(),
                },
                peer,
                ex,
                received,
            };
            if let Err(
                mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job),
            ) = writers[shard].try_send(job)
            {
                busy(shared, peer, &job.ex).await;
            }
        }
        Resource::Hold(pile) => {
            if let Err(p) = authenticate(shared, &packet, &ex, pile) {
                return shared.answer(peer, &ex, &p).await;
            }
            let observe = packet.get_observe_value().and_then(Result::ok);
            let shared = shared.clone();
            // The store read runs beside the receive loop, never in its way.
            tokio::spawn(async move { answer_hold(&shared, pile, peer, ex, observe).await });
        }
    }
}

/// Answers 5.03 with Max-Age (RFC 7252 §5.9.3.4: retry after that many seconds) to a
/// report the writers cannot take now, and forgets the exchange so that a retry is handled.
async fn busy(shared: &Shared, peer: SocketAddr, ex: &Exchange) {
    reject("overloaded");
    shared.forget(peer, ex.mid);
    let mut p = diagnostic(
        ex,
        shared.next_mid(),
        ResponseType::ServiceUnavailable,
        "busy, retry later",
    );
    p.add_option(CoapOption::MaxAge, vec![BUSY_RETRY_SECS]);
    shared.send(&encode(&p), peer).await;
}

/// The Max-Age of a 5.03 answer: how long a pile should wait before it reports again.
const BUSY_RETRY_SECS: u8 = 2;

fn authenticate(
    shared: &Shared,
    packet: &Packet,
    ex: &Exchange,
    pile: PileId,
) -> Result<(), Packet> {
    match key_param(packet) {
        None => {
            reject("auth");
            Err(diagnostic(
                ex,
                shared.next_mid(),
                ResponseType::Unauthorized,
                "credential required: add ?k=<key>",
            ))
        }
        Some(key) if !shared.credentials.verify(pile, &key) => {
            reject("auth");
            Err(diagnostic(
                ex,
                shared.next_mid(),
                ResponseType::Unauthorized,
                "unknown pile or wrong key",
            ))
        }
        Some(_) => Ok(()),
    }
}

fn content_format(packet: &Packet) -> Result<Option<u16>, &'static str> {
    match packet.get_first_option(CoapOption::ContentFormat) {
        None => Ok(None),
        Some(v) if v.len() <= 2 => Ok(Some(
            v.iter().fold(0u16, |acc, b| (acc << 8) | u16::from(*b)),
        )),
        Some(_) => Err("bad Content-Format option"),
    }
}

async fn answer_hold(
    shared: &Shared,
    pile: PileId,
    peer: SocketAddr,
    ex: Exchange,
    observe: Option<u32>,
) {
    let hold = match shared.service.pile_hold(pile).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "hold lookup failed");
            shared.forget(peer, ex.mid);
            let p = diagnostic(
                &ex,
                shared.next_mid(),
                ResponseType::ServiceUnavailable,
                "storage unavailable, retry",
            );
            return shared.send(&encode(&p), peer).await;
        }
    };
    let mut p = response(
        &ex,
        shared.next_mid(),
        ResponseType::Content,
        Some(ContentFormat::ApplicationJSON),
        serde_json::to_vec(&hold).unwrap_or_default(),
    );
    match observe {
        Some(0) => {
            let seq = shared.observers().register(pile, peer, &ex);
            p.set_observe_value(seq);
        }
        Some(1) => shared.observers().deregister(peer, &ex.token),
        _ => {}
    }
    metrics::gauge!("coap_observers").set(shared.observers().count() as f64);
    shared.answer(peer, &ex, &p).await;
}

async fn notify_observers(shared: Arc<Shared>) {
    let mut holds = shared.service.hub().subscribe_holds();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            change = holds.recv() => {
                let pile = match change {
                    Ok(c) => c.pile,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "hold notifications lagged");
                        continue;
                    }
                    Err(_) => return,
                };
                if !shared.observers().observed(pile) {
                    continue;
                }
                let Ok(hold) = shared.service.pile_hold(pile).await else { continue };
                let payload = serde_json::to_vec(&hold).unwrap_or_default();
                let out = shared.observers().notify(pile, &payload, || shared.next_mid(), Instant::now());
                for (peer, bytes) in out {
                    shared.send(&bytes, peer).await;
                }
            }
            _ = tick.tick() => {
                let out = shared.observers().retransmit(Instant::now());
                for (peer, bytes) in out {
                    shared.send(&bytes, peer).await;
                }
                metrics::gauge!("coap_observers").set(shared.observers().count() as f64);
            }
        }
    }
}

async fn maintenance(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_reload = Instant::now();
    loop {
        tick.tick().await;
        let size = {
            let mut d = shared.dedup.lock().unwrap_or_else(|e| e.into_inner());
            d.expire(Instant::now());
            d.len()
        };
        metrics::gauge!("coap_dedup_entries").set(size as f64);
        if last_reload.elapsed() >= shared.config.credential_refresh {
            last_reload = Instant::now();
            if let Err(e) = shared.credentials.refresh(shared.service.store()).await {
                tracing::warn!(error = %e, "credential refresh failed");
            }
        }
    }
}

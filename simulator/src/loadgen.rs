//! The bridge load generator: many simulated piles reporting over many UDP endpoints, each
//! endpoint an RFC 7252 client with NSTART = 1 (one confirmable request outstanding), with
//! retransmission (ACK_TIMEOUT 2 s × random factor 1.5, MAX_RETRANSMIT 4) and a retry after
//! 5.03. Reports are JSON, with a strictly increasing sequence number per pile.
//!
//! The load runs in worker *processes* (a process holds at most ~16,000 sockets under the
//! usual open-file limit); each worker drives a slice of the piles from a slice of the
//! endpoints, paced (open loop: each endpoint has its own schedule) or closed loop (each
//! endpoint sends its next report as soon as the previous one is answered), and writes its
//! counters, its send-to-ACK latency histogram and what each pile sent and had acknowledged.
//! [`run_load`] starts the workers and merges their results; [`verify`] compares what was
//! acknowledged with what the database holds; [`ServerProcess`] starts the bridge or a
//! baseline server in its own process so its memory and CPU can be read from `/proc`.

use coap_lite::{CoapOption, ContentFormat, MessageClass, MessageType, Packet, RequestType};
use domain::{report::BayReading, PileId, PileState, Report};
use hdrhistogram::{
    serialization::{Deserializer, Serializer, V2Serializer},
    Histogram,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::{
    cell::RefCell,
    collections::{BTreeMap, HashMap, HashSet},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    rc::Rc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::{net::UdpSocket, time::Instant};

/// Sockets one worker process opens at most (the open-file limit is often 20,000).
pub const SOCKETS_PER_WORKER: usize = 16_000;

/// What answers the load, which decides what completes an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Expect {
    /// The chargebay bridge: 2.xx completes, 5.03 means "retry later", other codes fail.
    Bridge,
    /// A baseline that stores nothing: any datagram with the request's id and token
    /// completes the exchange (an echo, a 4.04, ...).
    Baseline,
}

/// A pile the generator may report for.
#[derive(Debug, Clone)]
pub struct PileKey {
    /// Its id.
    pub id: PileId,
    /// Its device key.
    pub secret: String,
}

/// Writes `piles` as `id,secret` lines.
pub fn write_piles_file(path: &Path, piles: &[(PileId, String)]) -> std::io::Result<()> {
    let mut out = String::with_capacity(piles.len() * 48);
    for (id, secret) in piles {
        out.push_str(&format!("{},{}\n", id.0, secret));
    }
    std::fs::write(path, out)
}

/// Reads an `id,secret` file.
pub fn read_piles_file(path: &Path) -> anyhow::Result<Vec<PileKey>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (id, secret) = l
                .split_once(',')
                .ok_or_else(|| anyhow::anyhow!("bad line in {}: {l}", path.display()))?;
            Ok(PileKey {
                id: PileId(id.trim().parse()?),
                secret: secret.trim().to_owned(),
            })
        })
        .collect()
}

/// Unix time in milliseconds.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A sequence-number base above anything an earlier run used: unix ms × 1000 (a pile would
/// need more than 1000 reports per millisecond to overlap the next run; 2^53 is year 2255).
pub fn fresh_seq_base() -> i64 {
    unix_ms().saturating_mul(1000)
}

/// One worker's assignment (written as JSON for the worker process).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// Label for progress lines.
    pub label: String,
    /// Where to send.
    pub target: SocketAddr,
    /// The `id,secret` file.
    pub piles_file: PathBuf,
    /// The piles this worker reports for: `[start, end)` lines of the file.
    pub piles: (usize, usize),
    /// The endpoints (sockets) this worker opens: `[start, end)` global indices.
    pub endpoints: (usize, usize),
    /// Reports per second for this worker; 0 runs closed loop.
    pub rate: f64,
    /// When to send the first report (unix ms), so that every worker starts together.
    pub start_unix_ms: i64,
    /// Load before the measured window, in ms.
    pub warmup_ms: u64,
    /// Measured window, in ms.
    pub window_ms: u64,
    /// How long to wait for outstanding exchanges after the window, in ms.
    pub drain_ms: u64,
    /// Sequence numbers are `seq_base + n`, n = 1, 2, ... per pile.
    pub seq_base: i64,
    /// Share of reports that flip the bay (and the pile state with it).
    pub change_ratio: f64,
    /// What answers.
    pub expect: Expect,
    /// RFC 7252 ACK_TIMEOUT in ms.
    pub ack_timeout_ms: u64,
    /// RFC 7252 MAX_RETRANSMIT.
    pub max_retransmit: u32,
    /// Random seed.
    pub seed: u64,
    /// Where to write the [`WorkerResult`].
    pub out: PathBuf,
    /// Print a progress line every this many seconds (0: never).
    pub progress_secs: u64,
}

/// Counters of a load run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Reports started (each gets one sequence number).
    pub reports: u64,
    /// Datagrams sent, retransmissions and retries included.
    pub datagrams: u64,
    /// Retransmissions after an ACK timeout.
    pub retransmissions: u64,
    /// Reports completed (2.xx from the bridge; any answer from a baseline).
    pub completed: u64,
    /// 2.04 answers with a diagnostic (e.g. "ignored: seq not above the last one").
    pub with_diagnostic: u64,
    /// 5.03 answers (the report is retried with a new message id after 1–2 s, doubling).
    pub unavailable: u64,
    /// Reports failed with another error code.
    pub rejected: u64,
    /// Reports with no answer after MAX_RETRANSMIT retransmissions.
    pub timed_out: u64,
    /// Reports still unanswered when the drain ended.
    pub unresolved: u64,
    /// Datagrams that matched no outstanding exchange (late duplicates).
    pub stray: u64,
    /// Failed sends.
    pub send_errors: u64,
    /// Reports first sent inside the measured window.
    pub window_reports: u64,
    /// Reports completed inside the measured window.
    pub window_completed: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.reports += o.reports;
        self.datagrams += o.datagrams;
        self.retransmissions += o.retransmissions;
        self.completed += o.completed;
        self.with_diagnostic += o.with_diagnostic;
        self.unavailable += o.unavailable;
        self.rejected += o.rejected;
        self.timed_out += o.timed_out;
        self.unresolved += o.unresolved;
        self.stray += o.stray;
        self.send_errors += o.send_errors;
        self.window_reports += o.window_reports;
        self.window_completed += o.window_completed;
    }
}

/// What one pile sent and had acknowledged (sequence numbers relative to the base).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PileRecord {
    /// The pile.
    pub pile: i64,
    /// Reports sent: sequence numbers 1..=sent.
    pub sent: i64,
    /// Reports acknowledged with success.
    pub acked: i64,
    /// Sum of the acknowledged sequence numbers.
    pub acked_sum: i64,
    /// Sequence numbers sent but not acknowledged.
    pub unacked: Vec<i64>,
}

/// A worker's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerResult {
    /// Counters.
    pub counts: Counts,
    /// Answers by response code (`2.04`, `5.03`, `4.04`; `echo` for an echoed request).
    pub codes: BTreeMap<String, u64>,
    /// Send-to-ACK latency in µs of reports sent in the window (HdrHistogram V2, hex).
    pub latency: String,
    /// Per pile.
    pub piles: Vec<PileRecord>,
    /// CPU seconds the worker used.
    pub cpu_secs: f64,
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Encodes a histogram for a result file.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    let _ = V2Serializer::new().serialize(h, &mut buf);
    hex::encode(buf)
}

/// Decodes [`encode_histogram`]'s output.
pub fn decode_histogram(s: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = hex::decode(s)?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("bad histogram: {e:?}"))
}

/// CPU seconds (user + system) used so far by process `pid` (all its threads).
pub fn process_cpu_secs(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at ") ".
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clock_ticks())
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every Linux architecture in practice; `getconf` confirms it.
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds used so far by each thread of process `pid`, summed by thread name.
pub fn thread_cpu_secs(pid: u32) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in dir.flatten() {
        let tid = task.file_name().to_string_lossy().into_owned();
        let name = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        if let Some(secs) = process_cpu_secs(&format!("{pid}/task/{tid}")) {
            *out.entry(name).or_insert(0.0) += secs;
        }
    }
    out
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Free space in MiB on the file system holding `path` (from `df`).
pub fn free_mib(path: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib / 1024)
}

/// Machine-wide (busy, total) jiffies from `/proc/stat`.
pub fn machine_jiffies() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let line = s.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

// ---------------------------------------------------------------------------------------
// The worker: endpoints driving piles.

struct Plan {
    start: Instant,
    window_start: Instant,
    stop: Instant,
    drain_deadline: Instant,
    seq_base: i64,
    change_ratio: f64,
    expect: Expect,
    ack_timeout: Duration,
    max_retransmit: u32,
}

#[derive(Default)]
struct Tally {
    counts: Counts,
    codes: BTreeMap<String, u64>,
    hist: Option<Histogram<u64>>,
}

impl Tally {
    fn code(&mut self, code: String) {
        *self.codes.entry(code).or_default() += 1;
    }
}

struct SimPile {
    path: Vec<u8>,
    query: Vec<u8>,
    occupied: bool,
    record: PileRecord,
}

struct Endpoint {
    socket: UdpSocket,
    piles: Vec<SimPile>,
    mid: u16,
    token: u32,
    rng: StdRng,
}

enum Answer {
    /// A response (or an echo) with this code (class.detail) and whether it had a body.
    Response { code: u8, body: bool },
}

/// The source address for endpoint `g`: on loopback each 16,000 endpoints get their own
/// 127.0.0.x, so a hundred thousand endpoints do not exhaust one address's ephemeral ports.
fn source_addr(target: SocketAddr, g: usize) -> SocketAddr {
    match target.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => {
            let n = u8::try_from(2 + g / SOCKETS_PER_WORKER).unwrap_or(254);
            SocketAddr::from((Ipv4Addr::new(127, 0, 0, n), 0))
        }
        IpAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        IpAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    }
}

fn open_socket(target: SocketAddr, g: usize) -> std::io::Result<UdpSocket> {
    let s = std::net::UdpSocket::bind(source_addr(target, g))?;
    s.connect(target)?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s)
}

impl Endpoint {
    fn request(&mut self, pile: usize, report: &Report) -> (u16, u32, Vec<u8>) {
        self.mid = self.mid.wrapping_add(1);
        self.token = self.token.wrapping_add(1);
        let p = &self.piles[pile];
        let mut packet = Packet::new();
        packet.header.set_type(MessageType::Confirmable);
        packet.header.message_id = self.mid;
        packet.header.code = MessageClass::Request(RequestType::Post);
        packet.set_token(self.token.to_be_bytes().to_vec());
        packet.add_option(CoapOption::UriPath, b"r".to_vec());
        packet.add_option(CoapOption::UriPath, p.path.clone());
        packet.add_option(CoapOption::UriQuery, p.query.clone());
        packet.set_content_format(ContentFormat::ApplicationJSON);
        packet.payload = device_bridge::codec::encode_json(report);
        (self.mid, self.token, packet.to_bytes().unwrap_or_default())
    }

    /// Waits until `deadline` for the answer to (`mid`, `token`).
    async fn answer(
        &mut self,
        mid: u16,
        token: u32,
        mut deadline: Instant,
        plan: &Plan,
        tally: &RefCell<Tally>,
    ) -> Option<Answer> {
        let mut buf = [0u8; 1280];
        let token = token.to_be_bytes();
        loop {
            let n = match tokio::time::timeout_at(deadline, self.socket.recv(&mut buf)).await {
                Err(_) => return None,
                Ok(Ok(n)) => n,
                Ok(Err(_)) => {
                    // ICMP port unreachable (server not up): as good as a lost datagram.
                    tokio::time::sleep_until(deadline).await;
                    return None;
                }
            };
            let d = &buf[..n];
            if n < 4 || d[0] >> 6 != 1 {
                tally.borrow_mut().counts.stray += 1;
                continue;
            }
            let kind = (d[0] >> 4) & 0b11;
            let tkl = usize::from(d[0] & 0x0f);
            let code = d[1];
            let their_mid = u16::from_be_bytes([d[2], d[3]]);
            if kind == 2 && code == 0 && their_mid == mid {
                // Empty ACK: the response will follow separately; stop retransmitting.
                deadline = plan
                    .drain_deadline
                    .min(Instant::now() + Duration::from_secs(93));
                continue;
            }
            if d.get(4..4 + tkl) != Some(&token[..]) {
                tally.borrow_mut().counts.stray += 1;
                continue;
            }
            if kind == 0 && code >> 5 != 0 {
                // A separate confirmable response: acknowledge it.
                let ack = [0x60, 0, d[2], d[3]];
                let _ = self.socket.send(&ack).await;
            } else if kind == 2 && their_mid != mid {
                tally.borrow_mut().counts.stray += 1;
                continue;
            }
            return Some(Answer::Response {
                code,
                body: n > 4 + tkl,
            });
        }
    }

    /// Sends report `pile`'s next report until it is answered (or given up); true when it
    /// was acknowledged with success.
    async fn exchange(
        &mut self,
        pile: usize,
        report: &Report,
        plan: &Plan,
        tally: &RefCell<Tally>,
    ) -> bool {
        let mut busy_retries = 0u32;
        loop {
            let (mid, token, bytes) = self.request(pile, report);
            let mut timeout = plan.ack_timeout.mul_f64(1.0 + self.rng.gen::<f64>() * 0.5);
            let mut attempt = 0;
            let answer = loop {
                {
                    let mut t = tally.borrow_mut();
                    t.counts.datagrams += 1;
                    if attempt > 0 {
                        t.counts.retransmissions += 1;
                    }
                }
                if self.socket.send(&bytes).await.is_err() {
                    tally.borrow_mut().counts.send_errors += 1;
                }
                let deadline = (Instant::now() + timeout).min(plan.drain_deadline);
                match self.answer(mid, token, deadline, plan, tally).await {
                    Some(a) => break a,
                    None if Instant::now() >= plan.drain_deadline => {
                        tally.borrow_mut().counts.unresolved += 1;
                        return false;
                    }
                    None if attempt >= plan.max_retransmit => {
                        tally.borrow_mut().counts.timed_out += 1;
                        return false;
                    }
                    None => {
                        attempt += 1;
                        timeout *= 2;
                    }
                }
            };
            let Answer::Response { code, body } = answer;
            let busy = {
                let mut t = tally.borrow_mut();
                if code >> 5 == 0 {
                    t.code("echo".into());
                } else {
                    t.code(format!("{}.{:02}", code >> 5, code & 0x1f));
                }
                match plan.expect {
                    Expect::Baseline => return true,
                    Expect::Bridge if code >> 5 == 2 => {
                        if body {
                            t.counts.with_diagnostic += 1;
                        }
                        return true;
                    }
                    Expect::Bridge if code == (5 << 5) | 3 => {
                        t.counts.unavailable += 1;
                        busy_retries += 1;
                        if busy_retries > 8 || Instant::now() >= plan.drain_deadline {
                            t.counts.rejected += 1;
                            return false;
                        }
                        true
                    }
                    Expect::Bridge => {
                        t.counts.rejected += 1;
                        return false;
                    }
                }
            };
            if busy {
                // 5.03: the bridge did not take the report; retry it (same sequence number,
                // new message id) after a randomised, doubling pause of 1–2 s, 2–4 s, ...
                let pause = Duration::from_secs_f64(
                    (1.0 + self.rng.gen::<f64>()) * f64::from(1u32 << (busy_retries - 1).min(5)),
                );
                tokio::time::sleep(
                    pause.min(
                        plan.drain_deadline
                            .saturating_duration_since(Instant::now()),
                    ),
                )
                .await;
            }
        }
    }

    fn next_report(&mut self, pile: usize, plan: &Plan) -> Report {
        let flip = self.rng.gen_bool(plan.change_ratio.clamp(0.0, 1.0));
        let battery = self.rng.gen_range(40..=100);
        let quality = self.rng.gen_range(85..=100);
        let p = &mut self.piles[pile];
        if flip {
            p.occupied = !p.occupied;
        }
        p.record.sent += 1;
        let (bay, state) = if p.occupied {
            (BayReading::Occupied, PileState::Charging)
        } else {
            (BayReading::Free, PileState::Available)
        };
        Report {
            seq: plan.seq_base + p.record.sent,
            bay,
            pile: state,
            battery: Some(battery),
            quality: Some(quality),
        }
    }

    /// Runs the endpoint: round-robin over its piles, paced by `interval` (open loop) or
    /// back to back (closed loop), until the window ends.
    async fn run(
        mut self,
        first_slot: Instant,
        interval: Option<Duration>,
        plan: Rc<Plan>,
        tally: Rc<RefCell<Tally>>,
    ) -> Vec<PileRecord> {
        let mut slot = first_slot;
        let mut next = 0;
        if !self.piles.is_empty() {
            loop {
                if slot >= plan.stop {
                    break;
                }
                tokio::time::sleep_until(slot).await;
                let pile = next;
                next = (next + 1) % self.piles.len();
                let report = self.next_report(pile, &plan);
                let sent = Instant::now();
                let in_window = sent >= plan.window_start && sent < plan.stop;
                {
                    let mut t = tally.borrow_mut();
                    t.counts.reports += 1;
                    if in_window {
                        t.counts.window_reports += 1;
                    }
                }
                let ok = self.exchange(pile, &report, &plan, &tally).await;
                let done = Instant::now();
                let rel = report.seq - plan.seq_base;
                let rec = &mut self.piles[pile].record;
                let mut t = tally.borrow_mut();
                if ok {
                    rec.acked += 1;
                    rec.acked_sum += rel;
                    t.counts.completed += 1;
                    if done >= plan.window_start && done < plan.stop {
                        t.counts.window_completed += 1;
                    }
                    if in_window {
                        let us = u64::try_from(done.duration_since(sent).as_micros())
                            .unwrap_or(u64::MAX)
                            .max(1);
                        if let Some(h) = t.hist.as_mut() {
                            h.saturating_record(us);
                        }
                    }
                } else {
                    rec.unacked.push(rel);
                }
                drop(t);
                slot = match interval {
                    Some(i) => slot + i,
                    None => done,
                };
            }
        }
        self.piles.into_iter().map(|p| p.record).collect()
    }
}

/// Runs one worker to the end and writes its result file.
pub fn run_worker(cfg: &WorkerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, worker(cfg))?;
    let json = serde_json::to_vec(&result)?;
    std::fs::write(&cfg.out, json)?;
    Ok(())
}

async fn worker(cfg: &WorkerConfig) -> anyhow::Result<WorkerResult> {
    let all = read_piles_file(&cfg.piles_file)?;
    let piles = all
        .get(cfg.piles.0..cfg.piles.1)
        .ok_or_else(|| anyhow::anyhow!("pile range {:?} outside the file", cfg.piles))?;
    let n_endpoints = (cfg.endpoints.1 - cfg.endpoints.0).min(piles.len()).max(1);
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ cfg.endpoints.0 as u64);
    let mut endpoints = Vec::with_capacity(n_endpoints);
    for i in 0..n_endpoints {
        endpoints.push(Endpoint {
            socket: open_socket(cfg.target, cfg.endpoints.0 + i)?,
            piles: Vec::new(),
            mid: rng.gen(),
            token: rng.gen(),
            rng: StdRng::seed_from_u64(rng.gen()),
        });
    }
    for (i, p) in piles.iter().enumerate() {
        endpoints[i % n_endpoints].piles.push(SimPile {
            path: p.id.0.to_string().into_bytes(),
            query: format!("k={}", p.secret).into_bytes(),
            occupied: rng.gen_bool(0.4),
            record: PileRecord {
                pile: p.id.0,
                ..PileRecord::default()
            },
        });
    }
    let wait = Duration::from_millis(u64::try_from(cfg.start_unix_ms - unix_ms()).unwrap_or(0));
    let start = Instant::now() + wait;
    let window_start = start + Duration::from_millis(cfg.warmup_ms);
    let stop = window_start + Duration::from_millis(cfg.window_ms);
    let plan = Rc::new(Plan {
        start,
        window_start,
        stop,
        drain_deadline: stop + Duration::from_millis(cfg.drain_ms),
        seq_base: cfg.seq_base,
        change_ratio: cfg.change_ratio,
        expect: cfg.expect,
        ack_timeout: Duration::from_millis(cfg.ack_timeout_ms),
        max_retransmit: cfg.max_retransmit,
    });
    let tally = Rc::new(RefCell::new(Tally {
        hist: Some(new_histogram()),
        ..Tally::default()
    }));
    let interval = (cfg.rate > 0.0).then(|| Duration::from_secs_f64(n_endpoints as f64 / cfg.rate));
    let mut tasks = Vec::with_capacity(n_endpoints);
    for (i, ep) in endpoints.into_iter().enumerate() {
        // Spread the endpoints' first sends evenly over one interval (100 ms closed loop).
        let spread = interval.unwrap_or(Duration::from_millis(100));
        let first = plan.start + spread.mul_f64(i as f64 / n_endpoints as f64);
        tasks.push(tokio::task::spawn_local(ep.run(
            first,
            interval,
            plan.clone(),
            tally.clone(),
        )));
    }
    if cfg.progress_secs > 0 {
        tokio::task::spawn_local(progress(
            cfg.label.clone(),
            cfg.progress_secs,
            plan.clone(),
            tally.clone(),
        ));
    }
    let mut records = Vec::with_capacity(piles.len());
    for t in tasks {
        records.extend(t.await?);
    }
    let mut t = tally.borrow_mut();
    let hist = t.hist.take().unwrap_or_else(new_histogram);
    Ok(WorkerResult {
        counts: t.counts.clone(),
        codes: std::mem::take(&mut t.codes),
        latency: encode_histogram(&hist),
        piles: records,
        cpu_secs: process_cpu_secs("self").unwrap_or(0.0),
    })
}

async fn progress(label: String, every: u64, plan: Rc<Plan>, tally: Rc<RefCell<Tally>>) {
    tokio::time::sleep_until(plan.start).await;
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    tick.tick().await;
    let mut last = (0u64, Instant::now());
    loop {
        tick.tick().await;
        let now = Instant::now();
        let c = tally.borrow().counts.clone();
        let rate = (c.completed - last.0) as f64 / now.duration_since(last.1).as_secs_f64();
        eprintln!(
            "[{label}] t={:>4.0}s completed/s={rate:>8.0} completed={} 5.03={} retransmissions={} timeouts={}",
            now.duration_since(plan.start).as_secs_f64(),
            c.completed,
            c.unavailable,
            c.retransmissions,
            c.timed_out,
        );
        last = (c.completed, now);
        if now >= plan.drain_deadline {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running a load: workers in processes, merged results.

/// The load to apply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadSpec {
    /// UDP endpoints (sockets), at most one per pile.
    pub endpoints: usize,
    /// Worker processes (0: one per 16,000 endpoints).
    pub procs: usize,
    /// Reports per second in total; 0 runs closed loop.
    pub rate: f64,
    /// Load before the measured window.
    pub warmup: Duration,
    /// Measured window.
    pub window: Duration,
    /// Wait for outstanding exchanges after the window.
    pub drain: Duration,
    /// Share of reports that flip the bay.
    pub change_ratio: f64,
    /// What answers.
    pub expect: Expect,
    /// RFC 7252 ACK_TIMEOUT.
    pub ack_timeout: Duration,
    /// RFC 7252 MAX_RETRANSMIT.
    pub max_retransmit: u32,
    /// Random seed.
    pub seed: u64,
    /// Progress line interval in seconds (0: none).
    pub progress_secs: u64,
    /// Stop the load when the disk holding the work folder has less free space than this
    /// (MiB; 0: never), so a run cannot fill a shared machine's disk.
    pub min_free_mib: u64,
    /// Niceness added to the worker processes (they start through `nice(1)`; 0 adds none). The piles a
    /// generator stands for are remote devices that take nothing from the server's cores; on
    /// one shared machine a positive niceness lets the generator use what the server leaves
    /// instead of preempting it (its own delays still count in the latency it measures).
    pub nice: i32,
}

/// What a load run measured, workers merged.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// Counters.
    pub counts: Counts,
    /// Answers by code.
    pub codes: BTreeMap<String, u64>,
    /// Send-to-ACK latency (µs) of the window's reports.
    pub latency: Histogram<u64>,
    /// Per pile.
    pub piles: Vec<PileRecord>,
    /// CPU seconds the generator used.
    pub generator_cpu_secs: f64,
    /// The measured window.
    pub window: Duration,
    /// The sequence-number base of this run.
    pub seq_base: i64,
    /// Samples of the watched process: (seconds since start, RSS KiB).
    pub rss_samples: Vec<(f64, u64)>,
    /// CPU seconds the watched process used during the window.
    pub server_cpu_secs: Option<f64>,
    /// CPU seconds the generator's workers used during the window.
    pub generator_window_cpu_secs: Option<f64>,
    /// CPU seconds the watched process's threads used during the window, by thread name
    /// (threads that ended during the window are missing).
    pub server_thread_cpu_secs: BTreeMap<String, f64>,
    /// Machine-wide CPU use during the window (0..=1 of all cores).
    pub machine_busy: Option<f64>,
}

impl LoadOutcome {
    /// Reports completed per second in the window.
    pub fn completed_per_sec(&self) -> f64 {
        self.counts.window_completed as f64 / self.window.as_secs_f64()
    }
}

/// Runs `spec` against `target` with the piles of `piles_file` (`n_piles` lines), watching
/// process `watch` (the server) for memory and CPU.
#[allow(clippy::too_many_arguments)]
pub async fn run_load(
    exe: &Path,
    workdir: &Path,
    label: &str,
    target: SocketAddr,
    piles_file: &Path,
    n_piles: usize,
    spec: &LoadSpec,
    watch: Option<u32>,
) -> anyhow::Result<LoadOutcome> {
    let endpoints = spec.endpoints.clamp(1, n_piles.max(1));
    let procs = if spec.procs == 0 {
        endpoints.div_ceil(SOCKETS_PER_WORKER)
    } else {
        spec.procs
    }
    .clamp(1, endpoints);
    if endpoints.div_ceil(procs) > SOCKETS_PER_WORKER {
        anyhow::bail!(
            "{endpoints} endpoints need at least {} worker processes",
            endpoints.div_ceil(SOCKETS_PER_WORKER)
        );
    }
    let seq_base = fresh_seq_base();
    let start_unix_ms = unix_ms() + 1500 + i64::try_from(endpoints / 10).unwrap_or(0);
    let mut children = Vec::new();
    let mut outs = Vec::new();
    for w in 0..procs {
        let ep = (endpoints * w / procs, endpoints * (w + 1) / procs);
        let pl = (n_piles * w / procs, n_piles * (w + 1) / procs);
        let out = workdir.join(format!("{label}-worker{w}.json"));
        let _ = std::fs::remove_file(&out);
        let cfg = WorkerConfig {
            label: format!("{label} w{w}/{procs}"),
            target,
            piles_file: piles_file.to_owned(),
            piles: pl,
            endpoints: ep,
            rate: spec.rate * (ep.1 - ep.0) as f64 / endpoints as f64,
            start_unix_ms,
            warmup_ms: u64::try_from(spec.warmup.as_millis()).unwrap_or(u64::MAX),
            window_ms: u64::try_from(spec.window.as_millis()).unwrap_or(u64::MAX),
            drain_ms: u64::try_from(spec.drain.as_millis()).unwrap_or(u64::MAX),
            seq_base,
            change_ratio: spec.change_ratio,
            expect: spec.expect,
            ack_timeout_ms: u64::try_from(spec.ack_timeout.as_millis()).unwrap_or(2000),
            max_retransmit: spec.max_retransmit,
            seed: spec.seed.wrapping_add(w as u64),
            out: out.clone(),
            progress_secs: if w == 0 { spec.progress_secs } else { 0 },
        };
        let cfg_path = workdir.join(format!("{label}-worker{w}.config.json"));
        std::fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg)?)?;
        let child = tokio::process::Command::new("nice")
            .arg("-n")
            .arg(spec.nice.to_string())
            .arg(exe)
            .arg("worker")
            .arg("--config")
            .arg(&cfg_path)
            .kill_on_drop(true)
            .spawn()?;
        children.push(child);
        outs.push(out);
    }

    // Watch the server while the workers run.
    let t0 = std::time::Instant::now();
    let start_in = Duration::from_millis(u64::try_from(start_unix_ms - unix_ms()).unwrap_or(0));
    let window_start = t0 + start_in + spec.warmup;
    let window_end = window_start + spec.window;
    let mut rss_samples = Vec::new();
    let mut cpu_at_start = None;
    let mut cpu_at_end = None;
    let mut machine_at_start = None;
    let mut machine_at_end = None;
    let mut gen_at_start = None;
    let mut gen_at_end = None;
    let mut threads_at_start: Option<BTreeMap<String, f64>> = None;
    let mut threads_at_end: Option<BTreeMap<String, f64>> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let pid = watch.map(|p| p.to_string());
    let mut last_disk_check = t0;
    loop {
        tick.tick().await;
        let now = std::time::Instant::now();
        if spec.min_free_mib > 0 && now.duration_since(last_disk_check) >= Duration::from_secs(2) {
            last_disk_check = now;
            if let Some(free) = free_mib(workdir) {
                if free < spec.min_free_mib {
                    for c in &mut children {
                        let _ = c.start_kill();
                    }
                    anyhow::bail!(
                        "only {free} MiB left on the disk of {}: load stopped (limit --min-free-mib {})",
                        workdir.display(),
                        spec.min_free_mib
                    );
                }
            }
        }
        if let Some(pid) = watch {
            if let Some(kib) = status_kib(pid, "VmRSS") {
                if rss_samples.last().is_none_or(|(t, _): &(f64, u64)| {
                    now.duration_since(t0).as_secs_f64() - t >= 1.0
                }) {
                    rss_samples.push((now.duration_since(t0).as_secs_f64(), kib));
                }
            }
        }
        if now >= window_start && machine_at_start.is_none() {
            machine_at_start = machine_jiffies();
            cpu_at_start = pid.as_deref().and_then(process_cpu_secs);
            gen_at_start = Some(children_cpu_secs(&children));
            threads_at_start = watch.map(thread_cpu_secs);
        }
        if now >= window_end && machine_at_end.is_none() {
            machine_at_end = machine_jiffies();
            cpu_at_end = pid.as_deref().and_then(process_cpu_secs);
            gen_at_end = Some(children_cpu_secs(&children));
            threads_at_end = watch.map(thread_cpu_secs);
        }
        let mut running = false;
        for c in &mut children {
            if c.try_wait()?.is_none() {
                running = true;
            }
        }
        if !running {
            break;
        }
    }
    for (w, c) in children.iter_mut().enumerate() {
        let status = c.wait().await?;
        if !status.success() {
            anyhow::bail!("worker {w} failed: {status}");
        }
    }

    let mut counts = Counts::default();
    let mut codes = BTreeMap::new();
    let mut latency = new_histogram();
    let mut piles = Vec::with_capacity(n_piles);
    let mut generator_cpu_secs = 0.0;
    for out in &outs {
        let r: WorkerResult = serde_json::from_slice(&std::fs::read(out)?)?;
        counts.add(&r.counts);
        for (k, v) in r.codes {
            *codes.entry(k).or_insert(0) += v;
        }
        latency.add(decode_histogram(&r.latency)?)?;
        piles.extend(r.piles);
        generator_cpu_secs += r.cpu_secs;
    }
    let machine_busy = match (machine_at_start, machine_at_end) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => Some((b1 - b0) as f64 / (t1 - t0) as f64),
        _ => None,
    };
    Ok(LoadOutcome {
        counts,
        codes,
        latency,
        piles,
        generator_cpu_secs,
        window: spec.window,
        seq_base,
        rss_samples,
        server_cpu_secs: cpu_at_start.zip(cpu_at_end).map(|(a, b)| b - a),
        generator_window_cpu_secs: gen_at_start.zip(gen_at_end).map(|(a, b)| b - a),
        server_thread_cpu_secs: match (threads_at_start, threads_at_end) {
            (Some(a), Some(b)) => b
                .into_iter()
                .map(|(name, secs)| {
                    let before = a.get(&name).copied().unwrap_or(0.0);
                    (name, secs - before)
                })
                .collect(),
            _ => BTreeMap::new(),
        },
        machine_busy,
    })
}

fn children_cpu_secs(children: &[tokio::process::Child]) -> f64 {
    children
        .iter()
        .filter_map(|c| c.id())
        .filter_map(|p| process_cpu_secs(&p.to_string()))
        .sum()
}

/// Machine-wide CPU use over `over` (0..=1 of all cores).
pub async fn machine_busy_over(over: Duration) -> Option<f64> {
    let (b0, t0) = machine_jiffies()?;
    tokio::time::sleep(over).await;
    let (b1, t1) = machine_jiffies()?;
    (t1 > t0).then(|| (b1 - b0) as f64 / (t1 - t0) as f64)
}

// ---------------------------------------------------------------------------------------
// Checking the database against what was acknowledged.

/// Loss and duplication, from the database's point of view.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    /// `report` events of this run in the database.
    pub stored: i64,
    /// Reports acknowledged with success.
    pub acked: i64,
    /// Acknowledged reports missing from the database (must be 0).
    pub lost: i64,
    /// Reports recorded more than once (must be 0).
    pub duplicated: i64,
    /// Reports stored whose acknowledgement never arrived (timed out or cut off at the end).
    pub stored_unacked: i64,
    /// Stored reports with a sequence number this run never sent (must be 0).
    pub foreign: i64,
    /// Piles whose sequence numbers were fetched one by one (those with a discrepancy).
    pub piles_inspected: usize,
}

/// Compares `piles` (what the generator sent and had acknowledged, sequence numbers relative
/// to `seq_base`) with the `report` events in `store`.
pub async fn verify(
    store: &store::Store,
    piles: &[PileRecord],
    seq_base: i64,
) -> anyhow::Result<Verification> {
    let tallies: HashMap<i64, store::provision::ReportTally> = store
        .report_tallies_since(seq_base)
        .await?
        .into_iter()
        .map(|t| (t.pile.0, t))
        .collect();
    let mut v = Verification::default();
    let mut seen = HashSet::with_capacity(piles.len());
    for r in piles {
        seen.insert(r.pile);
        let t = tallies.get(&r.pile);
        let (count, distinct, sum, max) = t.map_or((0, 0, 0, seq_base), |t| {
            (t.count, t.distinct, t.sum, t.max_seq)
        });
        v.stored += count;
        v.acked += r.acked;
        v.duplicated += count - distinct;
        if r.unacked.is_empty()
            && count == r.acked
            && distinct == count
            && sum == r.acked_sum
            && max - seq_base <= r.sent
        {
            continue;
        }
        v.piles_inspected += 1;
        let stored: Vec<i64> = store
            .report_seqs_since(PileId(r.pile), seq_base)
            .await?
            .into_iter()
            .map(|s| s - seq_base)
            .collect();
        let stored_set: HashSet<i64> = stored.iter().copied().collect();
        let unacked: HashSet<i64> = r.unacked.iter().copied().collect();
        for s in 1..=r.sent {
            let acked = !unacked.contains(&s);
            match (acked, stored_set.contains(&s)) {
                (true, false) => v.lost += 1,
                (false, true) => v.stored_unacked += 1,
                _ => {}
            }
        }
        v.foreign += stored_set
            .iter()
            .filter(|s| **s < 1 || **s > r.sent)
            .count() as i64;
    }
    for (pile, t) in &tallies {
        if !seen.contains(pile) {
            v.stored += t.count;
            v.foreign += t.count;
        }
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------
// Servers under test, each in its own process.

/// A server process under test.
#[derive(Debug)]
pub struct ServerProcess {
    /// What it is.
    pub name: String,
    /// Where it listens for CoAP.
    pub addr: SocketAddr,
    child: tokio::process::Child,
}

impl ServerProcess {
    /// Starts `program args`, logging to `log`, and waits until it answers a CoAP ping at
    /// `addr` (a bridge or libcoap answers with a Reset, the echo server echoes it).
    pub async fn start(
        name: &str,
        program: &Path,
        args: &[String],
        addr: SocketAddr,
        log: &Path,
        ready_within: Duration,
    ) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", program.display()))?;
        let deadline = Instant::now() + ready_within;
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "{name} exited during start-up ({status}); see {}",
                    log.display()
                );
            }
            if ping(addr).await {
                break;
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "{name} did not answer a CoAP ping at {addr}; see {}",
                    log.display()
                );
            }
        }
        Ok(ServerProcess {
            name: name.to_owned(),
            addr,
            child,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Peak resident memory so far (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.pid().and_then(|p| status_kib(p, "VmHWM"))
    }

    /// Stops it: SIGTERM, then SIGKILL after 10 s.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_err()
            {
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

/// Sends a CoAP ping (empty CON) and waits up to 200 ms for any answer.
pub async fn ping(addr: SocketAddr) -> bool {
    let Ok(s) = UdpSocket::bind(source_addr(addr, 0)).await else {
        return false;
    };
    if s.connect(addr).await.is_err() {
        return false;
    }
    let mid: u16 = rand::random();
    let [a, b] = mid.to_be_bytes();
    if s.send(&[0x40, 0, a, b]).await.is_err() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        return false;
    }
    let mut buf = [0u8; 64];
    match tokio::time::timeout(Duration::from_millis(200), s.recv(&mut buf)).await {
        Ok(Ok(n)) => n >= 4 && buf[2..4] == [a, b],
        Ok(Err(_)) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            false
        }
        Err(_) => false,
    }
}

/// The raw UDP echo baseline: sends every datagram straight back, doing no other work.
pub fn echo_server(addr: SocketAddr, recv_buffer: usize) -> std::io::Result<()> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = socket.set_recv_buffer_size(recv_buffer);
    socket.bind(&addr.into())?;
    let socket: std::net::UdpSocket = socket.into();
    let mut buf = [0u8; 2048];
    loop {
        match socket.recv_from(&mut buf) {
            Ok((n, peer)) => {
                let _ = socket.send_to(&buf[..n], peer);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {}
        }
    }
}

/// Percentile of `h` in milliseconds.
pub fn percentile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        return f64::NAN;
    }
    h.value_at_quantile(q) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn histograms_survive_the_result_file() {
        let mut h = new_histogram();
        for v in [100, 2_000, 45_000, 45_100] {
            h.record(v).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn loopback_sources_spread_over_addresses() {
        let t: SocketAddr = "127.0.0.1:5703".parse().unwrap();
        assert_eq!(source_addr(t, 0).ip(), IpAddr::from([127, 0, 0, 2]));
        assert_eq!(
            source_addr(t, SOCKETS_PER_WORKER).ip(),
            IpAddr::from([127, 0, 0, 3])
        );
        let remote: SocketAddr = "10.0.0.1:5683".parse().unwrap();
        assert!(source_addr(remote, 5).ip().is_unspecified());
    }

    #[test]
    fn piles_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("cb-loadgen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("piles.csv");
        write_piles_file(&f, &[(PileId(3), "ab".into()), (PileId(9), "cd".into())]).unwrap();
        let back = read_piles_file(&f).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!((back[1].id, back[1].secret.as_str()), (PileId(9), "cd"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn endpoint_reports_to_an_echo_and_retransmits() {
        // A fake server that ignores the first datagram and echoes the rest.
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            let mut n_seen = 0;
            loop {
                let (n, peer) = server.recv_from(&mut buf).await.unwrap();
                n_seen += 1;
                if n_seen > 1 {
                    server.send_to(&buf[..n], peer).await.unwrap();
                }
            }
        });
        let now = Instant::now();
        let plan = Plan {
            start: now,
            window_start: now,
            stop: now + Duration::from_secs(5),
            drain_deadline: now + Duration::from_secs(10),
            seq_base: 1000,
            change_ratio: 0.5,
            expect: Expect::Baseline,
            ack_timeout: Duration::from_millis(50),
            max_retransmit: 4,
        };
        let mut ep = Endpoint {
            socket: open_socket(addr, 0).unwrap(),
            piles: vec![SimPile {
                path: b"7".to_vec(),
                query: b"k=x".to_vec(),
                occupied: false,
                record: PileRecord::default(),
            }],
            mid: 1,
            token: 1,
            rng: StdRng::seed_from_u64(1),
        };
        let tally = RefCell::new(Tally::default());
        let r1 = ep.next_report(0, &plan);
        assert!(ep.exchange(0, &r1, &plan, &tally).await);
        let r2 = ep.next_report(0, &plan);
        assert!(ep.exchange(0, &r2, &plan, &tally).await);
        assert_eq!((r1.seq, r2.seq), (1001, 1002));
        let t = tally.borrow();
        assert_eq!(t.counts.retransmissions, 1);
        assert_eq!(t.counts.datagrams, 3);
        assert_eq!(t.codes.get("echo"), Some(&2));
    }
}

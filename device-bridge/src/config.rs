//! Bridge settings.

use std::{net::SocketAddr, time::Duration};

/// How the bridge listens and batches.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// UDP address to bind (default `0.0.0.0:5683`).
    pub addr: SocketAddr,
    /// Largest number of reports committed in one transaction.
    pub max_batch: usize,
    /// Least time from one commit's start to the next one's, per writer: under load the
    /// reports of this span share one commit (fewer syncs, fewer rewritten pages); a report
    /// arriving after a quiet spell is committed at once.
    pub commit_spacing: Duration,
    /// Reports waiting for a commit before the bridge answers 5.03 (back-pressure).
    pub queue_capacity: usize,
    /// Parallel writers (reports are sharded by pile so each pile's reports stay in order).
    /// Use 1 for SQLite, which has a single writer anyway.
    pub writers: usize,
    /// Largest accepted report payload in bytes.
    pub max_payload: usize,
    /// Answered exchanges remembered per peer for deduplication.
    pub dedup_per_peer: usize,
    /// How long a peer's exchanges are remembered (RFC 7252 EXCHANGE_LIFETIME, 247 s).
    pub exchange_lifetime: Duration,
    /// How often the credential cache is reloaded from the store.
    pub credential_refresh: Duration,
    /// Socket receive buffer size in bytes.
    pub recv_buffer: usize,
}

impl BridgeConfig {
    /// Defaults for `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        BridgeConfig {
            addr,
            // Group commit sizes itself: at a steady rate a batch is what arrived during the
            // previous commit (tens to hundreds). The ceiling only matters under overload, where
            // a larger batch shares its pages and its sync among more reports, so the writer
            // drains faster the further behind it is (1,024 capped it at ~17,000 reports/s
            // with 100,000 piles reporting in random order; docs/benchmarks.md, run F).
            max_batch: 8192,
            // At 20,000 reports/s over 100,000 piles: a commit every ~6 ms wrote 4,300 WAL
            // pages a second, one every ~14 ms 2,850, with a third less server CPU and a
            // lower p99 (docs/benchmarks.md, run J). It adds at most this much to a report's
            // wait, and only under load.
            commit_spacing: Duration::from_millis(12),
            // About a second of reports at full speed: past that a report would wait longer
            // than a pile's ACK_TIMEOUT (2-3 s) and come back as a retransmission, so the
            // bridge answers 5.03 instead and the pile backs off.
            queue_capacity: 16_384,
            writers: 1,
            max_payload: 256,
            dedup_per_peer: 8,
            exchange_lifetime: Duration::from_secs(247),
            credential_refresh: Duration::from_secs(4),
            recv_buffer: 4 << 20,
        }
    }
}

//! Message deduplication (RFC 7252 §4.5): a retransmitted request (same peer, same message
//! id, same token, within EXCHANGE_LIFETIME) gets the very response the first one got and is
//! applied once. Memory is bounded per peer; a request older than what a peer's slots hold
//! is still applied once, because the store is idempotent on (pile, sequence number).

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    time::{Duration, Instant},
};

/// What the cache knows about one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// First time: handle it.
    New,
    /// Still being committed: stay silent, the response follows.
    InFlight,
    /// Answered before: send these bytes again.
    Answered(Vec<u8>),
}

/// A token kept inline (RFC 7252 tokens are 0 to 8 bytes), so an entry owns no allocation
/// but its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    len: u8,
    bytes: [u8; 8],
}

impl Token {
    fn of(token: &[u8]) -> Self {
        let mut bytes = [0; 8];
        let len = token.len().min(8);
        bytes[..len].copy_from_slice(&token[..len]);
        Token {
            len: u8::try_from(len).unwrap_or(8),
            bytes,
        }
    }
}

/// One remembered exchange: about 40 bytes plus its encoded answer (a dozen bytes for a
/// report's 2.04), so 100,000 piles' worth of EXCHANGE_LIFETIME fits in a few tens of MiB.
#[derive(Debug)]
struct Entry {
    mid: u16,
    token: Token,
    /// Milliseconds since the cache's epoch.
    at: u64,
    response: Option<Box<[u8]>>,
}

/// Per-peer bounded exchange memory.
#[derive(Debug)]
pub struct Dedup {
    peers: HashMap<SocketAddr, VecDeque<Entry>>,
    per_peer: usize,
    lifetime: u64,
    epoch: Instant,
}

impl Dedup {
    /// A cache keeping `per_peer` exchanges per peer for `lifetime`.
    pub fn new(per_peer: usize, lifetime: Duration) -> Self {
        Dedup {
            peers: HashMap::new(),
            per_peer: per_peer.max(1),
            lifetime: u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX),
            epoch: Instant::now(),
        }
    }

    fn millis(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Looks up `(peer, mid)`; a new exchange is remembered as in flight.
    pub fn check(&mut self, peer: SocketAddr, mid: u16, token: &[u8], now: Instant) -> Seen {
        let now = self.millis(now);
        let lifetime = self.lifetime;
        let token = Token::of(token);
        let slots = self.peers.entry(peer).or_default();
        if let Some(e) = slots
            .iter_mut()
            .find(|e| e.mid == mid && now.saturating_sub(e.at) < lifetime)
        {
            if e.token == token {
                return match &e.response {
                    Some(bytes) => Seen::Answered(bytes.to_vec()),
                    None => Seen::InFlight,
                };
            }
            // Same id, other token: the peer reused the id (e.g. a restarted client): new.
            e.token = token;
            e.at = now;
            e.response = None;
            return Seen::New;
        }
        if slots.len() >= self.per_peer {
            slots.pop_front();
        }
        slots.push_back(Entry {
            mid,
            token,
            at: now,
            response: None,
        });
        Seen::New
    }

    /// Records the response sent for `(peer, mid)`.
    pub fn answered(&mut self, peer: SocketAddr, mid: u16, response: &[u8]) {
        if let Some(e) = self
            .peers
            .get_mut(&peer)
            .and_then(|s| s.iter_mut().find(|e| e.mid == mid))
        {
            e.response = Some(response.into());
        }
    }

    /// Forgets `(peer, mid)` so a retransmission is handled afresh (after a failed commit).
    pub fn forget(&mut self, peer: SocketAddr, mid: u16) {
        if let Some(s) = self.peers.get_mut(&peer) {
            s.retain(|e| e.mid != mid);
        }
    }

    /// Drops exchanges older than the lifetime, and peers with none left.
    pub fn expire(&mut self, now: Instant) {
        let now = self.millis(now);
        let lifetime = self.lifetime;
        self.peers.retain(|_, s| {
            while s
                .front()
                .is_some_and(|e| now.saturating_sub(e.at) >= lifetime)
            {
                s.pop_front();
            }
            !s.is_empty()
        });
    }

    /// Number of remembered exchanges.
    pub fn len(&self) -> usize {
        self.peers.values().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn retransmission_gets_the_same_answer() {
        let mut d = Dedup::new(4, Duration::from_secs(247));
        let t = Instant::now();
        assert_eq!(d.check(peer(1), 10, b"tk", t), Seen::New);
        assert_eq!(d.check(peer(1), 10, b"tk", t), Seen::InFlight);
        d.answered(peer(1), 10, &[1, 2, 3]);
        assert_eq!(
            d.check(peer(1), 10, b"tk", t),
            Seen::Answered(vec![1, 2, 3])
        );
        // Another peer with the same id is a different exchange.
        assert_eq!(d.check(peer(2), 10, b"tk", t), Seen::New);
    }

    #[test]
    fn reused_id_with_other_token_is_new() {
        let mut d = Dedup::new(4, Duration::from_secs(247));
        let t = Instant::now();
        d.check(peer(1), 10, b"a", t);
        d.answered(peer(1), 10, &[9]);
        assert_eq!(d.check(peer(1), 10, b"b", t), Seen::New);
    }

    #[test]
    fn bounded_per_peer_and_expires() {
        let mut d = Dedup::new(2, Duration::from_secs(10));
        let t = Instant::now();
        for mid in 0..5 {
            d.check(peer(1), mid, b"", t);
        }
        assert_eq!(d.len(), 2);
        d.expire(t + Duration::from_secs(11));
        assert_eq!(d.len(), 0);
        assert_eq!(
            d.check(peer(1), 4, b"", t + Duration::from_secs(11)),
            Seen::New
        );
    }

    #[test]
    fn forget_allows_retry() {
        let mut d = Dedup::new(2, Duration::from_secs(10));
        let t = Instant::now();
        d.check(peer(1), 1, b"", t);
        d.forget(peer(1), 1);
        assert_eq!(d.check(peer(1), 1, b"", t), Seen::New);
    }
}

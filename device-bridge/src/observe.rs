//! RFC 7641 observers of `/h/<pile>`: registration, notifications sent as confirmable
//! messages, and clean-up of observers that stop answering (no ACK after the retransmissions
//! RFC 7252 allows, or a Reset).

use crate::message::Exchange;
use coap_lite::{ContentFormat, MessageClass, MessageType, Packet, ResponseType};
use domain::PileId;
use std::{
    collections::HashMap,
    net::SocketAddr,
    time::{Duration, Instant},
};

/// RFC 7252 ACK_TIMEOUT.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);
/// RFC 7252 MAX_RETRANSMIT.
const MAX_RETRANSMIT: u32 = 4;
/// Observers kept per pile (a pile normally has one: itself).
const MAX_PER_PILE: usize = 4;

#[derive(Debug)]
struct Observer {
    peer: SocketAddr,
    token: Vec<u8>,
}

#[derive(Debug)]
struct Pending {
    pile: PileId,
    token: Vec<u8>,
    bytes: Vec<u8>,
    attempts: u32,
    timeout: Duration,
    due: Instant,
}

/// The observer registry.
#[derive(Debug, Default)]
pub struct Observers {
    by_pile: HashMap<PileId, Vec<Observer>>,
    pending: HashMap<(SocketAddr, u16), Pending>,
    /// One Observe sequence for the whole bridge: it only ever increases, so a
    /// re-registration never makes a client see numbers go backwards (RFC 7641 §4.4).
    next_seq: u32,
}

/// A datagram to send.
pub type Outgoing = (SocketAddr, Vec<u8>);

impl Observers {
    /// Registers (or refreshes) `peer`'s observation of `pile`; returns the Observe value for
    /// the registration response.
    pub fn register(&mut self, pile: PileId, peer: SocketAddr, ex: &Exchange) -> u32 {
        let seq = self.bump();
        let list = self.by_pile.entry(pile).or_default();
        list.retain(|o| !(o.peer == peer && o.token == ex.token));
        if list.len() >= MAX_PER_PILE {
            list.remove(0);
        }
        list.push(Observer {
            peer,
            token: ex.token.clone(),
        });
        seq
    }

    /// The next Observe value (24 bits, wrapping as RFC 7641 allows).
    fn bump(&mut self) -> u32 {
        self.next_seq = (self.next_seq + 1) & 0x00ff_ffff;
        self.next_seq
    }

    /// Removes `peer`'s observation with `token` (GET with Observe=1, or a Reset).
    pub fn deregister(&mut self, peer: SocketAddr, token: &[u8]) {
        for list in self.by_pile.values_mut() {
            list.retain(|o| !(o.peer == peer && o.token == token));
        }
        self.by_pile.retain(|_, l| !l.is_empty());
    }

    /// True when someone observes `pile`.
    pub fn observed(&self, pile: PileId) -> bool {
        self.by_pile.contains_key(&pile)
    }

    /// Number of observations.
    pub fn count(&self) -> usize {
        self.by_pile.values().map(Vec::len).sum()
    }

    /// Builds a confirmable notification carrying `payload` for every observer of `pile`.
    pub fn notify(
        &mut self,
        pile: PileId,
        payload: &[u8],
        mut next_mid: impl FnMut() -> u16,
        now: Instant,
    ) -> Vec<Outgoing> {
        let Some(list) = self.by_pile.get(&pile) else {
            return Vec::new();
        };
        let targets: Vec<(SocketAddr, Vec<u8>)> =
            list.iter().map(|o| (o.peer, o.token.clone())).collect();
        let mut out = Vec::new();
        for (peer, token) in targets {
            let seq = self.bump();
            // A newer notification replaces an unacknowledged older one (RFC 7641 §4.5.2),
            // keeping its retransmission count so a silent peer is still detected.
            let mut attempts = 0;
            self.pending.retain(|(pp, _), p| {
                let same = *pp == peer && p.token == token;
                if same {
                    attempts = attempts.max(p.attempts);
                }
                !same
            });
            let mid = next_mid();
            let mut p = Packet::new();
            p.header.set_type(MessageType::Confirmable);
            p.header.message_id = mid;
            p.header.code = MessageClass::Response(ResponseType::Content);
            p.set_token(token.clone());
            p.set_observe_value(seq);
            p.set_content_format(ContentFormat::ApplicationJSON);
            p.payload = payload.to_vec();
            let bytes = crate::message::encode(&p);
            self.pending.insert(
                (peer, mid),
                Pending {
                    pile,
                    token,
                    bytes: bytes.clone(),
                    attempts,
                    timeout: ACK_TIMEOUT,
                    due: now + ACK_TIMEOUT,
                },
            );
            out.push((peer, bytes));
        }
        out
    }

    /// An ACK arrived for a notification.
    pub fn acked(&mut self, peer: SocketAddr, mid: u16) {
        self.pending.remove(&(peer, mid));
    }

    /// A Reset arrived: the peer no longer wants notifications.
    pub fn reset(&mut self, peer: SocketAddr, mid: u16) {
        if let Some(p) = self.pending.remove(&(peer, mid)) {
            self.pending
                .retain(|(pp, _), q| !(*pp == peer && q.token == p.token));
            self.deregister(peer, &p.token);
        }
    }

    /// Retransmits notifications whose ACK is overdue, and drops observers that never
    /// answered (returns what to resend).
    pub fn retransmit(&mut self, now: Instant) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let mut gone = Vec::new();
        for ((peer, _), p) in self.pending.iter_mut() {
            if p.due > now {
                continue;
            }
            if p.attempts >= MAX_RETRANSMIT {
                gone.push((*peer, p.pile, p.token.clone()));
                continue;
            }
            p.attempts += 1;
            p.timeout *= 2;
            p.due = now + p.timeout;
            out.push((*peer, p.bytes.clone()));
        }
        for (peer, pile, token) in gone {
            self.pending
                .retain(|(pp, _), p| !(*pp == peer && p.token == token));
            if let Some(list) = self.by_pile.get_mut(&pile) {
                list.retain(|o| !(o.peer == peer && o.token == token));
                if list.is_empty() {
                    self.by_pile.remove(&pile);
                }
            }
            tracing::info!(%peer, pile = pile.0, "observer stopped answering: removed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(token: &[u8]) -> Exchange {
        Exchange {
            mid: 1,
            token: token.to_vec(),
            confirmable: true,
        }
    }

    #[test]
    fn notifies_then_acks() {
        let mut o = Observers::default();
        let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
        o.register(PileId(1), peer, &ex(b"t"));
        let mut mid = 100;
        let now = Instant::now();
        let out = o.notify(
            PileId(1),
            b"{}",
            || {
                mid += 1;
                mid
            },
            now,
        );
        assert_eq!(out.len(), 1);
        let p = Packet::from_bytes(&out[0].1).expect("packet");
        assert_eq!(p.get_token(), b"t");
        assert_eq!(p.get_observe_value().and_then(Result::ok), Some(2));
        o.acked(peer, 101);
        assert!(o.retransmit(now + Duration::from_secs(100)).is_empty());
        assert!(o.observed(PileId(1)));
        assert!(o.notify(PileId(2), b"{}", || 1, now).is_empty());
    }

    #[test]
    fn silent_observer_is_removed_after_retransmissions() {
        let mut o = Observers::default();
        let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
        o.register(PileId(1), peer, &ex(b"t"));
        let mut now = Instant::now();
        o.notify(PileId(1), b"{}", || 7, now);
        let mut resent = 0;
        for _ in 0..10 {
            now += Duration::from_secs(60);
            resent += o.retransmit(now).len();
        }
        assert_eq!(resent, MAX_RETRANSMIT as usize);
        assert!(!o.observed(PileId(1)));
        assert_eq!(o.count(), 0);
    }

    #[test]
    fn newer_notification_replaces_pending_older_and_numbers_only_grow() {
        let mut o = Observers::default();
        let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
        let first = o.register(PileId(1), peer, &ex(b"t"));
        let now = Instant::now();
        o.notify(PileId(1), b"held", || 10, now);
        o.notify(PileId(1), b"free", || 11, now);
        let resent = o.retransmit(now + Duration::from_secs(10));
        assert_eq!(resent.len(), 1, "only the newest is retransmitted");
        let p = Packet::from_bytes(&resent[0].1).expect("packet");
        assert_eq!(p.payload, b"free");
        let again = o.register(PileId(1), peer, &ex(b"t"));
        assert!(again > first);
        let out = o.notify(PileId(1), b"x", || 12, now);
        let seq = Packet::from_bytes(&out[0].1)
            .expect("packet")
            .get_observe_value()
            .and_then(Result::ok);
        assert!(seq > Some(again));
    }

    #[test]
    fn reset_deregisters() {
        let mut o = Observers::default();
        let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
        o.register(PileId(1), peer, &ex(b"t"));
        o.notify(PileId(1), b"{}", || 9, Instant::now());
        o.reset(peer, 9);
        assert!(!o.observed(PileId(1)));
    }
}

//! Many datagrams, to many peers, in one system call (`sendmmsg(2)`): how a committed batch's
//! acknowledgements leave. One `sendto` per acknowledgement was 20,000 system calls a second
//! at the benchmark's rate, each costly where kernel entries are (a virtual machine:
//! docs/benchmarks.md, run L).

use nix::sys::socket::{sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage};
use std::{
    io::{self, IoSlice},
    net::SocketAddr,
    os::fd::AsRawFd,
};
use tokio::{io::Interest, net::UdpSocket};

/// Datagrams per `sendmmsg` call (the kernel takes at most `UIO_MAXIOV`, 1,024).
const CHUNK: usize = 64;

/// Sends every datagram of `out` from `socket`, in order. A datagram the kernel refuses (the
/// peer's address unusable, say) is dropped with a debug log, as a lost datagram would be;
/// the peer retransmits and gets it from the dedup cache.
pub(crate) async fn send_all(socket: &UdpSocket, out: &[(Vec<u8>, SocketAddr)]) {
    let mut rest = out;
    while !rest.is_empty() {
        let chunk = &rest[..rest.len().min(CHUNK)];
        match socket.try_io(Interest::WRITABLE, || send_chunk(socket, chunk)) {
            Ok(sent) => rest = &rest[sent.max(1).min(rest.len())..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(e) = socket.writable().await {
                    tracing::warn!(error = %e, "CoAP socket unusable; answers dropped");
                    return;
                }
            }
            Err(e) => {
                // The first datagram of the chunk failed on its own: skip it.
                tracing::debug!(peer = %chunk[0].1, error = %e, "send failed");
                rest = &rest[1..];
            }
        }
    }
}

/// One `sendmmsg` call for `chunk`: how many datagrams the kernel took (at least one).
fn send_chunk(socket: &UdpSocket, chunk: &[(Vec<u8>, SocketAddr)]) -> io::Result<usize> {
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(chunk.len(), None);
    let slices: Vec<[IoSlice<'_>; 1]> = chunk.iter().map(|(b, _)| [IoSlice::new(b)]).collect();
    let addrs: Vec<Option<SockaddrStorage>> = chunk
        .iter()
        .map(|(_, a)| Some(SockaddrStorage::from(*a)))
        .collect();
    let none: [ControlMessage<'_>; 0] = [];
    let sent = sendmmsg(
        socket.as_raw_fd(),
        &mut headers,
        &slices,
        &addrs,
        none,
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    Ok(sent.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_datagram_arrives_in_order_at_its_own_peer() {
        let sender = UdpSocket::bind("127.0.0.1:0").await.expect("sender");
        let a = UdpSocket::bind("127.0.0.1:0").await.expect("peer a");
        let b = UdpSocket::bind("127.0.0.1:0").await.expect("peer b");
        let (to_a, to_b) = (a.local_addr().expect("a"), b.local_addr().expect("b"));
        // More than one chunk, alternating peers.
        let out: Vec<(Vec<u8>, SocketAddr)> = (0..150u16)
            .map(|i| {
                (
                    i.to_be_bytes().to_vec(),
                    if i % 2 == 0 { to_a } else { to_b },
                )
            })
            .collect();
        send_all(&sender, &out).await;
        let mut buf = [0u8; 8];
        for (peer, parity) in [(&a, 0u16), (&b, 1)] {
            for i in (parity..150).step_by(2) {
                let (n, from) = peer.recv_from(&mut buf).await.expect("datagram");
                assert_eq!(from, sender.local_addr().expect("sender addr"));
                assert_eq!(&buf[..n], i.to_be_bytes());
            }
        }
    }
}

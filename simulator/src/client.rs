//! A minimal RFC 7252 client for one pile: confirmable POSTs of reports with retransmission
//! (ACK_TIMEOUT 2 s × random factor 1.5, MAX_RETRANSMIT 4), randomised initial message id.

use coap_lite::{
    CoapOption, ContentFormat, MessageClass, MessageType, Packet, RequestType, ResponseType,
};
use domain::{PileId, Report};
use std::{net::SocketAddr, time::Duration};
use tokio::net::UdpSocket;

/// Why a report was not acknowledged with success.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No answer after every retransmission.
    #[error("no acknowledgement after {0} attempts")]
    Timeout(u32),
    /// The bridge answered with an error code and diagnostic.
    #[error("bridge answered {code:?}: {message}")]
    Rejected {
        /// Response code.
        code: ResponseType,
        /// Diagnostic payload.
        message: String,
    },
    /// Socket failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One pile's CoAP endpoint.
#[derive(Debug)]
pub struct PileClient {
    socket: UdpSocket,
    target: SocketAddr,
    pile: PileId,
    key: String,
    mid: u16,
    token: u32,
    /// Base ACK timeout (RFC 7252 ACK_TIMEOUT).
    pub ack_timeout: Duration,
    /// Retransmissions before giving up (RFC 7252 MAX_RETRANSMIT).
    pub max_retransmit: u32,
}

impl PileClient {
    /// A client for `pile` with key `key`, talking to the bridge at `target`.
    pub async fn connect(target: SocketAddr, pile: PileId, key: String) -> std::io::Result<Self> {
        let bind: SocketAddr = if target.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(bind).await?;
        Ok(PileClient {
            socket,
            target,
            pile,
            key,
            mid: rand::random(),
            token: rand::random(),
            ack_timeout: Duration::from_secs(2),
            max_retransmit: 4,
        })
    }

    /// The request datagram for `report` (JSON), with a fresh message id and token.
    pub fn request(&mut self, report: &Report) -> (u16, Vec<u8>, Vec<u8>) {
        self.mid = self.mid.wrapping_add(1);
        self.token = self.token.wrapping_add(1);
        let token = self.token.to_be_bytes().to_vec();
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.message_id = self.mid;
        p.header.code = MessageClass::Request(RequestType::Post);
        p.set_token(token.clone());
        p.add_option(CoapOption::UriPath, b"r".to_vec());
        p.add_option(CoapOption::UriPath, self.pile.0.to_string().into_bytes());
        p.add_option(CoapOption::UriQuery, format!("k={}", self.key).into_bytes());
        p.set_content_format(ContentFormat::ApplicationJSON);
        p.payload = device_bridge::codec::encode_json(report);
        (self.mid, token, p.to_bytes().unwrap_or_default())
    }

    /// Sends `report` and waits for its acknowledgement, retransmitting as RFC 7252 says.
    pub async fn send(&mut self, report: &Report) -> Result<ResponseType, SendError> {
        let (mid, token, bytes) = self.request(report);
        let jitter = 1.0 + rand::random::<f64>() * 0.5;
        let mut timeout = self.ack_timeout.mul_f64(jitter);
        let mut buf = [0u8; 1500];
        for attempt in 0..=self.max_retransmit {
            self.socket.send_to(&bytes, self.target).await?;
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                let recv = tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf)).await;
                let Ok(res) = recv else { break };
                let (n, _) = res?;
                let Ok(p) = Packet::from_bytes(&buf[..n]) else {
                    continue;
                };
                if p.header.message_id != mid || p.get_token() != token.as_slice() {
                    continue;
                }
                return match p.header.code {
                    MessageClass::Response(
                        code @ (ResponseType::Changed | ResponseType::Created),
                    ) => Ok(code),
                    MessageClass::Response(code) => Err(SendError::Rejected {
                        code,
                        message: String::from_utf8_lossy(&p.payload).into_owned(),
                    }),
                    _ => Err(SendError::Rejected {
                        code: ResponseType::UnKnown,
                        message: "reset".into(),
                    }),
                };
            }
            if attempt < self.max_retransmit {
                timeout *= 2;
            }
        }
        Err(SendError::Timeout(self.max_retransmit + 1))
    }
}

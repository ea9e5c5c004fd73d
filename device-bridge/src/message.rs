//! Building CoAP responses: piggy-backed on the ACK for confirmable requests, as NON for
//! non-confirmable ones, always echoing the request's token.

use coap_lite::{ContentFormat, MessageClass, MessageType, Packet, ResponseType};

/// Where a response goes and what it must echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The request's message id (echoed in a piggy-backed ACK).
    pub mid: u16,
    /// The request's token.
    pub token: Vec<u8>,
    /// Whether the request was confirmable.
    pub confirmable: bool,
}

impl Exchange {
    /// The exchange `packet` opens.
    pub fn of(packet: &Packet) -> Self {
        Exchange {
            mid: packet.header.message_id,
            token: packet.get_token().to_vec(),
            confirmable: packet.header.get_type() == MessageType::Confirmable,
        }
    }
}

/// A response for `ex`. `fresh_mid` is used for NON responses, which need their own id.
pub fn response(
    ex: &Exchange,
    fresh_mid: u16,
    code: ResponseType,
    format: Option<ContentFormat>,
    payload: Vec<u8>,
) -> Packet {
    let mut p = Packet::new();
    if ex.confirmable {
        p.header.set_type(MessageType::Acknowledgement);
        p.header.message_id = ex.mid;
    } else {
        p.header.set_type(MessageType::NonConfirmable);
        p.header.message_id = fresh_mid;
    }
    p.header.code = MessageClass::Response(code);
    p.set_token(ex.token.clone());
    if let Some(f) = format {
        p.set_content_format(f);
    }
    p.payload = payload;
    p
}

/// An error response with a short UTF-8 diagnostic payload (RFC 7252 §5.5.2).
pub fn diagnostic(ex: &Exchange, fresh_mid: u16, code: ResponseType, msg: &str) -> Packet {
    response(ex, fresh_mid, code, None, msg.as_bytes().to_vec())
}

/// Encodes a packet; a packet we built ourselves always encodes.
pub fn encode(p: &Packet) -> Vec<u8> {
    p.to_bytes().unwrap_or_default()
}

/// The exchange of a datagram whose options or payload could not be parsed, read from the
/// fixed 4-byte header and the token alone, so it can still be answered with 4.00.
pub fn salvage_exchange(buf: &[u8]) -> Option<Exchange> {
    let (&first, rest) = buf.split_first()?;
    let version = first >> 6;
    let kind = (first >> 4) & 0b11;
    let tkl = usize::from(first & 0x0f);
    let code = *rest.first()?;
    // Only requests (class 0, non-empty) are answered; responses and empties are ignored.
    if version != 1 || tkl > 8 || kind > 1 || code == 0 || code >> 5 != 0 {
        return None;
    }
    let mid = u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]);
    let token = buf.get(4..4 + tkl)?.to_vec();
    Some(Exchange {
        mid,
        token,
        confirmable: kind == 0,
    })
}

/// An empty message (ACK or RST) for `mid`.
pub fn empty(kind: MessageType, mid: u16) -> Packet {
    let mut p = Packet::new();
    p.header.set_type(kind);
    p.header.message_id = mid;
    p.header.code = MessageClass::Empty;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmable_gets_piggybacked_ack() {
        let ex = Exchange {
            mid: 7,
            token: vec![1, 2],
            confirmable: true,
        };
        let p = response(&ex, 99, ResponseType::Changed, None, vec![]);
        assert_eq!(p.header.get_type(), MessageType::Acknowledgement);
        assert_eq!(p.header.message_id, 7);
        assert_eq!(p.get_token(), &[1, 2]);
        let non = Exchange {
            confirmable: false,
            ..ex
        };
        let p = response(&non, 99, ResponseType::Changed, None, vec![]);
        assert_eq!(p.header.get_type(), MessageType::NonConfirmable);
        assert_eq!(p.header.message_id, 99);
    }

    #[test]
    fn salvages_header_of_malformed_request() {
        // CON POST, tkl 2, mid 0x1234, token ab cd, then a bad option byte (delta 15 = reserved).
        let buf = [0x42, 0x02, 0x12, 0x34, 0xab, 0xcd, 0xf1];
        let ex = salvage_exchange(&buf).expect("salvaged");
        assert_eq!(
            ex,
            Exchange {
                mid: 0x1234,
                token: vec![0xab, 0xcd],
                confirmable: true
            }
        );
        assert!(salvage_exchange(&[0x42]).is_none());
        assert!(
            salvage_exchange(&[0x82, 0x02, 0, 0, 1, 2]).is_none(),
            "version 2"
        );
        assert!(
            salvage_exchange(&[0x60, 0x45, 0, 0]).is_none(),
            "an ACK response"
        );
    }
}

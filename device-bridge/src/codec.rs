//! Decoding a report payload (JSON, content-format 50, or CBOR, 60) into a validated
//! [`Report`], with a short diagnostic for every way it can be wrong.

use domain::{report::RawReport, Report};

/// CoAP content-format numbers the bridge understands.
pub mod content_format {
    /// `application/link-format`
    pub const LINK_FORMAT: u16 = 40;
    /// `application/json`
    pub const JSON: u16 = 50;
    /// `application/cbor`
    pub const CBOR: u16 = 60;
}

/// Why a payload was refused: becomes a 4.xx response with `message` as diagnostic payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Content-format other than JSON or CBOR (4.15).
    #[error("unsupported content-format {0}: use 50 (JSON) or 60 (CBOR)")]
    UnsupportedFormat(u16),
    /// Payload larger than the limit (4.13).
    #[error("payload too large: {0} bytes, limit {1}")]
    TooLarge(usize, usize),
    /// Empty payload (4.00).
    #[error("empty payload: a report needs seq, bay and pile")]
    Empty,
    /// Not valid JSON/CBOR or wrong fields (4.00).
    #[error("invalid report: {0}")]
    Invalid(String),
}

/// Decodes `payload` sent with content-format `format` (`None` means JSON).
pub fn decode_report(
    format: Option<u16>,
    payload: &[u8],
    max: usize,
) -> Result<Report, DecodeError> {
    if payload.len() > max {
        return Err(DecodeError::TooLarge(payload.len(), max));
    }
    if payload.is_empty() {
        return Err(DecodeError::Empty);
    }
    let raw: RawReport = match format.unwrap_or(content_format::JSON) {
        content_format::JSON => serde_json::from_slice(payload)
            .map_err(|e| DecodeError::Invalid(short(&e.to_string())))?,
        content_format::CBOR => ciborium::from_reader(payload)
            .map_err(|e| DecodeError::Invalid(short(&e.to_string())))?,
        other => return Err(DecodeError::UnsupportedFormat(other)),
    };
    Report::try_from(raw).map_err(|e| DecodeError::Invalid(e.to_string()))
}

/// Encodes a report as JSON (what the simulator sends).
pub fn encode_json(report: &Report) -> Vec<u8> {
    serde_json::to_vec(&RawReport::from(report)).unwrap_or_default()
}

/// Encodes a report as CBOR.
pub fn encode_cbor(report: &Report) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = ciborium::into_writer(&RawReport::from(report), &mut out);
    out
}

fn short(msg: &str) -> String {
    msg.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{report::BayReading, PileState};

    fn sample() -> Report {
        Report {
            seq: 42,
            bay: BayReading::Occupied,
            pile: PileState::Available,
            battery: Some(77),
            quality: None,
        }
    }

    #[test]
    fn json_and_cbor_round_trip() {
        let r = sample();
        assert_eq!(
            decode_report(Some(content_format::JSON), &encode_json(&r), 256),
            Ok(r)
        );
        assert_eq!(decode_report(None, &encode_json(&r), 256), Ok(r));
        assert_eq!(
            decode_report(Some(content_format::CBOR), &encode_cbor(&r), 256),
            Ok(r)
        );
        assert!(encode_cbor(&r).len() < encode_json(&r).len());
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(
            decode_report(Some(0), b"{}", 256),
            Err(DecodeError::UnsupportedFormat(0))
        );
        assert_eq!(decode_report(None, b"", 256), Err(DecodeError::Empty));
        assert!(matches!(
            decode_report(None, &[b' '; 300], 256),
            Err(DecodeError::TooLarge(300, 256))
        ));
        let missing = decode_report(None, br#"{"seq":1,"bay":"free"}"#, 256);
        assert!(
            matches!(&missing, Err(DecodeError::Invalid(m)) if m.contains("pile")),
            "{missing:?}"
        );
        let bad_bay = decode_report(None, br#"{"seq":1,"bay":"maybe","pile":"available"}"#, 256);
        assert!(
            matches!(&bad_bay, Err(DecodeError::Invalid(m)) if m.contains("bay")),
            "{bad_bay:?}"
        );
        assert!(matches!(
            decode_report(Some(60), b"\xff\xff", 256),
            Err(DecodeError::Invalid(_))
        ));
        assert!(matches!(
            decode_report(None, b"not json", 256),
            Err(DecodeError::Invalid(_))
        ));
    }
}

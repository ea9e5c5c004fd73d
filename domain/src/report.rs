//! A pile's report: the parsed, validated form of what a pile sends over CoAP.

use crate::{bay::Occupancy, pile::PileState};
use serde::{Deserialize, Serialize};

/// The occupancy a sensor can report (a sensor never reports `unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BayReading {
    /// Nothing in the bay.
    Free,
    /// Something in the bay.
    Occupied,
}

impl BayReading {
    /// The bay occupancy this reading means.
    pub fn occupancy(self) -> Occupancy {
        match self {
            BayReading::Free => Occupancy::Free,
            BayReading::Occupied => Occupancy::Occupied,
        }
    }
}

/// The fields of a report as they arrive on the wire (JSON or CBOR), before validation.
/// Keys are short for constrained devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Sequence number, increasing with every report.
    pub seq: i64,
    /// Bay occupancy: `"free"` or `"occupied"`.
    pub bay: String,
    /// Pile state: `"available"`, `"charging"` or `"faulted"`.
    pub pile: String,
    /// Optional sensor battery level, 0–100 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bat: Option<i64>,
    /// Optional sensor quality, 0–100 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<i64>,
}

/// A validated report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Sequence number (0 ..= 2^53, so JSON numbers stay exact).
    pub seq: i64,
    /// What the bay sensor sees.
    pub bay: BayReading,
    /// The pile's own state.
    pub pile: PileState,
    /// Sensor battery level in percent.
    pub battery: Option<u8>,
    /// Sensor quality in percent.
    pub quality: Option<u8>,
}

/// Largest accepted sequence number (2^53, exact in every JSON implementation).
pub const MAX_SEQ: i64 = 1 << 53;

/// Why a report's fields are invalid; the message is sent back to the pile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// `seq` is negative or too large.
    #[error("seq must be between 0 and 2^53")]
    Seq,
    /// `bay` is not `free` or `occupied`.
    #[error("bay must be \"free\" or \"occupied\"")]
    Bay,
    /// `pile` is not a known state.
    #[error("pile must be \"available\", \"charging\" or \"faulted\"")]
    Pile,
    /// A percentage is out of range.
    #[error("{0} must be between 0 and 100")]
    Percent(&'static str),
}

impl TryFrom<RawReport> for Report {
    type Error = ReportError;

    fn try_from(raw: RawReport) -> Result<Self, Self::Error> {
        if !(0..=MAX_SEQ).contains(&raw.seq) {
            return Err(ReportError::Seq);
        }
        let bay = match raw.bay.as_str() {
            "free" => BayReading::Free,
            "occupied" => BayReading::Occupied,
            _ => return Err(ReportError::Bay),
        };
        let pile = raw.pile.parse().map_err(|_| ReportError::Pile)?;
        Ok(Report {
            seq: raw.seq,
            bay,
            pile,
            battery: percent(raw.bat, "bat")?,
            quality: percent(raw.q, "q")?,
        })
    }
}

fn percent(v: Option<i64>, name: &'static str) -> Result<Option<u8>, ReportError> {
    v.map(|x| {
        u8::try_from(x)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or(ReportError::Percent(name))
    })
    .transpose()
}

impl From<&Report> for RawReport {
    fn from(r: &Report) -> Self {
        RawReport {
            seq: r.seq,
            bay: r.bay.occupancy().as_str().to_owned(),
            pile: r.pile.as_str().to_owned(),
            bat: r.battery.map(i64::from),
            q: r.quality.map(i64::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(seq: i64, bay: &str, pile: &str) -> RawReport {
        RawReport {
            seq,
            bay: bay.into(),
            pile: pile.into(),
            bat: None,
            q: None,
        }
    }

    #[test]
    fn valid_report_parses() {
        let r = Report::try_from(RawReport {
            bat: Some(80),
            q: Some(100),
            ..raw(7, "occupied", "charging")
        })
        .expect("valid");
        assert_eq!(r.seq, 7);
        assert_eq!(r.bay, BayReading::Occupied);
        assert_eq!(r.pile, PileState::Charging);
        assert_eq!(r.battery, Some(80));
        assert_eq!(RawReport::from(&r).bat, Some(80));
    }

    #[test]
    fn invalid_fields_are_named() {
        assert_eq!(
            Report::try_from(raw(-1, "free", "available")),
            Err(ReportError::Seq)
        );
        assert_eq!(
            Report::try_from(raw(MAX_SEQ + 1, "free", "available")),
            Err(ReportError::Seq)
        );
        assert_eq!(
            Report::try_from(raw(1, "unknown", "available")),
            Err(ReportError::Bay)
        );
        assert_eq!(
            Report::try_from(raw(1, "free", "idle")),
            Err(ReportError::Pile)
        );
        let bad_bat = RawReport {
            bat: Some(101),
            ..raw(1, "free", "available")
        };
        assert_eq!(Report::try_from(bad_bat), Err(ReportError::Percent("bat")));
        let bad_q = RawReport {
            q: Some(-1),
            ..raw(1, "free", "available")
        };
        assert_eq!(Report::try_from(bad_q), Err(ReportError::Percent("q")));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err =
            serde_json::from_str::<RawReport>(r#"{"seq":1,"bay":"free","pile":"available","x":1}"#);
        assert!(err.is_err());
    }
}

//! Reservation states and outcomes.

use crate::pile::UnknownValue;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// How a hold ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The driver arrived and checked in, or the pile started charging.
    Fulfilled,
    /// The driver (or an admin, with a reason) cancelled.
    Cancelled,
    /// The hold time passed and the sensor shows the bay was never occupied (no-show).
    Expired,
    /// Someone else took the bay.
    Blocked,
    /// The pile faulted, went offline or was disabled.
    Voided,
}

/// A reservation's status: an active hold, or ended with an outcome. Serialized as one word:
/// `held`, `fulfilled`, `cancelled`, `expired`, `blocked` or `voided`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum ReservationStatus {
    /// Active.
    Held,
    /// Ended.
    Ended(Outcome),
}

impl ReservationStatus {
    /// The database spelling: `held` or the outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Held => "held",
            ReservationStatus::Ended(Outcome::Fulfilled) => "fulfilled",
            ReservationStatus::Ended(Outcome::Cancelled) => "cancelled",
            ReservationStatus::Ended(Outcome::Expired) => "expired",
            ReservationStatus::Ended(Outcome::Blocked) => "blocked",
            ReservationStatus::Ended(Outcome::Voided) => "voided",
        }
    }
}

impl FromStr for ReservationStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use Outcome::*;
        Ok(match s {
            "held" => ReservationStatus::Held,
            "fulfilled" => ReservationStatus::Ended(Fulfilled),
            "cancelled" => ReservationStatus::Ended(Cancelled),
            "expired" => ReservationStatus::Ended(Expired),
            "blocked" => ReservationStatus::Ended(Blocked),
            "voided" => ReservationStatus::Ended(Voided),
            other => return Err(UnknownValue::new("reservation status", other)),
        })
    }
}

impl From<ReservationStatus> for &'static str {
    fn from(s: ReservationStatus) -> Self {
        s.as_str()
    }
}

impl TryFrom<String> for ReservationStatus {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips() {
        for s in [
            "held",
            "fulfilled",
            "cancelled",
            "expired",
            "blocked",
            "voided",
        ] {
            assert_eq!(s.parse::<ReservationStatus>().map(|x| x.as_str()), Ok(s));
        }
        assert!("active".parse::<ReservationStatus>().is_err());
        let json =
            serde_json::to_string(&ReservationStatus::Ended(Outcome::Blocked)).expect("json");
        assert_eq!(json, r#""blocked""#);
        assert_eq!(
            serde_json::from_str::<ReservationStatus>(r#""held""#).expect("parse"),
            ReservationStatus::Held
        );
    }
}

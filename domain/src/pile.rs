//! The pile's own reported state and its connector.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// What a pile says about itself in a report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PileState {
    /// Healthy and not charging.
    Available,
    /// A charging session is running.
    Charging,
    /// The pile reports a fault.
    Faulted,
}

impl PileState {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PileState::Available => "available",
            PileState::Charging => "charging",
            PileState::Faulted => "faulted",
        }
    }
}

impl FromStr for PileState {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "available" => Ok(PileState::Available),
            "charging" => Ok(PileState::Charging),
            "faulted" => Ok(PileState::Faulted),
            other => Err(UnknownValue::new("pile state", other)),
        }
    }
}

/// A connector standard.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnectorType {
    /// Combined Charging System type 2 (DC).
    #[serde(rename = "CCS2")]
    Ccs2,
    /// IEC 62196 Type 2 (AC).
    #[serde(rename = "Type2")]
    Type2,
    /// Chinese GB/T (AC or DC).
    #[serde(rename = "GBT")]
    GbT,
    /// CHAdeMO (DC).
    #[serde(rename = "CHAdeMO")]
    Chademo,
}

impl ConnectorType {
    /// Every connector type, in display order.
    pub const ALL: [ConnectorType; 4] = [
        ConnectorType::Ccs2,
        ConnectorType::Type2,
        ConnectorType::GbT,
        ConnectorType::Chademo,
    ];

    /// The database and URL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorType::Ccs2 => "CCS2",
            ConnectorType::Type2 => "Type2",
            ConnectorType::GbT => "GBT",
            ConnectorType::Chademo => "CHAdeMO",
        }
    }

    /// The human label.
    pub fn label(self) -> &'static str {
        match self {
            ConnectorType::Ccs2 => "CCS2",
            ConnectorType::Type2 => "Type 2",
            ConnectorType::GbT => "GB/T",
            ConnectorType::Chademo => "CHAdeMO",
        }
    }
}

impl fmt::Display for ConnectorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for ConnectorType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConnectorType::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s) || c.label().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownValue::new("connector type", s))
    }
}

/// A string that names none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value:?}")]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

impl UnknownValue {
    /// An error for `value`, which is not a valid `what`.
    pub fn new(what: &'static str, value: &str) -> Self {
        UnknownValue {
            what,
            value: value.chars().take(40).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pile_state_round_trips() {
        for s in [
            PileState::Available,
            PileState::Charging,
            PileState::Faulted,
        ] {
            assert_eq!(s.as_str().parse::<PileState>(), Ok(s));
        }
        assert!("idle".parse::<PileState>().is_err());
    }

    #[test]
    fn connector_parses_code_and_label() {
        for c in ConnectorType::ALL {
            assert_eq!(c.as_str().parse::<ConnectorType>(), Ok(c));
            assert_eq!(c.label().parse::<ConnectorType>(), Ok(c));
        }
        assert_eq!("ccs2".parse::<ConnectorType>(), Ok(ConnectorType::Ccs2));
        assert!("J1772".parse::<ConnectorType>().is_err());
    }
}

//! The one rule chargebay lives by: when is a pile offered to drivers ("idle"), and if not,
//! the one reason why. Also the mappings to OCPI 2.2.1 and FIWARE ParkingSpot.

use crate::{
    bay::{BayTelemetry, Occupancy},
    pile::PileState,
    time::Millis,
};
use serde::{Deserialize, Serialize};

/// Why a pile is not idle. Exactly one applies, by the precedence of the variants' order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// Switched off by the operator.
    Disabled,
    /// The pile has been silent past its offline limit (or was never heard).
    Offline,
    /// The pile reports a fault.
    Faulted,
    /// A charging session is running.
    Charging,
    /// A driver holds it.
    Reserved,
    /// The bay is occupied without a charging session (the petrol-car case).
    Blocked,
    /// The bay's reading is older than its freshness limit or untrustworthy (flapping).
    Stale,
}

impl Reason {
    /// Every reason, in precedence order.
    pub const ALL: [Reason; 7] = [
        Reason::Disabled,
        Reason::Offline,
        Reason::Faulted,
        Reason::Charging,
        Reason::Reserved,
        Reason::Blocked,
        Reason::Stale,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Disabled => "disabled",
            Reason::Offline => "offline",
            Reason::Faulted => "faulted",
            Reason::Charging => "charging",
            Reason::Reserved => "reserved",
            Reason::Blocked => "blocked",
            Reason::Stale => "stale",
        }
    }
}

impl std::str::FromStr for Reason {
    type Err = crate::pile::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| crate::pile::UnknownValue::new("reason", s))
    }
}

/// Whether a pile is offered to drivers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "status",
    content = "reason",
    rename_all = "lowercase",
    try_from = "wire::Availability"
)]
pub enum Availability {
    /// Offered: healthy, bay free by a fresh reading, not held, enabled.
    Idle,
    /// Not offered, for this reason.
    Busy(Reason),
}

impl Availability {
    /// `"idle"` or the reason's spelling: the one word shown on a marker.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Idle => "idle",
            Availability::Busy(r) => r.as_str(),
        }
    }

    /// True when offered to drivers.
    pub fn is_idle(self) -> bool {
        self == Availability::Idle
    }

    /// OCPI 2.2.1 EVSE status.
    pub fn ocpi(self) -> OcpiStatus {
        match self {
            Availability::Idle => OcpiStatus::Available,
            Availability::Busy(Reason::Charging) => OcpiStatus::Charging,
            Availability::Busy(Reason::Reserved) => OcpiStatus::Reserved,
            Availability::Busy(Reason::Blocked) => OcpiStatus::Blocked,
            Availability::Busy(Reason::Stale | Reason::Offline) => OcpiStatus::Unknown,
            Availability::Busy(Reason::Faulted) => OcpiStatus::OutOfOrder,
            Availability::Busy(Reason::Disabled) => OcpiStatus::Inoperative,
        }
    }

    /// FIWARE smart-data-models ParkingSpot status, given the bay's effective occupancy.
    pub fn fiware(self, bay: Occupancy) -> FiwareStatus {
        match (self, bay) {
            (Availability::Busy(Reason::Disabled | Reason::Faulted), _) => FiwareStatus::Closed,
            (_, Occupancy::Free) => FiwareStatus::Free,
            (_, Occupancy::Occupied) => FiwareStatus::Occupied,
            (_, Occupancy::Unknown) => FiwareStatus::Unknown,
        }
    }
}

/// OCPI 2.2.1 `EVSE.status` values chargebay maps to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OcpiStatus {
    /// AVAILABLE
    Available,
    /// BLOCKED
    Blocked,
    /// CHARGING
    Charging,
    /// INOPERATIVE
    Inoperative,
    /// OUTOFORDER
    OutOfOrder,
    /// RESERVED
    Reserved,
    /// UNKNOWN
    Unknown,
}

/// FIWARE `ParkingSpot.status` values.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FiwareStatus {
    /// free
    Free,
    /// occupied
    Occupied,
    /// closed
    Closed,
    /// unknown
    Unknown,
}

/// Everything the rule looks at for one pile, at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PileSnapshot<'a> {
    /// Enabled by the operator.
    pub enabled: bool,
    /// An active reservation holds it.
    pub held: bool,
    /// The bay's and pile's live telemetry.
    pub telemetry: &'a BayTelemetry,
    /// Bay freshness limit in seconds.
    pub freshness_secs: i64,
    /// Silence after which the pile counts as offline, in seconds.
    pub offline_secs: i64,
}

/// Applies the one rule at `now`.
pub fn classify(p: &PileSnapshot<'_>, now: Millis) -> Availability {
    use Availability::{Busy, Idle};
    let t = p.telemetry;
    if !p.enabled {
        return Busy(Reason::Disabled);
    }
    let silent_too_long = t
        .last_report_at
        .is_none_or(|at| now.0 - at.0 > p.offline_secs * 1000);
    if silent_too_long {
        return Busy(Reason::Offline);
    }
    match t.pile_state {
        Some(PileState::Faulted) => return Busy(Reason::Faulted),
        Some(PileState::Charging) => return Busy(Reason::Charging),
        Some(PileState::Available) | None => {}
    }
    if p.held {
        return Busy(Reason::Reserved);
    }
    match t.effective_occupancy(now, p.freshness_secs) {
        Occupancy::Free if t.pile_state == Some(PileState::Available) => Idle,
        Occupancy::Occupied => Busy(Reason::Blocked),
        _ => Busy(Reason::Stale),
    }
}

/// Default bay freshness limit for a heartbeat interval: twice the interval plus a margin.
pub fn default_freshness_secs(heartbeat_secs: i64) -> i64 {
    2 * heartbeat_secs + 30
}

/// Silence after which a pile counts as offline: five heartbeats.
pub fn offline_secs(heartbeat_secs: i64) -> i64 {
    5 * heartbeat_secs
}

/// Reading an [`Availability`] (`{"status":"idle"}`, `{"status":"busy","reason":"blocked"}`)
/// as a flat struct: serde's derive for an adjacently tagged enum may buffer the content in
/// a generic tree, which every page of the browser bundle pays for in code.
mod wire {
    use super::Reason;
    use serde::Deserialize;

    /// The tag.
    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Status {
        Idle,
        Busy,
    }

    /// The status and, when busy, the reason.
    #[derive(Deserialize)]
    pub(super) struct Availability {
        status: Status,
        reason: Option<Reason>,
    }

    /// A reason without `busy`, or `busy` without one.
    #[derive(Debug, thiserror::Error)]
    #[error("a reason is given exactly when the status is `busy`")]
    pub(super) struct Mismatch;

    impl TryFrom<Availability> for super::Availability {
        type Error = Mismatch;

        fn try_from(a: Availability) -> Result<Self, Self::Error> {
            match (a.status, a.reason) {
                (Status::Idle, None) => Ok(super::Availability::Idle),
                (Status::Busy, Some(r)) => Ok(super::Availability::Busy(r)),
                _ => Err(Mismatch),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn telemetry(state: Option<PileState>, occ: Occupancy, at: Option<i64>) -> BayTelemetry {
        BayTelemetry {
            last_seq: at.map(|_| 1),
            last_report_at: at.map(Millis),
            pile_state: state,
            occupancy: occ,
            ..BayTelemetry::default()
        }
    }

    fn snap(t: &BayTelemetry, enabled: bool, held: bool) -> PileSnapshot<'_> {
        PileSnapshot {
            enabled,
            held,
            telemetry: t,
            freshness_secs: 150,
            offline_secs: 300,
        }
    }

    /// Exhaustive over every combination of inputs: idle iff all four conditions hold, and
    /// the reason always follows the documented precedence.
    #[test]
    fn rule_is_exhaustively_consistent() {
        let states = [
            None,
            Some(PileState::Available),
            Some(PileState::Charging),
            Some(PileState::Faulted),
        ];
        let occs = [Occupancy::Free, Occupancy::Occupied, Occupancy::Unknown];
        // ages in seconds: fresh, stale but online, offline, never heard
        let ages: [Option<i64>; 4] = [Some(10), Some(200), Some(400), None];
        let now = Millis(1_000_000);
        for state in states {
            for occ in occs {
                for age in ages {
                    for flapping in [false, true] {
                        for enabled in [false, true] {
                            for held in [false, true] {
                                let mut t = telemetry(state, occ, age.map(|a| now.0 - a * 1000));
                                t.flapping = flapping;
                                let got = classify(&snap(&t, enabled, held), now);
                                let fresh = age.is_some_and(|a| a <= 150);
                                let online = age.is_some_and(|a| a <= 300);
                                let expect_idle = enabled
                                    && online
                                    && state == Some(PileState::Available)
                                    && !held
                                    && fresh
                                    && !flapping
                                    && occ == Occupancy::Free;
                                assert_eq!(
                                    got.is_idle(),
                                    expect_idle,
                                    "{state:?} {occ:?} {age:?} {flapping} {enabled} {held}"
                                );
                                let expected = if !enabled {
                                    Some(Reason::Disabled)
                                } else if !online {
                                    Some(Reason::Offline)
                                } else if state == Some(PileState::Faulted) {
                                    Some(Reason::Faulted)
                                } else if state == Some(PileState::Charging) {
                                    Some(Reason::Charging)
                                } else if held {
                                    Some(Reason::Reserved)
                                } else if fresh && !flapping && occ == Occupancy::Occupied {
                                    Some(Reason::Blocked)
                                } else if expect_idle {
                                    None
                                } else {
                                    Some(Reason::Stale)
                                };
                                assert_eq!(
                                    got,
                                    expected.map_or(Availability::Idle, Availability::Busy)
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn mappings_cover_every_reason() {
        assert_eq!(Availability::Idle.ocpi(), OcpiStatus::Available);
        for r in Reason::ALL {
            let a = Availability::Busy(r);
            assert_ne!(a.ocpi(), OcpiStatus::Available, "{r:?}");
            assert_eq!(a.as_str(), r.as_str());
        }
        assert_eq!(
            Availability::Busy(Reason::Blocked).fiware(Occupancy::Occupied),
            FiwareStatus::Occupied
        );
        assert_eq!(
            Availability::Busy(Reason::Faulted).fiware(Occupancy::Free),
            FiwareStatus::Closed
        );
        assert_eq!(
            Availability::Idle.fiware(Occupancy::Free),
            FiwareStatus::Free
        );
    }

    #[test]
    fn availability_serializes_with_reason() {
        let json = serde_json::to_string(&Availability::Busy(Reason::Blocked)).expect("json");
        assert_eq!(json, r#"{"status":"busy","reason":"blocked"}"#);
        assert_eq!(
            serde_json::to_string(&Availability::Idle).expect("json"),
            r#"{"status":"idle"}"#
        );
        for a in std::iter::once(Availability::Idle).chain(Reason::ALL.map(Availability::Busy)) {
            let json = serde_json::to_string(&a).expect("json");
            assert_eq!(serde_json::from_str::<Availability>(&json).expect(&json), a);
        }
        for bad in [
            r#"{"status":"busy"}"#,
            r#"{"status":"idle","reason":"blocked"}"#,
        ] {
            assert!(serde_json::from_str::<Availability>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn freshness_defaults() {
        assert_eq!(default_freshness_secs(60), 150);
        assert_eq!(offline_secs(60), 300);
    }
}

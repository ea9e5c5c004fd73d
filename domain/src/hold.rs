//! The reservation state machine: given what is known about a hold at an instant, does it go
//! on or end, and how. Pure, so every path is unit-tested; the service applies the decision.
//!
//! ```text
//! held ── pile faulted / offline / disabled ─────────────────────────────▶ voided
//! held ── pile charging, or bay occupied after the driver checked in ─────▶ fulfilled
//! held ── bay occupied, no check-in within the arrival grace
//!         (at once if the driver is demonstrably far away) ───────────────▶ blocked
//! held ── deadline passed and the bay is not occupied ───────────────────▶ expired
//! held ── driver or admin cancels (an action, not decided here) ─────────▶ cancelled
//! ```

use crate::{bay::Occupancy, pile::PileState, reservation::Outcome, time::Millis};

/// How far (km) from the site a driver must be, by a recent shared position, to be
/// "demonstrably far" when someone else occupies the bay.
pub const FAR_KM: f64 = 2.0;
/// How recent (seconds) a shared position must be to count.
pub const POSITION_MAX_AGE_SECS: i64 = 120;

/// The pile's health as far as a hold is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PileHealth {
    /// Reporting, enabled, not faulted.
    Ok,
    /// Reports a fault.
    Faulted,
    /// Silent past its offline limit.
    Offline,
    /// Disabled by the operator.
    Disabled,
}

/// Everything the rule looks at for one hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldFacts {
    /// When the hold was taken.
    pub created_at: Millis,
    /// When it ends unless fulfilled.
    pub deadline: Millis,
    /// Arrival grace, seconds.
    pub grace_secs: i64,
    /// The pile's health.
    pub health: PileHealth,
    /// The pile's own state.
    pub pile_state: Option<PileState>,
    /// The bay's effective occupancy now (stale readings are `Unknown`).
    pub bay: Occupancy,
    /// Since when the bay has been in its current occupancy.
    pub bay_since: Option<Millis>,
    /// The driver checked in ("I'm here").
    pub checked_in: bool,
    /// The driver's recent shared distance to the site, in km, if any.
    pub driver_km: Option<f64>,
}

/// Decides at `now`: `None` keeps the hold, `Some(outcome)` ends it.
pub fn decide(f: &HoldFacts, now: Millis) -> Option<Outcome> {
    if f.health != PileHealth::Ok {
        return Some(Outcome::Voided);
    }
    if f.pile_state == Some(PileState::Charging) {
        return Some(Outcome::Fulfilled);
    }
    if f.bay == Occupancy::Occupied {
        if f.checked_in {
            return Some(Outcome::Fulfilled);
        }
        // The bay was free when the hold began, so it has been occupied since after that.
        let since = f.bay_since.map_or(f.created_at, |s| s.max(f.created_at));
        let far = f.driver_km.is_some_and(|km| km > FAR_KM);
        if far || now >= since.plus_secs(f.grace_secs) {
            return Some(Outcome::Blocked);
        }
        // Within the grace the hold goes on, even past its deadline: the driver may be parking.
        return None;
    }
    if now >= f.deadline {
        return Some(Outcome::Expired);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HoldFacts {
        HoldFacts {
            created_at: Millis(0),
            deadline: Millis(900_000),
            grace_secs: 120,
            health: PileHealth::Ok,
            pile_state: Some(PileState::Available),
            bay: Occupancy::Free,
            bay_since: Some(Millis(-5_000)),
            checked_in: false,
            driver_km: None,
        }
    }

    #[test]
    fn quiet_hold_goes_on_until_the_deadline_then_expires() {
        let f = facts();
        assert_eq!(decide(&f, Millis(899_999)), None);
        assert_eq!(decide(&f, Millis(900_000)), Some(Outcome::Expired));
    }

    #[test]
    fn unhealthy_pile_voids_whatever_else_holds() {
        for health in [
            PileHealth::Faulted,
            PileHealth::Offline,
            PileHealth::Disabled,
        ] {
            for bay in [Occupancy::Free, Occupancy::Occupied, Occupancy::Unknown] {
                let f = HoldFacts {
                    health,
                    bay,
                    checked_in: true,
                    ..facts()
                };
                assert_eq!(decide(&f, Millis(1)), Some(Outcome::Voided));
            }
        }
    }

    #[test]
    fn charging_fulfils() {
        let f = HoldFacts {
            pile_state: Some(PileState::Charging),
            bay: Occupancy::Occupied,
            ..facts()
        };
        assert_eq!(decide(&f, Millis(1)), Some(Outcome::Fulfilled));
    }

    #[test]
    fn check_in_then_occupied_fulfils_but_check_in_alone_waits() {
        let f = HoldFacts {
            checked_in: true,
            ..facts()
        };
        assert_eq!(decide(&f, Millis(1000)), None);
        let f = HoldFacts {
            checked_in: true,
            bay: Occupancy::Occupied,
            bay_since: Some(Millis(500)),
            ..facts()
        };
        assert_eq!(decide(&f, Millis(1000)), Some(Outcome::Fulfilled));
    }

    #[test]
    fn occupied_without_check_in_blocks_after_grace() {
        let f = HoldFacts {
            bay: Occupancy::Occupied,
            bay_since: Some(Millis(60_000)),
            ..facts()
        };
        assert_eq!(decide(&f, Millis(179_999)), None);
        assert_eq!(decide(&f, Millis(180_000)), Some(Outcome::Blocked));
        // Grace is counted from the hold's start if the sensor says "occupied since" earlier.
        let f = HoldFacts {
            bay: Occupancy::Occupied,
            bay_since: Some(Millis(-60_000)),
            ..facts()
        };
        assert_eq!(decide(&f, Millis(119_999)), None);
        assert_eq!(decide(&f, Millis(120_000)), Some(Outcome::Blocked));
    }

    #[test]
    fn far_driver_blocks_at_once_near_driver_gets_grace() {
        let far = HoldFacts {
            bay: Occupancy::Occupied,
            bay_since: Some(Millis(10_000)),
            driver_km: Some(8.0),
            ..facts()
        };
        assert_eq!(decide(&far, Millis(10_001)), Some(Outcome::Blocked));
        let near = HoldFacts {
            driver_km: Some(0.3),
            ..far
        };
        assert_eq!(decide(&near, Millis(10_001)), None);
    }

    #[test]
    fn occupied_at_deadline_waits_for_grace() {
        let f = HoldFacts {
            bay: Occupancy::Occupied,
            bay_since: Some(Millis(850_000)),
            ..facts()
        };
        assert_eq!(decide(&f, Millis(900_000)), None);
        assert_eq!(decide(&f, Millis(970_000)), Some(Outcome::Blocked));
    }

    #[test]
    fn unknown_bay_is_not_occupied() {
        let f = HoldFacts {
            bay: Occupancy::Unknown,
            ..facts()
        };
        assert_eq!(decide(&f, Millis(1)), None);
        assert_eq!(decide(&f, Millis(900_000)), Some(Outcome::Expired));
    }
}

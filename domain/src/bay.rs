//! The bay in front of a pile: its occupancy, and how a new reading updates the bay's
//! telemetry (sequence ordering, flapping detection).

use crate::{
    pile::{PileState, UnknownValue},
    report::Report,
    time::Millis,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What the bay's sensor says, or `Unknown` when it was never heard or is stale.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Occupancy {
    /// Nothing in the bay.
    Free,
    /// A vehicle (or something) is in the bay.
    Occupied,
    /// Never heard, or the last reading is older than the freshness limit.
    Unknown,
}

impl Occupancy {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Occupancy::Free => "free",
            Occupancy::Occupied => "occupied",
            Occupancy::Unknown => "unknown",
        }
    }
}

impl FromStr for Occupancy {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Occupancy::Free),
            "occupied" => Ok(Occupancy::Occupied),
            "unknown" => Ok(Occupancy::Unknown),
            other => Err(UnknownValue::new("occupancy", other)),
        }
    }
}

/// Consecutive quick flips (each within the flap window of the one before) that make a bay
/// `flapping`. The first flip of a run is a real arrival or departure and counts at once; the
/// third flip inside the window proves the sensor (or a manoeuvring car) is not to be trusted.
pub const FLAP_THRESHOLD: i64 = 3;

/// The live telemetry of one bay and its pile, as last reported by the pile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BayTelemetry {
    /// Highest sequence number applied; `None` before the first report.
    pub last_seq: Option<i64>,
    /// When the last report (any report, heartbeats included) was received.
    pub last_report_at: Option<Millis>,
    /// The pile's own state from the last report.
    pub pile_state: Option<PileState>,
    /// The raw occupancy from the last report (`Unknown` before the first report).
    pub occupancy: Occupancy,
    /// When `occupancy` last changed.
    pub occupancy_since: Option<Millis>,
    /// When the occupancy last flipped between free and occupied.
    pub last_flip_at: Option<Millis>,
    /// Length of the current run of quick flips.
    pub rapid_flips: i64,
    /// The bay flips faster than the flap window: its reading is not trusted.
    pub flapping: bool,
    /// Battery level of the sensor in percent, if reported.
    pub battery: Option<u8>,
    /// Sensor quality in percent, if reported.
    pub quality: Option<u8>,
}

impl Default for BayTelemetry {
    fn default() -> Self {
        BayTelemetry {
            last_seq: None,
            last_report_at: None,
            pile_state: None,
            occupancy: Occupancy::Unknown,
            occupancy_since: None,
            last_flip_at: None,
            rapid_flips: 0,
            flapping: false,
            battery: None,
            quality: None,
        }
    }
}

/// What applying a report changed, for events and live updates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadingChange {
    /// The report's sequence number was not above the stored one: nothing was applied.
    pub out_of_order: bool,
    /// The bay's occupancy changed (from, to).
    pub occupancy: Option<(Occupancy, Occupancy)>,
    /// The pile's own state changed (from, to).
    pub pile_state: Option<(Option<PileState>, PileState)>,
    /// The flapping flag changed to this value.
    pub flapping: Option<bool>,
}

impl ReadingChange {
    /// True when nothing but freshness changed (a heartbeat).
    pub fn is_heartbeat(&self) -> bool {
        !self.out_of_order
            && self.occupancy.is_none()
            && self.pile_state.is_none()
            && self.flapping.is_none()
    }
}

impl BayTelemetry {
    /// Applies `report`, received at `now`, and says what changed. A report whose sequence
    /// number is not above the stored one changes nothing (`out_of_order`).
    pub fn apply(&mut self, report: &Report, now: Millis, flap_window_ms: i64) -> ReadingChange {
        let mut change = ReadingChange::default();
        if self.last_seq.is_some_and(|s| report.seq <= s) {
            change.out_of_order = true;
            return change;
        }
        self.last_seq = Some(report.seq);
        self.last_report_at = Some(now);
        self.battery = report.battery.or(self.battery);
        self.quality = report.quality.or(self.quality);

        if self.pile_state != Some(report.pile) {
            change.pile_state = Some((self.pile_state, report.pile));
            self.pile_state = Some(report.pile);
        }

        let new_occ = report.bay.occupancy();
        if self.occupancy != new_occ {
            let was_known = self.occupancy != Occupancy::Unknown;
            change.occupancy = Some((self.occupancy, new_occ));
            self.occupancy = new_occ;
            self.occupancy_since = Some(now);
            if was_known {
                let quick = self
                    .last_flip_at
                    .is_some_and(|t| now.0 - t.0 < flap_window_ms);
                self.rapid_flips = if quick { self.rapid_flips + 1 } else { 1 };
                self.last_flip_at = Some(now);
            }
        }
        let flapping = self.flapping_at(now, flap_window_ms);
        if flapping != self.flapping {
            self.flapping = flapping;
            change.flapping = Some(flapping);
        }
        change
    }

    /// Whether the bay counts as flapping at `now`: a run of quick flips that has not yet been
    /// followed by a full quiet window.
    pub fn flapping_at(&self, now: Millis, flap_window_ms: i64) -> bool {
        self.rapid_flips >= FLAP_THRESHOLD
            && self
                .last_flip_at
                .is_some_and(|t| now.0 - t.0 < flap_window_ms)
    }

    /// The occupancy a driver may rely on at `now`: `Unknown` when never heard, silent for
    /// longer than `freshness_secs`, or flapping.
    pub fn effective_occupancy(&self, now: Millis, freshness_secs: i64) -> Occupancy {
        match self.last_report_at {
            Some(at) if now.0 - at.0 <= freshness_secs * 1000 && !self.flapping => self.occupancy,
            _ => Occupancy::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::BayReading;

    const WINDOW: i64 = 10_000;

    fn report(seq: i64, bay: BayReading) -> Report {
        Report {
            seq,
            bay,
            pile: PileState::Available,
            battery: None,
            quality: None,
        }
    }

    #[test]
    fn first_report_sets_state_and_is_not_a_flip() {
        let mut t = BayTelemetry::default();
        let c = t.apply(&report(1, BayReading::Free), Millis(1000), WINDOW);
        assert_eq!(c.occupancy, Some((Occupancy::Unknown, Occupancy::Free)));
        assert_eq!(c.pile_state, Some((None, PileState::Available)));
        assert_eq!(t.rapid_flips, 0);
        assert!(!t.flapping);
    }

    #[test]
    fn older_or_equal_sequence_never_overwrites() {
        let mut t = BayTelemetry::default();
        t.apply(&report(5, BayReading::Occupied), Millis(1000), WINDOW);
        let before = t.clone();
        for seq in [5, 4, 0] {
            let c = t.apply(&report(seq, BayReading::Free), Millis(2000), WINDOW);
            assert!(c.out_of_order);
            assert_eq!(t, before);
        }
    }

    #[test]
    fn same_reading_is_a_heartbeat_that_refreshes() {
        let mut t = BayTelemetry::default();
        t.apply(&report(1, BayReading::Free), Millis(1000), WINDOW);
        let c = t.apply(&report(2, BayReading::Free), Millis(61_000), WINDOW);
        assert!(c.is_heartbeat());
        assert_eq!(t.last_report_at, Some(Millis(61_000)));
        assert_eq!(t.occupancy_since, Some(Millis(1000)));
    }

    #[test]
    fn quick_flips_make_the_bay_flap_and_a_quiet_window_settles_it() {
        let mut t = BayTelemetry::default();
        t.apply(&report(1, BayReading::Occupied), Millis(0), WINDOW);
        // A departure: a single flip is trusted at once.
        t.apply(&report(2, BayReading::Free), Millis(100_000), WINDOW);
        assert!(!t.flapping);
        assert_eq!(t.effective_occupancy(Millis(100_000), 150), Occupancy::Free);
        t.apply(&report(3, BayReading::Occupied), Millis(102_000), WINDOW);
        let c = t.apply(&report(4, BayReading::Free), Millis(104_000), WINDOW);
        assert_eq!(c.flapping, Some(true));
        // While flapping, a `free` reading is never offered as free.
        assert_eq!(
            t.effective_occupancy(Millis(104_000), 150),
            Occupancy::Unknown
        );
        assert!(t.flapping_at(Millis(113_999), WINDOW));
        assert!(!t.flapping_at(Millis(114_000), WINDOW));
        let c = t.apply(&report(5, BayReading::Free), Millis(115_000), WINDOW);
        assert_eq!(c.flapping, Some(false));
        assert_eq!(t.effective_occupancy(Millis(115_000), 150), Occupancy::Free);
    }

    #[test]
    fn slow_flips_never_flap() {
        let mut t = BayTelemetry::default();
        let mut bay = BayReading::Free;
        for i in 1..20 {
            bay = if bay == BayReading::Free {
                BayReading::Occupied
            } else {
                BayReading::Free
            };
            t.apply(&report(i, bay), Millis(i * (WINDOW + 1)), WINDOW);
            assert!(!t.flapping, "flip {i}");
        }
    }

    #[test]
    fn silence_past_freshness_is_unknown() {
        let mut t = BayTelemetry::default();
        assert_eq!(t.effective_occupancy(Millis(0), 150), Occupancy::Unknown);
        t.apply(&report(1, BayReading::Free), Millis(0), WINDOW);
        assert_eq!(t.effective_occupancy(Millis(150_000), 150), Occupancy::Free);
        assert_eq!(
            t.effective_occupancy(Millis(150_001), 150),
            Occupancy::Unknown
        );
    }
}

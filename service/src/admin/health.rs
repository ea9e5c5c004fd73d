//! Fleet health: the problems an operator should look at now, each with since when.

use crate::{Chargebay, ServiceError};
use domain::{Availability, Millis, PileId, PileState, Reason};
use store::piles::PileView;

/// Batteries below this percentage are reported.
pub const LOW_BATTERY_PERCENT: u8 = 20;
/// A bay blocked (occupied without charging) longer than this is reported.
pub const BLOCKED_LIMIT_MS: i64 = 15 * 60 * 1000;

/// What is wrong with a pile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// No report ever arrived.
    NeverHeard,
    /// Silent past its offline limit.
    Offline,
    /// The pile reports a fault.
    Faulted,
    /// The bay reading is older than its freshness limit.
    StaleSensor,
    /// The bay flips too quickly to be trusted.
    Flapping,
    /// Battery below [`LOW_BATTERY_PERCENT`].
    LowBattery,
    /// Occupied without charging for longer than [`BLOCKED_LIMIT_MS`].
    BlockedLong,
}

impl ProblemKind {
    /// Every kind, most severe first.
    pub const ALL: [ProblemKind; 7] = [
        ProblemKind::Faulted,
        ProblemKind::Offline,
        ProblemKind::NeverHeard,
        ProblemKind::StaleSensor,
        ProblemKind::Flapping,
        ProblemKind::BlockedLong,
        ProblemKind::LowBattery,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::NeverHeard => "never_heard",
            ProblemKind::Offline => "offline",
            ProblemKind::Faulted => "faulted",
            ProblemKind::StaleSensor => "stale",
            ProblemKind::Flapping => "flapping",
            ProblemKind::LowBattery => "low_battery",
            ProblemKind::BlockedLong => "blocked",
        }
    }
}

/// One problem of one pile.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What.
    pub kind: ProblemKind,
    /// Since when (unknown for a pile never heard from).
    pub since: Option<Millis>,
    /// The battery level, for low batteries.
    pub battery: Option<u8>,
    /// The pile.
    pub pile: PileView,
}

/// The problems of `p` at `now` (none for a disabled pile: it is out of service on purpose).
/// `fault_since` is when it last changed state, for faults.
pub fn problems_of(p: &PileView, now: Millis, fault_since: Option<Millis>) -> Vec<Problem> {
    let mut out = Vec::new();
    if !p.enabled {
        return out;
    }
    let t = &p.telemetry;
    let mut push = |kind, since, battery| {
        out.push(Problem {
            kind,
            since,
            battery,
            pile: p.clone(),
        })
    };
    let Some(last) = t.last_report_at else {
        push(ProblemKind::NeverHeard, None, None);
        return out;
    };
    match p.availability(now) {
        Availability::Busy(Reason::Offline) => {
            let limit = domain::availability::offline_secs(p.heartbeat_secs).max(p.freshness_secs);
            push(ProblemKind::Offline, Some(last.plus_secs(limit)), None);
        }
        Availability::Busy(Reason::Faulted) => {
            push(ProblemKind::Faulted, fault_since.or(Some(last)), None);
        }
        _ => {}
    }
    if t.flapping {
        push(ProblemKind::Flapping, t.last_flip_at.or(Some(last)), None);
    } else if now.0 - last.0 > p.freshness_secs * 1000
        && p.availability(now) != Availability::Busy(Reason::Offline)
    {
        push(
            ProblemKind::StaleSensor,
            Some(last.plus_secs(p.freshness_secs)),
            None,
        );
    }
    if p.availability(now) == Availability::Busy(Reason::Blocked) {
        if let Some(since) = t.occupancy_since.filter(|s| now.0 - s.0 > BLOCKED_LIMIT_MS) {
            push(ProblemKind::BlockedLong, Some(since), None);
        }
    }
    if let Some(b) = t.battery.filter(|b| *b < LOW_BATTERY_PERCENT) {
        push(ProblemKind::LowBattery, Some(last), Some(b));
    }
    out
}

impl Chargebay {
    /// Every current problem of the fleet, most severe kind first, oldest first.
    pub async fn fleet_health(&self) -> Result<Vec<Problem>, ServiceError> {
        let now = store::now();
        let mut out = Vec::new();
        for p in self.store.list_piles().await? {
            let fault_since = if p.telemetry.pile_state == Some(PileState::Faulted) {
                self.store.last_event_at(p.id, "pile_state_changed").await?
            } else {
                None
            };
            out.extend(problems_of(&p, now, fault_since));
        }
        out.sort_by_key(|pr| {
            (
                ProblemKind::ALL.iter().position(|k| *k == pr.kind),
                pr.since.map_or(i64::MIN, |m| m.0),
                pr.pile.code.clone(),
            )
        });
        Ok(out)
    }

    /// The problems of one pile now.
    pub async fn pile_problems(&self, id: PileId) -> Result<Vec<Problem>, ServiceError> {
        let p = self.store.pile(id).await?;
        let fault_since = self.store.last_event_at(id, "pile_state_changed").await?;
        Ok(problems_of(&p, store::now(), fault_since))
    }
}

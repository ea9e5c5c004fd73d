//! Events on the live feed (server-sent to browsers, JSON).

use crate::{
    availability::Availability,
    bay::Occupancy,
    ids::{PileId, SiteId},
    time::Millis,
};
use serde::{Deserialize, Serialize};

/// One change a browser should show without reload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A pile's availability or its bay reading changed.
    Pile {
        /// The pile.
        pile: PileId,
        /// Its site.
        site: SiteId,
        /// Offered or not, and why.
        availability: Availability,
        /// The bay's effective occupancy.
        occupancy: Occupancy,
        /// When the bay was last heard.
        reading_at: Option<Millis>,
    },
    /// A driver's hold changed (sent only to that driver).
    Hold {
        /// The driver.
        user: crate::UserId,
        /// The reservation.
        reservation: crate::ReservationId,
        /// The pile.
        pile: PileId,
        /// Held, or how it ended.
        status: crate::ReservationStatus,
        /// When the hold ended blocked or voided: the nearest idle pile with a compatible
        /// connector, reservable in one action.
        alternative: Option<Alternative>,
    },
    /// A pile a driver watches became idle (sent only to that driver).
    Watched {
        /// The driver.
        user: crate::UserId,
        /// The pile that became idle.
        pile: PileId,
        /// Its site.
        site: SiteId,
    },
    /// A pile reported and nothing changed: its reading is fresh as of `at`.
    Heartbeat {
        /// The pile.
        pile: PileId,
        /// When the report arrived.
        at: Millis,
    },
}

/// An idle pile offered instead of one that was lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// The pile.
    pub pile: PileId,
    /// Its code.
    pub code: String,
    /// Its site's name.
    pub site_name: String,
    /// Distance from the lost pile, km.
    pub distance_km: f64,
}

impl LiveEvent {
    /// The only user allowed to see this event, or `None` for public events.
    pub fn audience(&self) -> Option<crate::UserId> {
        match self {
            LiveEvent::Hold { user, .. } | LiveEvent::Watched { user, .. } => Some(*user),
            LiveEvent::Pile { .. } | LiveEvent::Heartbeat { .. } => None,
        }
    }
}

/// A change of a pile's hold, for the pile's own display (CoAP observe) and the driver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldChange {
    /// The pile.
    pub pile: PileId,
    /// The reservation.
    pub reservation: crate::ReservationId,
    /// The driver.
    pub user: crate::UserId,
    /// Held, or how it ended.
    pub status: crate::ReservationStatus,
}

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
    /// A pile reported and nothing changed: its reading is fresh as of `at`.
    Heartbeat {
        /// The pile.
        pile: PileId,
        /// When the report arrived.
        at: Millis,
    },
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

//! Events on the live feed (server-sent to browsers, JSON).

use crate::{
    availability::Availability,
    bay::Occupancy,
    ids::{PileId, SiteId},
    time::Millis,
};
use serde::{Deserialize, Serialize};

/// One change a browser should show without reload. On the wire: a JSON object whose `type`
/// names the variant (`pile`, `hold`, `watched`, `heartbeat`) next to the variant's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "wire::Event")]
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

/// Reading a [`LiveEvent`]. serde's derive for an internally tagged enum buffers each event
/// in a generic tree before reading the variant; the browser bundle pays for that in code
/// for every field type (11 KB gzipped). Reading the same JSON as one flat struct does not.
mod wire {
    use super::{Alternative, LiveEvent};
    use crate::{
        Availability, Millis, Occupancy, PileId, ReservationId, ReservationStatus, SiteId, UserId,
    };
    use serde::Deserialize;

    /// Which variant.
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Pile,
        Hold,
        Watched,
        Heartbeat,
    }

    /// Every field any variant has; each variant checks that its own are there.
    #[derive(Deserialize)]
    pub(super) struct Event {
        #[serde(rename = "type")]
        kind: Kind,
        pile: PileId,
        site: Option<SiteId>,
        availability: Option<Availability>,
        occupancy: Option<Occupancy>,
        reading_at: Option<Millis>,
        user: Option<UserId>,
        reservation: Option<ReservationId>,
        status: Option<ReservationStatus>,
        alternative: Option<Alternative>,
        at: Option<Millis>,
    }

    /// A field the event's variant requires is missing.
    #[derive(Debug, thiserror::Error)]
    #[error("missing field `{0}`")]
    pub(super) struct MissingField(&'static str);

    fn required<T>(value: Option<T>, field: &'static str) -> Result<T, MissingField> {
        value.ok_or(MissingField(field))
    }

    impl TryFrom<Event> for LiveEvent {
        type Error = MissingField;

        fn try_from(e: Event) -> Result<Self, Self::Error> {
            Ok(match e.kind {
                Kind::Pile => LiveEvent::Pile {
                    pile: e.pile,
                    site: required(e.site, "site")?,
                    availability: required(e.availability, "availability")?,
                    occupancy: required(e.occupancy, "occupancy")?,
                    reading_at: e.reading_at,
                },
                Kind::Hold => LiveEvent::Hold {
                    user: required(e.user, "user")?,
                    reservation: required(e.reservation, "reservation")?,
                    pile: e.pile,
                    status: required(e.status, "status")?,
                    alternative: e.alternative,
                },
                Kind::Watched => LiveEvent::Watched {
                    user: required(e.user, "user")?,
                    pile: e.pile,
                    site: required(e.site, "site")?,
                },
                Kind::Heartbeat => LiveEvent::Heartbeat {
                    pile: e.pile,
                    at: required(e.at, "at")?,
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outcome, Reason, ReservationId, ReservationStatus, UserId};

    #[test]
    fn every_event_reads_back_what_it_writes() {
        let events = [
            LiveEvent::Pile {
                pile: PileId(1),
                site: SiteId(2),
                availability: Availability::Busy(Reason::Blocked),
                occupancy: Occupancy::Occupied,
                reading_at: Some(Millis(3)),
            },
            LiveEvent::Pile {
                pile: PileId(1),
                site: SiteId(2),
                availability: Availability::Idle,
                occupancy: Occupancy::Free,
                reading_at: None,
            },
            LiveEvent::Hold {
                user: UserId(4),
                reservation: ReservationId(5),
                pile: PileId(1),
                status: ReservationStatus::Ended(Outcome::Blocked),
                alternative: Some(Alternative {
                    pile: PileId(6),
                    code: "LAB-6".into(),
                    site_name: "Lab".into(),
                    distance_km: 0.4,
                }),
            },
            LiveEvent::Watched {
                user: UserId(4),
                pile: PileId(1),
                site: SiteId(2),
            },
            LiveEvent::Heartbeat {
                pile: PileId(1),
                at: Millis(7),
            },
        ];
        for e in events {
            let json = serde_json::to_string(&e).expect("json");
            assert_eq!(serde_json::from_str::<LiveEvent>(&json).expect(&json), e);
        }
    }

    #[test]
    fn reads_the_documented_shape_and_refuses_incomplete_events() {
        let e: LiveEvent =
            serde_json::from_str(r#"{"type":"heartbeat","pile":1,"at":7}"#).expect("heartbeat");
        assert_eq!(
            e,
            LiveEvent::Heartbeat {
                pile: PileId(1),
                at: Millis(7)
            }
        );
        let err = serde_json::from_str::<LiveEvent>(r#"{"type":"heartbeat","pile":1}"#)
            .expect_err("no `at`");
        assert!(err.to_string().contains("missing field `at`"), "{err}");
        assert!(serde_json::from_str::<LiveEvent>(r#"{"type":"other","pile":1}"#).is_err());
    }
}

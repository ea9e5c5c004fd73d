//! Holds (active reservations): taking, cancelling, checking in, sharing a position, and the
//! state machine (`domain::hold::decide`) applied whenever a report, a sweep, an action or
//! the clock may have changed a hold's fate. Lost holds alert the driver with an alternative.

use crate::{Chargebay, ServiceError};
use domain::{
    geo::LatLon, hold::decide, live::Alternative, HoldChange, LiveEvent, Millis, Outcome, PileId,
    ReservationId, UserId,
};
use serde::{Deserialize, Serialize};
use store::reservations::Reservation;

/// What a pile's display shows about its hold (the CoAP downlink resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PileHold {
    /// `"free"` (no hold) or `"held"`.
    pub state: &'static str,
    /// Reservation id, when held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// Hold deadline (unix ms), when held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

impl Chargebay {
    /// Takes a hold on `pile` for `user`.
    pub async fn reserve(&self, user: UserId, pile: PileId) -> Result<Reservation, ServiceError> {
        let (res, _site) = self.store.reserve(user, pile, store::now()).await?;
        self.hold_changed(change_of(&res), None);
        self.publish_piles(&[pile]).await?;
        Ok(res)
    }

    /// The driver cancels their own hold.
    pub async fn cancel(
        &self,
        user: UserId,
        id: ReservationId,
    ) -> Result<Reservation, ServiceError> {
        self.end_hold(
            id,
            Some(user),
            Outcome::Cancelled,
            &format!("user:{}", user.0),
        )
        .await
    }

    /// The driver says "I'm here"; a bay already occupied by them fulfils the hold at once.
    pub async fn check_in(
        &self,
        user: UserId,
        id: ReservationId,
    ) -> Result<Reservation, ServiceError> {
        self.store.check_in(user, id, store::now()).await?;
        let res = self.store.reservation_of(user, id).await?;
        self.evaluate_holds(Some(&[res.pile])).await?;
        Ok(self.store.reservation_of(user, id).await?)
    }

    /// The driver shares their position during a hold (lets a blocked bay be decided at once
    /// when they are demonstrably far away).
    pub async fn share_position(
        &self,
        user: UserId,
        id: ReservationId,
        at: LatLon,
    ) -> Result<(), ServiceError> {
        self.store
            .set_driver_position(user, id, at, store::now())
            .await?;
        let res = self.store.reservation_of(user, id).await?;
        self.evaluate_holds(Some(&[res.pile])).await
    }

    /// Ends a hold; with `user` set, only that driver's own hold.
    pub async fn end_hold(
        &self,
        id: ReservationId,
        user: Option<UserId>,
        outcome: Outcome,
        cause: &str,
    ) -> Result<Reservation, ServiceError> {
        let res = self
            .store
            .end_hold(id, user, outcome, cause, store::now())
            .await?;
        let alternative = match outcome {
            Outcome::Blocked | Outcome::Voided => self.alternative_for(res.pile).await?,
            _ => None,
        };
        self.hold_changed(change_of(&res), alternative);
        self.publish_piles(&[res.pile]).await?;
        Ok(res)
    }

    /// Applies the state machine to every active hold (or those on `piles`) at this instant.
    /// Idempotent: a hold another instance already ended is skipped.
    pub async fn evaluate_holds(&self, piles: Option<&[PileId]>) -> Result<(), ServiceError> {
        let now = store::now();
        for held in self.store.held_facts(piles, now).await? {
            let Some(outcome) = decide(&held.facts, now) else {
                continue;
            };
            let cause = cause_of(outcome, &held.facts, now);
            match self
                .end_hold(held.reservation.id, None, outcome, cause)
                .await
            {
                Ok(_) | Err(ServiceError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The hold state a pile shows.
    pub async fn pile_hold(&self, pile: PileId) -> Result<PileHold, ServiceError> {
        Ok(match self.store.hold_on_pile(pile).await? {
            Some(r) => PileHold {
                state: "held",
                id: Some(r.id.0),
                until: Some(r.deadline.0),
            },
            None => PileHold {
                state: "free",
                id: None,
                until: None,
            },
        })
    }

    /// The nearest idle pile with the same connector as `lost`, if any.
    pub(crate) async fn alternative_for(
        &self,
        lost: PileId,
    ) -> Result<Option<Alternative>, ServiceError> {
        let from = self.store.pile(lost).await?;
        let origin = LatLon {
            lat: from.lat,
            lon: from.lon,
        };
        let hit = self
            .nearest_idle(origin, Some(from.connector), Some(lost))
            .await?;
        Ok(hit.map(|h| Alternative {
            pile: h.pile.id,
            code: h.pile.code.clone(),
            site_name: h.pile.site_name.clone(),
            distance_km: h.distance_km.unwrap_or_else(|| {
                origin.distance_km(LatLon {
                    lat: h.pile.lat,
                    lon: h.pile.lon,
                })
            }),
        }))
    }

    /// Publishes a hold's new state: to the pile's observers and to the driver.
    pub(crate) fn hold_changed(&self, change: HoldChange, alternative: Option<Alternative>) {
        self.hub.publish_hold(change.clone());
        self.hub.publish(LiveEvent::Hold {
            user: change.user,
            reservation: change.reservation,
            pile: change.pile,
            status: change.status,
            alternative,
        });
    }
}

/// The hold change `r` stands for.
fn change_of(r: &Reservation) -> HoldChange {
    HoldChange {
        pile: r.pile,
        reservation: r.id,
        user: r.user,
        status: r.status,
    }
}

fn cause_of(outcome: Outcome, f: &domain::hold::HoldFacts, now: Millis) -> &'static str {
    match outcome {
        Outcome::Voided => "sensor: pile unavailable",
        Outcome::Fulfilled if f.pile_state == Some(domain::PileState::Charging) => {
            "sensor: charging started"
        }
        Outcome::Fulfilled => "sensor: bay occupied after check-in",
        Outcome::Blocked if f.driver_km.is_some_and(|km| km > domain::hold::FAR_KM) => {
            "sensor: bay occupied while driver far away"
        }
        Outcome::Blocked => "sensor: bay occupied, no check-in within grace",
        Outcome::Expired if now >= f.deadline => "timer: deadline passed, bay never occupied",
        Outcome::Expired | Outcome::Cancelled => "timer",
    }
}

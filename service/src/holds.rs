//! Holds (active reservations) as drivers take and end them, and as the pile sees them.

use crate::{Chargebay, ServiceError};
use domain::{HoldChange, Millis, Outcome, PileId, ReservationId, ReservationStatus, UserId};
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
        self.hold_changed(&res);
        self.publish_piles(&[pile]).await?;
        Ok(res)
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
        self.hold_changed(&res);
        self.publish_piles(&[res.pile]).await?;
        Ok(res)
    }

    /// Expires every hold whose deadline passed by `now` (idempotent: an ended hold is skipped).
    pub async fn expire_due(&self, now: Millis) -> Result<usize, ServiceError> {
        let mut n = 0;
        for r in self.store.holds_due(now).await? {
            match self.end_hold(r.id, None, Outcome::Expired, "timer").await {
                Ok(_) => n += 1,
                Err(ServiceError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
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

    fn hold_changed(&self, r: &Reservation) {
        self.hub.publish_hold(HoldChange {
            pile: r.pile,
            reservation: r.id,
            user: r.user,
            status: r.status,
        });
        debug_assert!(matches!(
            r.status,
            ReservationStatus::Held | ReservationStatus::Ended(_)
        ));
    }
}

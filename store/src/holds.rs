//! What the hold state machine needs to know, loaded in one query per batch of holds; and the
//! driver's actions on a hold (check-in, sharing a position), plus a driver's history.

use crate::{
    piles::{pile_from_row, PILE_VIEW_SELECT},
    reservations::{reservation_from_row, Reservation, RESERVATION_COLUMNS},
    Store, StoreError,
};
use domain::{
    availability::offline_secs,
    geo::LatLon,
    hold::{HoldFacts, PileHealth, POSITION_MAX_AGE_SECS},
    Millis, PileId, PileState, ReservationId, UserId,
};
use sqlx::Row;

/// An active hold with the facts the state machine decides on.
#[derive(Debug, Clone)]
pub struct HeldFacts {
    /// The hold.
    pub reservation: Reservation,
    /// The facts at the instant they were loaded.
    pub facts: HoldFacts,
    /// The pile's view (for alerts and alternatives).
    pub pile: crate::piles::PileView,
}

impl Store {
    /// Every active hold (or only those on `piles`) with its facts at `now`.
    pub async fn held_facts(
        &self,
        piles: Option<&[PileId]>,
        now: Millis,
    ) -> Result<Vec<HeldFacts>, StoreError> {
        let filter = match piles {
            Some([]) => return Ok(Vec::new()),
            Some(ids) => format!(
                " AND pile_id IN ({})",
                ids.iter()
                    .map(|p| p.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None => String::new(),
        };
        let rows = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS}, checked_in_at, driver_lat, driver_lon, driver_pos_at \
             FROM reservations WHERE status = 'held'{filter}"
        ))
        .fetch_all(self.pool())
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let pile_ids: Vec<PileId> = rows
            .iter()
            .map(|r| r.try_get("pile_id").map(PileId))
            .collect::<Result<_, _>>()?;
        let views = self.piles_by_id(&pile_ids).await?;
        let grace: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT p.id, s.grace_secs FROM piles p JOIN sites s ON s.id = p.site_id WHERE p.id IN ({})",
            pile_ids.iter().map(|p| p.0.to_string()).collect::<Vec<_>>().join(",")
        ))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let reservation = reservation_from_row(r)?;
            let Some(view) = views.iter().find(|v| v.id == reservation.pile) else {
                continue;
            };
            let grace_secs = grace
                .iter()
                .find(|(p, _)| *p == reservation.pile.0)
                .map_or(120, |(_, g)| *g);
            let t = &view.telemetry;
            let offline = t.last_report_at.is_none_or(|at| {
                now.0 - at.0 > offline_secs(view.heartbeat_secs).max(view.freshness_secs) * 1000
            });
            let health = if !view.enabled {
                PileHealth::Disabled
            } else if offline {
                PileHealth::Offline
            } else if t.pile_state == Some(PileState::Faulted) {
                PileHealth::Faulted
            } else {
                PileHealth::Ok
            };
            let pos_at: Option<i64> = r.try_get("driver_pos_at")?;
            let driver_km = match (
                r.try_get::<Option<f64>, _>("driver_lat")?,
                r.try_get::<Option<f64>, _>("driver_lon")?,
                pos_at,
            ) {
                (Some(lat), Some(lon), Some(at)) if now.0 - at <= POSITION_MAX_AGE_SECS * 1000 => {
                    Some(LatLon { lat, lon }.distance_km(LatLon {
                        lat: view.lat,
                        lon: view.lon,
                    }))
                }
                _ => None,
            };
            let facts = HoldFacts {
                created_at: reservation.created_at,
                deadline: reservation.deadline,
                grace_secs,
                health,
                pile_state: t.pile_state,
                bay: view.occupancy(now),
                bay_since: t.occupancy_since,
                checked_in: r.try_get::<Option<i64>, _>("checked_in_at")?.is_some(),
                driver_km,
            };
            out.push(HeldFacts {
                reservation,
                facts,
                pile: view.clone(),
            });
        }
        Ok(out)
    }

    /// The driver says "I'm here". `NotFound` unless it is their active hold.
    pub async fn check_in(
        &self,
        user: UserId,
        id: ReservationId,
        now: Millis,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE reservations SET checked_in_at = COALESCE(checked_in_at, $1) \
             WHERE id = $2 AND user_id = $3 AND status = 'held'",
        )
        .bind(now.0)
        .bind(id.0)
        .bind(user.0)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("reservation"));
        }
        Ok(())
    }

    /// The driver shares their position for their active hold.
    pub async fn set_driver_position(
        &self,
        user: UserId,
        id: ReservationId,
        at: LatLon,
        now: Millis,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE reservations SET driver_lat = $1, driver_lon = $2, driver_pos_at = $3 \
             WHERE id = $4 AND user_id = $5 AND status = 'held'",
        )
        .bind(at.lat)
        .bind(at.lon)
        .bind(now.0)
        .bind(id.0)
        .bind(user.0)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("reservation"));
        }
        Ok(())
    }

    /// A driver's reservations, newest first.
    pub async fn reservations_of(
        &self,
        user: UserId,
        limit: i64,
    ) -> Result<Vec<Reservation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(reservation_from_row).collect()
    }

    /// A driver's active hold, if any.
    pub async fn active_hold_of(&self, user: UserId) -> Result<Option<Reservation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE user_id = $1 AND status = 'held'"
        ))
        .bind(user.0)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(reservation_from_row).transpose()
    }

    /// Piles at a site (for site watches and alternatives).
    pub async fn piles_at_site(
        &self,
        site: domain::SiteId,
    ) -> Result<Vec<crate::piles::PileView>, StoreError> {
        let rows = sqlx::query(&format!(
            "{PILE_VIEW_SELECT} WHERE p.site_id = $1 ORDER BY p.code"
        ))
        .bind(site.0)
        .fetch_all(self.pool())
        .await?;
        let views = rows.iter().map(pile_from_row).collect::<Result<_, _>>()?;
        Ok(self.with_waiting(views))
    }
}

//! The driver's hold from the UI: reserve, cancel, check in, history, watch.

use domain::{PileId, ReservationId};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A reservation as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldView {
    /// Reservation id.
    pub id: ReservationId,
    /// The pile.
    pub pile: PileId,
    /// Its code.
    pub code: String,
    /// Its site.
    pub site_name: String,
    /// Its address.
    pub address: String,
    /// Position (for directions).
    pub lat: f64,
    /// Position (for directions).
    pub lon: f64,
    /// `held` or the outcome.
    pub status: String,
    /// Taken at (unix ms).
    pub created_at: i64,
    /// Deadline (unix ms).
    pub deadline: i64,
    /// Ended at (unix ms).
    pub ended_at: Option<i64>,
}

/// Why a reservation attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReserveFailure {
    /// Not signed in.
    SignIn,
    /// The pile is not idle (reason).
    NotIdle(String),
    /// The driver already holds a pile.
    AlreadyHolding,
    /// No such pile.
    NotFound,
}

#[cfg(feature = "ssr")]
async fn view_of(
    svc: &service::Chargebay,
    r: store::reservations::Reservation,
) -> Result<HoldView, ServerFnError> {
    let p = svc.pile(r.pile).await.map_err(super::ctx::internal)?;
    Ok(HoldView {
        id: r.id,
        pile: r.pile,
        code: p.code,
        site_name: p.site_name,
        address: p.address,
        lat: p.lat,
        lon: p.lon,
        status: r.status.as_str().to_owned(),
        created_at: r.created_at.0,
        deadline: r.deadline.0,
        ended_at: r.ended_at.map(|m| m.0),
    })
}

#[cfg(feature = "ssr")]
async fn require_user() -> Result<crate::session::SessionUser, ServerFnError> {
    super::ctx::user()
        .await?
        .ok_or_else(|| ServerFnError::new("sign in first"))
}

/// The driver's active hold, if any (`None` also when signed out).
#[server(endpoint = "my_hold", output = crate::api::codec::JsonText)]
pub async fn my_hold() -> Result<Option<HoldView>, ServerFnError> {
    let Some(me) = super::ctx::user().await? else {
        return Ok(None);
    };
    let svc = super::ctx::service()?;
    match svc
        .store()
        .active_hold_of(me.id)
        .await
        .map_err(super::ctx::internal)?
    {
        Some(r) => Ok(Some(view_of(&svc, r).await?)),
        None => Ok(None),
    }
}

/// Reserves a pile.
#[server(endpoint = "reserve", output = crate::api::codec::JsonText)]
pub async fn reserve(pile: i64) -> Result<Result<HoldView, ReserveFailure>, ServerFnError> {
    let Some(me) = super::ctx::user().await? else {
        return Ok(Err(ReserveFailure::SignIn));
    };
    let svc = super::ctx::service()?;
    match svc.reserve(me.id, PileId(pile)).await {
        Ok(r) => Ok(Ok(view_of(&svc, r).await?)),
        Err(service::ServiceError::NotFound(_)) => Ok(Err(ReserveFailure::NotFound)),
        Err(service::ServiceError::Conflict(m)) if m.contains("already") => {
            Ok(Err(ReserveFailure::AlreadyHolding))
        }
        Err(service::ServiceError::Conflict(m)) => Ok(Err(ReserveFailure::NotIdle(
            m.rsplit(": ").next().unwrap_or(&m).to_owned(),
        ))),
        Err(e) => Err(super::ctx::internal(e)),
    }
}

/// Cancels the driver's hold.
#[server(endpoint = "cancel", output = crate::api::codec::JsonText)]
pub async fn cancel_hold(id: i64) -> Result<HoldView, ServerFnError> {
    let me = require_user().await?;
    let svc = super::ctx::service()?;
    let r = svc
        .cancel(me.id, ReservationId(id))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    view_of(&svc, r).await
}

/// "I'm here".
#[server(endpoint = "check_in", output = crate::api::codec::JsonText)]
pub async fn check_in(id: i64) -> Result<HoldView, ServerFnError> {
    let me = require_user().await?;
    let svc = super::ctx::service()?;
    let r = svc
        .check_in(me.id, ReservationId(id))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    view_of(&svc, r).await
}

/// Shares the driver's position during their hold.
#[server(endpoint = "position", output = crate::api::codec::JsonText)]
pub async fn share_position(id: i64, lat: f64, lon: f64) -> Result<(), ServerFnError> {
    let me = require_user().await?;
    let at = domain::geo::LatLon::new(lat, lon).map_err(|e| ServerFnError::new(e.to_string()))?;
    match super::ctx::service()?
        .share_position(me.id, ReservationId(id), at)
        .await
    {
        // The hold may have ended meanwhile: nothing to share any more.
        Ok(()) | Err(service::ServiceError::NotFound(_)) => Ok(()),
        Err(e) => Err(ServerFnError::new(e.to_string())),
    }
}

/// The driver's reservations, newest first.
#[server(endpoint = "history", output = crate::api::codec::JsonText)]
pub async fn history() -> Result<Vec<HoldView>, ServerFnError> {
    let me = require_user().await?;
    let svc = super::ctx::service()?;
    let mut out = Vec::new();
    for r in svc
        .store()
        .reservations_of(me.id, 200)
        .await
        .map_err(super::ctx::internal)?
    {
        out.push(view_of(&svc, r).await?);
    }
    Ok(out)
}

/// "Notify me when free" for a pile.
#[server(endpoint = "watch", output = crate::api::codec::JsonText)]
pub async fn watch_pile(pile: i64) -> Result<(), ServerFnError> {
    let me = require_user().await?;
    let svc = super::ctx::service()?;
    svc.pile(PileId(pile))
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    svc.store()
        .add_watch(me.id, store::watches::WatchTarget::Pile(PileId(pile)))
        .await
        .map_err(super::ctx::internal)
}

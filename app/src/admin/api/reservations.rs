//! Reservations: live list, search, cancel with a reason.

#[cfg(feature = "ssr")]
use super::{fail, require_admin};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A reservation as the admin list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResRow {
    /// Id.
    pub id: i64,
    /// Pile id.
    pub pile: i64,
    /// Pile code.
    pub code: String,
    /// Site name.
    pub site_name: String,
    /// Driver's email.
    pub email: String,
    /// `held` or the outcome.
    pub status: String,
    /// Taken (unix ms).
    pub created_at: i64,
    /// Deadline (unix ms).
    pub deadline: i64,
    /// Ended (unix ms).
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub end_cause: Option<String>,
}

/// Search results and the server's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResList {
    /// Newest first (at most 300).
    pub rows: Vec<ResRow>,
    /// Server time (unix ms).
    pub now: i64,
}

/// Reservations by site, pile code, driver email, status and time range (UTC+8 inputs).
#[server(endpoint = "admin_reservations", output = crate::api::codec::JsonText)]
pub async fn admin_reservations(
    site: Option<i64>,
    pile: Option<String>,
    email: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
) -> Result<ResList, ServerFnError> {
    use crate::admin::time::parse_local;
    let (svc, _) = require_admin().await?;
    let time = |v: Option<String>| -> Result<Option<domain::Millis>, ServerFnError> {
        match v.filter(|s| !s.trim().is_empty()) {
            None => Ok(None),
            Some(s) => parse_local(&s)
                .map(|ms| Some(domain::Millis(ms)))
                .ok_or_else(|| ServerFnError::new(format!("not a date: {s}"))),
        }
    };
    let q = store::admin::reservations::ReservationQuery {
        site: site.map(domain::SiteId),
        pile: None,
        pile_code: pile,
        email,
        status,
        from: time(from)?,
        to: time(to)?,
        limit: 300,
    };
    let rows = svc
        .admin_reservations(&q)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|r| ResRow {
            id: r.reservation.id.0,
            pile: r.reservation.pile.0,
            code: r.pile_code,
            site_name: r.site_name,
            email: r.email,
            status: r.reservation.status.as_str().to_owned(),
            created_at: r.reservation.created_at.0,
            deadline: r.reservation.deadline.0,
            ended_at: r.reservation.ended_at.map(|m| m.0),
            end_cause: r.end_cause,
        })
        .collect();
    Ok(ResList {
        rows,
        now: store::now().0,
    })
}

/// Cancels a driver's active hold with a reason (the driver is alerted live).
#[server(endpoint = "admin_cancel_reservation", output = crate::api::codec::JsonText)]
pub async fn admin_cancel_reservation(id: i64, reason: String) -> Result<(), ServerFnError> {
    let (svc, admin) = require_admin().await?;
    svc.admin_cancel(admin, domain::ReservationId(id), &reason)
        .await
        .map(|_| ())
        .map_err(fail)
}

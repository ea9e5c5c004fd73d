//! Reservation search for the admin pages.

use super::users::like_pattern;
use crate::{
    reservations::{reservation_from_row, Reservation},
    Store, StoreError,
};
use domain::{Millis, PileId, SiteId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What to search reservations by (every field optional; all given must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReservationQuery {
    /// At this site.
    pub site: Option<SiteId>,
    /// On this pile.
    pub pile: Option<PileId>,
    /// The pile code contains this.
    pub pile_code: Option<String>,
    /// The driver's email contains this.
    pub email: Option<String>,
    /// `held` or an outcome.
    pub status: Option<String>,
    /// Taken at or after.
    pub from: Option<Millis>,
    /// Taken before.
    pub to: Option<Millis>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// A reservation with who and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationRow {
    /// The reservation.
    pub reservation: Reservation,
    /// The driver's email.
    pub email: String,
    /// The pile's code.
    pub pile_code: String,
    /// The site's id.
    pub site: SiteId,
    /// The site's name.
    pub site_name: String,
    /// Why it ended.
    pub end_cause: Option<String>,
}

enum Arg {
    Int(i64),
    Text(String),
}

impl Store {
    /// Reservations matching `q`, newest first.
    pub async fn search_reservations(
        &self,
        q: &ReservationQuery,
    ) -> Result<Vec<ReservationRow>, StoreError> {
        let mut clauses = Vec::new();
        let mut args = Vec::new();
        let mut add = |clause: &str, arg: Arg| {
            args.push(arg);
            clauses.push(clause.replace('?', &format!("${}", args.len())));
        };
        if let Some(s) = q.site {
            add("p.site_id = ?", Arg::Int(s.0));
        }
        if let Some(p) = q.pile {
            add("r.pile_id = ?", Arg::Int(p.0));
        }
        if let Some(c) = q.pile_code.as_deref().filter(|c| !c.trim().is_empty()) {
            add(
                "LOWER(p.code) LIKE ? ESCAPE '\\'",
                Arg::Text(like_pattern(c)),
            );
        }
        if let Some(e) = q.email.as_deref().filter(|e| !e.trim().is_empty()) {
            add(
                "LOWER(u.email) LIKE ? ESCAPE '\\'",
                Arg::Text(like_pattern(e)),
            );
        }
        if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
            add("r.status = ?", Arg::Text(s.to_owned()));
        }
        if let Some(f) = q.from {
            add("r.created_at >= ?", Arg::Int(f.0));
        }
        if let Some(t) = q.to {
            add("r.created_at < ?", Arg::Int(t.0));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT r.id, r.user_id, r.pile_id, r.status, r.created_at, r.deadline, r.ended_at, \
             r.end_cause, u.email, p.code, p.site_id, s.name AS site_name \
             FROM reservations r JOIN users u ON u.id = r.user_id \
             JOIN piles p ON p.id = r.pile_id JOIN sites s ON s.id = p.site_id{filter} \
             ORDER BY r.created_at DESC, r.id DESC LIMIT {}",
            q.limit.clamp(1, 1000)
        );
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                Arg::Int(i) => query.bind(i),
                Arg::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(ReservationRow {
                    reservation: reservation_from_row(r)?,
                    email: r.try_get("email")?,
                    pile_code: r.try_get("code")?,
                    site: SiteId(r.try_get("site_id")?),
                    site_name: r.try_get("site_name")?,
                    end_cause: r.try_get("end_cause")?,
                })
            })
            .collect()
    }

    /// Any reservation by id (admins see everyone's).
    pub async fn admin_reservation(
        &self,
        id: domain::ReservationId,
    ) -> Result<Reservation, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM reservations WHERE id = $1",
            crate::reservations::RESERVATION_COLUMNS
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("reservation"))?;
        reservation_from_row(&row)
    }
}

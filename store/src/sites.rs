//! Sites: car parks or street locations, with their reservation and sensor policies.

use crate::{now, Store, StoreError};
use domain::{geo::LatLon, SiteId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// Per-site policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SitePolicy {
    /// How long a hold lasts, in seconds (default 15 min).
    pub hold_secs: i64,
    /// Arrival grace after the bay becomes occupied, in seconds (default 2 min).
    pub grace_secs: i64,
    /// Bay freshness limit override; `None` derives it from each pile's heartbeat.
    pub freshness_secs: Option<i64>,
    /// Whether drivers may reserve here.
    pub reservations_allowed: bool,
}

impl Default for SitePolicy {
    fn default() -> Self {
        SitePolicy {
            hold_secs: 900,
            grace_secs: 120,
            freshness_secs: None,
            reservations_allowed: true,
        }
    }
}

/// A site to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSite {
    /// Display name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Location.
    pub position: LatLon,
    /// IANA timezone name.
    pub timezone: String,
    /// Policies.
    pub policy: SitePolicy,
}

/// A stored site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// Id.
    pub id: SiteId,
    /// Display name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// IANA timezone name.
    pub timezone: String,
    /// Policies.
    pub policy: SitePolicy,
    /// Enabled by the operator.
    pub enabled: bool,
}

const SITE_COLUMNS: &str = "id, name, address, lat, lon, timezone, hold_secs, grace_secs, \
                            freshness_secs, reservations_allowed, enabled";

fn site_from_row(r: &sqlx::any::AnyRow) -> Result<Site, sqlx::Error> {
    Ok(Site {
        id: SiteId(r.try_get("id")?),
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        timezone: r.try_get("timezone")?,
        policy: SitePolicy {
            hold_secs: r.try_get("hold_secs")?,
            grace_secs: r.try_get("grace_secs")?,
            freshness_secs: r.try_get("freshness_secs")?,
            reservations_allowed: r.try_get::<i64, _>("reservations_allowed")? != 0,
        },
        enabled: r.try_get::<i64, _>("enabled")? != 0,
    })
}

impl Store {
    /// Creates a site and returns its id.
    pub async fn create_site(&self, s: &NewSite) -> Result<SiteId, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_site(&mut tx, s).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every site, by name.
    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites ORDER BY name, id"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(site_from_row).collect::<Result<_, _>>()?)
    }

    /// One site.
    pub async fn site(&self, id: SiteId) -> Result<Site, StoreError> {
        let row = sqlx::query(&format!("SELECT {SITE_COLUMNS} FROM sites WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("site"))?;
        Ok(site_from_row(&row)?)
    }
}

/// Inserts a site inside `tx` (shared by every writer of sites).
pub(crate) async fn insert_site(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    s: &NewSite,
) -> Result<SiteId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sites (name, address, lat, lon, timezone, hold_secs, grace_secs, \
         freshness_secs, reservations_allowed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&s.name)
    .bind(&s.address)
    .bind(s.position.lat)
    .bind(s.position.lon)
    .bind(&s.timezone)
    .bind(s.policy.hold_secs)
    .bind(s.policy.grace_secs)
    .bind(s.policy.freshness_secs)
    .bind(i64::from(s.policy.reservations_allowed))
    .bind(now().0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(SiteId(id))
}

//! Piles and their bays: operator configuration plus the live telemetry the piles report.

use crate::{now, Store, StoreError};
use domain::{
    availability::{default_freshness_secs, offline_secs},
    classify, Availability, BayTelemetry, ConnectorType, Millis, Occupancy, PileId, PileSnapshot,
    SiteId,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A pile to create (its bay is created with it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewPile {
    /// The site it stands at.
    pub site: SiteId,
    /// Operator's code, unique (e.g. `SZ-FT-01-3`).
    pub code: String,
    /// Connector.
    pub connector: ConnectorType,
    /// Maximum power in kW.
    pub max_kw: f64,
    /// Free-text tariff.
    pub price_text: String,
    /// How often the pile sends a report when nothing changes, in seconds.
    pub heartbeat_secs: i64,
    /// The bay's sensor kind (`magnetometer`, `radar`, `camera`).
    pub sensor: String,
}

/// A pile with its site, bay telemetry and whether it is held: all the one rule needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileView {
    /// Id.
    pub id: PileId,
    /// Operator's code.
    pub code: String,
    /// Site id.
    pub site: SiteId,
    /// Site name.
    pub site_name: String,
    /// Site address.
    pub address: String,
    /// Site latitude.
    pub lat: f64,
    /// Site longitude.
    pub lon: f64,
    /// Connector.
    pub connector: ConnectorType,
    /// Maximum power in kW.
    pub max_kw: f64,
    /// Free-text tariff.
    pub price_text: String,
    /// Heartbeat interval in seconds.
    pub heartbeat_secs: i64,
    /// Bay sensor kind.
    pub sensor: String,
    /// Enabled by the operator (pile and site).
    pub enabled: bool,
    /// An active reservation holds it.
    pub held: bool,
    /// Bay freshness limit in seconds.
    pub freshness_secs: i64,
    /// The bay's live telemetry.
    pub telemetry: BayTelemetry,
    /// Where the last report came from (`ip:port`).
    pub last_addr: Option<String>,
}

impl PileView {
    /// The one rule, at `now`.
    pub fn availability(&self, now: Millis) -> Availability {
        classify(
            &PileSnapshot {
                enabled: self.enabled,
                held: self.held,
                telemetry: &self.telemetry,
                freshness_secs: self.freshness_secs,
                offline_secs: offline_secs(self.heartbeat_secs).max(self.freshness_secs),
            },
            now,
        )
    }

    /// The bay occupancy a driver may rely on at `now`.
    pub fn occupancy(&self, now: Millis) -> Occupancy {
        self.telemetry.effective_occupancy(now, self.freshness_secs)
    }
}

pub(crate) const PILE_VIEW_SELECT: &str =
    "SELECT p.id, p.code, p.site_id, s.name AS site_name, s.address, s.lat, s.lon, \
     p.connector, p.max_kw, p.price_text, p.heartbeat_secs, b.sensor, \
     p.enabled * s.enabled AS enabled, s.freshness_secs AS site_freshness, \
     (SELECT COUNT(*) FROM reservations r WHERE r.pile_id = p.id AND r.status = 'held') AS held, \
     bs.last_seq, bs.last_report_at, b.pile_state, b.occupancy, b.occupancy_since, b.last_flip_at, \
     b.rapid_flips, b.flapping, bs.battery, bs.quality, b.last_addr \
     FROM piles p JOIN sites s ON s.id = p.site_id JOIN bays b ON b.pile_id = p.id \
     JOIN bay_seen bs ON bs.pile_id = p.id";

pub(crate) fn telemetry_from_row(r: &sqlx::any::AnyRow) -> Result<BayTelemetry, StoreError> {
    let corrupt = |e: domain::pile::UnknownValue| StoreError::Corrupt(e.to_string());
    let percent = |v: Option<i64>| v.and_then(|x| u8::try_from(x).ok());
    Ok(BayTelemetry {
        last_seq: r.try_get("last_seq")?,
        last_report_at: r.try_get::<Option<i64>, _>("last_report_at")?.map(Millis),
        pile_state: r
            .try_get::<Option<String>, _>("pile_state")?
            .map(|s| s.parse())
            .transpose()
            .map_err(corrupt)?,
        occupancy: r
            .try_get::<String, _>("occupancy")?
            .parse()
            .map_err(corrupt)?,
        occupancy_since: r.try_get::<Option<i64>, _>("occupancy_since")?.map(Millis),
        last_flip_at: r.try_get::<Option<i64>, _>("last_flip_at")?.map(Millis),
        rapid_flips: r.try_get("rapid_flips")?,
        flapping: r.try_get::<i64, _>("flapping")? != 0,
        battery: percent(r.try_get("battery")?),
        quality: percent(r.try_get("quality")?),
    })
}

pub(crate) fn pile_from_row(r: &sqlx::any::AnyRow) -> Result<PileView, StoreError> {
    let heartbeat_secs: i64 = r.try_get("heartbeat_secs")?;
    let site_freshness: Option<i64> = r.try_get("site_freshness")?;
    Ok(PileView {
        id: PileId(r.try_get("id")?),
        code: r.try_get("code")?,
        site: SiteId(r.try_get("site_id")?),
        site_name: r.try_get("site_name")?,
        address: r.try_get("address")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        connector: r
            .try_get::<String, _>("connector")?
            .parse()
            .map_err(|e: domain::pile::UnknownValue| StoreError::Corrupt(e.to_string()))?,
        max_kw: r.try_get("max_kw")?,
        price_text: r.try_get("price_text")?,
        heartbeat_secs,
        sensor: r.try_get("sensor")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        held: r.try_get::<i64, _>("held")? != 0,
        freshness_secs: site_freshness.unwrap_or_else(|| default_freshness_secs(heartbeat_secs)),
        telemetry: telemetry_from_row(r)?,
        last_addr: r.try_get("last_addr")?,
    })
}

impl Store {
    /// Creates a pile and its bay in one transaction.
    pub async fn create_pile(&self, p: &NewPile) -> Result<PileId, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_pile(&mut tx, p.site, p).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every pile with its live view, ordered by site then code.
    pub async fn list_piles(&self) -> Result<Vec<PileView>, StoreError> {
        let rows = sqlx::query(&format!("{PILE_VIEW_SELECT} ORDER BY s.name, p.code"))
            .fetch_all(self.pool())
            .await?;
        let views = rows.iter().map(pile_from_row).collect::<Result<_, _>>()?;
        Ok(self.with_waiting(views))
    }

    /// `views` with what their waiting `bay_seen` rows say ([`crate::seen`]).
    pub(crate) fn with_waiting(&self, mut views: Vec<PileView>) -> Vec<PileView> {
        if let Some(deferred) = &self.seen {
            let deferred = crate::seen::lock(deferred);
            for v in &mut views {
                if let Some(row) = deferred.get(v.id.0) {
                    crate::seen::overlay(&mut v.telemetry, row);
                }
            }
        }
        views
    }

    /// One pile's live view.
    pub async fn pile(&self, id: PileId) -> Result<PileView, StoreError> {
        let row = sqlx::query(&format!("{PILE_VIEW_SELECT} WHERE p.id = $1"))
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound("pile"))?;
        let view = pile_from_row(&row)?;
        Ok(self.with_waiting(vec![view]).remove(0))
    }

    /// Several piles' live views (order unspecified).
    pub async fn piles_by_id(&self, ids: &[PileId]) -> Result<Vec<PileView>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(|i| i.0.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let rows = sqlx::query(&format!("{PILE_VIEW_SELECT} WHERE p.id IN ({list})"))
                .fetch_all(self.pool())
                .await?;
            for r in &rows {
                out.push(pile_from_row(r)?);
            }
        }
        Ok(self.with_waiting(out))
    }

    /// Number of piles.
    pub async fn count_piles(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM piles")
            .fetch_one(self.pool())
            .await?)
    }
}

/// Inserts a pile and its bay inside `tx` (shared by every writer of piles).
pub(crate) async fn insert_pile(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    site: SiteId,
    p: &NewPile,
) -> Result<PileId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO piles (site_id, code, connector, max_kw, price_text, heartbeat_secs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(site.0)
    .bind(&p.code)
    .bind(p.connector.as_str())
    .bind(p.max_kw)
    .bind(&p.price_text)
    .bind(p.heartbeat_secs)
    .bind(now().0)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| StoreError::from_write(e, &format!("pile code {} is taken", p.code)))?;
    sqlx::query("INSERT INTO bays (pile_id, sensor) VALUES ($1, $2)")
        .bind(id)
        .bind(&p.sensor)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO bay_seen (pile_id) VALUES ($1)")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(PileId(id))
}

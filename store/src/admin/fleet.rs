//! Sites and piles as the operator edits them: create, edit, enable/disable, and the bulk
//! import of a whole fleet in one transaction. Each write records its audit entry.

use super::audit::{insert_audit, AuditEntry};
use crate::{piles::NewPile, sites::NewSite, Store, StoreError};
use domain::{ConnectorType, PileId, SiteId};
use sqlx::{Any, Transaction};
use std::collections::{HashMap, HashSet};

/// The editable settings of a pile (its site, hardware and tariff).
#[derive(Debug, Clone, PartialEq)]
pub struct PileSettings {
    /// The site it stands at.
    pub site: SiteId,
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
}

/// Which site a pile of an import goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteRef {
    /// A site already in the database.
    Existing(SiteId),
    /// The n-th new site of the same import.
    New(usize),
}

/// A pile of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPile {
    /// Its site.
    pub site: SiteRef,
    /// Everything else (its `site` field is ignored).
    pub pile: NewPile,
}

/// A validated import: new sites, then new piles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// Sites to create.
    pub sites: Vec<NewSite>,
    /// Piles to create.
    pub piles: Vec<PlannedPile>,
}

/// What an import created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// The new sites, in plan order.
    pub sites: Vec<SiteId>,
    /// The new piles, in plan order.
    pub piles: Vec<PileId>,
}

async fn site_exists(tx: &mut Transaction<'_, Any>, id: SiteId) -> Result<(), StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sites WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut **tx)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("site"));
    }
    Ok(())
}

impl Store {
    /// Creates a site (audited).
    pub async fn admin_create_site(
        &self,
        s: &NewSite,
        audit: &AuditEntry,
    ) -> Result<SiteId, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = crate::sites::insert_site(&mut tx, s).await?;
        let mut entry = audit.clone();
        entry.target = format!("site:{}", id.0);
        insert_audit(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a site's name, address, position, timezone and policies (audited).
    pub async fn admin_update_site(
        &self,
        id: SiteId,
        s: &NewSite,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sites SET name = $1, address = $2, lat = $3, lon = $4, timezone = $5, \
             hold_secs = $6, grace_secs = $7, freshness_secs = $8, reservations_allowed = $9 \
             WHERE id = $10",
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
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("site"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enables or disables a site (audited).
    pub async fn admin_set_site_enabled(
        &self,
        id: SiteId,
        enabled: bool,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE sites SET enabled = $1 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("site"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a pile and its bay (audited); `Conflict` when the code is taken.
    pub async fn admin_create_pile(
        &self,
        p: &NewPile,
        audit: &AuditEntry,
    ) -> Result<PileId, StoreError> {
        let mut tx = self.begin_write().await?;
        site_exists(&mut tx, p.site).await?;
        let id = crate::piles::insert_pile(&mut tx, p.site, p).await?;
        let mut entry = audit.clone();
        entry.target = format!("pile:{}", id.0);
        insert_audit(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces a pile's settings (audited).
    pub async fn admin_update_pile(
        &self,
        id: PileId,
        p: &PileSettings,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        site_exists(&mut tx, p.site).await?;
        let done = sqlx::query(
            "UPDATE piles SET site_id = $1, connector = $2, max_kw = $3, price_text = $4, \
             heartbeat_secs = $5 WHERE id = $6",
        )
        .bind(p.site.0)
        .bind(p.connector.as_str())
        .bind(p.max_kw)
        .bind(&p.price_text)
        .bind(p.heartbeat_secs)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("pile"));
        }
        sqlx::query("UPDATE bays SET sensor = $1 WHERE pile_id = $2")
            .bind(&p.sensor)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enables or disables a pile (audited).
    pub async fn admin_set_pile_enabled(
        &self,
        id: PileId,
        enabled: bool,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE piles SET enabled = $1 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("pile"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Piles switched off by their own flag (whatever their site's).
    pub async fn disabled_pile_ids(&self) -> Result<HashSet<PileId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM piles WHERE enabled = 0")
            .fetch_all(self.pool())
            .await?;
        Ok(ids.into_iter().map(PileId).collect())
    }

    /// Which of `codes` are already pile codes.
    pub async fn existing_pile_codes(
        &self,
        codes: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut out = HashSet::new();
        for chunk in codes.chunks(200) {
            let params = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!("SELECT code FROM piles WHERE code IN ({params})");
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for c in chunk {
                q = q.bind(c);
            }
            out.extend(q.fetch_all(self.pool()).await?);
        }
        Ok(out)
    }

    /// Site ids by exact name (the first site of each name).
    pub async fn site_ids_by_name(&self) -> Result<HashMap<String, SiteId>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM sites ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        let mut out = HashMap::new();
        for (id, name) in rows {
            out.entry(name).or_insert(SiteId(id));
        }
        Ok(out)
    }

    /// Creates every site and pile of `plan` in one transaction with one audit entry: all
    /// of it, or (on any error, e.g. a pile code taken meanwhile) none of it.
    pub async fn import_fleet(
        &self,
        plan: &ImportPlan,
        audit: &AuditEntry,
    ) -> Result<Imported, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut out = Imported::default();
        for s in &plan.sites {
            out.sites.push(crate::sites::insert_site(&mut tx, s).await?);
        }
        for p in &plan.piles {
            let site = match p.site {
                SiteRef::Existing(id) => {
                    site_exists(&mut tx, id).await?;
                    id
                }
                SiteRef::New(i) => *out
                    .sites
                    .get(i)
                    .ok_or_else(|| StoreError::Corrupt(format!("import plan: no new site {i}")))?,
            };
            out.piles
                .push(crate::piles::insert_pile(&mut tx, site, &p.pile).await?);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(out)
    }
}

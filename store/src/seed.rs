//! Seeding a set of sites and piles exactly once, atomically (used by the demo).

use crate::{now, piles::NewPile, sites::NewSite, Store, StoreError};

impl Store {
    /// Inserts `sites` (each with its piles; the piles' `site` field is ignored) in one
    /// transaction, unless the meta key `tag` is already set. Returns whether it seeded.
    pub async fn seed_once(
        &self,
        tag: &str,
        sites: &[(NewSite, Vec<NewPile>)],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(tag)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            return Ok(false);
        }
        let at = now().0;
        for (s, piles) in sites {
            let site = crate::sites::insert_site(&mut tx, s).await?;
            for p in piles {
                crate::piles::insert_pile(&mut tx, site, p).await?;
            }
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
            .bind(tag)
            .bind(at.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Looks a pile up by its operator code.
    pub async fn pile_id_by_code(&self, code: &str) -> Result<domain::PileId, StoreError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM piles WHERE code = $1")
            .bind(code)
            .fetch_optional(self.pool())
            .await?;
        id.map(domain::PileId).ok_or(StoreError::NotFound("pile"))
    }

    /// Number of bays currently marked stale.
    pub async fn count_stale_bays(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM bays b JOIN bay_seen bs ON bs.pile_id = b.pile_id \
             WHERE b.stale = 1 AND bs.last_report_at IS NOT NULL",
        )
        .fetch_one(self.pool())
        .await?)
    }
}

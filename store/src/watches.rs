//! "Notify me": drivers watching a pile or a site until a pile there becomes idle.

use crate::{
    events::{insert_event, NewEvent},
    now, Store, StoreError,
};
use domain::{Millis, PileId, SiteId, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What a driver watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum WatchTarget {
    /// One pile.
    Pile(PileId),
    /// Every pile of a site.
    Site(SiteId),
}

impl Store {
    /// Starts watching (idempotent).
    pub async fn add_watch(&self, user: UserId, target: WatchTarget) -> Result<(), StoreError> {
        let (pile, site) = match target {
            WatchTarget::Pile(p) => (Some(p.0), None),
            WatchTarget::Site(s) => (None, Some(s.0)),
        };
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM watches WHERE user_id = $1 AND (pile_id = $2 OR site_id = $3)",
        )
        .bind(user.0)
        .bind(pile)
        .bind(site)
        .fetch_one(self.pool())
        .await?;
        if exists > 0 {
            return Ok(());
        }
        sqlx::query("INSERT INTO watches (user_id, pile_id, site_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(user.0)
            .bind(pile)
            .bind(site)
            .bind(now().0)
            .execute(self.pool())
            .await
            .map_err(|e| StoreError::from_write(e, "already watching"))?;
        Ok(())
    }

    /// Stops watching (idempotent).
    pub async fn remove_watch(&self, user: UserId, target: WatchTarget) -> Result<(), StoreError> {
        let (pile, site) = match target {
            WatchTarget::Pile(p) => (Some(p.0), None),
            WatchTarget::Site(s) => (None, Some(s.0)),
        };
        sqlx::query("DELETE FROM watches WHERE user_id = $1 AND (pile_id = $2 OR site_id = $3)")
            .bind(user.0)
            .bind(pile)
            .bind(site)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Users watching `pile` directly or through its `site`.
    pub async fn watchers(&self, pile: PileId, site: SiteId) -> Result<Vec<UserId>, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT user_id FROM watches WHERE pile_id = $1 OR site_id = $2")
                .bind(pile.0)
                .bind(site.0)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok(UserId(r.try_get("user_id")?)))
            .collect()
    }

    /// Ends every watch on `pile` or its `site` and returns the watchers, once: in one write
    /// transaction that also appends a `watch_alerted` event per watcher, so that whichever
    /// process serves that driver's live feed can deliver the alert (`service::relay`).
    pub async fn take_watchers(
        &self,
        pile: PileId,
        site: SiteId,
        at: Millis,
    ) -> Result<Vec<UserId>, StoreError> {
        // Most piles that become idle have no watcher: a read spares them the write lock.
        if self.watchers(pile, site).await?.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let rows =
            sqlx::query("DELETE FROM watches WHERE pile_id = $1 OR site_id = $2 RETURNING user_id")
                .bind(pile.0)
                .bind(site.0)
                .fetch_all(&mut *tx)
                .await?;
        let mut users = rows
            .iter()
            .map(|r| Ok(UserId(r.try_get("user_id")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        users.sort_unstable();
        users.dedup();
        for user in &users {
            insert_event(
                &mut tx,
                self.origin,
                &NewEvent {
                    at,
                    kind: "watch_alerted",
                    site: Some(site),
                    pile: Some(pile),
                    user: Some(*user),
                    cause: "pile became idle".into(),
                    ..NewEvent::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(users)
    }

    /// What `user` watches.
    pub async fn watches_of(&self, user: UserId) -> Result<Vec<WatchTarget>, StoreError> {
        let rows =
            sqlx::query("SELECT pile_id, site_id FROM watches WHERE user_id = $1 ORDER BY id")
                .bind(user.0)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let pile: Option<i64> = r.try_get("pile_id")?;
                let site: Option<i64> = r.try_get("site_id")?;
                match (pile, site) {
                    (Some(p), _) => Ok(WatchTarget::Pile(PileId(p))),
                    (None, Some(s)) => Ok(WatchTarget::Site(SiteId(s))),
                    _ => Err(StoreError::Corrupt("watch without target".into())),
                }
            })
            .collect()
    }
}

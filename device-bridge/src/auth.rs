//! Per-pile credentials, cached in memory: loaded whole at start-up, then refreshed by
//! polling the store for what changed (so a credential issued or revoked by any instance
//! takes effect within the refresh interval, at a cost that does not grow with the fleet).
//! Keys are compared in constant time and never logged.

use domain::{Millis, PileId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
};
use store::{credentials::KeyHash, Store, StoreError};

/// How far back each refresh looks before the previous one started: covers clock skew
/// between instances and changes committed while the previous refresh ran.
const REFRESH_OVERLAP_MS: i64 = 10_000;

/// The credential cache.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    keys: Arc<RwLock<HashMap<PileId, KeyHash>>>,
    /// When the last load or refresh started (unix ms).
    last: Arc<Mutex<Option<Millis>>>,
}

impl Credentials {
    /// Loads every active credential from the store.
    pub async fn reload(&self, store: &Store) -> Result<usize, StoreError> {
        let started = store::now();
        let fresh: HashMap<PileId, KeyHash> =
            store.active_key_hashes().await?.into_iter().collect();
        let n = fresh.len();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(started);
        Ok(n)
    }

    /// Applies the credentials issued, rotated or revoked since the last load or refresh
    /// (a full load if there was none). Returns how many changed.
    pub async fn refresh(&self, store: &Store) -> Result<usize, StoreError> {
        let Some(last) = *self.last.lock().unwrap_or_else(|e| e.into_inner()) else {
            return self.reload(store).await;
        };
        let started = store::now();
        let changes = store
            .credential_changes(Millis(last.0 - REFRESH_OVERLAP_MS))
            .await?;
        let n = changes.len();
        {
            let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
            for (pile, hash) in changes {
                match hash {
                    Some(h) => keys.insert(pile, h),
                    None => keys.remove(&pile),
                };
            }
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(started);
        Ok(n)
    }

    /// True when `key` is `pile`'s current key.
    pub fn verify(&self, pile: PileId, key: &str) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&pile)
            .is_some_and(|h| h.verifies(key))
    }
}

//! Per-pile credentials, cached in memory and reloaded from the store periodically (so a
//! credential issued or revoked by any instance takes effect within the refresh interval).
//! Keys are compared in constant time and never logged.

use domain::PileId;
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};
use store::{credentials::KeyHash, Store, StoreError};

/// The credential cache.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    keys: Arc<RwLock<HashMap<PileId, KeyHash>>>,
}

impl Credentials {
    /// Reloads every active credential from the store.
    pub async fn reload(&self, store: &Store) -> Result<usize, StoreError> {
        let fresh: HashMap<PileId, KeyHash> =
            store.active_key_hashes().await?.into_iter().collect();
        let n = fresh.len();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
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

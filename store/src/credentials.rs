//! Per-pile device credentials. The secret is shown once when issued; only its SHA-256 is
//! stored (the secret is 128 random bits, so a fast hash is as strong as a slow one here and
//! keeps per-report verification cheap). The fingerprint is what admins see afterwards.

use crate::{now, Store, StoreError};
use domain::{Millis, PileId};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

/// A freshly issued credential. `secret` exists only here: it is never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCredential {
    /// The pile it belongs to.
    pub pile: PileId,
    /// The secret key (32 hex characters) the pile must present.
    pub secret: String,
    /// A short, non-secret fingerprint (first 8 hex digits of the key's hash).
    pub fingerprint: String,
}

impl std::fmt::Debug for IssuedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredential")
            .field("pile", &self.pile)
            .field("secret", &"<redacted>")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// The verifier the bridge keeps for a pile: the hash of its current key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    /// Hashes a presented secret.
    pub fn of(secret: &str) -> Self {
        KeyHash(Sha256::digest(secret.as_bytes()).into())
    }

    /// Constant-time check of a presented secret.
    pub fn verifies(&self, secret: &str) -> bool {
        KeyHash::of(secret).0.ct_eq(&self.0).into()
    }

    fn fingerprint(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

/// What an admin sees about a pile's credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    /// The pile.
    pub pile: PileId,
    /// Fingerprint of the current key.
    pub fingerprint: String,
    /// When it was issued.
    pub issued_at: Millis,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Millis>,
}

fn key_hash_from_row(r: &sqlx::any::AnyRow) -> Result<KeyHash, StoreError> {
    let hex_hash: String = r.try_get("key_hash")?;
    let mut buf = [0u8; 32];
    hex::decode_to_slice(&hex_hash, &mut buf)
        .map_err(|e| StoreError::Corrupt(format!("key hash: {e}")))?;
    Ok(KeyHash(buf))
}

impl Store {
    /// Issues a new credential for `pile`, replacing (rotating) any existing one.
    pub async fn issue_credential(&self, pile: PileId) -> Result<IssuedCredential, StoreError> {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        let hash = KeyHash::of(&secret);
        let fingerprint = hash.fingerprint();
        let mut tx = self.begin_write().await?;
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM piles WHERE id = $1")
            .bind(pile.0)
            .fetch_one(&mut *tx)
            .await?;
        if exists == 0 {
            return Err(StoreError::NotFound("pile"));
        }
        let at = now().0;
        sqlx::query(
            "INSERT INTO device_credentials (pile_id, key_hash, fingerprint, issued_at, revoked_at, \
             changed_at) VALUES ($1, $2, $3, $4, NULL, $4) ON CONFLICT (pile_id) DO UPDATE SET \
             key_hash = excluded.key_hash, fingerprint = excluded.fingerprint, \
             issued_at = excluded.issued_at, revoked_at = NULL, changed_at = excluded.changed_at",
        )
        .bind(pile.0)
        .bind(hex::encode(hash.0))
        .bind(&fingerprint)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        crate::events::insert_event(
            &mut tx,
            self.origin,
            &crate::events::NewEvent {
                at: Millis(at),
                kind: "credential_issued",
                pile: Some(pile),
                cause: "admin".into(),
                data: serde_json::json!({ "fingerprint": fingerprint }),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(IssuedCredential {
            pile,
            secret,
            fingerprint,
        })
    }

    /// Revokes `pile`'s credential: its reports are refused from then on.
    pub async fn revoke_credential(&self, pile: PileId) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE device_credentials SET revoked_at = $1, changed_at = $1 \
             WHERE pile_id = $2 AND revoked_at IS NULL",
        )
        .bind(now().0)
        .bind(pile.0)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("active credential"));
        }
        Ok(())
    }

    /// Credentials issued, rotated or revoked at or after `since`: the pile's current key
    /// hash, or `None` when it has no active credential any more. Cheap whatever the fleet's
    /// size (index on `changed_at`), so caches can poll it often.
    pub async fn credential_changes(
        &self,
        since: Millis,
    ) -> Result<Vec<(PileId, Option<KeyHash>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT pile_id, key_hash, revoked_at FROM device_credentials WHERE changed_at >= $1",
        )
        .bind(since.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let pile = PileId(r.try_get("pile_id")?);
                if r.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
                    return Ok((pile, None));
                }
                Ok((pile, Some(key_hash_from_row(r)?)))
            })
            .collect()
    }

    /// The current key hash of every pile with an active credential.
    pub async fn active_key_hashes(&self) -> Result<Vec<(PileId, KeyHash)>, StoreError> {
        let rows = sqlx::query(
            "SELECT pile_id, key_hash FROM device_credentials WHERE revoked_at IS NULL",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((PileId(r.try_get("pile_id")?), key_hash_from_row(r)?)))
            .collect()
    }

    /// What an admin may see about `pile`'s credential.
    pub async fn credential_info(&self, pile: PileId) -> Result<CredentialInfo, StoreError> {
        let r = sqlx::query(
            "SELECT pile_id, fingerprint, issued_at, revoked_at FROM device_credentials WHERE pile_id = $1",
        )
        .bind(pile.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("credential"))?;
        Ok(CredentialInfo {
            pile: PileId(r.try_get("pile_id")?),
            fingerprint: r.try_get("fingerprint")?,
            issued_at: Millis(r.try_get("issued_at")?),
            revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(Millis),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_verifies_only_the_secret() {
        let h = KeyHash::of("0123456789abcdef0123456789abcdef");
        assert!(h.verifies("0123456789abcdef0123456789abcdef"));
        assert!(!h.verifies("0123456789abcdef0123456789abcdee"));
        assert!(!h.verifies(""));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = IssuedCredential {
            pile: PileId(1),
            secret: "topsecret".into(),
            fingerprint: "abcd".into(),
        };
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}

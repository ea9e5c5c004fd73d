//! API tokens for integrations: `Authorization: Bearer <token>`. Shown once; stored hashed.

use crate::{
    credentials::KeyHash,
    now,
    users::{user_from_row, User, USER_COLUMNS},
    Store, StoreError,
};
use domain::UserId;
use rand::RngCore;

/// Prefix that makes chargebay tokens recognisable (e.g. by secret scanners).
pub const TOKEN_PREFIX: &str = "cbt_";

impl Store {
    /// Creates a token for `user`; returns the token (the only time it is visible).
    pub async fn create_api_token(&self, user: UserId, name: &str) -> Result<String, StoreError> {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        sqlx::query("INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user.0)
            .bind(name)
            .bind(hex::encode(KeyHash::of(&token).0))
            .bind(now().0)
            .execute(self.pool())
            .await?;
        Ok(token)
    }

    /// The (enabled) user a token belongs to.
    pub async fn user_by_api_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN api_tokens t ON t.user_id = u.id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0"
        ))
        .bind(hex::encode(KeyHash::of(token).0))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }
}

//! User administration: search, promote or demote, disable or enable (audited).

use super::audit::{insert_audit, AuditEntry};
use crate::{
    users::{user_from_row, Role, User, USER_COLUMNS},
    Store, StoreError,
};
use domain::{Millis, UserId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A user as the admin list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    /// The user.
    pub user: User,
    /// When the account was created.
    pub created_at: Millis,
    /// How many reservations they ever made.
    pub reservations: i64,
}

/// `text` as a case-insensitive `LIKE` pattern matching it anywhere.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// Users whose email or name contains `text` (all when empty), newest first.
    pub async fn search_users(
        &self,
        text: &str,
        limit: i64,
    ) -> Result<Vec<UserSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.created_at, \
             (SELECT COUNT(*) FROM reservations r WHERE r.user_id = u.id) AS reservations \
             FROM users u WHERE LOWER(u.email) LIKE $1 ESCAPE '\\' \
             OR LOWER(u.display_name) LIKE $1 ESCAPE '\\' ORDER BY u.id DESC LIMIT $2"
        ))
        .bind(like_pattern(text))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UserSummary {
                    user: user_from_row(r)?,
                    created_at: Millis(r.try_get("created_at")?),
                    reservations: r.try_get("reservations")?,
                })
            })
            .collect()
    }

    /// Sets a user's role (audited).
    pub async fn admin_set_role(
        &self,
        id: UserId,
        role: Role,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(match role {
                Role::Admin => "admin",
                Role::Driver => "driver",
            })
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables or re-enables a user (audited). Disabled users cannot sign in.
    pub async fn admin_set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

//! The audit log: every admin action with who, what and when (table `audit`).

use crate::{now, Store, StoreError};
use domain::{Millis, UserId};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

/// An admin action to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The admin who acted.
    pub admin: UserId,
    /// What they did (`site_created`, `pile_disabled`, `credential_issued`, ...).
    pub action: &'static str,
    /// What it was done to (`site:3`, `pile:17`, `user:5`, `reservation:9`, `import`).
    pub target: String,
    /// Details (the new values, a reason, counts). Never a secret.
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry with empty details.
    pub fn new(admin: UserId, action: &'static str, target: impl Into<String>) -> Self {
        AuditEntry {
            admin,
            action,
            target: target.into(),
            detail: serde_json::json!({}),
        }
    }

    /// The same entry with `detail`.
    pub fn with(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A recorded admin action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the log.
    pub id: i64,
    /// When.
    pub at: Millis,
    /// Who.
    pub admin: UserId,
    /// The admin's email.
    pub admin_email: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// Details.
    pub detail: serde_json::Value,
}

/// Appends `e` inside `tx`.
pub(crate) async fn insert_audit(
    tx: &mut Transaction<'_, Any>,
    e: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit (at, admin_id, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now().0)
    .bind(e.admin.0)
    .bind(e.action)
    .bind(&e.target)
    .bind(e.detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records an admin action in its own transaction (for actions whose write happened
    /// elsewhere, e.g. issuing a credential or ending a hold through the service).
    pub async fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_audit(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest audit entries, optionally only those about `target`, newest first.
    pub async fn audit_log(
        &self,
        target: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.at, a.admin_id, u.email, a.action, a.target, a.detail \
             FROM audit a JOIN users u ON u.id = a.admin_id \
             WHERE ($1 IS NULL OR a.target = $1) ORDER BY a.id DESC LIMIT $2",
        )
        .bind(target)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRecord {
                    id: r.try_get("id")?,
                    at: Millis(r.try_get("at")?),
                    admin: UserId(r.try_get("admin_id")?),
                    admin_email: r.try_get("email")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: serde_json::from_str(&r.try_get::<String, _>("detail")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }
}

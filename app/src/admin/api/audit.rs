//! The audit log.

#[cfg(feature = "ssr")]
use super::{fail, require_admin};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One admin action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// When (unix ms).
    pub at: i64,
    /// The admin's email.
    pub admin: String,
    /// What.
    pub action: String,
    /// To what (`pile:17`).
    pub target: String,
    /// Details (JSON text).
    pub detail: String,
}

#[cfg(feature = "ssr")]
pub(crate) fn audit_row(a: store::admin::AuditRecord) -> AuditRow {
    AuditRow {
        at: a.at.0,
        admin: a.admin_email,
        action: a.action,
        target: a.target,
        detail: if a.detail.as_object().is_some_and(|o| o.is_empty()) {
            String::new()
        } else {
            a.detail.to_string()
        },
    }
}

/// The newest admin actions (optionally about one target, e.g. `pile:17`).
#[server(endpoint = "admin_audit", output = crate::api::codec::JsonText)]
pub async fn admin_audit(target: Option<String>) -> Result<Vec<AuditRow>, ServerFnError> {
    let (svc, _) = require_admin().await?;
    let target = target.filter(|t| !t.trim().is_empty());
    Ok(svc
        .audit_log(target.as_deref().map(str::trim), 300)
        .await
        .map_err(fail)?
        .into_iter()
        .map(audit_row)
        .collect())
}

//! User administration.

#[cfg(feature = "ssr")]
use super::{fail, require_admin};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A user as the admin list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Admin.
    pub admin: bool,
    /// Disabled.
    pub disabled: bool,
    /// Created (unix ms).
    pub created_at: i64,
    /// Reservations ever made.
    pub reservations: i64,
    /// This is the admin looking.
    pub is_me: bool,
}

/// Users whose email or name contains `q` (everyone when empty), newest first.
#[server(endpoint = "admin_users", output = crate::api::codec::JsonText)]
pub async fn admin_users(q: Option<String>) -> Result<Vec<UserRow>, ServerFnError> {
    let (svc, me) = require_admin().await?;
    Ok(svc
        .admin_users(q.as_deref().unwrap_or(""))
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| UserRow {
            id: s.user.id.0,
            is_me: s.user.id == me,
            email: s.user.email,
            name: s.user.display_name,
            admin: s.user.role == store::users::Role::Admin,
            disabled: s.user.disabled,
            created_at: s.created_at.0,
            reservations: s.reservations,
        })
        .collect())
}

/// Promotes a user to admin (`admin` = true) or makes them a driver.
#[server(endpoint = "admin_set_role", output = crate::api::codec::JsonText)]
pub async fn admin_set_role(id: i64, admin: bool) -> Result<(), ServerFnError> {
    let (svc, me) = require_admin().await?;
    let role = if admin {
        store::users::Role::Admin
    } else {
        store::users::Role::Driver
    };
    svc.set_user_role(me, domain::UserId(id), role)
        .await
        .map_err(fail)
}

/// Disables (no sign-in) or re-enables a user.
#[server(endpoint = "admin_set_user_disabled", output = crate::api::codec::JsonText)]
pub async fn admin_set_user_disabled(id: i64, disabled: bool) -> Result<(), ServerFnError> {
    let (svc, me) = require_admin().await?;
    svc.set_user_disabled(me, domain::UserId(id), disabled)
        .await
        .map_err(fail)
}

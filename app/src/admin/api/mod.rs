//! The admin pages' server functions. Thin: each checks that the caller is an admin right
//! now ([`require_admin`]: signed in, and the database still says admin and not disabled),
//! then calls the service layer, which writes every action to the audit log. Anonymous
//! callers get 401, everyone else who is not an admin 403.

pub mod analytics;
pub mod audit;
pub mod fleet;
pub mod health;
pub mod import;
pub mod reservations;
pub mod users;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who may see the admin pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gate {
    /// A current admin.
    Admin {
        /// Shown name.
        name: String,
    },
    /// Nobody signed in.
    SignIn,
    /// Signed in, not an admin.
    Forbidden,
}

/// One invalid form field (or CSV column) and a code saying what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErr {
    /// The field.
    pub field: String,
    /// What is wrong (`required`, `range`, `taken`, `duplicate_in_file:3`, ...).
    pub code: String,
}

#[cfg(feature = "ssr")]
impl From<service::admin::FieldError> for FieldErr {
    fn from(e: service::admin::FieldError) -> Self {
        FieldErr {
            field: e.field,
            code: e.code,
        }
    }
}

/// Whether the caller may use the admin pages (never fails for a non-admin: says why).
#[server(endpoint = "admin_gate", output = crate::api::codec::JsonText)]
pub async fn admin_gate() -> Result<Gate, ServerFnError> {
    let Some(me) = crate::api::ctx::user().await? else {
        return Ok(Gate::SignIn);
    };
    if me.role != store::users::Role::Admin {
        return Ok(Gate::Forbidden);
    }
    match crate::api::ctx::service()?
        .admin_user(me.id)
        .await
        .map_err(crate::api::ctx::internal)?
    {
        Some(u) => Ok(Gate::Admin {
            name: u.display_name,
        }),
        None => Ok(Gate::Forbidden),
    }
}

#[cfg(feature = "ssr")]
fn refuse(status: http::StatusCode, message: &str) -> ServerFnError {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(status);
    }
    ServerFnError::new(message)
}

/// The service and the calling admin's id, or an error (401 anonymous, 403 not an admin).
#[cfg(feature = "ssr")]
pub(crate) async fn require_admin() -> Result<(service::Chargebay, domain::UserId), ServerFnError> {
    let Some(me) = crate::api::ctx::user().await? else {
        return Err(refuse(http::StatusCode::UNAUTHORIZED, "sign in first"));
    };
    if me.role != store::users::Role::Admin {
        return Err(refuse(http::StatusCode::FORBIDDEN, "admins only"));
    }
    let svc = crate::api::ctx::service()?;
    match svc
        .admin_user(me.id)
        .await
        .map_err(crate::api::ctx::internal)?
    {
        Some(_) => Ok((svc, me.id)),
        None => Err(refuse(http::StatusCode::FORBIDDEN, "admins only")),
    }
}

/// Maps a service error to a server function error with a useful message (not internals).
#[cfg(feature = "ssr")]
pub(crate) fn fail(e: service::ServiceError) -> ServerFnError {
    match e {
        service::ServiceError::Internal(_) => crate::api::ctx::internal(e),
        other => {
            let status = match other {
                service::ServiceError::NotFound(_) => http::StatusCode::NOT_FOUND,
                service::ServiceError::Conflict(_) => http::StatusCode::CONFLICT,
                _ => http::StatusCode::BAD_REQUEST,
            };
            refuse(status, &other.to_string())
        }
    }
}

/// A form's outcome: the saved id, or the invalid fields.
pub type FormResult = Result<i64, Vec<FieldErr>>;

#[cfg(feature = "ssr")]
pub(crate) fn form_result(
    r: Result<i64, service::admin::FormError>,
) -> Result<FormResult, ServerFnError> {
    match r {
        Ok(id) => Ok(Ok(id)),
        Err(service::admin::FormError::Fields(f)) => {
            Ok(Err(f.into_iter().map(FieldErr::from).collect()))
        }
        Err(service::admin::FormError::Service(e)) => Err(fail(e)),
    }
}

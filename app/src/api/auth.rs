//! Accounts from the UI: who am I, sign in, sign up, sign out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as the UI knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Shown name.
    pub name: String,
    /// Admin pages allowed.
    pub is_admin: bool,
}

/// Why a sign-in or sign-up form was refused (shown next to its field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthFailure {
    /// Email or password wrong (never says which).
    WrongPassword,
    /// Sign-up with an email that has an account.
    EmailTaken,
    /// Not an email address.
    InvalidEmail,
    /// Password too weak.
    WeakPassword,
    /// Name empty or too long.
    InvalidName,
}

/// The signed-in user, or `None`.
#[server(endpoint = "me", output = crate::api::codec::JsonText)]
pub async fn me() -> Result<Option<Account>, ServerFnError> {
    Ok(super::ctx::user().await?.map(|u| Account {
        name: u.name,
        is_admin: u.role == store::users::Role::Admin,
    }))
}

/// Signs in.
#[server(endpoint = "sign_in", output = crate::api::codec::JsonText)]
pub async fn sign_in(
    email: String,
    password: String,
) -> Result<Result<Account, AuthFailure>, ServerFnError> {
    let svc = super::ctx::service()?;
    let Some(user) = svc
        .sign_in(&email, &password)
        .await
        .map_err(super::ctx::internal)?
    else {
        return Ok(Err(AuthFailure::WrongPassword));
    };
    crate::session::login(&super::ctx::session().await?, &user)
        .await
        .map_err(super::ctx::internal)?;
    Ok(Ok(Account {
        name: user.display_name,
        is_admin: user.role == store::users::Role::Admin,
    }))
}

/// Creates a driver account and signs it in.
#[server(endpoint = "sign_up", output = crate::api::codec::JsonText)]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
) -> Result<Result<Account, AuthFailure>, ServerFnError> {
    use service::accounts::SignUpError;
    let svc = super::ctx::service()?;
    let user = match svc.sign_up(&email, &password, &name).await {
        Ok(u) => u,
        Err(SignUpError::EmailTaken) => return Ok(Err(AuthFailure::EmailTaken)),
        Err(SignUpError::Field { field: "email", .. }) => {
            return Ok(Err(AuthFailure::InvalidEmail))
        }
        Err(SignUpError::Field {
            field: "password", ..
        }) => return Ok(Err(AuthFailure::WeakPassword)),
        Err(SignUpError::Field { .. }) => return Ok(Err(AuthFailure::InvalidName)),
        Err(e) => return Err(super::ctx::internal(e)),
    };
    crate::session::login(&super::ctx::session().await?, &user)
        .await
        .map_err(super::ctx::internal)?;
    Ok(Ok(Account {
        name: user.display_name,
        is_admin: false,
    }))
}

/// Signs out.
#[server(endpoint = "sign_out", output = crate::api::codec::JsonText)]
pub async fn sign_out() -> Result<(), ServerFnError> {
    crate::session::logout(&super::ctx::session().await?)
        .await
        .map_err(super::ctx::internal)
}

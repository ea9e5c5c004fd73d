//! `CurrentUser`: the signed-in user from the session cookie or an API token
//! (`Authorization: Bearer cbt_…`); a 401 JSON error otherwise.

use crate::{routes::ApiError, AppState};
pub use app::session::SessionUser;
use axum::{extract::FromRequestParts, http::request::Parts};
use store::users::User;
use tower_sessions::Session;

/// The signed-in user (required).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

/// The signed-in user, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SessionUser>);

/// Signs `user` in on `session`.
pub async fn login(session: &Session, user: &User) -> Result<(), ApiError> {
    app::session::login(session, user)
        .await
        .map_err(|e| ApiError::internal(&e.to_string()))
}

/// Signs out.
pub async fn logout(session: &Session) -> Result<(), ApiError> {
    app::session::logout(session)
        .await
        .map_err(|e| ApiError::internal(&e.to_string()))
}

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<SessionUser>, ApiError> {
    if let Some(auth) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("malformed Authorization header"))?;
        let user = state
            .service
            .user_by_token(token.trim())
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid or revoked API token"))?;
        return Ok(Some(SessionUser::from(&user)));
    }
    let Ok(session) = Session::from_request_parts(parts, state).await else {
        return Ok(None);
    };
    app::session::current_active(&session, state.service.store())
        .await
        .map_err(|e| ApiError::internal(&e.to_string()))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        resolve(parts, state)
            .await?
            .map(CurrentUser)
            .ok_or_else(|| ApiError::unauthorized("sign in first"))
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(resolve(parts, state).await?))
    }
}

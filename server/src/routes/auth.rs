//! `/api/v1/auth/*` and `/api/v1/me`: accounts and sessions.

use super::{
    dto::{SignIn, SignUp, TokenDto, TokenRequest, UserDto},
    error::{ApiError, ApiJson, ErrorBody},
};
use crate::{
    auth::{login, logout, CurrentUser},
    AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use service::accounts::SignUpError;
use tower_sessions::Session;

/// Creates a driver account and signs it in.
#[utoipa::path(post, path = "/api/v1/auth/signup", request_body = SignUp, tag = "auth",
    responses((status = 201, body = UserDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let user = state
        .service
        .sign_up(&body.email, &body.password, &body.name)
        .await
        .map_err(|e| match e {
            SignUpError::Field { field, message } => ApiError::invalid_field(field, message),
            SignUpError::EmailTaken => {
                ApiError::conflict("an account with this email already exists")
            }
            SignUpError::Service(s) => s.into(),
        })?;
    login(&session, &user).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/signin", request_body = SignIn, tag = "auth",
    responses((status = 200, body = UserDto), (status = 401, body = ErrorBody)))]
pub async fn signin(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Json<UserDto>, ApiError> {
    let user = state
        .service
        .sign_in(&body.email, &body.password)
        .await?
        .ok_or_else(|| ApiError::unauthorized("wrong email or password"))?;
    login(&session, &user).await?;
    Ok(Json(user.into()))
}

/// Signs out.
#[utoipa::path(post, path = "/api/v1/auth/signout", tag = "auth", responses((status = 204)))]
pub async fn signout(session: Session) -> Result<StatusCode, ApiError> {
    logout(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = UserDto), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<UserDto>, ApiError> {
    let user = state
        .service
        .store()
        .user(me.id)
        .await
        .map_err(service::ServiceError::from)?;
    Ok(Json(user.into()))
}

/// Creates an API token for integrations (`Authorization: Bearer <token>`); shown once.
#[utoipa::path(post, path = "/api/v1/me/tokens", request_body = TokenRequest, tag = "auth",
    responses((status = 201, body = TokenDto), (status = 401, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenDto>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.len() > 60 {
        return Err(ApiError::invalid_field(
            "name",
            "name must be 1 to 60 characters",
        ));
    }
    let token = state
        .service
        .store()
        .create_api_token(me.id, name)
        .await
        .map_err(service::ServiceError::from)?;
    Ok((StatusCode::CREATED, Json(TokenDto { token })))
}

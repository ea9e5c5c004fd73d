//! Who is signed in, as the session remembers it. Shared by the server functions and the
//! server's REST extractors, so there is one definition of a signed-in session.

use domain::UserId;
use serde::{Deserialize, Serialize};
use store::users::{Role, User};
use tower_sessions::Session;

const USER_KEY: &str = "user";

/// What the session remembers about its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// Id.
    pub id: UserId,
    /// Role at sign-in.
    pub role: Role,
    /// Shown name.
    pub name: String,
}

impl From<&User> for SessionUser {
    fn from(u: &User) -> Self {
        SessionUser {
            id: u.id,
            role: u.role,
            name: u.display_name.clone(),
        }
    }
}

/// Why the session could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct SessionError(String);

/// Signs `user` in: a fresh session id (against fixation) remembering the user.
pub async fn login(session: &Session, user: &User) -> Result<(), SessionError> {
    session
        .cycle_id()
        .await
        .map_err(|e| SessionError(e.to_string()))?;
    session
        .insert(USER_KEY, SessionUser::from(user))
        .await
        .map_err(|e| SessionError(e.to_string()))
}

/// Signs out: the session is deleted.
pub async fn logout(session: &Session) -> Result<(), SessionError> {
    session
        .flush()
        .await
        .map_err(|e| SessionError(e.to_string()))
}

/// The signed-in user, if any.
pub async fn current(session: &Session) -> Result<Option<SessionUser>, SessionError> {
    session
        .get::<SessionUser>(USER_KEY)
        .await
        .map_err(|e| SessionError(e.to_string()))
}

/// The signed-in user, checked against the database: a user disabled (or deleted) since
/// signing in is signed out at once, and the role is the current one.
pub async fn current_active(
    session: &Session,
    store: &store::Store,
) -> Result<Option<SessionUser>, SessionError> {
    let Some(remembered) = current(session).await? else {
        return Ok(None);
    };
    match store.user(remembered.id).await {
        Ok(user) if !user.disabled => Ok(Some(SessionUser::from(&user))),
        Ok(_) | Err(store::StoreError::NotFound(_)) => {
            logout(session).await?;
            Ok(None)
        }
        Err(e) => Err(SessionError(e.to_string())),
    }
}

//! Accounts: signing up and signing in.

use crate::{Chargebay, ServiceError};
use domain::account::{DisplayName, Email, Password};
use store::users::{Role, User};

/// A sign-up that failed, with the field to show it next to.
#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    /// One field is invalid.
    #[error("{field}: {message}")]
    Field {
        /// `email`, `password` or `name`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The email already has an account.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Anything else.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Chargebay {
    /// Creates a driver account.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        name: &str,
    ) -> Result<User, SignUpError> {
        let field = |field: &'static str| {
            move |e: domain::account::AccountError| SignUpError::Field {
                field,
                message: e.to_string(),
            }
        };
        let email = Email::parse(email).map_err(field("email"))?;
        let password = Password::parse(password).map_err(field("password"))?;
        let name = if name.trim().is_empty() {
            DisplayName::parse(email.as_str().split('@').next().unwrap_or("driver"))
                .map_err(field("name"))?
        } else {
            DisplayName::parse(name).map_err(field("name"))?
        };
        let id = match self
            .store
            .create_user(
                email.as_str(),
                name.as_str(),
                password.expose(),
                Role::Driver,
            )
            .await
        {
            Ok(id) => id,
            Err(store::StoreError::Conflict(_)) => return Err(SignUpError::EmailTaken),
            Err(e) => return Err(ServiceError::from(e).into()),
        };
        Ok(self.store.user(id).await.map_err(ServiceError::from)?)
    }

    /// Checks credentials; `None` for a wrong email or password (never says which).
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Option<User>, ServiceError> {
        Ok(self.store.authenticate(email, password).await?)
    }

    /// The user behind an API token.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>, ServiceError> {
        Ok(self.store.user_by_api_token(token).await?)
    }
}

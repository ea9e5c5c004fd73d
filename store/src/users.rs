//! User accounts with argon2-hashed passwords and a role.

use crate::{now, Store, StoreError};
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use domain::UserId;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Browses and reserves.
    Driver,
    /// Runs the admin pages.
    Admin,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Driver => "driver",
            Role::Admin => "admin",
        }
    }
}

/// A stored user (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Sign-in email (lower case).
    pub email: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.display_name, u.role, u.disabled";

pub(crate) fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(r.try_get("id")?),
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        role: match r.try_get::<String, _>("role")?.as_str() {
            "admin" => Role::Admin,
            _ => Role::Driver,
        },
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| StoreError::Hash)
}

impl Store {
    /// Creates a user; `Conflict` if the email is taken.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password: &str,
        role: Role,
    ) -> Result<UserId, StoreError> {
        let hash = hash_password(password)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, display_name, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(email.trim().to_lowercase())
        .bind(display_name)
        .bind(hash)
        .bind(role.as_str())
        .bind(now().0)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_write(e, "email is taken"))?;
        Ok(UserId(id))
    }

    /// Checks a password; `None` when the email is unknown, the password wrong or the
    /// account disabled (callers must not say which).
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, display_name, password_hash, role, disabled FROM users WHERE email = $1",
        )
        .bind(email.trim().to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            // Spend the same time as a real check so timing does not reveal unknown emails.
            let _ = hash_password(password);
            return Ok(None);
        };
        let stored: String = r.try_get("password_hash")?;
        let parsed =
            PasswordHash::new(&stored).map_err(|_| StoreError::Corrupt("password hash".into()))?;
        if Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Ok(None);
        }
        let user = user_from_row(&r)?;
        Ok((!user.disabled).then_some(user))
    }

    /// One user by id.
    pub async fn user(&self, id: UserId) -> Result<User, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("user"))?;
        user_from_row(&row)
    }
}

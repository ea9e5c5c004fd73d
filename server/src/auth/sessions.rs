//! Server-side sessions in the application database: tower-sessions with its sqlx store for
//! SQLite or PostgreSQL, selected by the database URL like everything else.

use async_trait::async_trait;
use sqlx::{postgres::PgPoolOptions, sqlite::SqliteConnectOptions, SqlitePool};
use std::str::FromStr;
use tower_sessions::{
    cookie::{time::Duration, SameSite},
    session::{Id, Record},
    session_store::{self, ExpiredDeletion, SessionStore},
    Expiry, SessionManagerLayer,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store for the configured backend.
#[derive(Debug, Clone)]
pub enum SessionBackend {
    /// SQLite (embedded default).
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PostgresStore),
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.create(record).await,
            SessionBackend::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.save(record).await,
            SessionBackend::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionBackend::Sqlite(s) => s.load(id).await,
            SessionBackend::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.delete(id).await,
            SessionBackend::Postgres(s) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SessionBackend {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(s) => s.delete_expired().await,
            SessionBackend::Postgres(s) => s.delete_expired().await,
        }
    }
}

/// Builds the session layer on `database_url` (creating its table), and starts the task
/// that deletes expired sessions. Cookies are HTTP-only, SameSite=Lax, and `Secure` when
/// `secure` (anything but plain-HTTP loopback).
pub async fn session_layer(
    database_url: &str,
    secure: bool,
) -> anyhow::Result<SessionManagerLayer<SessionBackend>> {
    let backend = if database_url.starts_with("sqlite:") {
        let path = database_url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePool::connect_with(options).await?;
        let store = SqliteStore::new(pool);
        store.migrate().await?;
        SessionBackend::Sqlite(store)
    } else {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(database_url)
            .await?;
        let store = PostgresStore::new(pool);
        store.migrate().await?;
        SessionBackend::Postgres(store)
    };
    tokio::spawn(
        backend
            .clone()
            .continuously_delete_expired(tokio::time::Duration::from_secs(600)),
    );
    Ok(SessionManagerLayer::new(backend)
        .with_name("cb_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(Duration::days(14))))
}

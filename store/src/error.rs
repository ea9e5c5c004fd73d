//! The store layer's error type.

/// Errors from the store. `NotFound` and `Conflict` are expected outcomes that callers map
/// to 404/409; `Database` is an infrastructure failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Bad configuration (URL scheme, folder).
    #[error("database configuration: {0}")]
    Config(String),
    /// Could not connect (the message has any password removed).
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// No such row.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value does not parse (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A file operation on the database's own file failed (SQLite).
    #[error("database file: {0}")]
    Io(String),
    /// Password hashing failed.
    #[error("password hashing failed")]
    Hash,
}

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict`, anything else to `Database`.
    pub(crate) fn from_write(e: sqlx::Error, what: &str) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(what.to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

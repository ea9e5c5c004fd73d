//! chargebay's storage: one API over SQLite (the embedded default) and PostgreSQL, through
//! sqlx's `Any` driver. SQL is written once in the dialect both accept (`$n` parameters,
//! `ON CONFLICT`, partial unique indexes, `RETURNING`); schema migrations exist per backend.

pub mod admin;
mod bulk;
pub mod checkpoint;
pub mod credentials;
mod error;
pub mod events;
pub mod holds;
pub mod meta;
pub mod piles;
pub mod provision;
mod replay;
pub mod report_log;
pub mod reports;
pub mod reservations;
pub mod search;
pub mod seed;
pub mod seen;
pub mod sites;
pub mod staleness;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod users;
pub mod watches;

pub use error::StoreError;

use sqlx::{any::AnyPoolOptions, migrate::Migrator, AnyPool, Executor};
use std::{path::Path, str::FromStr, time::Duration};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (WAL mode): the embedded default.
    Sqlite,
    /// PostgreSQL: for multi-instance deployments.
    Postgres,
}

impl FromStr for Backend {
    type Err = StoreError;
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(
                "DATABASE_URL must start with sqlite: or postgres://".into(),
            ))
        }
    }
}

/// The handle every layer above uses to read and write chargebay's data. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where write transactions run: on SQLite one connection of its own ([`Store::begin_write`]).
    writer: AnyPool,
    backend: Backend,
    reserve_queue: std::sync::Arc<reservations::ReserveQueue>,
    /// `bay_seen` rows waiting to be written (SQLite only; [`seen`]).
    seen: Option<std::sync::Arc<std::sync::Mutex<seen::Deferred>>>,
    /// The SQLite database file, synced after each checkpoint ([`checkpoint`]); `None` for
    /// PostgreSQL and in-memory databases.
    db_file: Option<std::sync::Arc<std::fs::File>>,
    /// Set by a checkpoint when the next writer should rewind the WAL ([`checkpoint`]).
    restart_due: std::sync::Arc<checkpoint::RestartDue>,
    /// Marks the events this instance appends ([`events::Origin`]).
    origin: events::Origin,
}

impl Store {
    /// Connects to `url` (creating an SQLite file and its folder if needed) and applies the
    /// migrations for its backend.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend: Backend = url.parse()?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            url = prepare_sqlite_file(&url)?;
        }
        let pool = pool_options(backend, if backend == Backend::Sqlite { 8 } else { 16 })
            .connect(&url)
            .await
            .map_err(|e| StoreError::Connect(redact(&e.to_string())))?;
        // SQLite takes one writer at a time anyway; giving it a connection of its own keeps
        // that connection's page cache warm from one write to the next (a connection that did
        // not make the last commit throws its whole cache away at BEGIN) and queues writers
        // in order, woken at once, instead of in SQLite's busy handler, which sleeps in steps
        // of up to 100 ms (docs/benchmarks.md, run N). An in-memory database is one per
        // connection, so it keeps a single pool.
        let writer = if backend == Backend::Sqlite && !is_memory(&url) {
            pool_options(backend, 1)
                .connect(&url)
                .await
                .map_err(|e| StoreError::Connect(redact(&e.to_string())))?
        } else {
            pool.clone()
        };
        let seen = (backend == Backend::Sqlite).then(|| {
            std::sync::Arc::new(std::sync::Mutex::new(seen::Deferred::new(
                seen::SeenPolicy::default(),
            )))
        });
        let db_file = checkpoint::open_db_file(&pool, backend).await?;
        let store = Store {
            pool,
            backend,
            reserve_queue: Default::default(),
            writer,
            seen,
            db_file,
            restart_due: Default::default(),
            origin: events::Origin::random(),
        };
        store.migrate().await?;
        store.replay_seen().await?;
        Ok(store)
    }

    /// The same store with `policy` for deferred `bay_seen` writes (SQLite; for tests and
    /// tools). Rows already waiting are written first.
    pub async fn with_seen_policy(self, policy: seen::SeenPolicy) -> Result<Self, StoreError> {
        self.flush_seen().await?;
        if let Some(deferred) = &self.seen {
            *seen::lock(deferred) = seen::Deferred::new(policy);
        }
        Ok(self)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What marks the events this instance appends (each [`Store::connect`] draws its own).
    pub fn origin(&self) -> events::Origin {
        self.origin
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a read-then-write transaction waits for the busy timeout
    /// instead of failing with SQLITE_BUSY_SNAPSHOT when another writer committed meanwhile.
    /// When a checkpoint found the WAL long, the transaction first lets it start over
    /// ([`checkpoint`]).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                self.restart_wal_if_due().await?;
                Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            Backend::Postgres => Ok(self.pool.begin().await?),
        }
    }
}

/// `1,2,3` for an `IN (...)` list of ids: integers, so they are inlined, with nothing to escape.
pub(crate) fn join_ids(ids: impl Iterator<Item = i64>) -> String {
    ids.map(|id| id.to_string()).collect::<Vec<_>>().join(",")
}

/// A subquery yielding the integer ids in the JSON array parameter `param` (`[1,2,3]`).
pub(crate) fn json_ids(backend: Backend, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("SELECT value FROM json_each({param})"),
        Backend::Postgres => {
            format!("SELECT value::BIGINT FROM json_array_elements_text({param}::JSON)")
        }
    }
}

/// `prefix` followed by `rows` groups of `cols` parameters: `?` on SQLite (sqlx looks each
/// `$n` up by name there, which is quadratic in the number of parameters), `$n` on PostgreSQL.
pub(crate) fn multi_row_insert(backend: Backend, prefix: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * cols * 6);
    sql.push_str(prefix);
    if backend == Backend::Sqlite {
        let row = format!("({})", vec!["?"; cols].join(","));
        sql.push_str(&vec![row; rows].join(","));
        return sql;
    }
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(r * cols + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// Pool options for `backend` with at most `max` connections, each set up for chargebay.
fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        // An embedded SQLite connection cannot be hung up on, so a ping before every
        // acquire would only cost a round trip to its thread (docs/benchmarks.md, run L).
        .test_before_acquire(backend != Backend::Sqlite);
    if backend != Backend::Sqlite {
        return options;
    }
    options.after_connect(|conn, _meta| {
        Box::pin(async move {
            // 1-KiB pages (set only when the file is new, before WAL mode): a report
            // batch rewrites rows scattered over the fleet, and every page it touches
            // is written whole to the WAL and synced, so smaller pages mean fewer bytes
            // behind each commit's sync (docs/benchmarks.md, run M).
            // WAL lets readers run beside the writer; FULL syncs every commit, so an
            // acknowledged report survives power loss (group commit amortises it).
            // Checkpoints run beside the writer (`Store::checkpoint`, called by the
            // server's workers every second); the automatic one, which would run inside
            // a commit and stall it, is only a backstop for processes without workers:
            // 65,536 frames, 64 MiB of 1-KiB pages (the WAL is rewound well before
            // that: `checkpoint::RESTART_AT_FRAMES`).
            conn.execute(
                "PRAGMA page_size = 1024; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA wal_autocheckpoint = 65536;",
            )
            .await?;
            Ok(())
        })
    })
}

/// Whether an SQLite URL names an in-memory database.
fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// `sqlite:path` → ensures the folder exists and asks sqlx to create the file.
fn prepare_sqlite_file(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    let mut query = query.to_owned();
    if !query.contains("mode=") {
        query = if query.is_empty() {
            "mode=rwc".into()
        } else {
            format!("{query}&mode=rwc")
        };
    }
    Ok(format!("sqlite://{path}?{query}"))
}

/// Removes a password from an error message that may quote a connection URL.
fn redact(msg: &str) -> String {
    match (msg.find("://"), msg.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &msg[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &msg[..s + 3], user, &msg[at..]),
                None => msg.to_owned(),
            }
        }
        _ => msg.to_owned(),
    }
}

/// The current time as unix milliseconds.
pub fn now() -> domain::Millis {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    domain::Millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_row_by_row() {
        assert_eq!(
            multi_row_insert(Backend::Postgres, "INSERT INTO t (a, b) VALUES ", 2, 2),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4)"
        );
        assert_eq!(
            multi_row_insert(Backend::Sqlite, "INSERT INTO t (a, b) VALUES ", 2, 2),
            "INSERT INTO t (a, b) VALUES (?,?),(?,?)"
        );
    }

    #[test]
    fn backend_from_url() {
        assert_eq!(
            "sqlite:data/x.db".parse::<Backend>().ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            "postgres://u@h/db".parse::<Backend>().ok(),
            Some(Backend::Postgres)
        );
        assert!("mysql://h/db".parse::<Backend>().is_err());
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = std::env::temp_dir().join(format!("cb-url-{}", std::process::id()));
        let url = format!("sqlite:{}/x.db", dir.display());
        let out = prepare_sqlite_file(&url).expect("prepared");
        assert!(out.ends_with("x.db?mode=rwc"), "{out}");
        assert!(dir.is_dir());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("error connecting to postgres://bob:secret@db/x"),
            "error connecting to postgres://bob:***@db/x"
        );
        assert_eq!(redact("no url here"), "no url here");
    }
}

#[cfg(test)]
mod sqlite_settings {
    use crate::testing::TestDb;

    /// Every pooled connection syncs every commit (an acknowledged report survives power
    /// loss) and waits for the write lock instead of failing.
    #[tokio::test]
    async fn every_connection_syncs_each_commit() {
        let db = TestDb::sqlite().await.expect("sqlite");
        let mut conns = Vec::new();
        for _ in 0..4 {
            conns.push(db.store.pool().acquire().await.expect("connection"));
        }
        for conn in &mut conns {
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .expect("pragma");
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&mut **conn)
                .await
                .expect("pragma");
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut **conn)
                .await
                .expect("pragma");
            assert_eq!(
                (sync, busy, mode.as_str()),
                (2, 10_000, "wal"),
                "FULL, 10 s, WAL"
            );
        }
        drop(conns);
        db.drop_db().await;
    }

    /// A new database file gets 1-KiB pages: a report rewrites a few rows scattered over
    /// the fleet's tables, and each rewritten page goes to the WAL whole.
    #[tokio::test]
    async fn a_new_database_has_small_pages() {
        let db = TestDb::sqlite().await.expect("sqlite");
        let size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(db.store.pool())
            .await
            .expect("pragma");
        assert_eq!(size, 1024);
        db.drop_db().await;
    }
}

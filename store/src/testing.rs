//! Fresh databases for tests: an SQLite file in a temporary folder, or a new PostgreSQL
//! database that is dropped afterwards. Used by this crate's tests and by the crates above.

use crate::{Store, StoreError};

/// Where the PostgreSQL test server is (`CHARGEBAY_TEST_PG`, default local trust auth).
pub fn postgres_admin_url() -> String {
    std::env::var("CHARGEBAY_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// The store connected to it.
    pub store: Store,
    /// Its URL.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(std::path::PathBuf),
    PgDatabase(String),
}

fn unique_name() -> String {
    use rand::Rng;
    format!(
        "cbtest_{}_{:08x}",
        std::process::id(),
        rand::thread_rng().gen::<u32>()
    )
}

impl TestDb {
    /// A fresh SQLite file.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = std::env::temp_dir().join(unique_name());
        let url = format!("sqlite:{}/test.db", dir.display());
        let store = Store::connect(&url).await?;
        Ok(TestDb {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A fresh PostgreSQL database, or `None` when the server is unreachable outside CI.
    /// Under `CI=true` an unreachable server is an error: the suite must really run there.
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let admin = postgres_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!(
                    "\n*** PostgreSQL unreachable at {admin} ({e}): PostgreSQL test SKIPPED ***\n"
                );
                return Ok(None);
            }
            Err(e) => {
                return Err(StoreError::Connect(format!(
                    "CI=true and PostgreSQL unreachable: {e}"
                )))
            }
        };
        let name = unique_name();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        conn.close().await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        let store = Store::connect(&url).await?;
        Ok(Some(TestDb {
            store,
            url,
            cleanup: Cleanup::PgDatabase(name),
        }))
    }

    /// Closes the store and removes the database.
    pub async fn drop_db(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::PgDatabase(name) => {
                use sqlx::{Connection, Executor};
                if let Ok(mut c) = sqlx::AnyConnection::connect(&postgres_admin_url()).await {
                    let _ = c
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            }
        }
    }
}

/// Declares one test that runs `$body` (an `async fn(Store)`) on SQLite and one that runs it
/// on PostgreSQL, each with a fresh database.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident => $body:ident;)+) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = $crate::testing::TestDb::sqlite().await.expect("sqlite test db");
                    super::$body(db.store.clone()).await;
                    db.drop_db().await;
                }

                #[tokio::test]
                async fn postgres() {
                    let Some(db) = $crate::testing::TestDb::postgres().await.expect("postgres test db") else {
                        return;
                    };
                    super::$body(db.store.clone()).await;
                    db.drop_db().await;
                }
            }
        )+
    };
}

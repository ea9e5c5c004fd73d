//! SQLite checkpoints that keep disk write-back steady, and a WAL that starts over.
//!
//! SQLite syncs the database file only when a checkpoint copies the *whole* WAL. Under a
//! steady stream of commits the copy rarely catches up (a commit lands while it runs), so the
//! pages it copied stay dirty in the OS page cache until the kernel writes them back on its
//! own schedule: 30 s later, in bursts every 5 s (Linux `dirty_expire_centisecs`,
//! `dirty_writeback_centisecs`). Commits, which sync the WAL on the same disk, queue behind
//! those bursts. So every checkpoint here ends with a data sync of the database file: the
//! write-back is the checkpoint's own, small and regular, and it runs beside the writer.
//! Syncing more often than SQLite would never weakens durability.
//!
//! For the same reason the WAL never starts over on its own under load: SQLite rewinds it only
//! when a writer begins while every frame has been copied, and the next commit always lands
//! first. A WAL that only grows makes every commit's sync a journal commit of the file system
//! too (the file's size changed), which waits behind the database file's write-back. So once
//! the WAL is [`RESTART_AT_FRAMES`] long, the checkpoint above marks a restart as due, and the
//! next writer, before it begins, copies the few frames committed since (SQLite then syncs the
//! database file) so that its own transaction rewinds the WAL. From then on commits overwrite
//! a file of the same size, and with `fdatasync` (SQLite is built with `HAVE_FDATASYNC`,
//! `.cargo/config.toml`) their sync writes only the WAL's pages: docs/benchmarks.md, run N.

use crate::{Backend, Store, StoreError};
use sqlx::AnyPool;
use std::{
    fs::File,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Instant,
};

/// A WAL this long (1-KiB frames: 16 MiB) is rewound by the next writer ([`Store::begin_write`]).
pub const RESTART_AT_FRAMES: u64 = 16_384;

/// What one checkpoint did (SQLite; all zero on PostgreSQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Frames in the WAL when it ran.
    pub wal_frames: u64,
    /// Frames copied into the database file so far (of `wal_frames`).
    pub copied_frames: u64,
}

impl Checkpoint {
    /// Every frame is in the database file.
    fn complete(&self) -> bool {
        self.copied_frames == self.wal_frames
    }
}

/// Whether the next writer rewinds the WAL (SQLite files only).
#[derive(Debug, Default)]
pub(crate) struct RestartDue(AtomicBool);

impl Store {
    /// Copies committed WAL pages into the SQLite database file without waiting for readers
    /// or the writer (a passive checkpoint), so commits never pay for it, then syncs the
    /// database file; a long WAL is then rewound by the next writer. No-op on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(Checkpoint::default());
        }
        let done = passive_checkpoint(&self.pool).await?;
        if let Some(file) = &self.db_file {
            let file = Arc::clone(file);
            tokio::task::spawn_blocking(move || file.sync_data())
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?
                .map_err(|e| StoreError::Io(e.to_string()))?;
            if done.wal_frames >= RESTART_AT_FRAMES {
                self.restart_due.0.store(true, Ordering::Release);
            }
        }
        Ok(done)
    }

    /// Before a write transaction: when a restart is due, copies what the last checkpoint
    /// left, so that the transaction about to begin rewinds the WAL (SQLite rewinds it when a
    /// writer begins with every frame copied and no reader on an older snapshot; if one is,
    /// the WAL simply goes on and the next checkpoint marks the restart due again).
    pub(crate) async fn restart_wal_if_due(&self) -> Result<(), StoreError> {
        if !self.restart_due.0.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let started = Instant::now();
        let done = passive_checkpoint(&self.pool).await?;
        metrics::histogram!("sqlite_wal_restart_seconds").record(started.elapsed().as_secs_f64());
        if done.complete() {
            metrics::counter!("sqlite_wal_restarts_total").increment(1);
        }
        Ok(())
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)` on a connection of `pool`.
async fn passive_checkpoint(pool: &AnyPool) -> Result<Checkpoint, StoreError> {
    let (_busy, wal, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    Ok(Checkpoint {
        wal_frames: u64::try_from(wal).unwrap_or(0),
        copied_frames: u64::try_from(copied).unwrap_or(0),
    })
}

/// The database file behind `pool`'s main schema, opened for syncing (SQLite files only).
pub(crate) async fn open_db_file(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Option<Arc<File>>, StoreError> {
    if backend != Backend::Sqlite {
        return Ok(None);
    }
    let rows: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list")
        .fetch_all(pool)
        .await?;
    let Some((_, _, path)) = rows.into_iter().find(|(_, name, _)| name == "main") else {
        return Ok(None);
    };
    if path.is_empty() {
        return Ok(None);
    }
    let file = File::open(&path).map_err(|e| StoreError::Io(format!("{path}: {e}")))?;
    Ok(Some(Arc::new(file)))
}

#[cfg(test)]
mod tests {
    use super::RESTART_AT_FRAMES;
    use crate::testing::TestDb;

    #[tokio::test]
    async fn a_checkpoint_copies_the_wal_and_syncs_the_file() {
        let db = TestDb::sqlite().await.expect("sqlite");
        let store = &db.store;
        assert!(store.db_file.is_some(), "a file database is synced");
        sqlx::query("INSERT INTO meta (key, value) VALUES ('t', 'v')")
            .execute(store.pool())
            .await
            .expect("insert");
        let done = store.checkpoint().await.expect("checkpoint");
        assert!(done.wal_frames > 0);
        assert_eq!(
            done.copied_frames, done.wal_frames,
            "an idle WAL is copied whole"
        );
    }

    #[tokio::test]
    async fn a_long_wal_that_the_checkpoint_never_caught_is_rewound_by_the_next_writer() {
        let db = TestDb::sqlite().await.expect("sqlite");
        let store = &db.store;
        let pool = store.pool();
        sqlx::query("CREATE TABLE filler (x BLOB)")
            .execute(pool)
            .await
            .expect("table");
        // One frame per row (1-KiB pages): a WAL past the restart length.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 17000) \
             INSERT INTO filler SELECT randomblob(900) FROM n",
        )
        .execute(pool)
        .await
        .expect("fill");
        // A reader on that snapshot, and a commit after it: the checkpoint copies only up to
        // the reader's snapshot, as under load, where a commit always lands first.
        let mut reader = pool.begin().await.expect("reader");
        let _: i64 = sqlx::query_scalar("SELECT count(*) FROM filler")
            .fetch_one(&mut *reader)
            .await
            .expect("read");
        insert_meta(pool, "after-reader").await;
        let partial = store.checkpoint().await.expect("checkpoint");
        assert!(partial.wal_frames >= RESTART_AT_FRAMES, "{partial:?}");
        assert!(partial.copied_frames < partial.wal_frames, "{partial:?}");
        reader.rollback().await.expect("reader ends");

        let mut tx = store.begin_write().await.expect("writer");
        sqlx::query("INSERT INTO meta (key, value) VALUES ('writer', 'v')")
            .execute(&mut *tx)
            .await
            .expect("write");
        tx.commit().await.expect("commit");

        let after = store.checkpoint().await.expect("checkpoint");
        assert!(
            after.wal_frames < 100,
            "the writer's commit started the WAL over: {after:?}"
        );
        let rows: i64 =
            sqlx::query_scalar("SELECT count(*) FROM meta WHERE key IN ('after-reader', 'writer')")
                .fetch_one(pool)
                .await
                .expect("count");
        assert_eq!(rows, 2, "nothing committed was lost on the way");
    }

    async fn insert_meta(pool: &sqlx::AnyPool, key: &str) {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, 'v')")
            .bind(key)
            .execute(pool)
            .await
            .expect("insert");
    }
}

//! SQLite checkpoints that keep disk write-back steady.
//!
//! SQLite syncs the database file only when a checkpoint copies the *whole* WAL. Under a
//! steady stream of commits the copy rarely catches up (a commit lands while it runs), so the
//! pages it copied stay dirty in the OS page cache until the kernel writes them back on its
//! own schedule: 30 s later, in bursts every 5 s (Linux `dirty_expire_centisecs`,
//! `dirty_writeback_centisecs`). Commits, which sync the WAL on the same disk, queue behind
//! those bursts. So every checkpoint here ends with a data sync of the database file: the
//! write-back is the checkpoint's own, small and regular, and it runs beside the writer.
//! Syncing more often than SQLite would never weakens durability.

use crate::{Backend, Store, StoreError};
use sqlx::AnyPool;
use std::{fs::File, sync::Arc};

/// What one checkpoint did (SQLite; all zero on PostgreSQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Frames in the WAL when it ran.
    pub wal_frames: u64,
    /// Frames copied into the database file so far (of `wal_frames`).
    pub copied_frames: u64,
}

impl Store {
    /// Copies committed WAL pages into the SQLite database file without waiting for readers
    /// or the writer (a passive checkpoint), so commits never pay for it, then syncs the
    /// database file. No-op on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(Checkpoint::default());
        }
        let (_busy, wal, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.pool)
                .await?;
        if let Some(file) = &self.db_file {
            let file = Arc::clone(file);
            tokio::task::spawn_blocking(move || file.sync_data())
                .await
                .map_err(|e| StoreError::Io(e.to_string()))?
                .map_err(|e| StoreError::Io(e.to_string()))?;
        }
        Ok(Checkpoint {
            wal_frames: u64::try_from(wal).unwrap_or(0),
            copied_frames: u64::try_from(copied).unwrap_or(0),
        })
    }
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
}

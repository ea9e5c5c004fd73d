//! Small key/value facts about the database itself (e.g. whether the demo was seeded).

use crate::{Store, StoreError};
use sqlx::{Any, Transaction};

const SELECT: &str = "SELECT value FROM meta WHERE key = $1";
const UPSERT: &str = "INSERT INTO meta (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// Reads a meta value inside `tx`.
pub(crate) async fn get_in(
    tx: &mut Transaction<'_, Any>,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(SELECT)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?)
}

/// The statement that sets `key` to `value`, or changes nothing when `value` is `None` (for
/// [`crate::bulk::execute_all`]).
pub(crate) fn set_write(key: &str, value: Option<String>) -> crate::bulk::Write {
    crate::bulk::Write::statement(
        "INSERT INTO meta (key, value) SELECT $1, $2 WHERE $2 IS NOT NULL \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            .to_owned(),
        vec![Some(key.to_owned()), value],
    )
}

impl Store {
    /// Reads a meta value.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(SELECT)
            .bind(key)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Writes a meta value.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(UPSERT)
            .bind(key)
            .bind(value)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

//! Many rows through one statement parameter, and many rows back as one value: the rows
//! travel as a JSON array of arrays, which the database expands (`json_each` on SQLite,
//! `json_array_elements` on PostgreSQL) or builds (`json_group_array` / `json_agg`).
//!
//! Why: through sqlx's `Any` driver every bound value and every returned column is converted
//! and copied on its own, and on SQLite each row crosses a channel between threads. A batch of
//! 1,024 reports bound about 17,000 values and read about 15,000, which was most of its
//! time; one JSON text each way costs a fraction of that (docs/benchmarks.md, run F). The
//! statement text no longer depends on the row count either, so each connection prepares it
//! once.

use crate::{Backend, StoreError};
use serde::de::DeserializeOwned;
use sqlx::{Any, Transaction};

/// The SQL type of a column in a JSON row set (PostgreSQL needs it spelled out; SQLite takes
/// each JSON value's own type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    /// A 64-bit integer (or NULL).
    Int,
    /// Text (or NULL).
    Text,
}

/// `SELECT` of the rows in JSON parameter `$1` (an array of arrays, one per row, in
/// `cols`' order), in the array's order, with a `WHERE` so that it can feed an
/// `INSERT … ON CONFLICT` on SQLite.
pub(crate) fn select_rows(backend: Backend, cols: &[Col]) -> String {
    let fields: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| match (backend, c) {
            (Backend::Sqlite, _) => format!("value ->> {i}"),
            (Backend::Postgres, Col::Int) => format!("(value ->> {i})::BIGINT"),
            (Backend::Postgres, Col::Text) => format!("value ->> {i}"),
        })
        .collect();
    // Rows keep the array's order (`json_each` walks it in order; PostgreSQL is told to).
    match backend {
        Backend::Sqlite => format!("SELECT {} FROM json_each($1) WHERE true", fields.join(", ")),
        Backend::Postgres => format!(
            "SELECT {} FROM json_array_elements($1::JSON) WITH ORDINALITY AS r(value, n) \
             WHERE true ORDER BY n",
            fields.join(", ")
        ),
    }
}

/// `exprs` of every row a query yields, aggregated into one JSON array of arrays (`'[]'` or
/// NULL when there are none): wrap a query whose select list is `exprs` aliased `c0, c1, …`.
pub(crate) fn aggregate_rows(backend: Backend, exprs: usize, inner: &str) -> String {
    let cols: Vec<String> = (0..exprs).map(|i| format!("c{i}")).collect();
    match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({})) FROM ({inner})",
            cols.join(", ")
        ),
        Backend::Postgres => format!(
            "WITH q AS ({inner}) SELECT json_agg(json_build_array({}))::TEXT FROM q",
            cols.join(", ")
        ),
    }
}

/// `a AS c0, b AS c1, …`: the select list [`aggregate_rows`] expects.
pub(crate) fn aliased(exprs: &[&str]) -> String {
    exprs
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{e} AS c{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs an [`aggregate_rows`] query with JSON parameter `param` and decodes its rows.
pub(crate) async fn fetch_rows<T: DeserializeOwned>(
    tx: &mut Transaction<'_, Any>,
    sql: &str,
    param: String,
) -> Result<Vec<T>, StoreError> {
    let json: Option<String> = sqlx::query_scalar(sql)
        .bind(param)
        .fetch_one(&mut **tx)
        .await?;
    match json {
        None => Ok(Vec::new()),
        Some(j) => serde_json::from_str(&j)
            .map_err(|e| StoreError::Corrupt(format!("bulk rows do not decode: {e}"))),
    }
}

/// Runs a statement that takes its rows as JSON parameter `$1` ([`select_rows`]).
pub(crate) async fn execute_rows<T: serde::Serialize>(
    tx: &mut Transaction<'_, Any>,
    sql: &str,
    rows: &[T],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(rows)
        .map_err(|e| StoreError::Corrupt(format!("bulk rows do not encode: {e}")))?;
    sqlx::query(sql).bind(json).execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_sets_name_their_types_only_on_postgres() {
        let cols = [Col::Int, Col::Text];
        assert_eq!(
            select_rows(Backend::Sqlite, &cols),
            "SELECT value ->> 0, value ->> 1 FROM json_each($1) WHERE true"
        );
        assert_eq!(
            select_rows(Backend::Postgres, &cols),
            "SELECT (value ->> 0)::BIGINT, value ->> 1 \
             FROM json_array_elements($1::JSON) WITH ORDINALITY AS r(value, n) \
             WHERE true ORDER BY n"
        );
    }

    #[test]
    fn aggregates_wrap_an_aliased_query() {
        let inner = format!("SELECT {} FROM t", aliased(&["a", "b + 1"]));
        assert_eq!(inner, "SELECT a AS c0, b + 1 AS c1 FROM t");
        assert_eq!(
            aggregate_rows(Backend::Sqlite, 2, &inner),
            "SELECT json_group_array(json_array(c0, c1)) FROM (SELECT a AS c0, b + 1 AS c1 FROM t)"
        );
        assert!(aggregate_rows(Backend::Postgres, 2, &inner).starts_with("WITH q AS (SELECT"));
    }
}

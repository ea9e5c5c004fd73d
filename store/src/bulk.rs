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
use sqlx::{Any, Row, Transaction};

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
            (Backend::Sqlite, _) => format!("r ->> {i}"),
            (Backend::Postgres, Col::Int) => format!("(value ->> {i})::BIGINT"),
            (Backend::Postgres, Col::Text) => format!("value ->> {i}"),
        })
        .collect();
    // Rows keep the array's order (`json_each` walks it in order; PostgreSQL is told to).
    // On SQLite, every reference to `json_each`'s `value` renders the row back into JSON
    // text and every `->>` parses that text again: eleven columns cost eleven of each. The
    // subquery turns each row into binary JSON (`jsonb`) once, which `->>` reads without
    // parsing; its `OFFSET` keeps SQLite from flattening it back into the outer query (a
    // co-routine computes each of its columns once per row). Half the time per row
    // (docs/benchmarks.md, run N).
    match backend {
        Backend::Sqlite => format!(
            "SELECT {} FROM (SELECT jsonb(value) AS r FROM json_each($1) LIMIT -1 OFFSET 0) \
             WHERE true",
            fields.join(", ")
        ),
        Backend::Postgres => format!(
            "SELECT {} FROM json_array_elements($1::JSON) WITH ORDINALITY AS r(value, n) \
             WHERE true ORDER BY n",
            fields.join(", ")
        ),
    }
}

/// `exprs` of every row a query yields, aggregated into one JSON array of arrays (`'[]'` or
/// NULL when there are none): wrap a query whose select list is `exprs` aliased `c0, c1, …`.
/// The integer scalars `extras` (uncorrelated subqueries such as `(SELECT MAX(id) FROM t)`)
/// follow in the same row: facts a transaction needs beside the rows, read in the same round
/// trip ([`fetch_rows_and`]).
pub(crate) fn aggregate_rows(
    backend: Backend,
    exprs: usize,
    inner: &str,
    extras: &[&str],
) -> String {
    let cols: Vec<String> = (0..exprs).map(|i| format!("c{i}")).collect();
    let extras: String = extras.iter().map(|e| format!(", {e}")).collect();
    match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({})){extras} FROM ({inner})",
            cols.join(", ")
        ),
        Backend::Postgres => format!(
            "WITH q AS ({inner}) SELECT json_agg(json_build_array({}))::TEXT{extras} FROM q",
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

/// Runs an [`aggregate_rows`] query with JSON parameter `param`: its rows, decoded, and
/// its `N` extras.
pub(crate) async fn fetch_rows_and<T: DeserializeOwned, const N: usize>(
    tx: &mut Transaction<'_, Any>,
    sql: &str,
    param: String,
) -> Result<(Vec<T>, [Option<i64>; N]), StoreError> {
    let row = sqlx::query(sql).bind(param).fetch_one(&mut **tx).await?;
    let json: Option<String> = row.try_get(0)?;
    let mut extras = [None; N];
    for (i, e) in extras.iter_mut().enumerate() {
        *e = row.try_get(i + 1)?;
    }
    Ok((decode(json)?, extras))
}

fn decode<T: DeserializeOwned>(json: Option<String>) -> Result<Vec<T>, StoreError> {
    match json {
        None => Ok(Vec::new()),
        Some(j) => serde_json::from_str(&j)
            .map_err(|e| StoreError::Corrupt(format!("bulk rows do not decode: {e}"))),
    }
}

/// One statement of a transaction's writes, with its text parameters (`$1`, `$2`, … of its
/// own). Several run together through [`execute_all`]. A statement with a NULL parameter
/// writes nothing: PostgreSQL skips it; SQLite runs it anyway (its SQL must then affect no
/// row) so that a batch's text never changes and stays prepared.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    sql: String,
    params: Vec<Option<String>>,
}

impl Write {
    fn is_empty(&self) -> bool {
        self.params.iter().any(Option::is_none)
    }
}

impl Write {
    /// `sql` taking `rows` as JSON parameter `$1` ([`select_rows`]); with no rows, `$1` is
    /// NULL, which `json_each` reads as no rows.
    pub(crate) fn rows<T: serde::Serialize>(sql: String, rows: &[T]) -> Result<Self, StoreError> {
        let json = if rows.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(rows)
                    .map_err(|e| StoreError::Corrupt(format!("bulk rows do not encode: {e}")))?,
            )
        };
        Ok(Write {
            sql,
            params: vec![json],
        })
    }

    /// `sql` with text parameters `params`; when one is NULL its SQL must affect no row
    /// (e.g. through `WHERE $n IS NOT NULL`).
    pub(crate) fn statement(sql: String, params: Vec<Option<String>>) -> Self {
        Write { sql, params }
    }
}

/// `sql` with every parameter `$n` renamed `$(n + offset)`.
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

/// Runs `writes` in order inside `tx`. On SQLite they go as one multi-statement query, each
/// statement's parameters renumbered after the previous ones': one round trip to the
/// connection's thread instead of one per statement (each is a wake-up that waits for a core
/// on a busy machine; docs/benchmarks.md, run L). PostgreSQL's protocol takes one statement
/// with parameters at a time, so there they run one by one, skipping the empty ones.
pub(crate) async fn execute_all(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    writes: Vec<Write>,
) -> Result<(), StoreError> {
    match backend {
        Backend::Sqlite => {
            let mut sql = String::new();
            let mut params = Vec::new();
            for w in writes {
                sql.push_str(&renumber(&w.sql, params.len()));
                sql.push_str(";\n");
                params.extend(w.params);
            }
            let mut q = sqlx::query(&sql);
            for p in params {
                q = q.bind(p);
            }
            q.execute(&mut **tx).await?;
        }
        Backend::Postgres => {
            for w in writes.into_iter().filter(|w| !w.is_empty()) {
                let mut q = sqlx::query(&w.sql);
                for p in w.params {
                    q = q.bind(p);
                }
                q.execute(&mut **tx).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_runs_a_batch_of_writes_as_one_query() {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("memory database");
        sqlx::raw_sql("CREATE TABLE t (a INTEGER, b TEXT); CREATE TABLE m (k TEXT, v TEXT)")
            .execute(&pool)
            .await
            .expect("tables");
        let insert = || {
            format!(
                "INSERT INTO t (a, b) {}",
                select_rows(Backend::Sqlite, &[Col::Int, Col::Text])
            )
        };
        let set = |v: Option<&str>| {
            Write::statement(
                "INSERT INTO m (k, v) SELECT $1, $2 WHERE $2 IS NOT NULL".into(),
                vec![Some("key".into()), v.map(str::to_owned)],
            )
        };
        let writes = vec![
            Write::rows(insert(), &[(1, "one"), (2, "two")]).expect("rows"),
            Write::rows::<(i64, &str)>(insert(), &[]).expect("no rows"),
            set(None),
            set(Some("kept")),
            Write::rows(insert(), &[(3, "three")]).expect("rows"),
        ];
        let mut tx = pool.begin().await.expect("tx");
        execute_all(&mut tx, Backend::Sqlite, writes)
            .await
            .expect("writes");
        tx.commit().await.expect("commit");
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT a, b FROM t ORDER BY a")
            .fetch_all(&pool)
            .await
            .expect("rows");
        let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(names, ["one", "two", "three"]);
        let meta: Vec<(String, String)> = sqlx::query_as("SELECT k, v FROM m")
            .fetch_all(&pool)
            .await
            .expect("meta");
        assert_eq!(meta, [("key".to_owned(), "kept".to_owned())]);
    }

    #[tokio::test]
    async fn sqlite_unpacks_each_row_once_in_a_co_routine() {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("memory database");
        let sql = select_rows(Backend::Sqlite, &[Col::Int, Col::Text, Col::Int]);
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind("[]")
                .fetch_all(&pool)
                .await
                .expect("plan");
        assert!(
            plan.iter().any(|p| p.3.starts_with("CO-ROUTINE")),
            "the row subquery was flattened: {plan:?}"
        );
        let rows: Vec<(i64, Option<String>, Option<i64>)> = sqlx::query_as(&sql)
            .bind(r#"[[2,"two",null],[1,"o\"ne",7]]"#)
            .fetch_all(&pool)
            .await
            .expect("rows");
        assert_eq!(
            rows,
            [
                (2, Some("two".into()), None),
                (1, Some("o\"ne".into()), Some(7))
            ]
        );
    }

    #[test]
    fn renumbering_shifts_every_parameter() {
        assert_eq!(
            renumber("SELECT $1, $2 WHERE $1 > 0", 3),
            "SELECT $4, $5 WHERE $4 > 0"
        );
        assert_eq!(renumber("x = $10 AND y = '$'", 1), "x = $11 AND y = '$'");
        assert_eq!(renumber("no parameters", 5), "no parameters");
    }

    #[test]
    fn row_sets_name_their_types_only_on_postgres() {
        let cols = [Col::Int, Col::Text];
        assert_eq!(
            select_rows(Backend::Sqlite, &cols),
            "SELECT r ->> 0, r ->> 1 \
             FROM (SELECT jsonb(value) AS r FROM json_each($1) LIMIT -1 OFFSET 0) WHERE true"
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
            aggregate_rows(Backend::Sqlite, 2, &inner, &[]),
            "SELECT json_group_array(json_array(c0, c1)) FROM (SELECT a AS c0, b + 1 AS c1 FROM t)"
        );
        assert!(aggregate_rows(Backend::Postgres, 2, &inner, &[]).starts_with("WITH q AS (SELECT"));
        assert_eq!(
            aggregate_rows(Backend::Sqlite, 1, "SELECT a AS c0 FROM t", &["(SELECT 1)"]),
            "SELECT json_group_array(json_array(c0)), (SELECT 1) FROM (SELECT a AS c0 FROM t)"
        );
    }
}

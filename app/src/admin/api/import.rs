//! Bulk import of sites and piles from CSV.

use super::FieldErr;
#[cfg(feature = "ssr")]
use super::{fail, require_admin};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of an import report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowView {
    /// Line in the file.
    pub line: u64,
    /// Site name.
    pub site: String,
    /// Pile code.
    pub code: String,
    /// Creates its site.
    pub new_site: bool,
    /// Creates a pile.
    pub new_pile: bool,
    /// What is wrong.
    pub errors: Vec<FieldErr>,
}

/// An import's (or dry run's) report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    /// Every data row.
    pub rows: Vec<ImportRowView>,
    /// Problems with the whole file.
    pub file_errors: Vec<FieldErr>,
    /// New sites.
    pub new_sites: usize,
    /// New piles.
    pub new_piles: usize,
    /// Written.
    pub committed: bool,
    /// It was a dry run.
    pub dry_run: bool,
}

/// Checks a CSV file and, unless `dry_run` is set or any row is wrong, imports it in one
/// transaction.
#[server(endpoint = "admin_import", output = crate::api::codec::JsonText)]
pub async fn admin_import(csv: String, dry_run: bool) -> Result<ImportView, ServerFnError> {
    let (svc, admin) = require_admin().await?;
    let r = svc.import_fleet(admin, &csv, dry_run).await.map_err(fail)?;
    Ok(ImportView {
        rows: r
            .rows
            .into_iter()
            .map(|row| ImportRowView {
                line: row.line,
                site: row.site,
                code: row.code,
                new_site: row.new_site,
                new_pile: row.new_pile,
                errors: row.errors.into_iter().map(FieldErr::from).collect(),
            })
            .collect(),
        file_errors: r.file_errors.into_iter().map(FieldErr::from).collect(),
        new_sites: r.new_sites,
        new_piles: r.new_piles,
        committed: r.committed,
        dry_run,
    })
}

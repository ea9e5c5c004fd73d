//! Bulk import of sites and piles from CSV, with a dry run and a per-row error report.
//!
//! One row per pile; the row names its site. A site that exists (same name) or that an
//! earlier row created is reused; otherwise the row's site columns create it. A row with an
//! empty `code` only creates its site. Columns (header row required, any order, case
//! insensitive): `site`, `code` (required); `address`, `lat`, `lon`, `timezone`, `hold_secs`,
//! `grace_secs`, `freshness_secs`, `reservations_allowed` (for new sites); `connector`,
//! `max_kw`, `price`, `heartbeat_secs`, `sensor` (for piles). Duplicate pile codes within
//! the file or against the database are row errors. Nothing is written unless every row is
//! valid, and then everything is written in one transaction.

use super::forms::{FieldError, PileInput, SiteInput};
use crate::{Chargebay, ServiceError};
use domain::{SiteId, UserId};
use serde_json::json;
use std::collections::HashMap;
use store::admin::{
    fleet::{ImportPlan, PlannedPile, SiteRef},
    AuditEntry,
};

/// Largest accepted file.
pub const MAX_IMPORT_BYTES: usize = 1_000_000;
/// Most rows in one file.
pub const MAX_IMPORT_ROWS: usize = 5_000;

const COLUMNS: [&str; 15] = [
    "site",
    "code",
    "address",
    "lat",
    "lon",
    "timezone",
    "hold_secs",
    "grace_secs",
    "freshness_secs",
    "reservations_allowed",
    "connector",
    "max_kw",
    "price",
    "heartbeat_secs",
    "sensor",
];

/// What one row does, or why it cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// Site name.
    pub site: String,
    /// Pile code (empty for a site-only row).
    pub code: String,
    /// The row creates its site.
    pub new_site: bool,
    /// The row creates a pile.
    pub new_pile: bool,
    /// What is wrong (empty when the row is valid).
    pub errors: Vec<FieldError>,
}

/// The outcome of an import or of its dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Every data row, in file order.
    pub rows: Vec<ImportRow>,
    /// Problems with the file as a whole (header, size, encoding).
    pub file_errors: Vec<FieldError>,
    /// Sites the import creates (or created).
    pub new_sites: usize,
    /// Piles the import creates (or created).
    pub new_piles: usize,
    /// True when it was written.
    pub committed: bool,
}

impl ImportReport {
    /// True when nothing is wrong.
    pub fn is_valid(&self) -> bool {
        self.file_errors.is_empty() && self.rows.iter().all(|r| r.errors.is_empty())
    }
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "1" | "yes" | "y" | "true" => Some(true),
        "0" | "no" | "n" | "false" => Some(false),
        _ => None,
    }
}

impl Chargebay {
    /// Checks `csv_text` and, unless `dry_run` or anything is wrong, imports it in one
    /// transaction (audited as `fleet_imported`).
    pub async fn import_fleet(
        &self,
        admin: UserId,
        csv_text: &str,
        dry_run: bool,
    ) -> Result<ImportReport, ServiceError> {
        let (mut report, plan) = self.plan_import(csv_text).await?;
        if dry_run || !report.is_valid() || (plan.sites.is_empty() && plan.piles.is_empty()) {
            return Ok(report);
        }
        let done = match self
            .store
            .import_fleet(
                &plan,
                &AuditEntry::new(admin, "fleet_imported", "import").with(json!({
                    "sites": plan.sites.iter().map(|s| &s.name).collect::<Vec<_>>(),
                    "piles": plan.piles.iter().map(|p| &p.pile.code).collect::<Vec<_>>(),
                })),
            )
            .await
        {
            Ok(done) => done,
            // A code taken between the check and the write: nothing was written.
            Err(store::StoreError::Conflict(_)) => {
                report
                    .file_errors
                    .push(FieldError::new("code", "taken_meanwhile"));
                return Ok(report);
            }
            Err(e) => return Err(e.into()),
        };
        self.publish_piles(&done.piles).await?;
        report.committed = true;
        Ok(report)
    }

    async fn plan_import(
        &self,
        csv_text: &str,
    ) -> Result<(ImportReport, ImportPlan), ServiceError> {
        let mut report = ImportReport::default();
        let mut plan = ImportPlan::default();
        if csv_text.len() > MAX_IMPORT_BYTES {
            report
                .file_errors
                .push(FieldError::new("file", "too_large"));
            return Ok((report, plan));
        }
        let text = csv_text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(_) => {
                report.file_errors.push(FieldError::new("file", "csv"));
                return Ok((report, plan));
            }
        };
        let mut index: HashMap<&'static str, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.to_ascii_lowercase();
            let h = match h.as_str() {
                "price_text" => "price",
                "heartbeat" => "heartbeat_secs",
                other => other,
            };
            match COLUMNS.iter().find(|c| **c == h) {
                Some(c) => {
                    index.insert(c, i);
                }
                None if h.is_empty() => {}
                None => report
                    .file_errors
                    .push(FieldError::new(h, "unknown_column")),
            }
        }
        for required in ["site", "code"] {
            if !index.contains_key(required) {
                report
                    .file_errors
                    .push(FieldError::new(required, "missing_column"));
            }
        }
        if !report.file_errors.is_empty() {
            return Ok((report, plan));
        }
        let records: Vec<_> = reader.records().collect();
        if records.len() > MAX_IMPORT_ROWS {
            report
                .file_errors
                .push(FieldError::new("file", "too_many_rows"));
            return Ok((report, plan));
        }
        let existing_sites = self.store.site_ids_by_name().await?;
        let codes: Vec<String> = records
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|r| index.get("code").and_then(|i| r.get(*i)))
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        let taken = self.store.existing_pile_codes(&codes).await?;
        let mut new_sites: HashMap<String, usize> = HashMap::new();
        let mut seen_codes: HashMap<String, u64> = HashMap::new();
        for (n, record) in records.into_iter().enumerate() {
            let line = n as u64 + 2;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    report.rows.push(ImportRow {
                        line: e.position().map_or(line, |p| p.line()),
                        site: String::new(),
                        code: String::new(),
                        new_site: false,
                        new_pile: false,
                        errors: vec![FieldError::new("row", "csv")],
                    });
                    continue;
                }
            };
            let line = record.position().map_or(line, |p| p.line());
            let col = |name: &str| {
                index
                    .get(name)
                    .and_then(|i| record.get(*i))
                    .unwrap_or("")
                    .to_owned()
            };
            let mut row = ImportRow {
                line,
                site: col("site"),
                code: col("code"),
                new_site: false,
                new_pile: false,
                errors: Vec::new(),
            };
            if record.iter().all(str::is_empty) {
                continue;
            }
            let site = if row.site.is_empty() {
                row.errors.push(FieldError::new("site", "required"));
                None
            } else if let Some(id) = existing_sites.get(&row.site) {
                Some(SiteRef::Existing(*id))
            } else if let Some(i) = new_sites.get(&row.site) {
                Some(SiteRef::New(*i))
            } else {
                let allowed = truthy(&col("reservations_allowed"));
                if allowed.is_none() {
                    row.errors
                        .push(FieldError::new("reservations_allowed", "yes_no"));
                }
                let input = SiteInput {
                    name: row.site.clone(),
                    address: col("address"),
                    lat: col("lat"),
                    lon: col("lon"),
                    timezone: col("timezone"),
                    hold_secs: col("hold_secs"),
                    grace_secs: col("grace_secs"),
                    freshness_secs: col("freshness_secs"),
                    reservations_allowed: allowed.unwrap_or(true),
                };
                match input.parse() {
                    Ok(s) if allowed.is_some() => {
                        plan.sites.push(s);
                        new_sites.insert(row.site.clone(), plan.sites.len() - 1);
                        row.new_site = true;
                        Some(SiteRef::New(plan.sites.len() - 1))
                    }
                    Ok(_) => None,
                    Err(mut e) => {
                        row.errors.append(&mut e);
                        None
                    }
                }
            };
            if !row.code.is_empty() {
                let input = PileInput {
                    site: String::new(),
                    code: row.code.clone(),
                    connector: col("connector"),
                    max_kw: col("max_kw"),
                    price_text: col("price"),
                    heartbeat_secs: col("heartbeat_secs"),
                    sensor: col("sensor"),
                };
                let pile = match input.parse(SiteId(0), true) {
                    Ok(p) => Some(p),
                    Err(mut e) => {
                        row.errors.append(&mut e);
                        None
                    }
                };
                if let Some(first) = seen_codes.get(&row.code) {
                    row.errors.push(FieldError::new(
                        "code",
                        &format!("duplicate_in_file:{first}"),
                    ));
                } else {
                    seen_codes.insert(row.code.clone(), line);
                    if taken.contains(&row.code) {
                        row.errors.push(FieldError::new("code", "taken"));
                    }
                }
                if let (Some(site), Some(pile), true) = (site, pile, row.errors.is_empty()) {
                    plan.piles.push(PlannedPile { site, pile });
                    row.new_pile = true;
                }
            }
            report.rows.push(row);
        }
        if report.rows.is_empty() {
            report.file_errors.push(FieldError::new("file", "empty"));
        }
        report.new_sites = plan.sites.len();
        report.new_piles = plan.piles.len();
        Ok((report, plan))
    }
}

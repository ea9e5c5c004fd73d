//! Sites, piles and device credentials.
// The form server functions take one argument per form field (what `ActionForm` posts).
#![allow(clippy::too_many_arguments)]

use super::FormResult;
#[cfg(feature = "ssr")]
use super::{fail, form_result, require_admin};
use domain::{Availability, ConnectorType, Occupancy};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A site as the admin pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// IANA timezone.
    pub timezone: String,
    /// Hold time, s.
    pub hold_secs: i64,
    /// Arrival grace, s.
    pub grace_secs: i64,
    /// Freshness override, s.
    pub freshness_secs: Option<i64>,
    /// Drivers may reserve.
    pub reservations_allowed: bool,
    /// Enabled.
    pub enabled: bool,
    /// Number of piles.
    pub piles: usize,
}

#[cfg(feature = "ssr")]
fn site_row(s: store::sites::Site, piles: usize) -> SiteRow {
    SiteRow {
        id: s.id.0,
        name: s.name,
        address: s.address,
        lat: s.lat,
        lon: s.lon,
        timezone: s.timezone,
        hold_secs: s.policy.hold_secs,
        grace_secs: s.policy.grace_secs,
        freshness_secs: s.policy.freshness_secs,
        reservations_allowed: s.policy.reservations_allowed,
        enabled: s.enabled,
        piles,
    }
}

/// Every site.
#[server(endpoint = "admin_sites", output = crate::api::codec::JsonText)]
pub async fn admin_sites() -> Result<Vec<SiteRow>, ServerFnError> {
    let (svc, _) = require_admin().await?;
    Ok(svc
        .admin_sites()
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| site_row(s.site, s.piles))
        .collect())
}

/// One site.
#[server(endpoint = "admin_site", output = crate::api::codec::JsonText)]
pub async fn admin_site(id: i64) -> Result<SiteRow, ServerFnError> {
    let (svc, _) = require_admin().await?;
    let site = svc
        .store()
        .site(domain::SiteId(id))
        .await
        .map_err(|e| fail(e.into()))?;
    let piles = svc
        .store()
        .piles_at_site(site.id)
        .await
        .map_err(|e| fail(e.into()))?
        .len();
    Ok(site_row(site, piles))
}

/// Creates (`id` = 0) or edits a site. Fields are as typed; errors name the field.
#[server(endpoint = "admin_save_site", output = crate::api::codec::JsonText)]
pub async fn admin_save_site(
    id: i64,
    name: String,
    address: String,
    lat: String,
    lon: String,
    timezone: String,
    hold_secs: String,
    grace_secs: String,
    freshness_secs: String,
    reservations_allowed: Option<String>,
) -> Result<FormResult, ServerFnError> {
    let (svc, admin) = require_admin().await?;
    let input = service::admin::SiteInput {
        name,
        address,
        lat,
        lon,
        timezone,
        hold_secs,
        grace_secs,
        freshness_secs,
        reservations_allowed: reservations_allowed.is_some_and(|v| v != "false" && v != "0"),
    };
    let id = (id > 0).then_some(domain::SiteId(id));
    form_result(svc.save_site(admin, id, &input).await.map(|s| s.0))
}

/// Enables or disables a site (disabling voids the holds on its piles).
#[server(endpoint = "admin_set_site_enabled", output = crate::api::codec::JsonText)]
pub async fn admin_set_site_enabled(id: i64, enabled: bool) -> Result<(), ServerFnError> {
    let (svc, admin) = require_admin().await?;
    svc.set_site_enabled(admin, domain::SiteId(id), enabled)
        .await
        .map_err(fail)
}

/// A pile with its live state, as the admin list and detail show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileRow {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Site id.
    pub site: i64,
    /// Site name.
    pub site_name: String,
    /// Connector.
    pub connector: ConnectorType,
    /// Max power, kW.
    pub max_kw: f64,
    /// Tariff text.
    pub price_text: String,
    /// Heartbeat, s.
    pub heartbeat_secs: i64,
    /// Bay sensor kind.
    pub sensor: String,
    /// Enabled (pile and site).
    pub enabled: bool,
    /// The pile's own flag (without its site's).
    pub pile_enabled: bool,
    /// Idle or why not.
    pub availability: Availability,
    /// Effective bay occupancy.
    pub occupancy: Occupancy,
    /// Last report (unix ms).
    pub reading_at: Option<i64>,
    /// Bay state since (unix ms).
    pub occupancy_since: Option<i64>,
    /// Last sequence number.
    pub last_seq: Option<i64>,
    /// Battery, %.
    pub battery: Option<u8>,
    /// Sensor quality, %.
    pub quality: Option<u8>,
    /// Reported state (`available`, `charging`, `faulted`).
    pub pile_state: Option<String>,
    /// Bay flapping.
    pub flapping: bool,
    /// Address the last report came from.
    pub last_addr: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) fn pile_row(
    v: store::piles::PileView,
    now: domain::Millis,
    pile_enabled: bool,
) -> PileRow {
    PileRow {
        availability: v.availability(now),
        occupancy: v.occupancy(now),
        reading_at: v.telemetry.last_report_at.map(|m| m.0),
        occupancy_since: v.telemetry.occupancy_since.map(|m| m.0),
        last_seq: v.telemetry.last_seq,
        battery: v.telemetry.battery,
        quality: v.telemetry.quality,
        pile_state: v.telemetry.pile_state.map(|s| s.as_str().to_owned()),
        flapping: v.telemetry.flapping,
        id: v.id.0,
        code: v.code,
        site: v.site.0,
        site_name: v.site_name,
        connector: v.connector,
        max_kw: v.max_kw,
        price_text: v.price_text,
        heartbeat_secs: v.heartbeat_secs,
        sensor: v.sensor,
        enabled: v.enabled,
        pile_enabled,
        last_addr: v.last_addr,
    }
}

/// Piles and the server's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileRows {
    /// The piles.
    pub piles: Vec<PileRow>,
    /// Server time (unix ms).
    pub now: i64,
}

/// Piles, optionally of one site, in one state (`idle` or a reason), matching a text.
#[server(endpoint = "admin_piles", output = crate::api::codec::JsonText)]
pub async fn admin_piles(
    site: Option<i64>,
    state: Option<String>,
    q: Option<String>,
) -> Result<PileRows, ServerFnError> {
    let (svc, _) = require_admin().await?;
    let now = store::now();
    let q = q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let state = state.filter(|s| !s.is_empty());
    let views = match site {
        Some(s) => svc
            .store()
            .piles_at_site(domain::SiteId(s))
            .await
            .map_err(|e| fail(e.into()))?,
        None => svc.piles().await.map_err(fail)?,
    };
    let disabled = svc
        .store()
        .disabled_pile_ids()
        .await
        .map_err(|e| fail(e.into()))?;
    let piles = views
        .into_iter()
        .filter(|v| {
            state
                .as_deref()
                .is_none_or(|s| v.availability(now).as_str() == s)
        })
        .filter(|v| {
            q.as_deref().is_none_or(|q| {
                v.code.to_lowercase().contains(q) || v.site_name.to_lowercase().contains(q)
            })
        })
        .map(|v| {
            let own = !disabled.contains(&v.id);
            pile_row(v, now, own)
        })
        .collect();
    Ok(PileRows { piles, now: now.0 })
}

/// A pile's credential as an admin may see it (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialView {
    /// Fingerprint of the current key.
    pub fingerprint: String,
    /// Issued at (unix ms).
    pub issued_at: i64,
    /// Revoked at (unix ms).
    pub revoked_at: Option<i64>,
}

/// A current problem of a pile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRow {
    /// `stale`, `flapping`, `low_battery`, `faulted`, `never_heard`, `offline`, `blocked`.
    pub kind: String,
    /// Since (unix ms).
    pub since: Option<i64>,
    /// Battery, for low batteries.
    pub battery: Option<u8>,
    /// Pile id.
    pub pile: i64,
    /// Pile code.
    pub code: String,
    /// Site name.
    pub site_name: String,
}

#[cfg(feature = "ssr")]
pub(crate) fn problem_row(p: service::admin::health::Problem) -> ProblemRow {
    ProblemRow {
        kind: p.kind.as_str().to_owned(),
        since: p.since.map(|m| m.0),
        battery: p.battery,
        pile: p.pile.id.0,
        code: p.pile.code,
        site_name: p.pile.site_name,
    }
}

/// Everything the pile page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileDetail {
    /// The pile.
    pub pile: PileRow,
    /// Its credential.
    pub credential: Option<CredentialView>,
    /// Its current problems.
    pub problems: Vec<ProblemRow>,
    /// Admin actions on it, newest first.
    pub audit: Vec<super::audit::AuditRow>,
    /// Every site (for the edit form).
    pub sites: Vec<(i64, String)>,
    /// Server time (unix ms).
    pub now: i64,
}

/// One pile with its telemetry, credential, problems and admin history.
#[server(endpoint = "admin_pile", output = crate::api::codec::JsonText)]
pub async fn admin_pile(id: i64) -> Result<PileDetail, ServerFnError> {
    let (svc, _) = require_admin().await?;
    let pid = domain::PileId(id);
    let now = store::now();
    let view = svc.pile(pid).await.map_err(fail)?;
    let own = !svc
        .store()
        .disabled_pile_ids()
        .await
        .map_err(|e| fail(e.into()))?
        .contains(&pid);
    let credential = svc
        .credential(pid)
        .await
        .map_err(fail)?
        .map(|c| CredentialView {
            fingerprint: c.fingerprint,
            issued_at: c.issued_at.0,
            revoked_at: c.revoked_at.map(|m| m.0),
        });
    let problems = svc
        .pile_problems(pid)
        .await
        .map_err(fail)?
        .into_iter()
        .map(problem_row)
        .collect();
    let audit = svc
        .audit_log(Some(&format!("pile:{id}")), 50)
        .await
        .map_err(fail)?
        .into_iter()
        .map(super::audit::audit_row)
        .collect();
    let sites = svc
        .store()
        .list_sites()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|s| (s.id.0, s.name))
        .collect();
    Ok(PileDetail {
        pile: pile_row(view, now, own),
        credential,
        problems,
        audit,
        sites,
        now: now.0,
    })
}

/// Every site's id and name (for pickers).
#[server(endpoint = "admin_site_names", output = crate::api::codec::JsonText)]
pub async fn admin_site_names() -> Result<Vec<(i64, String)>, ServerFnError> {
    let (svc, _) = require_admin().await?;
    Ok(svc
        .store()
        .list_sites()
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|s| (s.id.0, s.name))
        .collect())
}

/// Creates (`id` = 0) or edits a pile (the code is set only when creating).
#[server(endpoint = "admin_save_pile", output = crate::api::codec::JsonText)]
pub async fn admin_save_pile(
    id: i64,
    site: String,
    code: String,
    connector: String,
    max_kw: String,
    price_text: String,
    heartbeat_secs: String,
    sensor: String,
) -> Result<FormResult, ServerFnError> {
    let (svc, admin) = require_admin().await?;
    let input = service::admin::PileInput {
        site,
        code,
        connector,
        max_kw,
        price_text,
        heartbeat_secs,
        sensor,
    };
    let id = (id > 0).then_some(domain::PileId(id));
    form_result(svc.save_pile(admin, id, &input).await.map(|p| p.0))
}

/// Enables or disables a pile (disabling voids its active hold; the driver is alerted).
#[server(endpoint = "admin_set_pile_enabled", output = crate::api::codec::JsonText)]
pub async fn admin_set_pile_enabled(id: i64, enabled: bool) -> Result<(), ServerFnError> {
    let (svc, admin) = require_admin().await?;
    svc.set_pile_enabled(admin, domain::PileId(id), enabled)
        .await
        .map_err(fail)
}

/// A freshly issued key: shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedKey {
    /// The pile.
    pub pile: i64,
    /// The secret key.
    pub key: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// Issues (or rotates) a pile's device credential. The key is in this answer only.
#[server(endpoint = "admin_issue_credential", output = crate::api::codec::JsonText)]
pub async fn admin_issue_credential(pile: i64) -> Result<IssuedKey, ServerFnError> {
    let (svc, admin) = require_admin().await?;
    let c = svc
        .admin_issue_credential(admin, domain::PileId(pile))
        .await
        .map_err(fail)?;
    Ok(IssuedKey {
        pile: c.pile.0,
        key: c.secret.clone(),
        fingerprint: c.fingerprint.clone(),
    })
}

/// Revokes a pile's device credential.
#[server(endpoint = "admin_revoke_credential", output = crate::api::codec::JsonText)]
pub async fn admin_revoke_credential(pile: i64) -> Result<(), ServerFnError> {
    let (svc, admin) = require_admin().await?;
    svc.admin_revoke_credential(admin, domain::PileId(pile))
        .await
        .map_err(fail)
}

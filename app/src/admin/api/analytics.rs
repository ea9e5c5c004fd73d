//! History and analytics.

#[cfg(feature = "ssr")]
use super::{fail, require_admin};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Figures of a pile, a bucket or everything.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Figures {
    /// Share of time charging, 0–1.
    pub utilisation: f64,
    /// Blocked minutes.
    pub blocked_minutes: f64,
    /// Share of time the bay reading was fresh, 0–1.
    pub uptime: f64,
}

#[cfg(feature = "ssr")]
fn figures(t: &service::admin::analytics::Totals) -> Figures {
    Figures {
        utilisation: t.utilisation(),
        blocked_minutes: t.blocked_minutes(),
        uptime: t.uptime(),
    }
}

/// One pile's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PileFigures {
    /// Pile id.
    pub pile: i64,
    /// Code.
    pub code: String,
    /// Figures.
    pub figures: Figures,
}

/// One chart bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketFigures {
    /// Start (unix ms).
    pub from: i64,
    /// End (unix ms).
    pub to: i64,
    /// Figures.
    pub figures: Figures,
}

/// Analytics of a site or a pile over a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsView {
    /// Range start (unix ms).
    pub from: i64,
    /// Range end (unix ms).
    pub to: i64,
    /// Everything together.
    pub totals: Figures,
    /// Per pile.
    pub piles: Vec<PileFigures>,
    /// Per time bucket.
    pub buckets: Vec<BucketFigures>,
    /// Reservations taken in the range by status.
    pub outcomes: Vec<(String, i64)>,
}

/// The range `[from, to)` from the inputs (UTC+8; default: the last 24 hours).
pub fn range_of(from: Option<&str>, to: Option<&str>, now: i64) -> Option<(i64, i64)> {
    use crate::admin::time::parse_local;
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_local(s)?,
        None => now,
    };
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_local(s)?,
        None => to - 24 * 3600 * 1000,
    };
    Some((from, to))
}

/// Analytics of a pile (`pile`) or of a site's piles over a range (UTC+8 inputs).
#[server(endpoint = "admin_analytics", output = crate::api::codec::JsonText)]
pub async fn admin_analytics(
    site: Option<i64>,
    pile: Option<i64>,
    from: Option<String>,
    to: Option<String>,
) -> Result<AnalyticsView, ServerFnError> {
    let (svc, _) = require_admin().await?;
    let (from, to) = range_of(from.as_deref(), to.as_deref(), store::now().0)
        .ok_or_else(|| ServerFnError::new("not a date"))?;
    let a = svc
        .analytics(
            site.map(domain::SiteId),
            pile.map(domain::PileId),
            domain::Millis(from),
            domain::Millis(to),
            24,
        )
        .await
        .map_err(fail)?;
    Ok(AnalyticsView {
        from: a.from.0,
        to: a.to.0,
        totals: figures(&a.totals),
        piles: a
            .piles
            .iter()
            .map(|p| PileFigures {
                pile: p.pile.0,
                code: p.code.clone(),
                figures: figures(&p.totals),
            })
            .collect(),
        buckets: a
            .buckets
            .iter()
            .map(|b| BucketFigures {
                from: b.from.0,
                to: b.to.0,
                figures: figures(&b.totals),
            })
            .collect(),
        outcomes: a.outcomes,
    })
}

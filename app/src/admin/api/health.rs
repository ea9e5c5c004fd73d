//! Fleet health.

pub use super::fleet::ProblemRow;
#[cfg(feature = "ssr")]
use super::{fail, require_admin};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The fleet's problems now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Problems, most severe kind first, oldest first.
    pub problems: Vec<ProblemRow>,
    /// Server time (unix ms).
    pub now: i64,
}

/// Every current problem: stale sensors, flapping bays, low batteries, faulted piles, piles
/// never heard from or offline, bays blocked longer than 15 minutes.
#[server(endpoint = "admin_health", output = crate::api::codec::JsonText)]
pub async fn admin_health() -> Result<Health, ServerFnError> {
    let (svc, _) = require_admin().await?;
    let problems = svc
        .fleet_health()
        .await
        .map_err(fail)?
        .into_iter()
        .map(super::fleet::problem_row)
        .collect();
    Ok(Health {
        problems,
        now: store::now().0,
    })
}

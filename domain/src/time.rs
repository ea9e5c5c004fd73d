//! Time as unix milliseconds: the one representation stored, sent and compared.

use serde::{Deserialize, Serialize};

/// A point in time as milliseconds since the unix epoch (UTC).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub i64);

impl Millis {
    /// This instant plus `secs` seconds.
    pub fn plus_secs(self, secs: i64) -> Self {
        Millis(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// Whole seconds elapsed from `earlier` to `self` (0 if `earlier` is later).
    pub fn secs_since(self, earlier: Millis) -> i64 {
        (self.0 - earlier.0).max(0) / 1000
    }
}

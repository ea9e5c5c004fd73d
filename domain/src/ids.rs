//! Typed identifiers so a pile id can never be passed where a site id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A site: a car park or street location with one or more piles.
    SiteId
);
id_type!(
    /// A pile: one charging point with one connector and one bay.
    PileId
);
id_type!(
    /// A user account (driver or admin).
    UserId
);
id_type!(
    /// A reservation (an active hold or an ended record).
    ReservationId
);

//! chargebay's pure domain: identifiers, states, the availability rule, the device report
//! and the reservation state machine. No I/O; compiles to wasm32 so the UI shares it.

pub mod account;
pub mod availability;
pub mod bay;
pub mod geo;
pub mod hold;
pub mod ids;
pub mod live;
pub mod pile;
pub mod report;
pub mod reservation;
pub mod search;
pub mod time;

pub use availability::{classify, Availability, FiwareStatus, OcpiStatus, PileSnapshot, Reason};
pub use bay::{BayTelemetry, Occupancy, ReadingChange};
pub use ids::{PileId, ReservationId, SiteId, UserId};
pub use live::{HoldChange, LiveEvent};
pub use pile::{ConnectorType, PileState};
pub use report::{Report, ReportError};
pub use reservation::{Outcome, ReservationStatus};
pub use time::Millis;

//! What the operator admin pages need from storage: the audit log, editing sites and piles,
//! the one-transaction fleet import, user administration, reservation search and the raw
//! facts analytics are computed from. Every write here records its audit entry in the same
//! transaction, so an admin action and its audit line are committed together or not at all.

pub mod analytics;
pub mod audit;
pub mod fleet;
pub mod reservations;
pub mod users;

pub use audit::{AuditEntry, AuditRecord};

//! Pages, one per route.

pub mod auth;
pub mod history;
pub mod map;
pub mod not_found;
pub mod pile;

//! Pages.

pub mod map;
pub mod not_found;

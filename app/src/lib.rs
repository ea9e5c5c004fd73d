#![recursion_limit = "512"]
//! chargebay's web UI: Leptos pages and components (server-rendered, then hydrated) and the
//! server functions they call. Server functions are thin: they call the service layer.

pub mod api;
pub mod format;
#[cfg(feature = "hydrate")]
mod live;
pub mod pages;
mod shell;

pub use shell::{shell, App};

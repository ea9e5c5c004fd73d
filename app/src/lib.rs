#![recursion_limit = "512"]
//! chargebay's web UI: Leptos pages and components (server-rendered, then hydrated) and the
//! server functions they call. Server functions are thin: they call the service layer.

#[cfg(feature = "admin")]
pub mod admin;
pub mod api;
pub mod components;
pub mod format;
pub mod i18n;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod session;
pub mod shell;

pub use shell::{shell, App};

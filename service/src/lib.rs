//! chargebay's service layer: every use case, called by the Leptos server functions, the
//! REST API and the device bridge alike. It owns the rules that span the store and the live
//! feed: write through the store, then publish what changed.

pub mod accounts;
pub mod admin;
mod error;
pub mod holds;
pub mod live;
pub mod relay;
pub mod reports;
pub mod search;
pub mod workers;

pub use error::ServiceError;
pub use live::Hub;

use domain::{Availability, PileId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use store::Store;

/// Tunables of the service layer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Flips of a bay closer together than this (ms) count towards flapping.
    pub flap_window_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flap_window_ms: 10_000,
        }
    }
}

/// The service: the store, the live feed and the settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Chargebay {
    store: Store,
    hub: Hub,
    settings: Settings,
    /// Last published availability per pile, to detect "became idle" for watchers.
    last_availability: Arc<Mutex<HashMap<PileId, Availability>>>,
}

impl Chargebay {
    /// A service over `store`.
    pub fn new(store: Store, settings: Settings) -> Self {
        Chargebay {
            store,
            hub: Hub::new(),
            settings,
            last_availability: Arc::default(),
        }
    }

    /// The store (for read-only queries the service does not wrap yet).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The live feed.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

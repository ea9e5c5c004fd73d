//! The live feed inside one process: a broadcast of pile changes and hold changes. What other
//! processes change reaches it through the relay ([`crate::relay`]).

use domain::{HoldChange, LiveEvent};
use tokio::sync::broadcast;

/// Publishes live events to every subscriber (SSE streams, CoAP observers).
#[derive(Debug, Clone)]
pub struct Hub {
    piles: broadcast::Sender<LiveEvent>,
    holds: broadcast::Sender<HoldChange>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with room for bursts of 4096 events per subscriber.
    pub fn new() -> Self {
        Hub {
            piles: broadcast::channel(4096).0,
            holds: broadcast::channel(1024).0,
        }
    }

    /// Publishes a pile change (no-op without subscribers).
    pub fn publish(&self, e: LiveEvent) {
        let _ = self.piles.send(e);
    }

    /// Publishes a hold change.
    pub fn publish_hold(&self, e: HoldChange) {
        let _ = self.holds.send(e);
    }

    /// Subscribes to pile changes.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.piles.subscribe()
    }

    /// True while someone listens to pile changes (SSE streams).
    pub fn has_pile_subscribers(&self) -> bool {
        self.piles.receiver_count() > 0
    }

    /// Subscribes to hold changes.
    pub fn subscribe_holds(&self) -> broadcast::Receiver<HoldChange> {
        self.holds.subscribe()
    }
}

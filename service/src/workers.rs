//! Background workers on the server's clock: the sweep (stale, offline, settled), the
//! hold state machine (expiry, arrival grace) and the database checkpoint. All are idempotent
//! and pick up where they left off after a restart, because their state lives in the database.

use crate::Chargebay;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Starts the workers; they run until the runtime shuts down.
pub fn spawn(service: Chargebay, every: Duration) -> JoinHandle<()> {
    let store = service.store().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            match store.checkpoint().await {
                Ok(done) => {
                    metrics::histogram!("sqlite_checkpoint_seconds")
                        .record(started.elapsed().as_secs_f64());
                    metrics::gauge!("sqlite_wal_frames").set(done.wal_frames as f64);
                }
                Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = store::now();
            if let Err(e) = service.sweep(now).await {
                tracing::warn!(error = %e, "sweep failed");
            }
            if let Err(e) = service.evaluate_holds(None).await {
                tracing::warn!(error = %e, "hold evaluation failed");
            }
        }
    })
}

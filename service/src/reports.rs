//! Recording pile reports and the time-driven sweeps, then publishing what changed.

use crate::{Chargebay, ServiceError};
use domain::{LiveEvent, Millis, PileId};
use store::{
    piles::PileView,
    reports::{Applied, IncomingReport},
};

impl Chargebay {
    /// Durably records a batch of reports (one transaction) and publishes the piles whose
    /// state changed. Returns the fate of each report, in order.
    pub async fn record_reports(
        &self,
        batch: &[IncomingReport],
    ) -> Result<Vec<Applied>, ServiceError> {
        let applied = self.apply_reports(batch).await?;
        self.publish_applied(batch, &applied).await?;
        Ok(applied)
    }

    /// Writes the derived report state the store holds back to batch its writes (heartbeat
    /// times on SQLite; the journal already has them). Idle writers and shutdown call this.
    pub async fn flush_reports(&self) -> Result<(), ServiceError> {
        Ok(self.store.flush_seen().await?)
    }

    /// Durably records a batch of reports (one transaction), publishing nothing yet: the
    /// bridge commits its next batch while [`Chargebay::publish_applied`] runs for this one.
    pub async fn apply_reports(
        &self,
        batch: &[IncomingReport],
    ) -> Result<Vec<Applied>, ServiceError> {
        Ok(self
            .store
            .apply_reports(batch, self.settings.flap_window_ms)
            .await?)
    }

    /// Publishes what a recorded batch changed (live feed, watchers) and re-evaluates the
    /// holds on the piles it changed. Batches must be published in the order they committed.
    pub async fn publish_applied(
        &self,
        batch: &[IncomingReport],
        applied: &[Applied],
    ) -> Result<(), ServiceError> {
        let mut changed: Vec<PileId> = batch
            .iter()
            .zip(applied)
            .filter(|(_, a)| matches!(a, Applied::Applied { change, revived, .. } if *revived || !change.is_heartbeat()))
            .map(|(r, _)| r.pile)
            .collect();
        changed.sort_unstable();
        changed.dedup();
        for (r, a) in batch.iter().zip(applied) {
            if matches!(a, Applied::Applied { change, revived: false, .. } if change.is_heartbeat())
            {
                self.hub.publish(LiveEvent::Heartbeat {
                    pile: r.pile,
                    at: r.received_at,
                });
            }
        }
        self.publish_piles(&changed).await?;
        self.evaluate_holds(Some(&changed)).await?;
        Ok(())
    }

    /// Applies the stale/offline/settled transitions due now, and publishes them.
    pub async fn sweep(&self, now: Millis) -> Result<usize, ServiceError> {
        let swept = self.store.sweep(now, self.settings.flap_window_ms).await?;
        let mut piles: Vec<PileId> = swept.iter().map(|s| s.pile).collect();
        piles.sort_unstable();
        piles.dedup();
        self.publish_piles(&piles).await?;
        self.evaluate_holds(Some(&piles)).await?;
        Ok(swept.len())
    }

    /// Publishes the current view of `piles` on the live feed, and alerts the drivers
    /// watching a pile that became idle.
    pub async fn publish_piles(&self, piles: &[PileId]) -> Result<(), ServiceError> {
        self.publish_views(piles, true).await
    }

    /// Publishes the current view of `piles`; `alert`: also alert the watchers of a pile that
    /// became idle (false for changes another process made: it alerted them, [`crate::relay`]).
    pub(crate) async fn publish_views(
        &self,
        piles: &[PileId],
        alert: bool,
    ) -> Result<(), ServiceError> {
        if piles.is_empty() {
            return Ok(());
        }
        let now = store::now();
        for view in self.store.piles_by_id(piles).await? {
            let event = live_event(&view, now);
            if let LiveEvent::Pile { availability, .. } = &event {
                if self.became_idle(view.id, *availability) && alert {
                    self.alert_watchers(&view, now).await?;
                }
            }
            self.hub.publish(event);
        }
        Ok(())
    }

    /// Every pile with its live view.
    pub async fn piles(&self) -> Result<Vec<PileView>, ServiceError> {
        Ok(self.store.list_piles().await?)
    }

    /// One pile.
    pub async fn pile(&self, id: PileId) -> Result<PileView, ServiceError> {
        Ok(self.store.pile(id).await?)
    }
}

impl Chargebay {
    /// Remembers the last published availability of `pile`; true on a change to idle.
    fn became_idle(&self, pile: PileId, now: domain::Availability) -> bool {
        let mut last = self
            .last_availability
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let before = last.insert(pile, now);
        now.is_idle() && before.is_some_and(|b| !b.is_idle())
    }

    /// Alerts (once) every driver watching `view`'s pile or site, ending their watch; the
    /// store records each alert, so another process serving that driver delivers it too.
    async fn alert_watchers(&self, view: &PileView, now: Millis) -> Result<(), ServiceError> {
        for user in self.store.take_watchers(view.id, view.site, now).await? {
            self.hub.publish(LiveEvent::Watched {
                user,
                pile: view.id,
                site: view.site,
            });
        }
        Ok(())
    }
}

/// The live-feed form of a pile's view at `now`.
pub fn live_event(view: &PileView, now: Millis) -> LiveEvent {
    LiveEvent::Pile {
        pile: view.id,
        site: view.site,
        availability: view.availability(now),
        occupancy: view.occupancy(now),
        reading_at: view.telemetry.last_report_at,
    }
}

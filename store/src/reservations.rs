//! Reservations: taking a hold on an idle pile and ending it. The database enforces "one hold
//! per pile" and "one hold per driver" with partial unique indexes; the idleness check and
//! the insert happen in one transaction.

use crate::{
    events::{insert_event, NewEvent},
    piles::PILE_VIEW_SELECT,
    Store, StoreError,
};
use domain::{
    Availability, Millis, Outcome, PileId, ReservationId, ReservationStatus, SiteId, UserId,
};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use std::{collections::HashSet, sync::Arc};

/// A reservation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Id.
    pub id: ReservationId,
    /// The driver.
    pub user: UserId,
    /// The held pile.
    pub pile: PileId,
    /// Held or ended.
    pub status: ReservationStatus,
    /// When it was taken.
    pub created_at: Millis,
    /// When the hold ends unless fulfilled.
    pub deadline: Millis,
    /// When it ended.
    pub ended_at: Option<Millis>,
}

/// Why a hold could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// The pile is not idle.
    #[error("pile is not idle: {0}")]
    NotIdle(&'static str),
    /// The site does not take reservations.
    #[error("this site does not take reservations")]
    NotAllowed,
    /// The driver already holds a pile.
    #[error("you already hold a pile")]
    AlreadyHolding,
    /// Storage failed (including `NotFound` for an unknown pile).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReserveError {
    fn from(e: sqlx::Error) -> Self {
        ReserveError::Store(StoreError::Database(e))
    }
}

pub(crate) fn reservation_from_row(r: &sqlx::any::AnyRow) -> Result<Reservation, StoreError> {
    Ok(Reservation {
        id: ReservationId(r.try_get("id")?),
        user: UserId(r.try_get("user_id")?),
        pile: PileId(r.try_get("pile_id")?),
        status: r
            .try_get::<String, _>("status")?
            .parse()
            .map_err(|e: domain::pile::UnknownValue| StoreError::Corrupt(e.to_string()))?,
        created_at: Millis(r.try_get("created_at")?),
        deadline: Millis(r.try_get("deadline")?),
        ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(Millis),
    })
}

pub(crate) const RESERVATION_COLUMNS: &str =
    "id, user_id, pile_id, status, created_at, deadline, ended_at";

impl Store {
    /// Takes a hold on `pile` for `user` at `now`, if the pile is idle.
    ///
    /// Attempts that arrive together are group-committed: one caller at a time becomes the
    /// leader, takes every queued attempt and runs them in one write transaction (a savepoint
    /// each), so a rush of drivers costs one commit instead of one per driver, and the losers
    /// of a pile already taken in the batch are refused without touching the database. The
    /// idleness check and the insert stay in the same transaction, and the partial unique
    /// indexes stay the last word (also across server instances on PostgreSQL).
    pub async fn reserve(
        &self,
        user: UserId,
        pile: PileId,
        now: Millis,
    ) -> Result<(Reservation, SiteId), ReserveError> {
        let (answer, mut rx) = tokio::sync::oneshot::channel();
        self.reserve_queue.push(Attempt {
            user,
            pile,
            now,
            answer,
        });
        let leader = self.reserve_queue.leader.clone().lock_owned().await;
        match rx.try_recv() {
            Ok(result) => return result,
            Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                return Err(StoreError::Config("reservation batch was abandoned".into()).into())
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
        }
        let batch = self.reserve_queue.take();
        if !batch.is_empty() {
            // Run the batch in its own task, holding the leadership, so that a caller that
            // goes away (a closed HTTP connection) cannot abort it half-way for the others.
            let store = self.clone();
            tokio::spawn(async move {
                let _leader = leader;
                store.reserve_batch(batch).await;
            });
        } else {
            drop(leader);
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Config("reservation batch was abandoned".into()).into())
        })
    }

    /// Runs `batch` in one transaction; if the transaction as a whole fails (its commit, a
    /// lost connection), every attempt is retried in a transaction of its own.
    async fn reserve_batch(&self, batch: Vec<Attempt>) {
        match self.try_reserve_batch(&batch).await {
            Ok(results) => {
                for (attempt, result) in batch.into_iter().zip(results) {
                    let _ = attempt.answer.send(result);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "reservation batch failed; retrying one by one");
                for a in batch {
                    let result = self.reserve_alone(a.user, a.pile, a.now).await;
                    let _ = a.answer.send(result);
                }
            }
        }
    }

    async fn try_reserve_batch(
        &self,
        batch: &[Attempt],
    ) -> Result<Vec<Result<(Reservation, SiteId), ReserveError>>, StoreError> {
        use sqlx::Acquire;
        let mut results = Vec::with_capacity(batch.len());
        let mut tx = self.begin_write().await?;
        // What this batch already decided, so that later attempts on the same pile or by the
        // same driver are answered as the database would answer them, without asking it.
        // One read of the holds that touch the batch's piles and drivers (authoritative on
        // SQLite, where the write lock is held; on PostgreSQL the unique indexes stay the
        // guard against another instance) turns the rush's losers away without a probe each.
        let mut taken: HashSet<PileId> = HashSet::new();
        let mut holding: HashSet<UserId> = HashSet::new();
        for chunk in batch.chunks(400) {
            let piles = crate::join_ids(chunk.iter().map(|a| a.pile.0));
            let users = crate::join_ids(chunk.iter().map(|a| a.user.0));
            let held: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT pile_id, user_id FROM reservations WHERE status = 'held' \
                 AND (pile_id IN ({piles}) OR user_id IN ({users}))"
            ))
            .fetch_all(&mut *tx)
            .await?;
            for (pile, user) in held {
                taken.insert(PileId(pile));
                holding.insert(UserId(user));
            }
        }
        for a in batch {
            if holding.contains(&a.user) {
                results.push(Err(ReserveError::AlreadyHolding));
                continue;
            }
            if taken.contains(&a.pile) {
                results.push(Err(ReserveError::NotIdle("reserved")));
                continue;
            }
            let mut attempt = tx.begin().await?;
            match reserve_in(&mut attempt, self.origin, a.user, a.pile, a.now).await {
                Ok(won) => {
                    attempt.commit().await?;
                    taken.insert(a.pile);
                    holding.insert(a.user);
                    results.push(Ok(won));
                }
                Err(refused) => {
                    attempt.rollback().await?;
                    results.push(Err(refused));
                }
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    /// One attempt in a transaction of its own.
    async fn reserve_alone(
        &self,
        user: UserId,
        pile: PileId,
        now: Millis,
    ) -> Result<(Reservation, SiteId), ReserveError> {
        let mut tx = self.begin_write().await?;
        let won = reserve_in(&mut tx, self.origin, user, pile, now).await?;
        tx.commit().await?;
        Ok(won)
    }

    /// Ends `user`'s hold `id` with `outcome`. `NotFound` when it is not theirs or not held.
    pub async fn end_hold(
        &self,
        id: ReservationId,
        user: Option<UserId>,
        outcome: Outcome,
        cause: &str,
        now: Millis,
    ) -> Result<Reservation, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE reservations SET status = $1, ended_at = $2, end_cause = $3 \
             WHERE id = $4 AND status = 'held' AND ($5 IS NULL OR user_id = $5) \
             RETURNING {RESERVATION_COLUMNS}"
        ))
        .bind(ReservationStatus::Ended(outcome).as_str())
        .bind(now.0)
        .bind(cause)
        .bind(id.0)
        .bind(user.map(|u| u.0))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("reservation"))?;
        let res = reservation_from_row(&row)?;
        insert_event(
            &mut tx,
            self.origin,
            &NewEvent {
                at: now,
                kind: "reservation_ended",
                pile: Some(res.pile),
                reservation: Some(res.id),
                user: Some(res.user),
                cause: cause.to_owned(),
                data: serde_json::json!({ "outcome": outcome }),
                ..NewEvent::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(res)
    }

    /// The active hold on `pile`, if any.
    pub async fn hold_on_pile(&self, pile: PileId) -> Result<Option<Reservation>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE pile_id = $1 AND status = 'held'"
        ))
        .bind(pile.0)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(reservation_from_row).transpose()
    }

    /// One reservation of `user` (`NotFound` if it is someone else's).
    pub async fn reservation_of(
        &self,
        user: UserId,
        id: ReservationId,
    ) -> Result<Reservation, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1 AND user_id = $2"
        ))
        .bind(id.0)
        .bind(user.0)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("reservation"))?;
        reservation_from_row(&row)
    }

    /// Holds whose deadline passed by `now`.
    pub async fn holds_due(&self, now: Millis) -> Result<Vec<Reservation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE status = 'held' AND deadline <= $1"
        ))
        .bind(now.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(reservation_from_row).collect()
    }
}

/// The attempt's checks and writes, inside `tx`: the pile must exist and be idle, its site
/// must take reservations, and neither the pile nor the driver may hold already.
async fn reserve_in(
    tx: &mut Transaction<'_, Any>,
    origin: crate::events::Origin,
    user: UserId,
    pile: PileId,
    now: Millis,
) -> Result<(Reservation, SiteId), ReserveError> {
    let holders: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT pile_id, user_id FROM reservations WHERE status = 'held' AND (pile_id = $1 OR user_id = $2) LIMIT 2",
    )
    .bind(pile.0)
    .bind(user.0)
    .fetch_all(&mut **tx)
    .await?;
    if holders.iter().any(|(_, u)| *u == user.0) {
        return Err(ReserveError::AlreadyHolding);
    }
    if !holders.is_empty() {
        return Err(ReserveError::NotIdle("reserved"));
    }
    let row = sqlx::query(&format!("{PILE_VIEW_SELECT} WHERE p.id = $1"))
        .bind(pile.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("pile"))?;
    let view = crate::piles::pile_from_row(&row)?;
    let (hold_secs, allowed): (i64, i64) =
        sqlx::query_as("SELECT hold_secs, reservations_allowed FROM sites WHERE id = $1")
            .bind(view.site.0)
            .fetch_one(&mut **tx)
            .await?;
    if allowed == 0 {
        return Err(ReserveError::NotAllowed);
    }
    if let Availability::Busy(reason) = view.availability(now) {
        return Err(ReserveError::NotIdle(reason.as_str()));
    }
    let inserted = sqlx::query(&format!(
        "INSERT INTO reservations (user_id, pile_id, status, created_at, deadline) \
         VALUES ($1, $2, 'held', $3, $4) RETURNING {RESERVATION_COLUMNS}"
    ))
    .bind(user.0)
    .bind(pile.0)
    .bind(now.0)
    .bind(now.plus_secs(hold_secs).0)
    .fetch_one(&mut **tx)
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            let msg = db.message().to_owned();
            return Err(if msg.contains("user") {
                ReserveError::AlreadyHolding
            } else {
                ReserveError::NotIdle("reserved")
            });
        }
        Err(e) => return Err(e.into()),
    };
    let res = reservation_from_row(&row)?;
    insert_event(
        tx,
        origin,
        &NewEvent {
            at: now,
            kind: "reservation_held",
            site: Some(view.site),
            pile: Some(pile),
            reservation: Some(res.id),
            user: Some(user),
            cause: format!("user:{}", user.0),
            data: serde_json::json!({ "deadline": res.deadline }),
        },
    )
    .await?;
    Ok((res, view.site))
}

/// One queued reservation attempt and where its answer goes.
struct Attempt {
    user: UserId,
    pile: PileId,
    now: Millis,
    answer: tokio::sync::oneshot::Sender<Result<(Reservation, SiteId), ReserveError>>,
}

/// Reservation attempts waiting for the next batch, and the leadership of that batch.
#[derive(Default)]
pub(crate) struct ReserveQueue {
    waiting: std::sync::Mutex<Vec<Attempt>>,
    leader: Arc<tokio::sync::Mutex<()>>,
}

impl ReserveQueue {
    fn push(&self, a: Attempt) {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(a);
    }

    fn take(&self) -> Vec<Attempt> {
        std::mem::take(
            &mut *self
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl std::fmt::Debug for ReserveQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReserveQueue").finish_non_exhaustive()
    }
}

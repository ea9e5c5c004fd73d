//! Bulk provisioning of a fleet of piles with device credentials in one transaction (for the
//! load generator and capacity tests), and the per-pile report tallies that check such a run
//! lost and duplicated nothing.

use crate::{credentials::KeyHash, events::NewEvent, now, Store, StoreError};
use domain::{Millis, PileId};
use rand::RngCore;
use sqlx::Row;
use std::collections::HashMap;

/// Rows per multi-row `INSERT` (7 parameters per pile: far below both engines' limits).
const CHUNK: usize = 1000;

/// What was provisioned: the site and every pile with its secret key (shown only here).
#[derive(Clone)]
pub struct ProvisionedFleet {
    /// The site the piles stand at.
    pub site: domain::SiteId,
    /// Each pile with its secret key, in pile code order.
    pub piles: Vec<(PileId, String)>,
}

impl std::fmt::Debug for ProvisionedFleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisionedFleet")
            .field("site", &self.site)
            .field("piles", &self.piles.len())
            .finish()
    }
}

/// The `report` events of one pile with a sequence number of at least some base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportTally {
    /// The pile.
    pub pile: PileId,
    /// Report events recorded.
    pub count: i64,
    /// Distinct sequence numbers among them (equal to `count` unless a report was recorded twice).
    pub distinct: i64,
    /// Sum of `seq - base` over them.
    pub sum: i64,
    /// Largest sequence number.
    pub max_seq: i64,
}

impl Store {
    /// Creates a site named `site_name` with `count` piles (codes `<code_prefix>-<n>`), their
    /// bays and an active credential each, in one transaction. Returns the secrets, which are
    /// stored only as hashes, exactly as [`Store::issue_credential`] stores them.
    pub async fn provision_fleet(
        &self,
        site_name: &str,
        code_prefix: &str,
        count: usize,
        heartbeat_secs: i64,
    ) -> Result<ProvisionedFleet, StoreError> {
        let at = now().0;
        let mut tx = self.begin_write().await?;
        let site: i64 = sqlx::query_scalar(
            "INSERT INTO sites (name, address, lat, lon, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(site_name)
        .bind("load test")
        .bind(22.54_f64)
        .bind(114.06_f64)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;

        let codes: Vec<String> = (1..=count).map(|n| format!("{code_prefix}-{n}")).collect();
        for chunk in codes.chunks(CHUNK) {
            let sql = crate::multi_row_insert(
                self.backend,
                "INSERT INTO piles (site_id, code, connector, max_kw, price_text, heartbeat_secs, \
                 created_at) VALUES ",
                7,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for code in chunk {
                q = q
                    .bind(site)
                    .bind(code.as_str())
                    .bind(domain::ConnectorType::Ccs2.as_str())
                    .bind(60.0_f64)
                    .bind("")
                    .bind(heartbeat_secs)
                    .bind(at);
            }
            q.execute(&mut *tx)
                .await
                .map_err(|e| StoreError::from_write(e, "a pile code of this fleet is taken"))?;
        }
        sqlx::query(
            "INSERT INTO bays (pile_id, sensor) SELECT id, 'magnetometer' FROM piles WHERE site_id = $1",
        )
        .bind(site)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO bay_seen (pile_id) SELECT id FROM piles WHERE site_id = $1")
            .bind(site)
            .execute(&mut *tx)
            .await?;

        let ids: HashMap<String, i64> =
            sqlx::query("SELECT id, code FROM piles WHERE site_id = $1")
                .bind(site)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("code")?, r.try_get("id")?)))
                .collect::<Result<_, sqlx::Error>>()?;

        let mut piles = Vec::with_capacity(count);
        let mut rng = rand::rngs::OsRng;
        for code in &codes {
            let id = *ids
                .get(code)
                .ok_or_else(|| StoreError::Corrupt(format!("pile {code} vanished")))?;
            let mut bytes = [0u8; 16];
            rng.fill_bytes(&mut bytes);
            piles.push((PileId(id), hex::encode(bytes)));
        }
        for chunk in piles.chunks(CHUNK) {
            let sql = crate::multi_row_insert(
                self.backend,
                "INSERT INTO device_credentials (pile_id, key_hash, fingerprint, issued_at, \
                 changed_at) VALUES ",
                5,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for (pile, secret) in chunk {
                let hash = KeyHash::of(secret);
                q = q
                    .bind(pile.0)
                    .bind(hex::encode(hash.0))
                    .bind(hex::encode(&hash.0[..4]))
                    .bind(at)
                    .bind(at);
            }
            q.execute(&mut *tx).await?;
        }
        crate::events::insert_event(
            &mut tx,
            self.origin,
            &NewEvent {
                at: Millis(at),
                kind: "fleet_provisioned",
                site: Some(domain::SiteId(site)),
                cause: "admin".into(),
                data: serde_json::json!({ "piles": count, "credentials": count }),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ProvisionedFleet {
            site: domain::SiteId(site),
            piles,
        })
    }

    /// Per pile, the journal's reports whose sequence number is at least `base`.
    pub async fn report_tallies_since(&self, base: i64) -> Result<Vec<ReportTally>, StoreError> {
        let rows = sqlx::query(
            "SELECT pile_id, COUNT(*) AS n, COUNT(DISTINCT seq) AS d, \
             CAST(SUM(seq - $1) AS BIGINT) AS s, MAX(seq) AS m \
             FROM report_log WHERE seq >= $1 GROUP BY pile_id",
        )
        .bind(base)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportTally {
                    pile: PileId(r.try_get("pile_id")?),
                    count: r.try_get("n")?,
                    distinct: r.try_get("d")?,
                    sum: r.try_get("s")?,
                    max_seq: r.try_get("m")?,
                })
            })
            .collect()
    }

    /// The sequence numbers of `pile`'s journal entries that are at least `base`, in order
    /// (a walk down the pile's chain, which falls in sequence number).
    pub async fn report_seqs_since(&self, pile: PileId, base: i64) -> Result<Vec<i64>, StoreError> {
        let mut seqs = Vec::new();
        self.walk_chain(pile, |entry| {
            if entry.seq < base {
                return false;
            }
            seqs.push(entry.seq);
            true
        })
        .await?;
        seqs.reverse();
        Ok(seqs)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(feature = "testing")]
    async fn fleet_is_provisioned_and_tallied(store: Store) {
        use crate::reports::IncomingReport;
        use domain::{report::BayReading, PileState, Report};
        // More than one chunk, to cover the chunking.
        let fleet = store
            .provision_fleet("Bench", "B", CHUNK + 5, 60)
            .await
            .unwrap();
        assert_eq!(fleet.piles.len(), CHUNK + 5);
        let hashes: HashMap<PileId, KeyHash> = store
            .active_key_hashes()
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(hashes.len(), CHUNK + 5);
        for (pile, secret) in &fleet.piles {
            assert!(hashes[pile].verifies(secret));
        }
        assert!(store
            .provision_fleet("Bench again", "B", 1, 60)
            .await
            .is_err());

        let (a, b) = (fleet.piles[0].0, fleet.piles[1].0);
        let report = |pile, seq| IncomingReport {
            pile,
            report: Report {
                seq,
                bay: BayReading::Free,
                pile: PileState::Available,
                battery: None,
                quality: None,
            },
            received_at: now(),
            from: "127.0.0.1:1".into(),
        };
        let batch = [
            report(a, 5),
            report(a, 100),
            report(a, 101),
            report(b, 102),
            report(a, 101),
        ];
        store.apply_reports(&batch, 10_000).await.unwrap();
        let mut t = store.report_tallies_since(100).await.unwrap();
        t.sort_by_key(|t| t.pile);
        assert_eq!(
            t,
            vec![
                ReportTally {
                    pile: a,
                    count: 2,
                    distinct: 2,
                    sum: 1,
                    max_seq: 101
                },
                ReportTally {
                    pile: b,
                    count: 1,
                    distinct: 1,
                    sum: 2,
                    max_seq: 102
                },
            ]
        );
        assert_eq!(
            store.report_seqs_since(a, 0).await.unwrap(),
            vec![5, 100, 101]
        );
    }

    #[cfg(feature = "testing")]
    crate::backend_tests! {
        fleet => fleet_is_provisioned_and_tallied;
    }
}

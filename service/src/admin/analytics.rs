//! History and analytics per site or per pile over a time range: utilisation (share of time
//! charging), blocked minutes (bay occupied by a fresh reading without a charging session),
//! sensor uptime (share of time the bay reading was fresh), reservations by outcome.
//!
//! Each pile's state is reconstructed from its event log (state and bay changes, report
//! times, and what they were just before the range) and integrated by sampling at
//! [`SAMPLES`] evenly spaced instants per pile, so the cost does not depend on the range.

use crate::{Chargebay, ServiceError};
use domain::{availability::offline_secs, Millis, PileId, SiteId};
use store::admin::analytics::PileHistory;

/// Samples per pile over the whole range.
pub const SAMPLES: i64 = 2_880;
/// Longest range (31 days).
pub const MAX_RANGE_MS: i64 = 31 * 24 * 3600 * 1000;

/// Totals of one pile (or of a bucket of time) in milliseconds of pile time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Pile time observed.
    pub total_ms: f64,
    /// Of which charging.
    pub charging_ms: f64,
    /// Of which blocked.
    pub blocked_ms: f64,
    /// Of which the bay reading was fresh.
    pub fresh_ms: f64,
}

impl Totals {
    /// Share of time charging, 0–1.
    pub fn utilisation(&self) -> f64 {
        ratio(self.charging_ms, self.total_ms)
    }

    /// Share of time the sensor was fresh, 0–1.
    pub fn uptime(&self) -> f64 {
        ratio(self.fresh_ms, self.total_ms)
    }

    /// Blocked minutes.
    pub fn blocked_minutes(&self) -> f64 {
        self.blocked_ms / 60_000.0
    }

    fn add(&mut self, o: &Totals) {
        self.total_ms += o.total_ms;
        self.charging_ms += o.charging_ms;
        self.blocked_ms += o.blocked_ms;
        self.fresh_ms += o.fresh_ms;
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// One pile's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct PileFigures {
    /// The pile.
    pub pile: PileId,
    /// Its code.
    pub code: String,
    /// Its totals.
    pub totals: Totals,
}

/// One time bucket of the chart, all piles of the scope together.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Start.
    pub from: Millis,
    /// End.
    pub to: Millis,
    /// Totals in the bucket.
    pub totals: Totals,
}

/// The analytics of a scope over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Analytics {
    /// Range start.
    pub from: Millis,
    /// Range end.
    pub to: Millis,
    /// Everything together.
    pub totals: Totals,
    /// Per pile.
    pub piles: Vec<PileFigures>,
    /// Per time bucket.
    pub buckets: Vec<Bucket>,
    /// Reservations taken in the range, by status.
    pub outcomes: Vec<(String, i64)>,
}

/// What a pile was doing at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sample {
    charging: bool,
    blocked: bool,
    fresh: bool,
}

/// Replays `h` and samples it `SAMPLES` times over `[from, to)`; calls `f(at, step, sample)`.
fn replay(
    h: &PileHistory,
    from: Millis,
    to: Millis,
    freshness_secs: i64,
    heartbeat_secs: i64,
    mut f: impl FnMut(i64, f64, Sample),
) {
    let span = (to.0 - from.0).max(1);
    let step = span as f64 / SAMPLES as f64;
    let offline_ms = offline_secs(heartbeat_secs).max(freshness_secs) * 1000;
    let (mut si, mut bi, mut ri) = (0, 0, 0);
    let mut state = h.state_before.clone();
    let mut bay = h.bay_before.clone();
    let mut last_report = h.report_before;
    for k in 0..SAMPLES {
        let at = from.0 + (k as f64 * step) as i64;
        while si < h.states.len() && h.states[si].0 .0 <= at {
            state = Some(h.states[si].1.clone());
            si += 1;
        }
        while bi < h.bays.len() && h.bays[bi].0 .0 <= at {
            bay = Some(h.bays[bi].1.clone());
            bi += 1;
        }
        while ri < h.reports.len() && h.reports[ri].0 <= at {
            last_report = Some(h.reports[ri]);
            ri += 1;
        }
        let age = last_report.map(|r| at - r.0);
        let fresh = age.is_some_and(|a| a <= freshness_secs * 1000);
        let online = age.is_some_and(|a| a <= offline_ms);
        let charging = online && state.as_deref() == Some("charging");
        let blocked = fresh && !charging && bay.as_deref() == Some("occupied");
        f(
            at,
            step,
            Sample {
                charging,
                blocked,
                fresh,
            },
        );
    }
}

impl Chargebay {
    /// Analytics of one pile (`pile`), or of every pile at `site`, over `[from, to)` in
    /// `buckets` chart buckets.
    pub async fn analytics(
        &self,
        site: Option<SiteId>,
        pile: Option<PileId>,
        from: Millis,
        to: Millis,
        buckets: usize,
    ) -> Result<Analytics, ServiceError> {
        if to.0 <= from.0 {
            return Err(ServiceError::Invalid(
                "the range must end after it starts".into(),
            ));
        }
        if to.0 - from.0 > MAX_RANGE_MS {
            return Err(ServiceError::Invalid("the range is at most 31 days".into()));
        }
        let piles = match (pile, site) {
            (Some(p), _) => vec![self.store.pile(p).await?],
            (None, Some(s)) => {
                self.store.site(s).await?;
                self.store.piles_at_site(s).await?
            }
            (None, None) => return Err(ServiceError::Invalid("choose a site or a pile".into())),
        };
        let buckets = buckets.clamp(1, 96);
        let width = (to.0 - from.0) as f64 / buckets as f64;
        let mut out = Analytics {
            from,
            to,
            totals: Totals::default(),
            piles: Vec::new(),
            buckets: (0..buckets)
                .map(|i| Bucket {
                    from: Millis(from.0 + (i as f64 * width) as i64),
                    to: Millis(from.0 + ((i + 1) as f64 * width) as i64),
                    totals: Totals::default(),
                })
                .collect(),
            outcomes: self
                .store
                .reservation_outcomes(site, pile, from, to)
                .await?,
        };
        let now = store::now();
        for p in &piles {
            let h = self.store.pile_history(p.id, from, to).await?;
            let mut totals = Totals::default();
            replay(
                &h,
                from,
                to,
                p.freshness_secs,
                p.heartbeat_secs,
                |at, step, s| {
                    if at > now.0 {
                        return;
                    }
                    let t = Totals {
                        total_ms: step,
                        charging_ms: if s.charging { step } else { 0.0 },
                        blocked_ms: if s.blocked { step } else { 0.0 },
                        fresh_ms: if s.fresh { step } else { 0.0 },
                    };
                    totals.add(&t);
                    let b = (((at - from.0) as f64 / width) as usize).min(buckets - 1);
                    out.buckets[b].totals.add(&t);
                },
            );
            out.totals.add(&totals);
            out.piles.push(PileFigures {
                pile: p.id,
                code: p.code.clone(),
                totals,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_integrates_charging_blocked_and_freshness() {
        // One hour; reports every 10 s for the first half only; charging in the first
        // quarter, bay occupied without charging in the second quarter.
        let from = Millis(0);
        let to = Millis(3_600_000);
        let h = PileHistory {
            pile: PileId(1),
            state_before: Some("charging".into()),
            bay_before: Some("occupied".into()),
            report_before: Some(Millis(-5_000)),
            states: vec![(Millis(900_000), "available".into())],
            bays: vec![],
            reports: (0..180).map(|i| Millis(i * 10_000)).collect(),
        };
        let mut t = Totals::default();
        replay(&h, from, to, 60, 60, |_, step, s| {
            t.add(&Totals {
                total_ms: step,
                charging_ms: if s.charging { step } else { 0.0 },
                blocked_ms: if s.blocked { step } else { 0.0 },
                fresh_ms: if s.fresh { step } else { 0.0 },
            })
        });
        assert!((t.utilisation() - 0.25).abs() < 0.01, "{}", t.utilisation());
        // Blocked from 15 min until the reading went stale (30 min + 60 s).
        assert!(
            (t.blocked_minutes() - 16.0).abs() < 0.2,
            "{}",
            t.blocked_minutes()
        );
        assert!(
            (t.uptime() - (1860.0 / 3600.0)).abs() < 0.01,
            "{}",
            t.uptime()
        );
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of unix ms.
fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    )
}

impl Analytics {
    /// The figures as CSV: one row per time bucket (`bucket`), per pile (`pile`), the
    /// total (`total`), and reservations by outcome (`reservations`, with `count`). Times
    /// are UTC (RFC 3339); shares are 0–1.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut rows: Vec<[String; 8]> = vec![[
            "kind",
            "name",
            "from",
            "to",
            "utilisation",
            "blocked_minutes",
            "sensor_uptime",
            "count",
        ]
        .map(str::to_owned)];
        let figures = |kind: &str, name: &str, from: Millis, to: Millis, t: &Totals| {
            [
                kind.to_owned(),
                name.to_owned(),
                rfc3339(from.0),
                rfc3339(to.0),
                format!("{:.4}", t.utilisation()),
                format!("{:.1}", t.blocked_minutes()),
                format!("{:.4}", t.uptime()),
                String::new(),
            ]
        };
        for b in &self.buckets {
            rows.push(figures("bucket", "", b.from, b.to, &b.totals));
        }
        for p in &self.piles {
            rows.push(figures("pile", &p.code, self.from, self.to, &p.totals));
        }
        rows.push(figures("total", "", self.from, self.to, &self.totals));
        for (status, n) in &self.outcomes {
            rows.push([
                "reservations".into(),
                status.clone(),
                rfc3339(self.from.0),
                rfc3339(self.to.0),
                String::new(),
                String::new(),
                String::new(),
                n.to_string(),
            ]);
        }
        for r in rows {
            // Writing to a Vec cannot fail.
            let _ = w.write_record(&r);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn csv_has_a_header_and_every_section() {
        let t = Totals {
            total_ms: 100.0,
            charging_ms: 25.0,
            blocked_ms: 60_000.0,
            fresh_ms: 100.0,
        };
        let a = Analytics {
            from: Millis(0),
            to: Millis(3_600_000),
            totals: t,
            piles: vec![PileFigures {
                pile: PileId(1),
                code: "A,1".into(),
                totals: t,
            }],
            buckets: vec![Bucket {
                from: Millis(0),
                to: Millis(3_600_000),
                totals: t,
            }],
            outcomes: vec![("fulfilled".into(), 3)],
        };
        let csv = a.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "kind,name,from,to,utilisation,blocked_minutes,sensor_uptime,count"
        );
        assert_eq!(
            lines[1],
            "bucket,,1970-01-01T00:00:00Z,1970-01-01T01:00:00Z,0.2500,1.0,1.0000,"
        );
        assert!(lines[2].starts_with("pile,\"A,1\","));
        assert!(lines[3].starts_with("total,"));
        assert!(lines[4].starts_with("reservations,fulfilled,") && lines[4].ends_with(",3"));
    }
}

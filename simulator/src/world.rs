//! The simulated life of a pile's bay: electric cars arrive and charge, petrol cars block the
//! bay, drivers park without plugging in, sensors go silent and piles fault now and then.
//! Deterministic per pile for a given seed; every change is reported at once, and a
//! heartbeat goes out when nothing changed for a heartbeat interval.

use crate::client::PileClient;
use domain::{report::BayReading, PileId, PileState, Report};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::{net::SocketAddr, time::Duration};

/// A pile to simulate: its id, key and heartbeat interval.
#[derive(Debug, Clone)]
pub struct SimPile {
    /// Pile id.
    pub id: PileId,
    /// Device key.
    pub key: String,
    /// Heartbeat interval.
    pub heartbeat: Duration,
}

/// Knobs of the simulated world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// The bridge's UDP address.
    pub target: SocketAddr,
    /// Seed of every pile's random generator (same seed, same story).
    pub seed: u64,
    /// Time acceleration: 2.0 makes every dwell time half as long.
    pub speed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scene {
    Empty,
    Charging,
    ParkedNotPlugged,
    Petrol,
    Faulted,
    Silent,
}

impl Scene {
    fn reading(self) -> (BayReading, PileState) {
        match self {
            Scene::Empty | Scene::Silent => (BayReading::Free, PileState::Available),
            Scene::Charging => (BayReading::Occupied, PileState::Charging),
            Scene::ParkedNotPlugged | Scene::Petrol => (BayReading::Occupied, PileState::Available),
            Scene::Faulted => (BayReading::Free, PileState::Faulted),
        }
    }

    /// Mean dwell time in seconds at speed 1.
    fn mean_secs(self) -> f64 {
        match self {
            Scene::Empty => 120.0,
            Scene::Charging => 300.0,
            Scene::ParkedNotPlugged => 90.0,
            Scene::Petrol => 240.0,
            Scene::Faulted => 300.0,
            Scene::Silent => 240.0,
        }
    }

    fn next(self, rng: &mut StdRng) -> Scene {
        let x: f64 = rng.gen();
        match self {
            Scene::Empty => match x {
                x if x < 0.70 => Scene::Charging,
                x if x < 0.82 => Scene::Petrol,
                x if x < 0.92 => Scene::ParkedNotPlugged,
                x if x < 0.96 => Scene::Silent,
                _ => Scene::Faulted,
            },
            Scene::ParkedNotPlugged if x < 0.6 => Scene::Charging,
            _ => Scene::Empty,
        }
    }
}

/// A sequence number that survives restarts without storage: milliseconds of wall-clock
/// time, bumped if the clock did not move (see docs/device-protocol.md).
fn next_seq(last: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    now.max(last + 1)
}

/// Runs one pile forever: reports every change and a heartbeat when idle.
pub async fn run_pile(pile: SimPile, world: WorldConfig) {
    let mut rng =
        StdRng::seed_from_u64(world.seed ^ (pile.id.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut client = match PileClient::connect(world.target, pile.id, pile.key.clone()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(pile = pile.id.0, error = %e, "simulator could not open a socket");
            return;
        }
    };
    // Start in a plausible scene, staggered over the first two seconds.
    let mut scene = match rng.gen_range(0..10) {
        0..=4 => Scene::Empty,
        5..=7 => Scene::Charging,
        _ => Scene::Petrol,
    };
    tokio::time::sleep(Duration::from_millis(rng.gen_range(0..2000))).await;
    let mut seq = 0;
    let mut battery: i64 = rng.gen_range(40..=100);
    loop {
        let dwell = Duration::from_secs_f64(
            (-scene.mean_secs() * (1.0 - rng.gen::<f64>()).ln() / world.speed.max(0.01))
                .clamp(5.0, 3600.0),
        );
        let until = tokio::time::Instant::now() + dwell;
        if scene == Scene::Silent {
            tokio::time::sleep_until(until).await;
        } else {
            loop {
                let (bay, state) = scene.reading();
                seq = next_seq(seq);
                if rng.gen_ratio(1, 50) {
                    battery = (battery - 1).max(5);
                }
                let report = Report {
                    seq,
                    bay,
                    pile: state,
                    battery: u8::try_from(battery).ok(),
                    quality: Some(rng.gen_range(85..=100)),
                };
                if let Err(e) = client.send(&report).await {
                    tracing::debug!(pile = pile.id.0, error = %e, "report not acknowledged");
                }
                let next_beat = tokio::time::Instant::now() + pile.heartbeat;
                if next_beat >= until {
                    tokio::time::sleep_until(until).await;
                    break;
                }
                tokio::time::sleep_until(next_beat).await;
            }
        }
        scene = scene.next(&mut rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_are_deterministic_per_seed() {
        let walk = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut s = Scene::Empty;
            (0..50)
                .map(|_| {
                    s = s.next(&mut rng);
                    s
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(walk(7), walk(7));
        let w = walk(7);
        assert!(w.contains(&Scene::Charging));
        assert!(w.contains(&Scene::Empty));
    }

    #[test]
    fn seq_always_increases() {
        let a = next_seq(0);
        let b = next_seq(a);
        let c = next_seq(i64::MAX / 2);
        assert!(b > a);
        assert_eq!(c, i64::MAX / 2 + 1);
    }
}

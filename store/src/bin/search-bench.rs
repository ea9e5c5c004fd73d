//! Benchmarks of pile search and reservation contention, on SQLite and PostgreSQL.
//!
//! ```text
//! cargo run --release -p store --bin search-bench -- [--piles N] [--iters N]
//!     [--backend sqlite|postgres|both] [--contenders N] [--contended-piles N] [--explain]
//!     [--keep] [--repeat K]
//! ```
//!
//! Seeds a fresh database per backend (one transaction of multi-row INSERTs), then times, in
//! the same run: baselines (`SELECT 1` round trip, a primary-key pile lookup), city-viewport
//! searches (idle only on and off), a 5 km radius search, `nearest_idle`, and N concurrent
//! `reserve` attempts over a few idle piles. Prints figures; asserts nothing about time.
//! PostgreSQL is `CHARGEBAY_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`).

use domain::{
    geo::LatLon,
    search::{Area, SearchQuery},
    ConnectorType, Millis, PileId, UserId,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sqlx::{any::AnyPoolOptions, AnyPool, Connection, Executor};
use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};
use store::{reservations::ReserveError, Store};

/// City centres the fleet clusters around (Pearl River Delta and neighbours).
const CITIES: [(f64, f64); 10] = [
    (22.543, 114.058), // Shenzhen
    (23.129, 113.264), // Guangzhou
    (22.271, 113.577), // Zhuhai
    (23.021, 113.752), // Dongguan
    (23.035, 113.124), // Foshan
    (22.517, 113.392), // Zhongshan
    (23.111, 114.416), // Huizhou
    (22.579, 113.081), // Jiangmen
    (23.906, 113.537), // Qingyuan (rough)
    (22.319, 114.169), // Hong Kong
];
/// Sites per city cluster are spread with this standard deviation (degrees, ~13 km).
const CITY_SIGMA_DEG: f64 = 0.12;
/// The region uniformly sprinkled with the rest.
const REGION: (f64, f64, f64, f64) = (21.5, 111.5, 24.5, 116.5);
const PILES_PER_SITE: i64 = 10;
/// A city viewport: about 16.7 km × 18.5 km.
const VIEW_DLAT: f64 = 0.075;
const VIEW_DLON: f64 = 0.09;

struct Opts {
    piles: i64,
    iters: usize,
    backends: Vec<&'static str>,
    contenders: i64,
    contended_piles: usize,
    explain: bool,
    keep: bool,
    repeat: usize,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        piles: 100_000,
        iters: 1000,
        backends: vec!["sqlite", "postgres"],
        contenders: 1000,
        contended_piles: 50,
        explain: false,
        keep: false,
        repeat: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--piles" => o.piles = val()?.parse().map_err(|e| format!("--piles: {e}"))?,
            "--iters" => o.iters = val()?.parse().map_err(|e| format!("--iters: {e}"))?,
            "--contenders" => {
                o.contenders = val()?.parse().map_err(|e| format!("--contenders: {e}"))?
            }
            "--contended-piles" => {
                o.contended_piles = val()?
                    .parse()
                    .map_err(|e| format!("--contended-piles: {e}"))?
            }
            "--backend" => {
                o.backends = match val()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "both" => vec!["sqlite", "postgres"],
                    other => return Err(format!("unknown backend {other}")),
                }
            }
            "--explain" => o.explain = true,
            "--keep" => o.keep = true,
            "--repeat" => {
                o.repeat = val()?
                    .parse::<usize>()
                    .map_err(|e| format!("--repeat: {e}"))?
                    .max(1)
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("search-bench: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "search-bench: {} piles, {} iterations per figure, {} contenders over {} piles; {} CPUs",
        o.piles,
        o.iters,
        o.contenders,
        o.contended_piles,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for b in &o.backends {
        if let Err(e) = run_backend(b, &o).await {
            eprintln!("search-bench: {b}: {e}");
            std::process::exit(1);
        }
    }
}

/// A database that exists for one run.
struct Db {
    url: String,
    cleanup: Box<dyn FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>>,
}

async fn fresh_db(backend: &str) -> Result<Db, String> {
    let tag = format!("cbbench_{}", std::process::id());
    if backend == "sqlite" {
        let dir = std::env::temp_dir().join(&tag);
        let url = format!("sqlite:{}/bench.db", dir.display());
        Ok(Db {
            url,
            cleanup: Box::new(move || {
                Box::pin(async move {
                    let _ = std::fs::remove_dir_all(dir);
                })
            }),
        })
    } else {
        sqlx::any::install_default_drivers();
        let admin = std::env::var("CHARGEBAY_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut c = sqlx::AnyConnection::connect(&admin)
            .await
            .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
        c.execute(format!("CREATE DATABASE {tag}").as_str())
            .await
            .map_err(|e| e.to_string())?;
        let _ = c.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{tag}");
        Ok(Db {
            url,
            cleanup: Box::new(move || {
                Box::pin(async move {
                    if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
                        let _ = c
                            .execute(format!("DROP DATABASE IF EXISTS {tag} WITH (FORCE)").as_str())
                            .await;
                    }
                })
            }),
        })
    }
}

async fn run_backend(backend: &str, o: &Opts) -> Result<(), String> {
    let db = fresh_db(backend).await?;
    let result = bench(backend, &db.url, o).await;
    if o.keep {
        println!("  kept the database: {}", db.url);
    } else {
        (db.cleanup)().await;
    }
    result
}

fn gauss(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

struct Seeded {
    /// Piles seeded idle and not held, in id order.
    idle_unheld: Vec<PileId>,
    /// Users with no hold.
    free_users: Vec<UserId>,
    /// Time of the seeded reports: every measurement runs "now" = this.
    t0: Millis,
}

/// Seeds sites, piles, bays (with telemetry), users and some holds in one transaction.
async fn seed(pool: &AnyPool, piles: i64, users: i64) -> Result<Seeded, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(20_260_101);
    let t0 = store::now();
    let sites = (piles + PILES_PER_SITE - 1) / PILES_PER_SITE;
    let mut tx = pool.begin().await?;
    let chunk = 500;
    let mut rows = Vec::with_capacity(chunk);
    let flush = |table: &str, cols: &str, rows: &mut Vec<String>| {
        let sql = format!("INSERT INTO {table} ({cols}) VALUES {}", rows.join(","));
        rows.clear();
        sql
    };
    for id in 1..=sites {
        let (lat, lon) = if rng.gen_bool(0.85) {
            let (clat, clon) = CITIES[rng.gen_range(0..CITIES.len())];
            (
                clat + gauss(&mut rng) * CITY_SIGMA_DEG,
                clon + gauss(&mut rng) * CITY_SIGMA_DEG,
            )
        } else {
            (
                rng.gen_range(REGION.0..REGION.2),
                rng.gen_range(REGION.1..REGION.3),
            )
        };
        rows.push(format!(
            "({id}, 'Site {id} Car Park', '{} Bench Road {id}', {lat}, {lon}, 'Asia/Shanghai', {})",
            rng.gen_range(1..300),
            t0.0
        ));
        if rows.len() == chunk || id == sites {
            let sql = flush(
                "sites",
                "id, name, address, lat, lon, timezone, created_at",
                &mut rows,
            );
            tx.execute(sql.as_str()).await?;
        }
    }
    let kws = [7.0, 22.0, 60.0, 120.0, 180.0];
    let mut idle = Vec::new();
    let (mut heard, mut silent) = (Vec::with_capacity(chunk), Vec::with_capacity(chunk));
    let mut seen = Vec::with_capacity(chunk);
    for id in 1..=piles {
        let site = (id - 1) / PILES_PER_SITE + 1;
        let conn = ConnectorType::ALL[rng.gen_range(0..ConnectorType::ALL.len())];
        rows.push(format!(
            "({id}, {site}, 'P{id:06}', '{}', {}, 60, {})",
            conn.as_str(),
            kws[rng.gen_range(0..kws.len())],
            t0.0
        ));
        // Telemetry mix: 55 % idle, 15 % blocked, 10 % charging, 5 % faulted, 5 % stale,
        // 10 % never heard.
        let roll: f64 = rng.gen();
        let age = rng.gen_range(0..60_000);
        let (state, occ, at) = match roll {
            r if r < 0.55 => ("available", "free", t0.0 - age),
            r if r < 0.70 => ("available", "occupied", t0.0 - age),
            r if r < 0.80 => ("charging", "occupied", t0.0 - age),
            r if r < 0.85 => ("faulted", "free", t0.0 - age),
            r if r < 0.90 => ("available", "free", t0.0 - 200_000 - age),
            _ => ("", "unknown", 0),
        };
        if state.is_empty() {
            silent.push(format!("({id}, 'magnetometer')"));
            seen.push(format!("({id}, NULL, NULL)"));
        } else {
            if roll < 0.55 {
                idle.push(PileId(id));
            }
            heard.push(format!(
                "({id}, 'magnetometer', '{state}', '{occ}', {at}, 0, 0)"
            ));
            seen.push(format!("({id}, 1, {at})"));
        }
        if rows.len() == chunk || id == piles {
            let sql = flush(
                "piles",
                "id, site_id, code, connector, max_kw, heartbeat_secs, created_at",
                &mut rows,
            );
            tx.execute(sql.as_str()).await?;
            if !heard.is_empty() {
                tx.execute(
                    format!(
                        "INSERT INTO bays (pile_id, sensor, pile_state, occupancy, occupancy_since, \
                         stale, offline) VALUES {}",
                        heard.join(",")
                    )
                    .as_str(),
                )
                .await?;
                heard.clear();
            }
            tx.execute(
                format!(
                    "INSERT INTO bay_seen (pile_id, last_seq, last_report_at) VALUES {}",
                    seen.join(",")
                )
                .as_str(),
            )
            .await?;
            seen.clear();
            if !silent.is_empty() {
                tx.execute(
                    format!(
                        "INSERT INTO bays (pile_id, sensor) VALUES {}",
                        silent.join(",")
                    )
                    .as_str(),
                )
                .await?;
                silent.clear();
            }
        }
    }
    // Users (a dummy password hash: nobody logs in), and holds for some of them on 1 % of
    // the idle piles, so the search's "not held" check meets real rows.
    for id in 1..=users {
        rows.push(format!(
            "('bench{id}@example.com', 'Bench {id}', 'x', 'driver', {})",
            t0.0
        ));
        if rows.len() == chunk || id == users {
            let sql = flush(
                "users",
                "email, display_name, password_hash, role, created_at",
                &mut rows,
            );
            tx.execute(sql.as_str()).await?;
        }
    }
    let user_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users ORDER BY id")
        .fetch_all(&mut *tx)
        .await?;
    let held_n = (idle.len() / 100).min(user_ids.len() / 2);
    // Spread the held piles over the fleet: every k-th idle pile.
    let step = (idle.len() / held_n.max(1)).max(1);
    let held: Vec<PileId> = idle.iter().copied().step_by(step).take(held_n).collect();
    let holders = &user_ids[user_ids.len() - held.len()..];
    for (p, u) in held.iter().zip(holders) {
        rows.push(format!(
            "({u}, {}, 'held', {}, {})",
            p.0,
            t0.0,
            t0.0 + 900_000
        ));
    }
    if !rows.is_empty() {
        let sql = flush(
            "reservations",
            "user_id, pile_id, status, created_at, deadline",
            &mut rows,
        );
        tx.execute(sql.as_str()).await?;
    }
    tx.commit().await?;
    let held_set: std::collections::HashSet<PileId> = held.iter().copied().collect();
    Ok(Seeded {
        idle_unheld: idle.into_iter().filter(|p| !held_set.contains(p)).collect(),
        free_users: user_ids[..user_ids.len() - holders.len()]
            .iter()
            .map(|u| UserId(*u))
            .collect(),
        t0,
    })
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    n: usize,
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort_unstable();
    let n = v.len();
    let at = |q: usize| v[((n * q) / 100).min(n.saturating_sub(1))];
    Stats {
        n,
        p50: at(50),
        p99: at(99),
        mean: v.iter().sum::<Duration>() / u32::try_from(n.max(1)).unwrap_or(u32::MAX),
    }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Each sample timed twice over: its first run, and the fastest of `--repeat` runs in a row
/// (which filters out a run preempted by other processes on a shared machine, not slow
/// queries: a dense viewport stays slow in every repeat).
#[derive(Debug, Clone, Copy)]
struct Timed {
    first: Stats,
    best: Stats,
}

fn timed(first: Vec<Duration>, best: Vec<Duration>) -> Timed {
    Timed {
        first: stats(first),
        best: stats(best),
    }
}

fn rows(name: &str, t: Timed, base: Option<Timed>) {
    row(name, t.first, base.map(|b| b.first));
    row("    best of the repeats", t.best, base.map(|b| b.best));
}

fn row(name: &str, s: Stats, base: Option<Stats>) {
    let ratio = |x: Duration, b: Duration| x.as_secs_f64() / b.as_secs_f64();
    match base {
        Some(b) => println!(
            "  {name:<44} n={:<5} p50 {:>9} ({:>5.1}×)  p99 {:>9} ({:>5.1}×)  mean {:>9}",
            s.n,
            us(s.p50),
            ratio(s.p50, b.p50),
            us(s.p99),
            ratio(s.p99, b.p99),
            us(s.mean)
        ),
        None => println!(
            "  {name:<44} n={:<5} p50 {:>9}          p99 {:>9}          mean {:>9}",
            s.n,
            us(s.p50),
            us(s.p99),
            us(s.mean)
        ),
    }
}

fn viewport(rng: &mut StdRng) -> SearchQuery {
    let (clat, clon) = CITIES[rng.gen_range(0..CITIES.len())];
    // Pan around the city centre a little, as a driver would.
    let lat = clat + rng.gen_range(-0.05..0.05);
    let lon = clon + rng.gen_range(-0.05..0.05);
    SearchQuery {
        area: Area::BBox {
            south: lat - VIEW_DLAT,
            west: lon - VIEW_DLON,
            north: lat + VIEW_DLAT,
            east: lon + VIEW_DLON,
        },
        per_page: 50,
        ..SearchQuery::default()
    }
}

/// Matches per query: mean, p50, p99, max.
struct Matches {
    mean: f64,
    p50: u64,
    p99: u64,
    max: u64,
    mean_items: f64,
}

impl std::fmt::Display for Matches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "matches per query: mean {:.0}, p50 {}, p99 {}, max {}; items returned mean {:.1}",
            self.mean, self.p50, self.p99, self.max, self.mean_items
        )
    }
}

async fn time_searches(
    store: &Store,
    o: &Opts,
    t0: Millis,
    seed: u64,
    make: impl Fn(&mut StdRng) -> SearchQuery,
) -> Result<(Timed, Matches), String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut first, mut best) = (Vec::with_capacity(o.iters), Vec::with_capacity(o.iters));
    let mut totals = Vec::with_capacity(o.iters);
    let mut items = 0usize;
    for i in 0..o.iters + o.iters / 10 {
        let q = make(&mut rng);
        let (mut t_first, mut t_best) = (Duration::ZERO, Duration::MAX);
        let mut last = None;
        for k in 0..o.repeat {
            let start = Instant::now();
            let page = store
                .search_piles(&q, t0)
                .await
                .map_err(|e| e.to_string())?;
            let took = start.elapsed();
            if k == 0 {
                t_first = took;
            }
            t_best = t_best.min(took);
            last = Some(page);
        }
        if let (true, Some(page)) = (i >= o.iters / 10, last) {
            first.push(t_first);
            best.push(t_best);
            totals.push(page.total);
            items += page.items.len();
        }
    }
    totals.sort_unstable();
    let n = totals.len().max(1);
    let at = |q: usize| totals.get(((n * q) / 100).min(n - 1)).copied().unwrap_or(0);
    let m = Matches {
        mean: totals.iter().sum::<u64>() as f64 / n as f64,
        p50: at(50),
        p99: at(99),
        max: totals.last().copied().unwrap_or(0),
        mean_items: items as f64 / n as f64,
    };
    Ok((timed(first, best), m))
}

async fn bench(backend: &str, url: &str, o: &Opts) -> Result<(), String> {
    println!("\n== {backend} ==");
    let store = Store::connect(url).await.map_err(|e| e.to_string())?;
    let seed_pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&store_url(url))
        .await
        .map_err(|e| e.to_string())?;
    let users = o.contenders.max(1) * 2 + 2000;
    let start = Instant::now();
    let seeded = seed(&seed_pool, o.piles, users)
        .await
        .map_err(|e| format!("seeding: {e}"))?;
    println!(
        "  seeded {} piles ({} idle and not held) and {users} users in {:.1} s",
        o.piles,
        seeded.idle_unheld.len(),
        start.elapsed().as_secs_f64()
    );
    if backend == "postgres" {
        // What autovacuum does shortly after a bulk load (statistics, visibility map).
        seed_pool
            .execute("VACUUM ANALYZE")
            .await
            .map_err(|e| e.to_string())?;
    }
    let t0 = seeded.t0;
    if o.explain {
        explain(&seed_pool, backend).await?;
    }

    // Baselines.
    let mut rng = StdRng::seed_from_u64(7);
    let (mut ping, mut ping_best) = (Vec::new(), Vec::new());
    let (mut by_id, mut by_id_best) = (Vec::new(), Vec::new());
    for i in 0..o.iters + o.iters / 10 {
        let id = PileId(rng.gen_range(1..=o.piles));
        let (mut a_first, mut a_best) = (Duration::ZERO, Duration::MAX);
        let (mut b_first, mut b_best) = (Duration::ZERO, Duration::MAX);
        for k in 0..o.repeat {
            let s = Instant::now();
            store.ping().await.map_err(|e| e.to_string())?;
            let a = s.elapsed();
            let s = Instant::now();
            store.pile(id).await.map_err(|e| e.to_string())?;
            let b = s.elapsed();
            if k == 0 {
                (a_first, b_first) = (a, b);
            }
            a_best = a_best.min(a);
            b_best = b_best.min(b);
        }
        if i >= o.iters / 10 {
            ping.push(a_first);
            ping_best.push(a_best);
            by_id.push(b_first);
            by_id_best.push(b_best);
        }
    }
    let ping = timed(ping, ping_best);
    let by_id = timed(by_id, by_id_best);
    println!("  baselines (ratios below are against these, measured in this run):");
    rows("SELECT 1 round trip (store.ping)", ping, None);
    rows("pile by primary key (store.pile)", by_id, None);

    println!("  searches (ratio × = against the primary-key lookup):");
    let (s, m) = time_searches(&store, o, t0, 11, viewport).await?;
    rows("city viewport, per_page 50, all piles", s, Some(by_id));
    println!("      {m}");
    let (s, m) = time_searches(&store, o, t0, 11, |r| SearchQuery {
        idle_only: true,
        ..viewport(r)
    })
    .await?;
    rows("city viewport, per_page 50, idle only", s, Some(by_id));
    println!("      {m}");
    let (s, _) = time_searches(&store, o, t0, 11, |r| SearchQuery {
        idle_only: true,
        per_page: 10,
        ..viewport(r)
    })
    .await?;
    rows("city viewport, per_page 10, idle only", s, Some(by_id));
    let (s, _) = time_searches(&store, o, t0, 11, |r| SearchQuery {
        idle_only: true,
        page: 5,
        ..viewport(r)
    })
    .await?;
    rows("city viewport, page 6 of 50, idle only", s, Some(by_id));
    let (s, m) = time_searches(&store, o, t0, 12, |r| SearchQuery {
        idle_only: true,
        connector: Some(ConnectorType::Ccs2),
        min_kw: Some(60.0),
        ..viewport(r)
    })
    .await?;
    rows("viewport, idle + CCS2 + ≥60 kW", s, Some(by_id));
    println!("      {m}");
    let (s, m) = time_searches(&store, o, t0, 13, |r| {
        let (clat, clon) = CITIES[r.gen_range(0..CITIES.len())];
        SearchQuery {
            area: Area::Radius {
                center: LatLon {
                    lat: clat + r.gen_range(-0.05..0.05),
                    lon: clon + r.gen_range(-0.05..0.05),
                },
                km: 5.0,
            },
            idle_only: true,
            per_page: 20,
            ..SearchQuery::default()
        }
    })
    .await?;
    rows("5 km radius, idle only, per_page 20", s, Some(by_id));
    println!("      {m}");
    let (mut near, mut near_best) = (Vec::new(), Vec::new());
    let mut rng = StdRng::seed_from_u64(14);
    for i in 0..o.iters + o.iters / 10 {
        let (clat, clon) = CITIES[rng.gen_range(0..CITIES.len())];
        let from = LatLon {
            lat: clat + rng.gen_range(-0.1..0.1),
            lon: clon + rng.gen_range(-0.1..0.1),
        };
        let (mut t_first, mut t_best) = (Duration::ZERO, Duration::MAX);
        for k in 0..o.repeat {
            let s = Instant::now();
            let hit = store
                .nearest_idle(from, Some(ConnectorType::Chademo), None, t0)
                .await
                .map_err(|e| e.to_string())?;
            let took = s.elapsed();
            if hit.is_none() {
                return Err("nearest_idle found nothing".into());
            }
            if k == 0 {
                t_first = took;
            }
            t_best = t_best.min(took);
        }
        if i >= o.iters / 10 {
            near.push(t_first);
            near_best.push(t_best);
        }
    }
    rows(
        "nearest_idle (CHAdeMO) in a city",
        timed(near, near_best),
        Some(by_id),
    );

    contention(&store, &seed_pool, &seeded, o).await?;
    store.close().await;
    seed_pool.close().await;
    Ok(())
}

/// The URL the store itself connects to (SQLite: create mode and folder).
fn store_url(url: &str) -> String {
    if let Some(path) = url.strip_prefix("sqlite:") {
        format!("sqlite://{path}?mode=rwc")
    } else {
        url.to_owned()
    }
}

async fn explain(pool: &AnyPool, backend: &str) -> Result<(), String> {
    // The shape of a viewport query with idle only, as `Store::search_piles` builds it
    // (parameters inlined, the distance simplified).
    let (south, west, north, east) = (22.47, 113.97, 22.62, 114.15);
    let now = store::now().0;
    let sql = format!(
        "WITH ss AS MATERIALIZED (SELECT s.id, s.enabled, s.freshness_secs, \
         ((s.lat - 22.54) * (s.lat - 22.54) + (s.lon - 114.06) * (s.lon - 114.06) * 0.85) AS m \
         FROM sites s WHERE s.lat >= {south} AND s.lat <= {north} AND s.lon >= {west} \
         AND s.lon <= {east} AND s.enabled <> 0), \
         hits AS MATERIALIZED (SELECT p.id AS pid, p.code AS code, s.m AS m \
         FROM ss s CROSS JOIN piles p CROSS JOIN bays b CROSS JOIN bay_seen bs \
         WHERE p.site_id = s.id AND b.pile_id = p.id AND p.enabled <> 0 \
         AND b.pile_state = 'available' AND b.occupancy = 'free' AND b.flapping = 0 \
         AND bs.pile_id = b.pile_id \
         AND bs.last_report_at >= {now} - 1000 * COALESCE(s.freshness_secs, 2 * p.heartbeat_secs + 30) \
         AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.pile_id = b.pile_id AND r.status = 'held')) \
         SELECT (SELECT COUNT(*) FROM hits) AS total, p.id, \
         (SELECT COUNT(*) FROM reservations r WHERE r.pile_id = p.id AND r.status = 'held') AS held \
         FROM piles p JOIN sites s ON s.id = p.site_id JOIN bays b ON b.pile_id = p.id \
         JOIN bay_seen bs ON bs.pile_id = p.id JOIN (SELECT pid, code, m FROM hits ORDER BY m, code LIMIT 50 OFFSET 0) pg \
         ON pg.pid = p.id ORDER BY pg.m, pg.code"
    );
    let prefix = if backend == "sqlite" {
        "EXPLAIN QUERY PLAN "
    } else {
        "EXPLAIN ANALYZE "
    };
    let rows = sqlx::query(&format!("{prefix}{sql}"))
        .fetch_all(pool)
        .await
        .map_err(|e| e.to_string())?;
    println!("  plan:");
    for r in rows {
        use sqlx::Row;
        let line: String = if backend == "sqlite" {
            r.try_get::<String, _>(3).unwrap_or_default()
        } else {
            r.try_get::<String, _>(0).unwrap_or_default()
        };
        println!("    {line}");
    }
    Ok(())
}

async fn contention(
    store: &Store,
    pool: &AnyPool,
    seeded: &Seeded,
    o: &Opts,
) -> Result<(), String> {
    let n = usize::try_from(o.contenders).unwrap_or(0);
    if seeded.idle_unheld.len() < o.contended_piles || seeded.free_users.len() < n {
        return Err("not enough idle piles or users for the contention run".into());
    }
    // Piles spread over the fleet, users distinct.
    let step = seeded.idle_unheld.len() / o.contended_piles;
    let piles: Vec<PileId> = (0..o.contended_piles)
        .map(|i| seeded.idle_unheld[i * step])
        .collect();
    let users = &seeded.free_users[..n];
    // Baseline: uncontended holds, one at a time, by other drivers on other idle piles.
    let solo_n = o
        .contended_piles
        .min(seeded.free_users.len().saturating_sub(n));
    let mut solo = Vec::with_capacity(solo_n);
    for i in 0..solo_n {
        let (user, pile) = (seeded.free_users[n + i], seeded.idle_unheld[i * step + 1]);
        let s = Instant::now();
        store
            .reserve(user, pile, seeded.t0)
            .await
            .map_err(|e| format!("uncontended reserve: {e}"))?;
        solo.push(s.elapsed());
    }
    let solo = stats(solo);
    // Open every pooled connection first, so that connecting is not measured as contention.
    let warm: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.ping().await })
        })
        .collect();
    for w in warm {
        w.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let gate = Arc::new(tokio::sync::Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for (i, user) in users.iter().enumerate() {
        let store = store.clone();
        let gate = gate.clone();
        let pile = piles[i % piles.len()];
        let user = *user;
        let t0 = seeded.t0;
        tasks.push(tokio::spawn(async move {
            gate.wait().await;
            let s = Instant::now();
            let r = store.reserve(user, pile, t0).await;
            (user, pile, s.elapsed(), r.map(|(res, _)| res.id))
        }));
    }
    let wall = Instant::now();
    gate.wait().await;
    let mut times = Vec::with_capacity(n);
    let mut won: Vec<(UserId, PileId)> = Vec::new();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks {
        let (user, pile, took, r) = t.await.map_err(|e| e.to_string())?;
        times.push(took);
        let key = match r {
            Ok(_) => {
                won.push((user, pile));
                "won".to_owned()
            }
            Err(ReserveError::NotIdle(reason)) => format!("lost: not idle ({reason})"),
            Err(ReserveError::AlreadyHolding) => "lost: already holding".to_owned(),
            Err(ReserveError::NotAllowed) => "lost: not allowed".to_owned(),
            Err(ReserveError::Store(e)) => format!("ERROR: {e}"),
        };
        *outcomes.entry(key).or_default() += 1;
    }
    let wall = wall.elapsed();
    println!(
        "  contention: {n} concurrent reserve() over {} idle piles, {} tokio worker threads",
        piles.len(),
        tokio::runtime::Handle::current().metrics().num_workers()
    );
    for (k, v) in &outcomes {
        println!("      {k:<40} {v}");
    }
    // Check the database, not just the return values.
    let pile_list = piles
        .iter()
        .map(|p| p.0.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let per_pile: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT pile_id, COUNT(*) FROM reservations WHERE status = 'held' AND pile_id IN ({pile_list}) GROUP BY pile_id"
    ))
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let holds: i64 = per_pile.iter().map(|r| r.1).sum();
    let max_per_pile = per_pile.iter().map(|r| r.1).max().unwrap_or(0);
    let user_list = users
        .iter()
        .map(|u| u.0.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let max_per_user: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT MAX(c) FROM (SELECT COUNT(*) AS c FROM reservations WHERE status = 'held' AND user_id IN ({user_list}) GROUP BY user_id) t"
    ))
    .fetch_one(pool)
    .await
    .map_err(|e| e.to_string())?;
    let mut winners_per_pile: HashMap<PileId, usize> = HashMap::new();
    for (_, p) in &won {
        *winners_per_pile.entry(*p).or_default() += 1;
    }
    println!(
        "      holds in the database on those piles: {holds} (want {}), max per pile {max_per_pile}, \
         max per user {}, winners reported {} over {} piles",
        piles.len().min(n),
        max_per_user.unwrap_or(0),
        won.len(),
        winners_per_pile.len()
    );
    // Every pile is wanted by someone when there are at least as many contenders as piles.
    let want = piles.len().min(n);
    let ok = holds == i64::try_from(want).unwrap_or(-1)
        && max_per_pile <= 1
        && max_per_user.unwrap_or(0) <= 1
        && won.len() == want
        && winners_per_pile.values().all(|c| *c == 1);
    println!("      invariants: {}", if ok { "OK" } else { "VIOLATED" });
    row("uncontended reserve(), one at a time", solo, None);
    row(
        "reserve() latency under contention",
        stats(times),
        Some(solo),
    );
    println!(
        "      wall time for all {n}: {:.1} ms",
        wall.as_secs_f64() * 1e3
    );
    if !ok {
        return Err("contention invariants violated".into());
    }
    Ok(())
}

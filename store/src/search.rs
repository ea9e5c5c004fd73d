//! Pile search: an area (viewport, radius, anywhere), filters, distance order and pages, over
//! the same SQL on SQLite and PostgreSQL.
//!
//! How a search runs, so that 100,000 piles cost no more than the few in the area:
//!
//! - The area and the text are conditions on `sites` alone, answered from the `(lat, lon, …)`
//!   indexes; the matching sites, each with its distance, are materialised once (`ss`).
//! - Their piles come from `piles_search` and, when only idle piles are wanted, their bays
//!   from the partial index `bays_idle`, the freshness of their last report from the narrow
//!   `bay_seen` row (by primary key) and their holds from `reservations_held_pile`: the
//!   matching piles (`hits`) are found without reading a wide row (migrations `0002_search`,
//!   `0005_report_log`). Only the
//!   page's piles are then read in full, through the same view as every other pile read.
//! - Ordering uses an equirectangular approximation that needs no trigonometry in SQL (SQLite
//!   has none by default): `Δlat² + (Δlon·cos φm)²` in degrees², where `cos φm` (cosine of the
//!   mean latitude) is a second-order Taylor expansion around the origin, whose cosine and sine
//!   are computed in Rust and bound as parameters. `ORDER BY … LIMIT/OFFSET` and the total
//!   (`COUNT(*)` over `hits`) are computed by the database in the same statement.
//! - "Idle now" is the one rule written in SQL (enabled, reported `available`, bay `free`,
//!   not flapping, last report within the freshness limit, no `held` reservation), then
//!   confirmed per returned pile with [`PileView::availability`].
//! - A radius is a bounding-box prefilter plus an exact haversine filter: the approximation is
//!   trusted only where it cannot be wrong (well inside or well outside the circle, with
//!   margins measured on the circle itself); the sites in the thin band between are checked
//!   with [`LatLon::distance_km`] in Rust and those outside are excluded by id, so pages and
//!   totals are exact.

use crate::{
    piles::{pile_from_row, PileView, PILE_VIEW_SELECT},
    Backend, Store, StoreError,
};
use domain::{
    availability::default_freshness_secs,
    geo::LatLon,
    search::{Area, SearchQuery, MAX_PER_PAGE},
    ConnectorType, Millis, PileId,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::f64::consts::PI;

/// One pile found, with its great-circle distance from the search origin (if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The pile's live view.
    pub pile: PileView,
    /// Haversine distance from the origin in km; `None` when the search had no origin.
    pub distance_km: Option<f64>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    /// The piles of this page, nearest first (then by code).
    pub items: Vec<SearchHit>,
    /// How many piles match in all.
    pub total: u64,
    /// This page's number (0-based).
    pub page: u32,
    /// The page size.
    pub per_page: u32,
}

/// Mean Earth radius, as in [`LatLon::distance_km`].
const EARTH_KM: f64 = 6371.0088;
/// Relative margin added to the band measured on a circle's boundary.
const BAND_MARGIN: f64 = 0.002;
/// Rings tried by [`Store::nearest_idle`] before searching everywhere.
const NEAREST_RINGS_KM: [f64; 5] = [1.0, 5.0, 25.0, 100.0, 500.0];
/// Candidates (in approximate order) whose exact distance picks the nearest.
const NEAREST_CANDIDATES: i64 = 10;

/// A bound parameter.
enum Arg {
    F(f64),
    I(i64),
    S(String),
}

/// Parameters of one statement, numbered `$1..` in push order.
#[derive(Default)]
struct Args(Vec<Arg>);

impl Args {
    fn f(&mut self, v: f64) -> String {
        self.0.push(Arg::F(v));
        format!("${}", self.0.len())
    }
    fn i(&mut self, v: i64) -> String {
        self.0.push(Arg::I(v));
        format!("${}", self.0.len())
    }
    fn s(&mut self, v: String) -> String {
        self.0.push(Arg::S(v));
        format!("${}", self.0.len())
    }
    fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for a in &self.0 {
            q = match a {
                Arg::F(v) => q.bind(*v),
                Arg::I(v) => q.bind(*v),
                Arg::S(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

/// The approximate squared distance from `origin`, in degrees², computed the same way in
/// SQL and in Rust.
#[derive(Debug, Clone, Copy)]
struct Metric {
    origin: LatLon,
    cos0: f64,
    sin0: f64,
}

/// Half a degree in radians: `h = Δlat · HALF_DEG_RAD` is the mean latitude's offset.
const HALF_DEG_RAD: f64 = PI / 360.0;

impl Metric {
    fn new(origin: LatLon) -> Self {
        let phi = origin.lat.to_radians();
        Metric {
            origin,
            cos0: phi.cos(),
            sin0: phi.sin(),
        }
    }

    /// SQL for the metric over `s.lat`, `s.lon`.
    fn sql(&self, a: &mut Args) -> String {
        let lat0 = a.f(self.origin.lat);
        let lon0 = a.f(self.origin.lon);
        let c = a.f(self.cos0);
        let s = a.f(self.sin0);
        let k = a.f(HALF_DEG_RAD);
        let dlat = format!("(s.lat - {lat0})");
        let dlon = format!(
            "(CASE WHEN s.lon - {lon0} > 180 THEN s.lon - {lon0} - 360 \
             WHEN s.lon - {lon0} < -180 THEN s.lon - {lon0} + 360 ELSE s.lon - {lon0} END)"
        );
        let h = format!("({dlat} * {k})");
        let cos_m = format!("({c} - {s} * {h} - {c} * {h} * {h} / 2)");
        format!("({dlat} * {dlat} + ({dlon} * {cos_m}) * ({dlon} * {cos_m}))")
    }

    /// The same value in Rust.
    fn eval(&self, p: LatLon) -> f64 {
        let dlat = p.lat - self.origin.lat;
        let mut dlon = p.lon - self.origin.lon;
        if dlon > 180.0 {
            dlon -= 360.0;
        } else if dlon < -180.0 {
            dlon += 360.0;
        }
        let h = dlat * HALF_DEG_RAD;
        let cos_m = self.cos0 - self.sin0 * h - self.cos0 * h * h / 2.0;
        dlat * dlat + (dlon * cos_m) * (dlon * cos_m)
    }
}

/// A longitude range.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LonRange {
    All,
    /// `west <= lon <= east`.
    Within(f64, f64),
    /// Across the antimeridian: `lon >= west OR lon <= east`.
    Wrapping(f64, f64),
}

/// A latitude/longitude box, answered by the `sites_lat_lon` index.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    south: f64,
    north: f64,
    lon: LonRange,
}

impl Bounds {
    fn from_box(south: f64, west: f64, north: f64, east: f64) -> Self {
        Bounds {
            south,
            north,
            lon: if west <= east {
                LonRange::Within(west, east)
            } else {
                LonRange::Wrapping(west, east)
            },
        }
    }

    /// The smallest box holding every point within `km` of `center` (on the sphere).
    fn around(center: LatLon, km: f64) -> Self {
        let r = km / EARTH_KM;
        let dlat = r.to_degrees();
        let south = center.lat - dlat;
        let north = center.lat + dlat;
        if north >= 90.0 || south <= -90.0 {
            return Bounds {
                south: south.max(-90.0),
                north: north.min(90.0),
                lon: LonRange::All,
            };
        }
        let ratio = r.sin() / center.lat.to_radians().cos();
        if ratio >= 1.0 {
            return Bounds {
                south,
                north,
                lon: LonRange::All,
            };
        }
        let dlon = ratio.asin().to_degrees();
        let (mut west, mut east) = (center.lon - dlon, center.lon + dlon);
        if west < -180.0 {
            west += 360.0;
        }
        if east > 180.0 {
            east -= 360.0;
        }
        Bounds::from_box(south, west, north, east)
    }

    fn sql(&self, a: &mut Args) -> String {
        let mut out = format!(
            "s.lat >= {} AND s.lat <= {}",
            a.f(self.south),
            a.f(self.north)
        );
        match self.lon {
            LonRange::All => {}
            LonRange::Within(w, e) => {
                out += &format!(" AND s.lon >= {} AND s.lon <= {}", a.f(w), a.f(e));
            }
            LonRange::Wrapping(w, e) => {
                out += &format!(" AND (s.lon >= {} OR s.lon <= {})", a.f(w), a.f(e));
            }
        }
        out
    }
}

/// The destination `km` from `from` on `bearing_deg` (great circle).
fn destination(from: LatLon, bearing_deg: f64, km: f64) -> LatLon {
    let d = km / EARTH_KM;
    let (p1, l1, th) = (
        from.lat.to_radians(),
        from.lon.to_radians(),
        bearing_deg.to_radians(),
    );
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * th.cos()).asin();
    let l2 = l1 + (th.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    let mut lon = l2.to_degrees();
    if lon > 180.0 {
        lon -= 360.0;
    } else if lon < -180.0 {
        lon += 360.0;
    }
    LatLon {
        lat: p2.to_degrees(),
        lon,
    }
}

/// A radius filter: exact by haversine, decided in SQL where the approximation is certain.
#[derive(Debug, Clone, Copy)]
struct Circle {
    center: LatLon,
    km: f64,
    metric: Metric,
    /// Metric (degrees²) at or below which a site is certainly inside.
    inner2: f64,
    /// Metric above which a site is certainly outside (`None`: nothing is certain).
    outer2: Option<f64>,
}

impl Circle {
    fn new(center: LatLon, km: f64) -> Self {
        let metric = Metric::new(center);
        let reach = (km / EARTH_KM).to_degrees();
        // Near a pole the approximation is meaningless: every candidate is checked exactly.
        if center.lat.abs() + reach >= 85.0 {
            return Circle {
                center,
                km,
                metric,
                inner2: -1.0,
                outer2: None,
            };
        }
        // The metric along the circle itself bounds it for every point inside (and outside):
        // it grows along each bearing, so its least and greatest values on the boundary are
        // the band where the exact distance must decide.
        let (mut lo, mut hi) = (f64::INFINITY, 0.0_f64);
        for i in 0..720 {
            let m = metric
                .eval(destination(center, f64::from(i) * 0.5, km))
                .sqrt();
            lo = lo.min(m);
            hi = hi.max(m);
        }
        let inner = lo * (1.0 - BAND_MARGIN);
        let outer = hi * (1.0 + BAND_MARGIN);
        Circle {
            center,
            km,
            metric,
            inner2: inner * inner,
            outer2: Some(outer * outer),
        }
    }

    fn contains(&self, p: LatLon) -> bool {
        self.center.distance_km(p) <= self.km
    }
}

/// Every restriction of one search, turned into SQL conditions.
#[derive(Debug, Clone)]
struct Filters {
    bounds: Option<Bounds>,
    circle: Option<Circle>,
    connector: Option<ConnectorType>,
    min_kw: Option<f64>,
    /// Lower-cased `LIKE` pattern with `\` escapes.
    text: Option<String>,
    idle_at: Option<Millis>,
    exclude_pile: Option<PileId>,
    /// Sites in the circle's uncertain band that the exact distance puts outside.
    exclude_sites: Vec<i64>,
}

impl Filters {
    /// Conditions on the site alone (`s` is `sites`): the area, the text, the site's switch.
    fn site_sql(&self, a: &mut Args) -> String {
        let mut c: Vec<String> = Vec::new();
        if let Some(b) = &self.bounds {
            c.push(b.sql(a));
        }
        if let Some(circle) = &self.circle {
            if let Some(outer2) = circle.outer2 {
                c.push(format!("{} <= {}", circle.metric.sql(a), a.f(outer2)));
            }
        }
        if !self.exclude_sites.is_empty() {
            let list = self
                .exclude_sites
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            c.push(format!("s.id NOT IN ({list})"));
        }
        if let Some(pat) = &self.text {
            let p = a.s(pat.clone());
            c.push(format!(
                "(LOWER(s.name) LIKE {p} ESCAPE '\\' OR LOWER(s.address) LIKE {p} ESCAPE '\\')"
            ));
        }
        if self.idle_at.is_some() {
            c.push("s.enabled <> 0".into());
        }
        and_all(c)
    }

    /// Conditions on the pile and its bay (`s` now has `enabled` and `freshness_secs`).
    fn pile_sql(&self, a: &mut Args) -> String {
        let mut c: Vec<String> = vec!["p.site_id = s.id".into()];
        if let Some(conn) = self.connector {
            c.push(format!("p.connector = {}", a.s(conn.as_str().to_owned())));
        }
        if let Some(kw) = self.min_kw {
            c.push(format!("p.max_kw >= {}", a.f(kw)));
        }
        if let Some(id) = self.exclude_pile {
            c.push(format!("p.id <> {}", a.i(id.0)));
        }
        if let Some(now) = self.idle_at {
            // The one rule (domain::classify) in SQL; the site's switch is in `site_sql`.
            // `offline_secs >= freshness_secs`, so a fresh report also means online. Freshness
            // defaults to a linear function of the heartbeat, whose coefficients come from
            // the domain. The three bay terms match the partial index `bays_idle`; the
            // freshness is in the narrow `bay_seen` row. The hold
            // check names `b.pile_id` so that SQLite runs it only for bays that passed.
            let (slope, base) = freshness_coefficients();
            c.push(format!(
                "b.pile_id = p.id AND p.enabled <> 0 AND b.pile_state = 'available' \
                 AND b.occupancy = 'free' AND b.flapping = 0 AND bs.pile_id = b.pile_id \
                 AND bs.last_report_at >= {now} - 1000 * COALESCE(s.freshness_secs, {slope} * p.heartbeat_secs + {base}) \
                 AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.pile_id = b.pile_id AND r.status = 'held')",
                now = a.i(now.0),
                slope = a.i(slope),
                base = a.i(base),
            ));
        }
        and_all(c)
    }

    /// `FROM` of the pile level: the matching sites (`ss`), their piles, and bays if needed.
    /// `CROSS JOIN` fixes SQLite's join order (sites → piles → bays) whatever its statistics
    /// say; PostgreSQL treats it as an inner join and plans freely.
    fn pile_from(&self) -> &'static str {
        if self.idle_at.is_some() {
            "ss s CROSS JOIN piles p CROSS JOIN bays b CROSS JOIN bay_seen bs"
        } else {
            "ss s CROSS JOIN piles p"
        }
    }
}

fn and_all(c: Vec<String>) -> String {
    if c.is_empty() {
        "1 = 1".into()
    } else {
        c.join(" AND ")
    }
}

/// `default_freshness_secs(hb) = slope * hb + base`.
fn freshness_coefficients() -> (i64, i64) {
    let base = default_freshness_secs(0);
    (default_freshness_secs(1) - base, base)
}

/// `%text%`, lower-cased the way the backend's `LOWER` does it, `LIKE` wildcards escaped.
fn like_pattern(text: &str, backend: Backend) -> String {
    let lowered = match backend {
        // SQLite's built-in LOWER folds ASCII only.
        Backend::Sqlite => text.to_ascii_lowercase(),
        Backend::Postgres => text.to_lowercase(),
    };
    let mut out = String::with_capacity(lowered.len() + 2);
    out.push('%');
    for ch in lowered.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// A search ready to run: filters, distance reference, page window.
struct Plan {
    filters: Filters,
    origin: Option<LatLon>,
    limit: i64,
    offset: i64,
    with_total: bool,
}

impl Store {
    /// Searches piles: area, filters, nearest first (then by code), one page with the total.
    /// The query should be validated first ([`SearchQuery::validate`]); a page size out of
    /// range is clamped to `1..=100`.
    pub async fn search_piles(
        &self,
        q: &SearchQuery,
        now: Millis,
    ) -> Result<SearchPage, StoreError> {
        let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
        let (bounds, circle) = match q.area {
            Area::BBox {
                south,
                west,
                north,
                east,
            } => (Some(Bounds::from_box(south, west, north, east)), None),
            Area::Radius { center, km } => (
                Some(Bounds::around(center, km)),
                Some(Circle::new(center, km)),
            ),
            Area::Anywhere => (None, None),
        };
        let plan = Plan {
            filters: Filters {
                bounds,
                circle,
                connector: q.connector,
                min_kw: q.min_kw,
                text: q.text_filter().map(|t| like_pattern(t, self.backend())),
                idle_at: q.idle_only.then_some(now),
                exclude_pile: None,
                exclude_sites: Vec::new(),
            },
            origin: q.effective_origin(),
            limit: i64::from(per_page),
            offset: i64::from(q.page) * i64::from(per_page),
            with_total: true,
        };
        let (items, total) = self.run_search(plan, now).await?;
        Ok(SearchPage {
            items,
            total,
            page: q.page,
            per_page,
        })
    }

    /// The idle pile nearest to `from` (great-circle distance), optionally with `connector`
    /// and other than `exclude`; `None` when no pile anywhere is idle.
    pub async fn nearest_idle(
        &self,
        from: LatLon,
        connector: Option<ConnectorType>,
        exclude: Option<PileId>,
        now: Millis,
    ) -> Result<Option<SearchHit>, StoreError> {
        let filters = |bounds, circle| Filters {
            bounds,
            circle,
            connector,
            min_kw: None,
            text: None,
            idle_at: Some(now),
            exclude_pile: exclude,
            exclude_sites: Vec::new(),
        };
        let plan = |filters| Plan {
            filters,
            origin: Some(from),
            limit: NEAREST_CANDIDATES,
            offset: 0,
            with_total: false,
        };
        // Growing circles: anything nearer than a hit inside a circle is inside it too, so
        // the first circle with a hit holds the nearest. Then, rarely, everywhere.
        for km in NEAREST_RINGS_KM {
            let f = filters(Some(Bounds::around(from, km)), Some(Circle::new(from, km)));
            let (items, _) = self.run_search(plan(f), now).await?;
            if let Some(best) = nearest_of(items) {
                return Ok(Some(best));
            }
        }
        let (items, _) = self.run_search(plan(filters(None, None)), now).await?;
        Ok(nearest_of(items))
    }

    async fn run_search(
        &self,
        mut plan: Plan,
        now: Millis,
    ) -> Result<(Vec<SearchHit>, u64), StoreError> {
        let circle = plan.filters.circle;
        if let Some(c) = &circle {
            plan.filters.exclude_sites = self.sites_outside_band(&plan.filters, c).await?;
        }
        let mut a = Args::default();
        let (m_site, m_pile, order_hits, order_page) = match plan.origin {
            Some(o) => (
                format!(", {} AS m", Metric::new(o).sql(&mut a)),
                ", s.m AS m",
                "m, code",
                "pg.m, pg.code",
            ),
            None => (String::new(), "", "code", "pg.code"),
        };
        let ctes = self.search_ctes(&plan.filters, &m_site, m_pile, &mut a);
        let limit = a.i(plan.limit);
        let offset = a.i(plan.offset);
        let total = if plan.with_total {
            "SELECT (SELECT COUNT(*) FROM hits) AS total, "
        } else {
            "SELECT "
        };
        // The page's piles are found on indexes alone (`hits`); only they are then read in
        // full, through the same view every other pile read uses.
        let sql = format!(
            "{ctes} {} JOIN (SELECT pid, code{m} FROM hits ORDER BY {order_hits} \
             LIMIT {limit} OFFSET {offset}) pg ON pg.pid = p.id ORDER BY {order_page}",
            PILE_VIEW_SELECT.replacen("SELECT ", total, 1),
            m = if plan.origin.is_some() { ", m" } else { "" },
        );
        let rows = a.bind(sqlx::query(&sql)).fetch_all(self.pool()).await?;
        let mut total = match rows.first() {
            _ if !plan.with_total => 0,
            Some(r) => u64::try_from(r.try_get::<i64, _>("total")?).unwrap_or(0),
            // Past the last page: no row carries the total.
            None if plan.offset > 0 => self.count_matches(&plan.filters).await?,
            None => 0,
        };
        let piles = rows
            .iter()
            .map(pile_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let mut items = Vec::with_capacity(rows.len());
        for pile in self.with_waiting(piles) {
            let at = LatLon {
                lat: pile.lat,
                lon: pile.lon,
            };
            // Confirm with the one rule (and the exact circle): SQL is an optimisation, not
            // the authority. A mismatch would be a bug in the SQL rule.
            let idle_ok = plan.filters.idle_at.is_none() || pile.availability(now).is_idle();
            let circle_ok = circle.as_ref().is_none_or(|c| c.contains(at));
            if !(idle_ok && circle_ok) {
                tracing::warn!(
                    pile = pile.id.0,
                    idle_ok,
                    circle_ok,
                    "search SQL and rule disagree"
                );
                total = total.saturating_sub(1);
                continue;
            }
            items.push(SearchHit {
                distance_km: plan.origin.map(|o| o.distance_km(at)),
                pile,
            });
        }
        Ok((items, total))
    }

    /// `WITH ss AS (matching sites), hits AS (matching piles)`. The sites are materialised so
    /// that the distance is computed once per site rather than per pile. The piles are
    /// materialised when the idle rule makes finding them costly, so that the total and the
    /// page read them once; otherwise computing them twice from the indexes is cheaper.
    fn search_ctes(&self, f: &Filters, m_site: &str, m_pile: &str, a: &mut Args) -> String {
        let site_cond = f.site_sql(a);
        let pile_cond = f.pile_sql(a);
        let hits = if f.idle_at.is_some() {
            "MATERIALIZED"
        } else {
            "NOT MATERIALIZED"
        };
        format!(
            "WITH ss AS MATERIALIZED (SELECT s.id, s.enabled, s.freshness_secs{m_site} \
             FROM sites s WHERE {site_cond}), \
             hits AS {hits} (SELECT p.id AS pid, p.code AS code{m_pile} \
             FROM {} WHERE {pile_cond})",
            f.pile_from()
        )
    }

    /// Ids of the sites in `c`'s uncertain band (and the other site conditions) that lie
    /// outside the circle by the exact distance.
    async fn sites_outside_band(&self, f: &Filters, c: &Circle) -> Result<Vec<i64>, StoreError> {
        let mut a = Args::default();
        let cond = f.site_sql(&mut a);
        let band = if c.outer2.is_some() {
            // `site_sql` already bounds the metric from above.
            format!("{} > {}", c.metric.sql(&mut a), a.f(c.inner2))
        } else {
            "1 = 1".into()
        };
        let sql = format!("SELECT s.id, s.lat, s.lon FROM sites s WHERE {cond} AND {band}");
        let rows: Vec<(i64, f64, f64)> = a
            .bind(sqlx::query(&sql))
            .try_map(|r: sqlx::any::AnyRow| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .filter(|&(_, lat, lon)| !c.contains(LatLon { lat, lon }))
            .map(|(id, _, _)| id)
            .collect())
    }

    /// The total when the page is past the end (the page query then returns no row).
    async fn count_matches(&self, f: &Filters) -> Result<u64, StoreError> {
        let mut a = Args::default();
        let ctes = self.search_ctes(f, "", "", &mut a);
        let n: i64 = a
            .bind(sqlx::query(&format!("{ctes} SELECT COUNT(*) FROM hits")))
            .try_map(|r: sqlx::any::AnyRow| r.try_get(0))
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The hit with the least exact distance (then code).
fn nearest_of(items: Vec<SearchHit>) -> Option<SearchHit> {
    items.into_iter().min_by(|a, b| {
        a.distance_km
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.distance_km.unwrap_or(f64::INFINITY))
            .then_with(|| a.pile.code.cmp(&b.pile.code))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kilometres per degree of latitude.
    const KM_PER_DEG: f64 = EARTH_KM * PI / 180.0;

    fn ll(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }

    #[test]
    fn freshness_default_is_linear_in_the_heartbeat() {
        let (slope, base) = freshness_coefficients();
        for hb in [1, 5, 30, 60, 61, 300, 3600, 86_400] {
            assert_eq!(default_freshness_secs(hb), slope * hb + base, "{hb}");
        }
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(
            like_pattern("Fu%t_i\\an", Backend::Sqlite),
            "%fu\\%t\\_i\\\\an%"
        );
        assert_eq!(like_pattern("ÄB", Backend::Sqlite), "%Äb%");
        assert_eq!(like_pattern("ÄB", Backend::Postgres), "%äb%");
    }

    #[test]
    fn metric_approximates_the_great_circle() {
        // Within a city, the square root of the metric is the distance to well under 0.1 %.
        let o = ll(22.54, 114.06);
        let m = Metric::new(o);
        for (lat, lon) in [(22.60, 114.10), (22.40, 113.95), (22.54, 114.30)] {
            let p = ll(lat, lon);
            let approx = m.eval(p).sqrt() * KM_PER_DEG;
            let exact = o.distance_km(p);
            assert!((approx / exact - 1.0).abs() < 1e-3, "{approx} {exact}");
        }
        // Across the antimeridian, the short way round.
        let m = Metric::new(ll(0.0, 179.9));
        assert!((m.eval(ll(0.0, -179.9)).sqrt() - 0.2).abs() < 1e-9);
    }

    #[test]
    fn bounds_around_hold_the_circle() {
        for (lat, lon, km) in [
            (22.54, 114.06, 5.0),
            (60.0, 10.0, 500.0),
            (-33.9, 151.2, 120.0),
            (0.0, 179.5, 200.0),
            (0.0, -179.5, 200.0),
            (88.0, 0.0, 400.0),
        ] {
            let c = ll(lat, lon);
            let b = Bounds::around(c, km);
            let circle = Circle::new(c, km);
            for i in 0..360 {
                for frac in [0.5, 0.999] {
                    let p = destination(c, f64::from(i), km * frac);
                    assert!(p.lat >= b.south && p.lat <= b.north, "{p:?} {b:?}");
                    let lon_ok = match b.lon {
                        LonRange::All => true,
                        LonRange::Within(w, e) => p.lon >= w && p.lon <= e,
                        LonRange::Wrapping(w, e) => p.lon >= w || p.lon <= e,
                    };
                    assert!(lon_ok, "{p:?} {b:?}");
                    // Inside points are never beyond the outer band edge.
                    if let Some(outer2) = circle.outer2 {
                        assert!(circle.metric.eval(p) <= outer2, "{p:?}");
                    }
                }
                // Outside points are never inside the inner band edge.
                let p = destination(c, f64::from(i), km * 1.001);
                assert!(circle.metric.eval(p) > circle.inner2, "{p:?}");
            }
        }
        assert!(matches!(
            Bounds::around(ll(0.0, 179.5), 200.0).lon,
            LonRange::Wrapping(..)
        ));
        assert_eq!(Bounds::around(ll(88.0, 0.0), 400.0).lon, LonRange::All);
    }

    #[test]
    fn the_band_is_thin_away_from_the_poles() {
        let c = Circle::new(ll(22.54, 114.06), 10.0);
        let (inner, outer) = (
            c.inner2.sqrt() * KM_PER_DEG,
            c.outer2.map(f64::sqrt).unwrap_or(f64::INFINITY) * KM_PER_DEG,
        );
        assert!(inner > 9.9 && outer < 10.1, "{inner} {outer}");
    }
}

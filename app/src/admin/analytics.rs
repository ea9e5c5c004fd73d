//! `/admin/analytics`: per site or per pile over a chosen time range — utilisation, blocked
//! minutes, reservations by outcome, sensor uptime — as an SVG chart rendered on the server
//! (and updated in place in the browser), plus a CSV export.

use super::{
    api::{
        analytics::{admin_analytics, AnalyticsView, BucketFigures},
        fleet::{admin_piles, admin_site_names},
    },
    time::to_local_input,
    ui::Failure,
};
use crate::{
    format::{clock_time, date_time},
    i18n::{admin::A, use_i18n, T},
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/admin/analytics?site=&pile=&from=&to=`
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k)).filter(|v| !v.is_empty());
    let site = move || param("site").and_then(|s| s.parse::<i64>().ok());
    let pile = move || param("pile").and_then(|s| s.parse::<i64>().ok());
    let sites = Resource::new(|| (), |_| admin_site_names());
    let piles = Resource::new(site, |site| async move {
        match site {
            Some(s) => admin_piles(Some(s), None, None).await.map(|l| l.piles),
            None => Ok(Vec::new()),
        }
    });
    let data = Resource::new(
        move || (site(), pile(), param("from"), param("to")),
        |(site, pile, from, to)| async move {
            if site.is_none() && pile.is_none() {
                return Ok(None);
            }
            admin_analytics(site, pile, from, to).await.map(Some)
        },
    );
    let export = move || {
        let mut q = Vec::new();
        for k in ["site", "pile", "from", "to"] {
            if let Some(v) = param(k) {
                q.push(format!("{k}={}", v.replace(':', "%3A")));
            }
        }
        format!("/api/admin/analytics.csv?{}", q.join("&"))
    };
    let preset = move |hours: i64| {
        let mut q = Vec::new();
        if let Some(s) = site() {
            q.push(format!("site={s}"));
        }
        if let Some(p) = pile() {
            q.push(format!("pile={p}"));
        }
        q.push(format!("hours={hours}"));
        format!("/admin/analytics?{}", q.join("&"))
    };
    view! {
        <section class="panel">
            <h1>{i18n.a(A::AnalyticsTitle)}</h1>
            <p class="hint">{i18n.a(A::AnalyticsIntro)}</p>
            <form method="get" action="/admin/analytics" class="filters admin-filters" data-testid="analytics-form">
                <label>
                    <span>{i18n.a(A::Site)}</span>
                    <Transition fallback=|| view! { <select name="site"></select> }>
                        {move || Suspend::new(async move {
                            let current = site();
                            let list = sites.await.unwrap_or_default();
                            view! {
                                <select name="site" data-testid="analytics-site">
                                    <option value="">"—"</option>
                                    {list.into_iter().map(|(id, name)| view! { <option value=id selected=current == Some(id)>{name}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <label>
                    <span>{i18n.a(A::Pile)}</span>
                    <Transition fallback=|| view! { <select name="pile"></select> }>
                        {move || Suspend::new(async move {
                            let current = pile();
                            let list = piles.await.unwrap_or_default();
                            view! {
                                <select name="pile" data-testid="analytics-pile">
                                    <option value="">{i18n.a(A::AllPiles)}</option>
                                    {list.into_iter().map(|p| view! { <option value=p.id selected=current == Some(p.id)>{p.code}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <label>
                    <span>{i18n.a(A::From)}</span>
                    <input type="datetime-local" name="from" value=move || param("from").unwrap_or_default()/>
                </label>
                <label>
                    <span>{i18n.a(A::To)}</span>
                    <input type="datetime-local" name="to" value=move || param("to").unwrap_or_default()/>
                </label>
                <button type="submit" class="button">{i18n.a(A::Show)}</button>
            </form>
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(None) => view! { <p class="empty">{i18n.a(A::ChooseScope)}</p> }.into_any(),
                        Ok(Some(a)) => view! {
                            <p class="range">
                                {format!("{} – {}", date_time(a.from), date_time(a.to))} " · "
                                <a href=move || with_range(&preset(24), a.to - 24 * 3_600_000, a.to)>{i18n.a(A::Last24h)}</a> " · "
                                <a href=move || with_range(&preset(168), a.to - 7 * 24 * 3_600_000, a.to)>{i18n.a(A::Last7d)}</a> " · "
                                <a href=export data-testid="export-csv" download="analytics.csv">{i18n.a(A::ExportCsv)}</a>
                            </p>
                            <Report a/>
                        }.into_any(),
                        Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `base` (a preset link) with an explicit range instead of `hours=`.
fn with_range(base: &str, from: i64, to: i64) -> String {
    let base = base.split("&hours=").next().unwrap_or(base);
    let base = base.split("?hours=").next().unwrap_or(base);
    let sep = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{sep}from={}&to={}",
        to_local_input(from).replace(':', "%3A"),
        to_local_input(to).replace(':', "%3A")
    )
}

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

#[component]
fn Report(a: AnalyticsView) -> impl IntoView {
    let i18n = use_i18n();
    let t = a.totals;
    let outcomes = a.outcomes.clone();
    let total_res: i64 = outcomes.iter().map(|(_, n)| n).sum();
    view! {
        <div class="kpis" data-testid="kpis">
            <div class="kpi"><span class="kpi-value" data-testid="kpi-utilisation">{pct(t.utilisation)}</span><span>{i18n.a(A::Utilisation)}</span></div>
            <div class="kpi"><span class="kpi-value" data-testid="kpi-blocked">{format!("{:.0}", t.blocked_minutes)}</span><span>{i18n.a(A::BlockedMinutes)}</span></div>
            <div class="kpi"><span class="kpi-value" data-testid="kpi-uptime">{pct(t.uptime)}</span><span>{i18n.a(A::SensorUptime)}</span></div>
            <div class="kpi"><span class="kpi-value">{total_res}</span><span>{i18n.a(A::NavReservations)}</span></div>
        </div>
        <Chart buckets=a.buckets.clone()/>
        <div class="admin-columns">
            <div>
                <h2>{i18n.a(A::ByOutcome)}</h2>
                <OutcomeBars outcomes/>
            </div>
            <div>
                <h2>{i18n.a(A::Piles)}</h2>
                <div class="table-wrap">
                <table class="table" data-testid="pile-figures">
                    <thead><tr>
                        <th scope="col">{i18n.a(A::Pile)}</th>
                        <th scope="col">{i18n.a(A::Utilisation)}</th>
                        <th scope="col">{i18n.a(A::BlockedMinutes)}</th>
                        <th scope="col">{i18n.a(A::SensorUptime)}</th>
                    </tr></thead>
                    <tbody>
                        {a.piles.into_iter().map(|p| view! {
                            <tr>
                                <td><a href=format!("/admin/piles/{}", p.pile) class="code">{p.code}</a></td>
                                <td class="num">{pct(p.figures.utilisation)}</td>
                                <td class="num">{format!("{:.0}", p.figures.blocked_minutes)}</td>
                                <td class="num">{pct(p.figures.uptime)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </div>
        </div>
    }
}

const W: f64 = 760.0;
const H: f64 = 260.0;
const ML: f64 = 48.0;
const MR: f64 = 56.0;
const MT: f64 = 14.0;
const MB: f64 = 34.0;

/// Utilisation per bucket as bars (left axis, %), blocked minutes as a line (right axis),
/// sensor uptime as a dashed line (left axis).
#[component]
fn Chart(buckets: Vec<BucketFigures>) -> impl IntoView {
    let i18n = use_i18n();
    let n = buckets.len().max(1) as f64;
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let bw = pw / n;
    let max_blocked = buckets
        .iter()
        .map(|b| b.figures.blocked_minutes)
        .fold(0.0f64, f64::max)
        .max(1.0)
        .ceil();
    let y_share = move |v: f64| MT + ph - v.clamp(0.0, 1.0) * ph;
    let y_blocked = move |v: f64| MT + ph - (v / max_blocked).clamp(0.0, 1.0) * ph;
    let line = |f: &dyn Fn(&BucketFigures) -> f64| {
        buckets
            .iter()
            .enumerate()
            .map(|(i, b)| format!("{:.1},{:.1}", ML + (i as f64 + 0.5) * bw, f(b)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let blocked_line = line(&|b| y_blocked(b.figures.blocked_minutes));
    let uptime_line = line(&|b| y_share(b.figures.uptime));
    let span = buckets.last().map_or(0, |b| b.to) - buckets.first().map_or(0, |b| b.from);
    let label = move |ms: i64| {
        if span > 2 * 86_400_000 {
            date_time(ms)[5..10].to_owned()
        } else {
            clock_time(ms)
        }
    };
    let every = (buckets.len() / 6).max(1);
    view! {
        <figure class="chart" data-testid="chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=i18n.a(A::ChartLabel) xmlns="http://www.w3.org/2000/svg">
                <title>{i18n.a(A::ChartLabel)}</title>
                {[0.0, 0.25, 0.5, 0.75, 1.0].into_iter().map(|v| view! {
                    <line x1=ML x2=W - MR y1=y_share(v) y2=y_share(v) class="grid"/>
                    <text x=ML - 6.0 y=y_share(v) + 4.0 text-anchor="end" class="axis">{format!("{:.0}%", v * 100.0)}</text>
                    <text x=W - MR + 6.0 y=y_share(v) + 4.0 class="axis blocked-axis">{if max_blocked < 10.0 { format!("{:.1}", max_blocked * v) } else { format!("{:.0}", max_blocked * v) }}</text>
                }).collect_view()}
                {buckets.iter().enumerate().map(|(i, b)| {
                    let h = b.figures.utilisation.clamp(0.0, 1.0) * ph;
                    view! {
                        <rect class="bar" x=ML + i as f64 * bw + 1.0 y=MT + ph - h width=(bw - 2.0).max(1.0) height=h>
                            <title>{format!("{} · {} · {:.0} min", date_time(b.from), pct(b.figures.utilisation), b.figures.blocked_minutes)}</title>
                        </rect>
                    }
                }).collect_view()}
                <polyline class="uptime-line" points=uptime_line fill="none"/>
                <polyline class="blocked-line" points=blocked_line fill="none"/>
                {buckets.iter().enumerate().filter(|(i, _)| i % every == 0).map(|(i, b)| view! {
                    <text x=ML + i as f64 * bw y=H - MB + 18.0 class="axis">{label(b.from)}</text>
                }).collect_view()}
            </svg>
            <figcaption class="chart-legend">
                <span><i class="swatch bar-swatch"></i>{i18n.a(A::Utilisation)}</span>
                <span><i class="swatch blocked-swatch"></i>{i18n.a(A::BlockedMinutes)}" →"</span>
                <span><i class="swatch uptime-swatch"></i>{i18n.a(A::SensorUptime)}</span>
            </figcaption>
        </figure>
    }
}

/// Reservations by outcome as horizontal bars.
#[component]
fn OutcomeBars(outcomes: Vec<(String, i64)>) -> impl IntoView {
    let i18n = use_i18n();
    if outcomes.is_empty() {
        return view! { <p class="empty">{i18n.a(A::NoneFound)}</p> }.into_any();
    }
    let max = outcomes.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
    let row_h = 26.0;
    let h = row_h * outcomes.len() as f64 + 4.0;
    view! {
        <svg class="outcomes" viewBox=format!("0 0 360 {h}") role="img" aria-label=i18n.a(A::ByOutcome) data-testid="outcomes">
            {outcomes.into_iter().enumerate().map(|(i, (status, count))| {
                let t = match status.as_str() {
                    "held" => T::OutcomeHeld,
                    "fulfilled" => T::OutcomeFulfilled,
                    "cancelled" => T::OutcomeCancelled,
                    "expired" => T::OutcomeExpired,
                    "blocked" => T::OutcomeBlocked,
                    _ => T::OutcomeVoided,
                };
                let y = i as f64 * row_h + 2.0;
                let w = count as f64 / max * 190.0;
                view! {
                    <text x="0" y=y + 17.0 class="axis">{move || t.get(i18n.lang())}</text>
                    <rect x="120" y=y + 3.0 width=w.max(1.0) height=row_h - 8.0 class="outcome-bar" data-outcome=status.clone()/>
                    <text x=124.0 + w y=y + 17.0 class="axis">{count}</text>
                }
            }).collect_view()}
        </svg>
    }
    .into_any()
}

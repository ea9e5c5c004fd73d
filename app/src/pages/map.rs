//! The map page: every site on a map, colored by whether it has an idle pile, and the list
//! of piles with state, reason and how fresh the bay reading is. Server-rendered, then kept
//! live by the event feed.

use crate::{
    api::{list_piles, PileCard, PileList},
    format::{age, availability_label},
};
use domain::{Availability, Occupancy, PileId, SiteId};
use leptos::prelude::*;
use std::collections::HashMap;

/// The live part of a pile.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Live {
    availability: Availability,
    occupancy: Occupancy,
    reading_at: Option<i64>,
}

/// `/`: the map and the list.
#[component]
pub fn MapPage() -> impl IntoView {
    let data = OnceResource::new(list_piles());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading piles…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) => view! { <LiveMap list/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{format!("Could not load piles: {e}")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LiveMap(list: PileList) -> impl IntoView {
    let now = RwSignal::new(list.now);
    let live: HashMap<PileId, RwSignal<Live>> = list
        .piles
        .iter()
        .map(|p| {
            (
                p.id,
                RwSignal::new(Live {
                    availability: p.availability,
                    occupancy: p.occupancy,
                    reading_at: p.reading_at,
                }),
            )
        })
        .collect();
    let live = StoredValue::new(live);
    let hydrated = RwSignal::new(false);

    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            hydrated.set(true);
            now.set(crate::live::now_ms());
            crate::live::subscribe(move |event| match event {
                domain::LiveEvent::Pile {
                    pile,
                    availability,
                    occupancy,
                    reading_at,
                    ..
                } => {
                    if let Some(sig) = live.with_value(|m| m.get(&pile).copied()) {
                        sig.set(Live {
                            availability,
                            occupancy,
                            reading_at: reading_at.map(|m| m.0),
                        });
                    }
                }
                domain::LiveEvent::Heartbeat { pile, at } => {
                    if let Some(sig) = live.with_value(|m| m.get(&pile).copied()) {
                        sig.update(|l| l.reading_at = Some(at.0));
                    }
                }
            });
            let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                now.set(crate::live::now_ms())
            });
            if let Some(w) = web_sys::window() {
                use wasm_bindgen::JsCast;
                let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    1000,
                );
            }
            tick.forget();
        }
    });

    let sig = move |id: PileId| live.with_value(|m| m.get(&id).copied());
    let idle_count = {
        let ids: Vec<PileId> = list.piles.iter().map(|p| p.id).collect();
        move || {
            ids.iter()
                .filter(|id| sig(**id).is_some_and(|s| s.get().availability.is_idle()))
                .count()
        }
    };
    let total = list.piles.len();

    // Group piles by site, keeping the server's order.
    let mut sites: Vec<(SiteId, Vec<PileCard>)> = Vec::new();
    for p in list.piles {
        match sites.last_mut() {
            Some((id, v)) if *id == p.site => v.push(p),
            _ => sites.push((p.site, vec![p])),
        }
    }
    let markers = site_markers(&sites);

    view! {
        <div class="layout" data-hydrated=move || hydrated.get().to_string()>
            <section class="map-panel" aria-label="Map of sites">
                <p class="summary" aria-live="polite">
                    <strong data-testid="idle-count">{idle_count}</strong>
                    {format!(" of {total} piles idle now")}
                    <span class="live-dot" title="Live updates">{move || if hydrated.get() { " • live" } else { "" }}</span>
                </p>
                <svg class="map" viewBox="0 0 1000 700" role="img" aria-label="Sites by location; green has an idle pile">
                    <rect x="0" y="0" width="1000" height="700" class="map-bg"/>
                    {markers
                        .into_iter()
                        .map(|(site, name, x, y, piles)| {
                            let state = move || {
                                let idle = piles.iter().any(|id| sig(*id).is_some_and(|s| s.get().availability.is_idle()));
                                if idle { "idle" } else { "busy" }
                            };
                            view! {
                                <g class="marker" data-site-id=site.0 data-state=state>
                                    <circle cx=x cy=y r="9"/>
                                    <title>{name}</title>
                                </g>
                            }
                        })
                        .collect_view()}
                </svg>
                <Legend/>
            </section>
            <section class="list-panel" aria-label="Piles">
                {sites
                    .into_iter()
                    .map(|(site, piles)| {
                        let head = piles.first().map(|p| (p.site_name.clone(), p.address.clone())).unwrap_or_default();
                        view! {
                            <article class="site" data-site-id=site.0>
                                <h2>{head.0}</h2>
                                <p class="address">{head.1}</p>
                                <ul class="piles">
                                    {piles.into_iter().map(|p| pile_row(p, sig, now)).collect_view()}
                                </ul>
                            </article>
                        }
                    })
                    .collect_view()}
            </section>
        </div>
    }
}

fn pile_row(
    p: PileCard,
    sig: impl Fn(PileId) -> Option<RwSignal<Live>> + Copy + Send + Sync + 'static,
    now: RwSignal<i64>,
) -> impl IntoView {
    let id = p.id;
    let live = move || sig(id).map(|s| s.get());
    let state = move || live().map_or("stale", |l| l.availability.as_str());
    let label = move || live().map_or("", |l| availability_label(l.availability));
    let seen = move || age(now.get(), live().and_then(|l| l.reading_at));
    view! {
        <li class="pile" data-pile-id=id.0 data-state=state>
            <span class="badge" data-state=state>{label}</span>
            <span class="code">{p.code}</span>
            <span class="spec">{format!("{} · {} kW", p.connector.label(), p.max_kw)}</span>
            <span class="price">{p.price_text}</span>
            <span class="seen">{seen}</span>
        </li>
    }
}

type Marker = (SiteId, String, f64, f64, Vec<PileId>);

/// Projects site positions into the 1000×700 map box (equirectangular, with a margin).
fn site_markers(sites: &[(SiteId, Vec<PileCard>)]) -> Vec<Marker> {
    let points: Vec<(SiteId, String, f64, f64, Vec<PileId>)> = sites
        .iter()
        .filter_map(|(id, piles)| {
            let first = piles.first()?;
            Some((
                *id,
                first.site_name.clone(),
                first.lat,
                first.lon,
                piles.iter().map(|p| p.id).collect(),
            ))
        })
        .collect();
    let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) =
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, _, lat, lon, _) in &points {
        min_lat = min_lat.min(*lat);
        max_lat = max_lat.max(*lat);
        min_lon = min_lon.min(*lon);
        max_lon = max_lon.max(*lon);
    }
    let span_lat = (max_lat - min_lat).max(1e-6);
    let span_lon = (max_lon - min_lon).max(1e-6);
    points
        .into_iter()
        .map(|(id, name, lat, lon, piles)| {
            let x = 40.0 + (lon - min_lon) / span_lon * 920.0;
            let y = 40.0 + (max_lat - lat) / span_lat * 620.0;
            (
                id,
                name,
                (x * 10.0).round() / 10.0,
                (y * 10.0).round() / 10.0,
                piles,
            )
        })
        .collect()
}

#[component]
fn Legend() -> impl IntoView {
    let items = [
        ("idle", "Idle — bay free"),
        ("charging", "Charging"),
        ("reserved", "Reserved"),
        ("blocked", "Blocked"),
        ("stale", "Sensor silent"),
        ("faulted", "Faulted / offline"),
    ];
    view! {
        <ul class="legend" aria-label="Legend">
            {items.into_iter().map(|(state, text)| view! { <li><span class="badge" data-state=state>{text}</span></li> }).collect_view()}
        </ul>
    }
}

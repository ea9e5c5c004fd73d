//! `/`: the map and the list of piles, together on wide screens and switchable on phones.
//! Filters live in the URL (a plain GET form, so they work before hydration too); the list
//! is nearest first from the driver's position (geolocation when allowed, else the centre
//! of the city); markers and rows follow the live feed without reload.

use crate::{
    api::{list_piles, Filters, PileCard, PileList},
    components::{alerts::WatchAlerts, badge::StateBadge, hold_card::HoldCard},
    format::{age, availability_text, fill},
    i18n::{use_i18n, Lang, T},
    live::{use_clock, use_live},
};
use domain::{Availability, ConnectorType, LiveEvent, PileId};
use leptos::{html, prelude::*};
use leptos_router::{
    components::Form,
    hooks::{use_query_map, use_url},
    params::ParamsMap,
};
use serde::Serialize;
use std::collections::HashMap;

fn filters_from(q: &ParamsMap) -> Filters {
    let num = |k: &str| {
        q.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    Filters {
        connector: q.get("connector").filter(|c| !c.is_empty()),
        min_kw: num("min_kw"),
        idle: q
            .get("idle")
            .is_some_and(|v| v == "on" || v == "true" || v == "1"),
        q: q.get("q").filter(|t| !t.trim().is_empty()),
        lat: num("lat"),
        lon: num("lon"),
    }
}

/// `/`
#[component]
pub fn MapPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let filters = Memo::new(move |_| filters_from(&query.get()));
    let data = Resource::new(move || filters.get(), list_piles);
    let view_mode = Memo::new(move |_| {
        query
            .with(|q| q.get("view"))
            .filter(|v| v == "list")
            .map_or("map", |_| "list")
    });
    locate_driver(filters);
    view! {
        <HoldCard/>
        <WatchAlerts/>
        <FilterForm filters/>
        <Transition fallback=move || view! { <p class="loading">{i18n.t(T::Loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) => view! { <Results list view_mode/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{format!("{}: {e}", T::SomethingWrong.get(i18n.lang()))}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Asks for the browser's position once and, if allowed, sorts by distance from it.
fn locate_driver(filters: Memo<Filters>) {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::{closure::Closure, JsCast};
            if filters.get_untracked().lat.is_some() {
                return;
            }
            let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
                return;
            };
            let navigate = leptos_router::hooks::use_navigate();
            let url = use_url();
            let ok = Closure::<dyn FnMut(web_sys::Position)>::new(move |pos: web_sys::Position| {
                let c = pos.coords();
                let mut params = url.get_untracked().search_params().clone();
                params.replace("lat", format!("{:.5}", c.latitude()));
                params.replace("lon", format!("{:.5}", c.longitude()));
                navigate(
                    &format!("/{}", params.to_query_string()),
                    leptos_router::NavigateOptions {
                        replace: true,
                        ..Default::default()
                    },
                );
            });
            let _ = geo.get_current_position(ok.as_ref().unchecked_ref());
            ok.forget();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = filters;
    });
}

#[component]
fn FilterForm(filters: Memo<Filters>) -> impl IntoView {
    let i18n = use_i18n();
    let f = move || filters.get();
    view! {
        <Form method="GET" action="" attr:class="filters" attr:aria-label=i18n.t(T::FiltersTitle)>
            <label>
                <span>{i18n.t(T::FilterSearch)}</span>
                <input type="search" name="q" prop:value=move || f().q.unwrap_or_default() data-testid="filter-q"/>
            </label>
            <label>
                <span>{i18n.t(T::FilterConnector)}</span>
                <select name="connector" data-testid="filter-connector">
                    <option value="" selected=move || f().connector.is_none()>{i18n.t(T::FilterAnyConnector)}</option>
                    {ConnectorType::ALL
                        .into_iter()
                        .map(|c| view! { <option value=c.as_str() selected=move || f().connector.as_deref() == Some(c.as_str())>{c.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                <span>{i18n.t(T::FilterMinPower)}</span>
                <input type="number" name="min_kw" min="0" max="400" step="1" inputmode="numeric"
                    prop:value=move || f().min_kw.map(|k| k.to_string()).unwrap_or_default() data-testid="filter-min-kw"/>
            </label>
            <label class="check">
                <input type="checkbox" name="idle" value="on" prop:checked=move || f().idle data-testid="filter-idle"/>
                <span>{i18n.t(T::FilterIdleOnly)}</span>
            </label>
            {move || f().lat.map(|lat| view! { <input type="hidden" name="lat" value=lat.to_string()/> })}
            {move || f().lon.map(|lon| view! { <input type="hidden" name="lon" value=lon.to_string()/> })}
            <button type="submit" class="button" data-testid="filter-apply">{i18n.t(T::FilterApply)}</button>
            <a class="button secondary" href="/">{i18n.t(T::FilterClear)}</a>
        </Form>
    }
}

/// A pile as `map.js` draws it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Marker {
    id: i64,
    lat: f64,
    lon: f64,
    state: &'static str,
    label: String,
    state_label: &'static str,
    href: String,
}

impl Marker {
    fn of(p: &PileCard, lang: Lang) -> Self {
        Marker {
            id: p.id.0,
            lat: p.lat,
            lon: p.lon,
            state: p.availability.as_str(),
            label: format!(
                "{} · {} · {} {} kW",
                p.code,
                p.site_name,
                p.connector.label(),
                p.max_kw
            ),
            state_label: availability_text(p.availability).get(lang),
            href: format!("/piles/{}", p.id.0),
        }
    }
}

/// The live part of a pile.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Live {
    availability: Availability,
    reading_at: Option<i64>,
}

#[component]
fn Results(list: PileList, view_mode: Memo<&'static str>) -> impl IntoView {
    let i18n = use_i18n();
    let now = use_clock();
    let live: HashMap<PileId, RwSignal<Live>> = list
        .piles
        .iter()
        .map(|p| {
            (
                p.id,
                RwSignal::new(Live {
                    availability: p.availability,
                    reading_at: p.reading_at,
                }),
            )
        })
        .collect();
    let live = StoredValue::new(live);
    let hydrated = RwSignal::new(false);
    let map_ref = NodeRef::<html::Div>::new();
    let url = use_url();
    let href_with = move |k: &'static str, v: &'static str| {
        let mut p = url.get().search_params().clone();
        p.replace(k, v.to_owned());
        format!("/{}", p.to_query_string())
    };

    // Live updates: rows and markers.
    use_live().on_event(move |e| match e {
        LiveEvent::Pile {
            pile,
            availability,
            reading_at,
            ..
        } => {
            if let Some(sig) = live.try_with_value(|m| m.get(pile).copied()).flatten() {
                let _ = sig.try_set(Live {
                    availability: *availability,
                    reading_at: reading_at.map(|m| m.0),
                });
                if let Some(el) = map_ref.get_untracked() {
                    map_update(&el, *pile, availability.as_str());
                }
            }
        }
        LiveEvent::Heartbeat { pile, at } => {
            if let Some(sig) = live.try_with_value(|m| m.get(pile).copied()).flatten() {
                let _ = sig.try_update(|l| l.reading_at = Some(at.0));
            }
        }
        _ => {}
    });

    let markers_json = {
        let lang = i18n.lang();
        let markers: Vec<Marker> = list.piles.iter().map(|p| Marker::of(p, lang)).collect();
        serde_json::to_string(&markers).unwrap_or_default()
    };
    Effect::new(move |_| {
        hydrated.set(true);
        if let Some(el) = map_ref.get() {
            map_render(&el, markers_json.clone());
        }
    });

    let ids: Vec<PileId> = list.piles.iter().map(|p| p.id).collect();
    let total = ids.len();
    let idle_count = Memo::new(move |_| {
        ids.iter()
            .filter(|id| {
                live.with_value(|m| m.get(id).is_some_and(|s| s.get().availability.is_idle()))
            })
            .count()
    });

    view! {
        <div class="layout" data-view=move || view_mode.get() data-hydrated=move || hydrated.get().to_string()>
            <nav class="view-switch" aria-label="View">
                <a href=move || href_with("view", "map") aria-current=move || (view_mode.get() == "map").then_some("page")>{i18n.t(T::ViewMap)}</a>
                <a href=move || href_with("view", "list") aria-current=move || (view_mode.get() == "list").then_some("page")>{i18n.t(T::ViewList)}</a>
            </nav>
            <section class="map-panel" aria-label=i18n.t(T::MapLabel)>
                <p class="summary" aria-live="polite">
                    <span data-testid="idle-summary">{move || fill(T::IdleSummary.get(i18n.lang()), &[&idle_count.get().to_string(), &total.to_string()])}</span>
                    <strong data-testid="idle-count" hidden>{idle_count}</strong>
                    <span class="live-dot">{move || if hydrated.get() { format!(" • {}", T::Live.get(i18n.lang())) } else { String::new() }}</span>
                </p>
                <div class="map" node_ref=map_ref data-testid="map"></div>
                <Legend/>
            </section>
            <section class="list-panel" aria-label=i18n.t(T::ListLabel)>
                <p class="count">{move || fill(T::ResultsCount.get(i18n.lang()), &[&total.to_string()])}</p>
                {(total == 0).then(|| view! { <p class="empty">{i18n.t(T::NoResults)}</p> })}
                <ul class="piles">
                    {list.piles.into_iter().map(|p| pile_row(p, live, now)).collect_view()}
                </ul>
            </section>
        </div>
    }
}

fn pile_row(
    p: PileCard,
    live: StoredValue<HashMap<PileId, RwSignal<Live>>>,
    now: RwSignal<i64>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = p.id;
    let sig = live.with_value(|m| m.get(&id).copied());
    let current = move || sig.map(|s| s.get());
    let availability = Signal::derive(move || {
        current().map_or(Availability::Busy(domain::Reason::Stale), |l| {
            l.availability
        })
    });
    let state = move || availability.get().as_str();
    let seen = move || age(i18n.lang(), now.get(), current().and_then(|l| l.reading_at));
    let distance = p.distance_km.map(|d| format!("{d:.1} km"));
    view! {
        <li class="pile" data-pile-id=id.0 data-state=state>
            <a class="pile-link" href=format!("/piles/{}", id.0)>
                <span class="pile-head">
                    <StateBadge availability/>
                    <span class="code">{p.code}</span>
                    <span class="site">{p.site_name}</span>
                    {distance.map(|d| view! { <span class="distance">{d}</span> })}
                </span>
                <span class="spec">{format!("{} · {} kW", p.connector.label(), p.max_kw)}</span>
                <span class="price">{p.price_text}</span>
                <span class="seen">{seen}</span>
            </a>
        </li>
    }
}

#[component]
fn Legend() -> impl IntoView {
    let i18n = use_i18n();
    let items = [
        Availability::Idle,
        Availability::Busy(domain::Reason::Charging),
        Availability::Busy(domain::Reason::Reserved),
        Availability::Busy(domain::Reason::Blocked),
        Availability::Busy(domain::Reason::Stale),
        Availability::Busy(domain::Reason::Faulted),
    ];
    view! {
        <ul class="legend" aria-label=i18n.t(T::Legend)>
            {items.into_iter().map(|a| view! { <li><StateBadge availability=Signal::stored(a)/></li> }).collect_view()}
        </ul>
    }
}

fn map_render(el: &web_sys_el::Element, json: String) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{closure::Closure, JsCast, JsValue};
        let el: web_sys::Element = el.clone().into();
        let call = move || -> bool {
            let Some(w) = web_sys::window() else {
                return true;
            };
            let Ok(api) = js_sys::Reflect::get(&w, &JsValue::from_str("chargebayMap")) else {
                return false;
            };
            if api.is_undefined() {
                return false;
            }
            let Ok(render) = js_sys::Reflect::get(&api, &JsValue::from_str("render")) else {
                return false;
            };
            let Ok(f) = render.dyn_into::<js_sys::Function>() else {
                return false;
            };
            f.call2(&api, &el, &JsValue::from_str(&json))
                .map(|v| v.as_bool().unwrap_or(false))
                .unwrap_or(false)
        };
        if !call() {
            // Leaflet loads with `defer`: try again shortly.
            let retry = Closure::<dyn FnMut()>::new(move || {
                let _ = call();
            });
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    retry.as_ref().unchecked_ref(),
                    300,
                );
            }
            retry.forget();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (el, json);
}

fn map_update(el: &web_sys_el::Element, pile: PileId, state: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, JsValue};
        let Some(w) = web_sys::window() else { return };
        let Ok(api) = js_sys::Reflect::get(&w, &JsValue::from_str("chargebayMap")) else {
            return;
        };
        let Ok(update) = js_sys::Reflect::get(&api, &JsValue::from_str("update")) else {
            return;
        };
        if let Ok(f) = update.dyn_into::<js_sys::Function>() {
            let el: &web_sys::Element = el.as_ref();
            let _ = f.call3(
                &api,
                el,
                &JsValue::from_f64(pile.0 as f64),
                &JsValue::from_str(state),
            );
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (el, pile, state);
}

/// The DOM element type behind a `NodeRef<html::Div>`.
mod web_sys_el {
    pub type Element = leptos::web_sys::HtmlDivElement;
}

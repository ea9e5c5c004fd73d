//! `/piles/:id`: one pile — site, address, connector, power, price, state and reason, the
//! last hours of bay occupancy, Reserve (when idle) or Notify me, and navigation.

use crate::{
    api::{pile_detail, reserve, watch_pile, PileInfo, ReserveFailure, Stretch, TIMELINE_MS},
    components::{
        alerts::WatchAlerts,
        badge::StateBadge,
        hold_card::{directions_href, use_hold_version, HoldCard},
    },
    format::{age, availability_text},
    i18n::{use_i18n, T},
    live::{use_clock, use_live},
    shell::use_auth,
};
use domain::{LiveEvent, Occupancy};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// `/piles/:id`
#[component]
pub fn PilePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()))
            .unwrap_or(0)
    });
    let version = use_hold_version();
    let detail = Resource::new(move || (id.get(), version.get()), |(id, _)| pile_detail(id));
    view! {
        <HoldCard/>
        <WatchAlerts/>
        <p><a href="/">{i18n.t(T::BackToMap)}</a></p>
        <Transition fallback=move || view! { <p class="loading">{i18n.t(T::Loading)}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Detail d/> }.into_any(),
                    Err(_) => view! { <section class="panel"><h1>{i18n.t(T::NotFoundTitle)}</h1></section> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Detail(d: PileInfo) -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let version = use_hold_version();
    let now = use_clock();
    let card = d.card.clone();
    let pile_id = card.id;
    let availability = RwSignal::new(card.availability);
    let reading_at = RwSignal::new(card.reading_at);
    use_live().on_event(move |e| match e {
        LiveEvent::Pile {
            pile,
            availability: a,
            reading_at: r,
            ..
        } if *pile == pile_id => {
            let _ = availability.try_set(*a);
            let _ = reading_at.try_set(r.map(|m| m.0));
        }
        LiveEvent::Heartbeat { pile, at } if *pile == pile_id => {
            let _ = reading_at.try_set(Some(at.0));
        }
        _ => {}
    });
    let failure: RwSignal<Option<String>> = RwSignal::new(None);
    let do_reserve = Action::new(move |_: &()| async move {
        match reserve(pile_id.0).await {
            Ok(Ok(_)) => {
                failure.set(None);
                version.update(|v| *v += 1);
            }
            Ok(Err(ReserveFailure::NotIdle(reason))) => failure.set(Some(reason)),
            Ok(Err(ReserveFailure::AlreadyHolding)) => failure.set(Some("already".into())),
            Ok(Err(_)) | Err(_) => failure.set(Some("error".into())),
        }
    });
    let watching = RwSignal::new(false);
    // Set once this component's handlers are live in the browser (effects never run on the
    // server): the app-wide hydration mark can come before a suspended page's own hydration.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let do_watch = Action::new(move |_: &()| async move {
        if watch_pile(pile_id.0).await.is_ok() {
            watching.set(true);
        }
    });
    let signed_in = move || auth.user().is_some();
    let amap = format!(
        "https://uri.amap.com/marker?position={:.6},{:.6}&name={}",
        card.lon, card.lat, card.code
    );
    view! {
        <article class="panel pile-detail" data-pile-id=pile_id.0 data-state=move || availability.get().as_str() data-ready=move || ready.get().to_string()>
            <h1>{format!("{} · {}", card.code, card.site_name)}</h1>
            <p class="state-line">
                <StateBadge availability/>
                " "
                <span class="seen">{move || age(i18n.lang(), now.get(), reading_at.get())}</span>
            </p>
            <dl class="facts">
                <dt>{i18n.t(T::Address)}</dt><dd>{card.address.clone()}</dd>
                <dt>{i18n.t(T::Connector)}</dt><dd>{card.connector.label()}</dd>
                <dt>{i18n.t(T::Power)}</dt><dd>{format!("{} kW", card.max_kw)}</dd>
                <dt>{i18n.t(T::Price)}</dt><dd>{card.price_text.clone()}</dd>
                <dt>{i18n.t(T::Sensor)}</dt><dd>{d.sensor.clone()}</dd>
            </dl>
            <div class="actions">
                {move || {
                    let idle = availability.get().is_idle();
                    match (idle, signed_in()) {
                        (true, true) => view! {
                            <button class="button" on:click=move |_| { do_reserve.dispatch(()); } disabled=move || do_reserve.pending().get() data-testid="reserve">
                                {move || if do_reserve.pending().get() { i18n.t(T::Reserving)() } else { i18n.t(T::Reserve)() }}
                            </button>
                        }.into_any(),
                        (true, false) => view! { <a class="button" href=format!("/signin?next=/piles/{}", pile_id.0)>{i18n.t(T::SignInToReserve)}</a> }.into_any(),
                        (false, true) => view! {
                            <button class="button secondary" on:click=move |_| { do_watch.dispatch(()); } disabled=move || watching.get() data-testid="notify">
                                {move || if watching.get() { i18n.t(T::Watching)() } else { i18n.t(T::NotifyMe)() }}
                            </button>
                        }.into_any(),
                        (false, false) => view! { <a class="button secondary" href=format!("/signin?next=/piles/{}", pile_id.0)>{i18n.t(T::NotifyMe)}</a> }.into_any(),
                    }
                }}
                <a class="button secondary" href=directions_href(card.lat, card.lon)>{i18n.t(T::Navigate)}</a>
                <a class="button secondary" href=amap rel="noopener">"Amap"</a>
            </div>
            {move || failure.get().map(|f| view! { <p class="error" role="alert" data-testid="reserve-error">{
                match f.as_str() {
                    "already" => T::SomethingWrong.get(i18n.lang()).to_owned(),
                    "error" => T::SomethingWrong.get(i18n.lang()).to_owned(),
                    reason => reason.parse::<domain::Reason>().map(|r| availability_text(domain::Availability::Busy(r)).get(i18n.lang()).to_owned()).unwrap_or_else(|_| reason.to_owned()),
                }
            }</p> })}
            <h2>{i18n.t(T::Timeline)}</h2>
            <Timeline stretches=d.timeline.clone() now=d.now/>
        </article>
    }
}

/// The bay's occupancy over the last hours as a bar, labelled for screen readers.
#[component]
fn Timeline(stretches: Vec<Stretch>, now: i64) -> impl IntoView {
    let i18n = use_i18n();
    let start = now - TIMELINE_MS;
    let x = move |t: i64| ((t - start) as f64 / TIMELINE_MS as f64 * 1000.0).clamp(0.0, 1000.0);
    let label = move |o: Occupancy| match o {
        Occupancy::Free => T::TimelineFree,
        Occupancy::Occupied => T::TimelineOccupied,
        Occupancy::Unknown => T::TimelineUnknown,
    };
    let summary = {
        let s = stretches.clone();
        move || {
            s.iter()
                .map(|st| {
                    format!(
                        "{}–{} {}",
                        crate::format::clock_time(st.from),
                        crate::format::clock_time(st.to),
                        label(st.occupancy).get(i18n.lang())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    view! {
        <figure class="timeline">
            <svg viewBox="0 0 1000 40" preserveAspectRatio="none" role="img" aria-label=summary data-testid="timeline">
                {stretches
                    .into_iter()
                    .map(|st| {
                        let (x0, x1) = (x(st.from), x(st.to));
                        view! { <rect x=x0 y="0" width=(x1 - x0).max(0.5) height="40" class=format!("occ-{}", st.occupancy.as_str())/> }
                    })
                    .collect_view()}
            </svg>
            <figcaption class="timeline-axis">
                <span>{crate::format::clock_time(start)}</span>
                <span class="timeline-legend">
                    <span class="swatch occ-free"></span>{i18n.t(T::TimelineFree)}
                    <span class="swatch occ-occupied"></span>{i18n.t(T::TimelineOccupied)}
                    <span class="swatch occ-unknown"></span>{i18n.t(T::TimelineUnknown)}
                </span>
                <span>{crate::format::clock_time(now)}</span>
            </figcaption>
        </figure>
    }
}

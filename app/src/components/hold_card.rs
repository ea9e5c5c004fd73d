//! The driver's active reservation: pile, live countdown, directions, "I'm here", Cancel; and
//! the alert (with one-action alternative) when the hold is lost.

use crate::{
    api::{cancel_hold, check_in, my_hold, reserve, HoldView},
    format::{clock_time, countdown, fill},
    i18n::{use_i18n, T},
    live::{use_clock, use_live},
    shell::use_auth,
};
use domain::{live::Alternative, LiveEvent, Outcome, ReservationStatus};
use leptos::prelude::*;

/// Bumped whenever the driver's hold may have changed (reserve, cancel, alerts).
#[derive(Clone, Copy)]
pub struct HoldVersion(pub RwSignal<u32>);

/// The hold-version context.
pub fn use_hold_version() -> RwSignal<u32> {
    use_context::<HoldVersion>()
        .map(|h| h.0)
        .unwrap_or_else(|| RwSignal::new(0))
}

/// Map/app deep links for directions.
pub fn directions_href(lat: f64, lon: f64) -> String {
    format!("geo:{lat:.6},{lon:.6}")
}

/// While the hold lasts, shares the driver's position (when the browser allows it) once a
/// minute, so a bay taken by someone else is decided at once when the driver is far away.
fn share_position_while_held(id: i64) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{closure::Closure, JsCast};
        let Some(w) = web_sys::window() else { return };
        let Ok(geo) = w.navigator().geolocation() else {
            return;
        };
        let mut last_sent = f64::MIN;
        let send = Closure::<dyn FnMut(web_sys::Position)>::new(move |pos: web_sys::Position| {
            let now = js_sys::Date::now();
            if now - last_sent < 30_000.0 {
                return;
            }
            last_sent = now;
            let c = pos.coords();
            let (lat, lon) = (c.latitude(), c.longitude());
            leptos::task::spawn_local(async move {
                let _ = crate::api::share_position(id, lat, lon).await;
            });
        });
        let options = web_sys::PositionOptions::new();
        options.set_maximum_age(60_000);
        if let Ok(watch) = geo.watch_position_with_error_callback_and_options(
            send.as_ref().unchecked_ref(),
            None,
            &options,
        ) {
            on_cleanup(move || {
                if let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok())
                {
                    geo.clear_watch(watch);
                }
            });
        }
        send.forget();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// The card, shown while the driver holds a pile or right after a hold ended.
#[component]
pub fn HoldCard() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let version = use_hold_version();
    let hold = Resource::new(move || (auth.version.get(), version.get()), |_| my_hold());
    let ended: RwSignal<Option<(ReservationStatus, Option<Alternative>)>> = RwSignal::new(None);
    use_live().on_event(move |e| {
        if let LiveEvent::Hold {
            status,
            alternative,
            ..
        } = e
        {
            if *status != ReservationStatus::Held {
                let _ = ended.try_set(Some((*status, alternative.clone())));
            }
            let _ = version.try_update(|v| *v += 1);
        }
    });
    let checked_in = RwSignal::new(false);
    let now = use_clock();
    let do_cancel = Action::new(move |id: &i64| {
        let id = *id;
        async move {
            if cancel_hold(id).await.is_ok() {
                ended.set(Some((ReservationStatus::Ended(Outcome::Cancelled), None)));
            }
            version.update(|v| *v += 1);
        }
    });
    let do_check_in = Action::new(move |id: &i64| {
        let id = *id;
        async move {
            if check_in(id).await.is_ok() {
                checked_in.set(true);
            }
            version.update(|v| *v += 1);
        }
    });
    let do_alt = Action::new(move |pile: &i64| {
        let pile = *pile;
        async move {
            if let Ok(Ok(_)) = reserve(pile).await {
                ended.set(None);
            }
            version.update(|v| *v += 1);
        }
    });

    let active = move |h: HoldView| {
        let deadline = h.deadline;
        let id = h.id.0;
        share_position_while_held(id);
        view! {
            <section class="hold-card" aria-label=i18n.t(T::YourHold) data-testid="hold-card">
                <h2>{i18n.t(T::YourHold)}</h2>
                <p class="hold-pile"><a href=format!("/piles/{}", h.pile.0)>{format!("{} · {}", h.code, h.site_name)}</a></p>
                <p class="hold-until">{move || fill(T::HeldUntil.get(i18n.lang()), &[&clock_time(deadline)])}</p>
                <p class="countdown" role="timer" aria-live="off" data-testid="countdown">
                    {move || fill(T::TimeLeft.get(i18n.lang()), &[&countdown(deadline - now.get())])}
                </p>
                <Show when=move || checked_in.get()>
                    <p class="note">{i18n.t(T::CheckedIn)}</p>
                </Show>
                <div class="actions">
                    <a class="button secondary" href=directions_href(h.lat, h.lon)>{i18n.t(T::Directions)}</a>
                    <button class="button" on:click=move |_| { do_check_in.dispatch(id); } data-testid="check-in">{i18n.t(T::ImHere)}</button>
                    <button class="button danger" on:click=move |_| { do_cancel.dispatch(id); } data-testid="cancel">{i18n.t(T::Cancel)}</button>
                </div>
            </section>
        }
    };

    let ended_view = move |(status, alt): (ReservationStatus, Option<Alternative>)| {
        let msg = match status {
            ReservationStatus::Ended(Outcome::Blocked) => T::HoldBlocked,
            ReservationStatus::Ended(Outcome::Voided) => T::HoldVoided,
            ReservationStatus::Ended(Outcome::Expired) => T::HoldExpired,
            ReservationStatus::Ended(Outcome::Fulfilled) => T::HoldFulfilled,
            _ => T::HoldCancelled,
        };
        let alarming = matches!(
            status,
            ReservationStatus::Ended(Outcome::Blocked | Outcome::Voided)
        );
        view! {
            <section class="hold-card ended" class:alarm=alarming role="alert" data-testid="hold-ended" data-outcome=status.as_str()>
                <p><strong>{i18n.t(msg)}</strong></p>
                {alt.map(|a| {
                    let pile = a.pile.0;
                    view! {
                        <p data-testid="alternative">
                            {move || fill(T::Alternative.get(i18n.lang()), &[&a.code, &a.site_name, &format!("{:.1}", a.distance_km)])}
                            " "
                            <button class="button" on:click=move |_| { do_alt.dispatch(pile); } data-testid="reserve-alternative">{i18n.t(T::ReserveAlternative)}</button>
                        </p>
                    }
                })}
                <button class="link" on:click=move |_| ended.set(None)>{i18n.t(T::Dismiss)}</button>
            </section>
        }
    };

    view! {
        <Transition fallback=|| ()>
            {move || {
                let current = hold.get().and_then(Result::ok).flatten().filter(|h| h.status == "held");
                match (current, ended.get()) {
                    (Some(h), _) => active(h).into_any(),
                    (None, Some(e)) => ended_view(e).into_any(),
                    (None, None) => ().into_any(),
                }
            }}
        </Transition>
    }
}

//! `/reservations`: the driver's past and current reservations with their outcome.

use crate::{
    api::history,
    components::hold_card::HoldCard,
    format::date_time,
    i18n::{use_i18n, T},
};
use leptos::prelude::*;

fn outcome_text(status: &str) -> T {
    match status {
        "held" => T::OutcomeHeld,
        "fulfilled" => T::OutcomeFulfilled,
        "cancelled" => T::OutcomeCancelled,
        "expired" => T::OutcomeExpired,
        "blocked" => T::OutcomeBlocked,
        _ => T::OutcomeVoided,
    }
}

/// `/reservations`
#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| history());
    view! {
        <HoldCard/>
        <section class="panel">
            <h1>{i18n.t(T::HistoryTitle)}</h1>
            <Transition fallback=move || view! { <p>{i18n.t(T::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(list) if list.is_empty() => view! { <p>{i18n.t(T::NoReservations)}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table" data-testid="history">
                                <thead><tr>
                                    <th scope="col">{i18n.t(T::ColPile)}</th>
                                    <th scope="col">{i18n.t(T::ColStatus)}</th>
                                    <th scope="col">{i18n.t(T::ColStarted)}</th>
                                    <th scope="col">{i18n.t(T::ColEnded)}</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|h| {
                                        let t = outcome_text(&h.status);
                                        view! {
                                            <tr data-status=h.status.clone()>
                                                <td><a href=format!("/piles/{}", h.pile.0)>{format!("{} · {}", h.code, h.site_name)}</a></td>
                                                <td><span class="outcome" data-outcome=h.status.clone()>{i18n.t(t)}</span></td>
                                                <td>{date_time(h.created_at)}</td>
                                                <td>{h.ended_at.map(date_time).unwrap_or_default()}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(_) => view! { <p><a href="/signin?next=/reservations">{i18n.t(T::NavSignIn)}</a></p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

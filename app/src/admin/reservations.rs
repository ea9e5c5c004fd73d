//! `/admin/reservations`: live list and search (site, pile, driver email, state, time
//! range); an admin can cancel an active hold with a reason (the driver is alerted live).

use super::{
    api::{
        fleet::admin_site_names,
        reservations::{admin_cancel_reservation, admin_reservations, ResRow},
    },
    ui::{use_refresh, Failure},
};
use crate::{
    format::{date_time, fill},
    i18n::{admin::A, use_i18n, T},
    live::use_live,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const STATUSES: [(&str, T); 6] = [
    ("held", T::OutcomeHeld),
    ("fulfilled", T::OutcomeFulfilled),
    ("cancelled", T::OutcomeCancelled),
    ("expired", T::OutcomeExpired),
    ("blocked", T::OutcomeBlocked),
    ("voided", T::OutcomeVoided),
];

/// `/admin/reservations?site=&pile=&email=&status=&from=&to=`
#[component]
pub fn ReservationsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k)).filter(|v| !v.is_empty());
    let version = RwSignal::new(0u32);
    let tick = use_refresh(15_000);
    use_live().on_event(move |e| {
        if matches!(e, domain::LiveEvent::Hold { .. }) {
            let _ = version.try_update(|v| *v += 1);
        }
    });
    let list = Resource::new(
        move || {
            (
                param("site").and_then(|s| s.parse::<i64>().ok()),
                param("pile"),
                param("email"),
                param("status"),
                param("from"),
                param("to"),
                version.get(),
                tick.get(),
            )
        },
        |(site, pile, email, status, from, to, _, _)| {
            admin_reservations(site, pile, email, status, from, to)
        },
    );
    let sites = Resource::new(|| (), |_| admin_site_names());
    let cancel = Action::new(move |(id, reason): &(i64, String)| {
        let (id, reason) = (*id, reason.clone());
        async move {
            let r = admin_cancel_reservation(id, reason).await;
            version.update(|v| *v += 1);
            r
        }
    });
    view! {
        <section class="panel">
            <h1>{i18n.a(A::ResTitle)}</h1>
            <form method="get" action="/admin/reservations" class="filters admin-filters">
                <label>
                    <span>{i18n.a(A::Site)}</span>
                    <Transition fallback=|| view! { <select name="site"></select> }>
                        {move || Suspend::new(async move {
                            let current = param("site").unwrap_or_default();
                            let list = sites.await.unwrap_or_default();
                            view! {
                                <select name="site">
                                    <option value="">{i18n.a(A::AllSites)}</option>
                                    {list.into_iter().map(|(id, name)| view! { <option value=id selected=current == id.to_string()>{name}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <label>
                    <span>{i18n.a(A::Pile)}</span>
                    <input type="search" name="pile" size="10" value=move || param("pile").unwrap_or_default()/>
                </label>
                <label>
                    <span>{i18n.a(A::Driver)}</span>
                    <input type="search" name="email" value=move || param("email").unwrap_or_default() data-testid="filter-email"/>
                </label>
                <label>
                    <span>{i18n.a(A::Status)}</span>
                    <select name="status" data-testid="filter-status">
                        <option value="">{i18n.a(A::Any)}</option>
                        {move || {
                            let current = param("status").unwrap_or_default();
                            STATUSES.into_iter().map(|(s, t)| view! { <option value=s selected=current == s>{t.get(i18n.lang())}</option> }).collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{i18n.a(A::From)}</span>
                    <input type="datetime-local" name="from" value=move || param("from").unwrap_or_default()/>
                </label>
                <label>
                    <span>{i18n.a(A::To)}</span>
                    <input type="datetime-local" name="to" value=move || param("to").unwrap_or_default()/>
                </label>
                <button type="submit" class="button">{i18n.a(A::Search)}</button>
                <a href="/admin/reservations">{i18n.a(A::Clear)}</a>
            </form>
            {move || cancel.value().get().and_then(|r| r.err()).map(|e| view! { <Failure error=e.to_string()/> })}
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(l) if l.rows.is_empty() => view! { <p class="empty">{i18n.a(A::NoneFound)}</p> }.into_any(),
                        Ok(l) => {
                            let n = l.rows.len().to_string();
                            view! {
                                <p class="count">{move || fill(A::Count.get(i18n.lang()), &[&n])}</p>
                                <div class="table-wrap">
                                <table class="table" data-testid="reservations">
                                    <thead><tr>
                                        <th scope="col">"#"</th>
                                        <th scope="col">{i18n.a(A::Pile)}</th>
                                        <th scope="col">{i18n.a(A::Driver)}</th>
                                        <th scope="col">{i18n.a(A::Status)}</th>
                                        <th scope="col">{i18n.a(A::Taken)}</th>
                                        <th scope="col">{i18n.a(A::Deadline)}</th>
                                        <th scope="col">{i18n.a(A::Ended)}</th>
                                        <th scope="col">{i18n.a(A::Cause)}</th>
                                        <th scope="col">{i18n.a(A::Actions)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {l.rows.into_iter().map(|r| view! { <ResTableRow r cancel/> }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                            }.into_any()
                        }
                        Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ResTableRow(
    r: ResRow,
    cancel: Action<(i64, String), Result<(), ServerFnError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = r.id;
    let held = r.status == "held";
    let status_t = STATUSES
        .iter()
        .find(|(s, _)| *s == r.status)
        .map_or(T::OutcomeVoided, |(_, t)| *t);
    let reason = RwSignal::new(String::new());
    let open = RwSignal::new(false);
    view! {
        <tr data-reservation-id=id data-status=r.status.clone()>
            <td class="num">{id}</td>
            <td><a href=format!("/admin/piles/{}", r.pile) class="code">{r.code.clone()}</a><br/><span class="small">{r.site_name.clone()}</span></td>
            <td>{r.email.clone()}</td>
            <td><span class="outcome" data-outcome=r.status.clone()>{move || status_t.get(i18n.lang())}</span></td>
            <td class="num">{date_time(r.created_at)}</td>
            <td class="num">{date_time(r.deadline)}</td>
            <td class="num">{r.ended_at.map(date_time).unwrap_or_default()}</td>
            <td class="small">{r.end_cause.clone().unwrap_or_default()}</td>
            <td>
                {held.then(|| view! {
                    <Show when=move || open.get() fallback=move || view! {
                        <button class="button small danger" data-testid="cancel-reservation" on:click=move |_| open.set(true)>{i18n.a(A::CancelWithReason)}</button>
                    }>
                        <form class="cancel-form" on:submit=move |ev| {
                            ev.prevent_default();
                            cancel.dispatch((id, reason.get_untracked()));
                        }>
                            <label>
                                <span class="small">{i18n.a(A::ReasonLabel)}</span>
                                <input type="text" required maxlength="200" data-testid="cancel-reason"
                                    prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                            </label>
                            <button type="submit" class="button small danger" data-testid="confirm-cancel">{i18n.a(A::ConfirmCancel)}</button>
                        </form>
                    </Show>
                })}
            </td>
        </tr>
    }
}

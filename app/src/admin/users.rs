//! `/admin/users`: list, search, promote to admin (or back to driver), disable.

use super::{
    api::users::{admin_set_role, admin_set_user_disabled, admin_users, UserRow},
    ui::Failure,
};
use crate::{
    format::{date_time, fill},
    i18n::{admin::A, use_i18n},
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// A change to a user.
#[derive(Debug, Clone, Copy)]
enum Change {
    Role(bool),
    Disabled(bool),
}

/// `/admin/users?q=`
#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q")).filter(|v| !v.is_empty());
    let version = RwSignal::new(0u32);
    let users = Resource::new(move || (q(), version.get()), |(q, _)| admin_users(q));
    let change = Action::new(move |(id, c): &(i64, Change)| {
        let (id, c) = (*id, *c);
        async move {
            let r = match c {
                Change::Role(admin) => admin_set_role(id, admin).await,
                Change::Disabled(d) => admin_set_user_disabled(id, d).await,
            };
            version.update(|v| *v += 1);
            r
        }
    });
    view! {
        <section class="panel">
            <h1>{i18n.a(A::UsersTitle)}</h1>
            <form method="get" action="/admin/users" class="filters admin-filters">
                <label>
                    <span>{i18n.a(A::EmailOrName)}</span>
                    <input type="search" name="q" value=move || q().unwrap_or_default() data-testid="user-search"/>
                </label>
                <button type="submit" class="button">{i18n.a(A::Search)}</button>
                <a href="/admin/users">{i18n.a(A::Clear)}</a>
            </form>
            {move || change.value().get().and_then(|r| r.err()).map(|e| view! { <Failure error=e.to_string()/> })}
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty">{i18n.a(A::NoneFound)}</p> }.into_any(),
                        Ok(list) => {
                            let n = list.len().to_string();
                            view! {
                                <p class="count">{move || fill(A::Count.get(i18n.lang()), &[&n])}</p>
                                <div class="table-wrap">
                                <table class="table" data-testid="users">
                                    <thead><tr>
                                        <th scope="col">{i18n.a(A::Email)}</th>
                                        <th scope="col">{i18n.a(A::Name)}</th>
                                        <th scope="col">{i18n.a(A::Role)}</th>
                                        <th scope="col">{i18n.a(A::State)}</th>
                                        <th scope="col">{i18n.a(A::Created)}</th>
                                        <th scope="col">{i18n.a(A::ReservationsCount)}</th>
                                        <th scope="col">{i18n.a(A::Actions)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|u| view! { <UserTableRow u change/> }).collect_view()}
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
fn UserTableRow(
    u: UserRow,
    change: Action<(i64, Change), Result<(), ServerFnError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = u.id;
    let (admin, disabled) = (u.admin, u.disabled);
    view! {
        <tr data-user-id=id data-email=u.email.clone() data-role=if admin { "admin" } else { "driver" } data-disabled=disabled.to_string()>
            <td>{u.email.clone()}{u.is_me.then(|| view! { " " <span class="small">"("{i18n.a(A::You)}")"</span> })}</td>
            <td>{u.name.clone()}</td>
            <td>{move || if admin { i18n.a(A::RoleAdmin)() } else { i18n.a(A::RoleDriver)() }}</td>
            <td><span class="flag" data-on=(!disabled).to_string()>{move || if disabled { i18n.a(A::Disabled)() } else { i18n.a(A::Enabled)() }}</span></td>
            <td class="num">{date_time(u.created_at)}</td>
            <td class="num">{u.reservations}</td>
            <td class="row-actions">
                {(!u.is_me).then(|| view! {
                    <button class="button small secondary" data-testid="toggle-role"
                        on:click=move |_| { change.dispatch((id, Change::Role(!admin))); }>
                        {move || if admin { i18n.a(A::Demote)() } else { i18n.a(A::Promote)() }}
                    </button>
                    <button class="button small" class:danger=!disabled class:secondary=disabled data-testid="toggle-user"
                        on:click=move |_| { change.dispatch((id, Change::Disabled(!disabled))); }>
                        {move || if disabled { i18n.a(A::Enable)() } else { i18n.a(A::Disable)() }}
                    </button>
                })}
            </td>
        </tr>
    }
}

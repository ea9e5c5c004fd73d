//! `/admin/audit`: every admin action with who, what and when.

use super::{
    api::audit::{admin_audit, AuditRow},
    ui::Failure,
};
use crate::{
    format::date_time,
    i18n::{admin::A, use_i18n},
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// A table of audit entries.
#[component]
pub fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    let i18n = use_i18n();
    if rows.is_empty() {
        return view! { <p class="empty">{i18n.a(A::NoneFound)}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
        <table class="table" data-testid="audit">
            <thead><tr>
                <th scope="col">{i18n.a(A::When)}</th>
                <th scope="col">{i18n.a(A::Who)}</th>
                <th scope="col">{i18n.a(A::What)}</th>
                <th scope="col">{i18n.a(A::Target)}</th>
                <th scope="col">{i18n.a(A::Details)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|a| {
                    let link = a.target.split_once(':').and_then(|(kind, id)| match kind {
                        "pile" => Some(format!("/admin/piles/{id}")),
                        "site" => Some(format!("/admin/sites/{id}")),
                        _ => None,
                    });
                    view! {
                        <tr data-action=a.action.clone()>
                            <td class="num">{date_time(a.at)}</td>
                            <td>{a.admin.clone()}</td>
                            <td><code>{a.action.clone()}</code></td>
                            <td>{match link {
                                Some(href) => view! { <a href=href>{a.target.clone()}</a> }.into_any(),
                                None => a.target.clone().into_any(),
                            }}</td>
                            <td class="small detail">{a.detail.clone()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

/// `/admin/audit?target=`
#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let target = move || query.with(|q| q.get("target")).filter(|t| !t.is_empty());
    let log = Resource::new(target, admin_audit);
    view! {
        <section class="panel">
            <h1>{i18n.a(A::AuditTitle)}</h1>
            <form method="get" action="/admin/audit" class="filters admin-filters">
                <label>
                    <span>{i18n.a(A::Target)}</span>
                    <input type="search" name="target" placeholder="pile:17" value=move || target().unwrap_or_default()/>
                </label>
                <button type="submit" class="button">{i18n.a(A::Filter)}</button>
            </form>
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(rows) => view! { <AuditTable rows/> }.into_any(),
                        Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

//! `/admin/health`: a live table of the fleet's problems, each with how long and a link to
//! the pile.

use super::{
    api::{fleet::ProblemRow, health::admin_health},
    time::duration,
    ui::{use_refresh, Failure},
};
use crate::{
    format::fill,
    i18n::{admin::A, use_i18n, Lang},
};
use leptos::prelude::*;

/// The text of a problem in `lang`.
pub fn problem_text(p: &ProblemRow, lang: Lang) -> String {
    let t = match p.kind.as_str() {
        "stale" => A::PStale,
        "flapping" => A::PFlapping,
        "low_battery" => A::PLowBattery,
        "faulted" => A::PFaulted,
        "never_heard" => A::PNeverHeard,
        "offline" => A::POffline,
        _ => A::PBlocked,
    };
    fill(
        t.get(lang),
        &[&p.battery.map(|b| b.to_string()).unwrap_or_default()],
    )
}

/// `/admin/health`
#[component]
pub fn HealthPage() -> impl IntoView {
    let i18n = use_i18n();
    // Polled every 5 s: problems also open by the clock alone (staleness, blocked time).
    let tick = use_refresh(5_000);
    let health = Resource::new(move || tick.get(), |_| admin_health());
    view! {
        <section class="panel">
            <h1>{i18n.a(A::HealthTitle)}</h1>
            <p class="hint">{i18n.a(A::HealthIntro)}</p>
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(h) if h.problems.is_empty() => view! { <p class="empty" data-testid="all-healthy">{i18n.a(A::AllHealthy)}</p> }.into_any(),
                        Ok(h) => {
                            let now = h.now;
                            let n = h.problems.len().to_string();
                            view! {
                                <p class="count">{move || fill(A::OpenProblems.get(i18n.lang()), &[&n])}</p>
                                <div class="table-wrap">
                                <table class="table" data-testid="health">
                                    <thead><tr>
                                        <th scope="col">{i18n.a(A::Problem)}</th>
                                        <th scope="col">{i18n.a(A::Pile)}</th>
                                        <th scope="col">{i18n.a(A::Site)}</th>
                                        <th scope="col">{i18n.a(A::For)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {h.problems.into_iter().map(|p| {
                                            let kind = p.kind.clone();
                                            let kind2 = p.kind.clone();
                                            let pile = p.pile;
                                            let since = p.since;
                                            let code = p.code.clone();
                                            let site = p.site_name.clone();
                                            view! {
                                                <tr data-kind=kind2 data-pile-id=pile>
                                                    <td><span class="problem" data-kind=kind>{move || problem_text(&p, i18n.lang())}</span></td>
                                                    <td><a href=format!("/admin/piles/{pile}") class="code">{code}</a></td>
                                                    <td>{site}</td>
                                                    <td class="num">{since.map_or("—".to_owned(), |s| duration(now - s))}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
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

//! `/admin/piles`: piles and bays with live state and reason, filters by site and state,
//! create, edit, enable/disable; `/admin/piles/:id`: one pile's telemetry, device credential
//! (issue, rotate, revoke), problems and admin history.

use super::{
    api::{
        fleet::{
            admin_issue_credential, admin_pile, admin_piles, admin_revoke_credential,
            admin_set_pile_enabled, admin_site_names, AdminSavePile, IssuedKey, PileDetail,
            PileRow,
        },
        FieldErr,
    },
    audit::AuditTable,
    health::problem_text,
    ui::{ago, field_error, use_refresh, Failure},
};
use crate::{
    components::badge::StateBadge,
    i18n::{admin::A, use_i18n},
    live::use_live,
};
use domain::{Availability, ConnectorType, LiveEvent, Reason};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::collections::HashMap;

const STATES: [&str; 8] = [
    "idle", "charging", "reserved", "blocked", "stale", "faulted", "offline", "disabled",
];

/// `/admin/piles?site=&state=&q=`
#[component]
pub fn PilesPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k)).filter(|v| !v.is_empty());
    let version = RwSignal::new(0u32);
    let piles = Resource::new(
        move || {
            (
                param("site").and_then(|s| s.parse::<i64>().ok()),
                param("state"),
                param("q"),
                version.get(),
            )
        },
        |(site, state, q, _)| admin_piles(site, state, q),
    );
    let sites = Resource::new(|| (), |_| admin_site_names());
    // Live state per pile, newer than the loaded rows.
    let live: RwSignal<HashMap<i64, (Availability, Option<i64>)>> = RwSignal::new(HashMap::new());
    use_live().on_event(move |e| match e {
        LiveEvent::Pile {
            pile,
            availability,
            reading_at,
            ..
        } => {
            let _ = live.try_update(|m| {
                m.insert(pile.0, (*availability, reading_at.map(|r| r.0)));
            });
        }
        LiveEvent::Heartbeat { pile, at } => {
            let _ = live.try_update(|m| {
                if let Some(v) = m.get_mut(&pile.0) {
                    v.1 = Some(at.0);
                }
            });
        }
        _ => {}
    });
    let toggle = Action::new(move |(id, enabled): &(i64, bool)| {
        let (id, enabled) = (*id, *enabled);
        async move {
            let r = admin_set_pile_enabled(id, enabled).await;
            live.update(|m| {
                m.remove(&id);
            });
            version.update(|v| *v += 1);
            r
        }
    });
    view! {
        <section class="panel">
            <div class="admin-head">
                <h1>{i18n.a(A::PilesTitle)}</h1>
                <a class="button" href="/admin/piles/new" data-testid="new-pile">{i18n.a(A::NewPile)}</a>
            </div>
            <form method="get" action="/admin/piles" class="filters admin-filters">
                <label>
                    <span>{i18n.a(A::Site)}</span>
                    <Transition fallback=|| view! { <select name="site"></select> }>
                        {move || Suspend::new(async move {
                            let current = param("site").unwrap_or_default();
                            let list = sites.await.unwrap_or_default();
                            view! {
                                <select name="site" data-testid="filter-site">
                                    <option value="">{i18n.a(A::AllSites)}</option>
                                    {list.into_iter().map(|(id, name)| {
                                        let selected = current == id.to_string();
                                        view! { <option value=id selected=selected>{name}</option> }
                                    }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <label>
                    <span>{i18n.a(A::State)}</span>
                    <select name="state" data-testid="filter-state">
                        <option value="">{i18n.a(A::AnyState)}</option>
                        {move || {
                            let current = param("state").unwrap_or_default();
                            STATES.into_iter().map(|s| {
                                let text = crate::format::availability_text(state_of(s)).get(i18n.lang());
                                view! { <option value=s selected=current == s>{text}</option> }
                            }).collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{i18n.a(A::CodeOrSite)}</span>
                    <input type="search" name="q" value=move || param("q").unwrap_or_default()/>
                </label>
                <button type="submit" class="button">{i18n.a(A::Filter)}</button>
                <a href="/admin/piles">{i18n.a(A::Clear)}</a>
            </form>
            <p class="hint">{i18n.a(A::DisableVoidsHold)}</p>
            {move || toggle.value().get().and_then(|r| r.err()).map(|e| view! { <Failure error=e.to_string()/> })}
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match piles.await {
                        Ok(list) => {
                            let now = list.now;
                            let n = list.piles.len().to_string();
                            view! {
                                <p class="count">{move || crate::format::fill(A::Count.get(i18n.lang()), &[&n])}</p>
                                <div class="table-wrap">
                                <table class="table" data-testid="piles">
                                    <thead><tr>
                                        <th scope="col">{i18n.a(A::PileCode)}</th>
                                        <th scope="col">{i18n.a(A::Site)}</th>
                                        <th scope="col">{i18n.a(A::Connector)}</th>
                                        <th scope="col">{i18n.a(A::MaxKw)}</th>
                                        <th scope="col">{i18n.a(A::PriceText)}</th>
                                        <th scope="col">{i18n.a(A::Reason)}</th>
                                        <th scope="col">{i18n.a(A::LastReport)}</th>
                                        <th scope="col">{i18n.a(A::Actions)}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.piles.into_iter().map(|p| view! { <PileTableRow p now live toggle/> }).collect_view()}
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

fn state_of(s: &str) -> Availability {
    s.parse::<Reason>()
        .map(Availability::Busy)
        .unwrap_or(Availability::Idle)
}

#[component]
fn PileTableRow(
    p: PileRow,
    now: i64,
    live: RwSignal<HashMap<i64, (Availability, Option<i64>)>>,
    toggle: Action<(i64, bool), Result<(), ServerFnError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = p.id;
    let availability = Signal::derive(move || {
        live.with(|m| m.get(&id).map(|v| v.0))
            .unwrap_or(p.availability)
    });
    let reading = move || live.with(|m| m.get(&id).and_then(|v| v.1)).or(p.reading_at);
    let enabled = p.pile_enabled;
    view! {
        <tr data-pile-id=id data-state=move || availability.get().as_str()>
            <td><a href=format!("/admin/piles/{id}") class="code">{p.code.clone()}</a></td>
            <td>{p.site_name.clone()}</td>
            <td>{p.connector.label()}</td>
            <td class="num">{p.max_kw}</td>
            <td class="small">{p.price_text.clone()}</td>
            <td><StateBadge availability/></td>
            <td class="small">{move || ago(i18n.lang(), now.max(reading().unwrap_or(now)), reading())}</td>
            <td class="row-actions">
                <a href=format!("/admin/piles/{id}")>{i18n.a(A::Edit)}</a>
                <button class="button small" class:danger=enabled class:secondary=!enabled data-testid="toggle-pile"
                    on:click=move |_| { toggle.dispatch((id, !enabled)); }>
                    {move || if enabled { i18n.a(A::Disable)() } else { i18n.a(A::Enable)() }}
                </button>
            </td>
        </tr>
    }
}

/// `/admin/piles/new`
#[component]
pub fn NewPilePage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let sites = Resource::new(|| (), |_| admin_site_names());
    view! {
        <section class="panel">
            <h1>{i18n.a(A::NewPile)}</h1>
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match sites.await {
                        Ok(sites) => {
                            let site = query.with_untracked(|q| q.get("site")).and_then(|s| s.parse().ok());
                            view! { <PileForm pile=None sites site/> }.into_any()
                        }
                        Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The pile form (new when `pile` is `None`).
#[component]
fn PileForm(pile: Option<PileRow>, sites: Vec<(i64, String)>, site: Option<i64>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<AdminSavePile>::new();
    let result = action.value();
    let errors: Signal<Vec<FieldErr>> = Signal::derive(move || {
        result
            .get()
            .and_then(|r| r.ok())
            .and_then(|r| r.err())
            .unwrap_or_default()
    });
    let navigate = use_navigate();
    let creating = pile.is_none();
    Effect::new(move |_| {
        if let Some(Ok(Ok(id))) = result.get() {
            if creating {
                navigate(&format!("/admin/piles/{id}"), Default::default());
            }
        }
    });
    let saved = move || {
        matches!(result.get(), Some(Ok(Ok(_))))
            .then(|| view! { <p class="note" role="status">{i18n.a(A::Saved)}</p> })
    };
    let failure = move || {
        result
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <Failure error=e.to_string()/> })
    };
    let site = pile.as_ref().map(|p| p.site).or(site);
    let connector = pile.as_ref().map_or(ConnectorType::Ccs2, |p| p.connector);
    let sensor = pile
        .as_ref()
        .map_or("magnetometer".to_owned(), |p| p.sensor.clone());
    view! {
        <ActionForm action attr:class="form admin-form" attr:novalidate="" attr:data-testid="pile-form">
            <input type="hidden" name="id" value=pile.as_ref().map_or(0, |p| p.id)/>
            <label>
                <span>{i18n.a(A::Site)}</span>
                <select name="site" required data-testid="pile-site">
                    {sites.into_iter().map(|(id, name)| view! { <option value=id selected=site == Some(id)>{name}</option> }).collect_view()}
                </select>
                {field_error(errors, "site")}
            </label>
            <label>
                <span>{i18n.a(A::PileCode)}</span>
                {match &pile {
                    Some(p) => view! {
                        <input type="text" value=p.code.clone() disabled/>
                        <input type="hidden" name="code" value=p.code.clone()/>
                    }.into_any(),
                    None => view! { <input type="text" name="code" required maxlength="40" pattern="[A-Za-z0-9._-]+" data-testid="pile-code"/> }.into_any(),
                }}
                {field_error(errors, "code")}
            </label>
            <div class="form-row">
                <label>
                    <span>{i18n.a(A::Connector)}</span>
                    <select name="connector" data-testid="pile-connector">
                        {ConnectorType::ALL.into_iter().map(|c| view! { <option value=c.as_str() selected=c == connector>{c.label()}</option> }).collect_view()}
                    </select>
                    {field_error(errors, "connector")}
                </label>
                <label>
                    <span>{i18n.a(A::MaxKw)}</span>
                    <input type="number" name="max_kw" step="any" min="0.1" max="1000" required value=pile.as_ref().map(|p| p.max_kw.to_string()).unwrap_or_default() data-testid="pile-kw"/>
                    {field_error(errors, "max_kw")}
                </label>
                <label>
                    <span>{i18n.a(A::HeartbeatSecs)}</span>
                    <input type="number" name="heartbeat_secs" min="5" max="3600" value=pile.as_ref().map_or(60, |p| p.heartbeat_secs)/>
                    {field_error(errors, "heartbeat_secs")}
                </label>
            </div>
            <label>
                <span>{i18n.a(A::PriceText)}</span>
                <input type="text" name="price_text" maxlength="100" value=pile.as_ref().map(|p| p.price_text.clone()).unwrap_or_default() data-testid="pile-price"/>
                {field_error(errors, "price_text")}
            </label>
            <label>
                <span>{i18n.a(A::Sensor)}</span>
                <select name="sensor">
                    {["magnetometer", "radar", "camera", "ultrasonic"].into_iter().map(|s| view! { <option value=s selected=*s == sensor>{s}</option> }).collect_view()}
                </select>
                {field_error(errors, "sensor")}
            </label>
            {failure}
            {saved}
            <div class="actions">
                <button type="submit" class="button" data-testid="save-pile" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { i18n.a(A::Saving)() } else { i18n.a(A::Save)() }}
                </button>
            </div>
        </ActionForm>
    }
}

/// `/admin/piles/:id`
#[component]
pub fn PileAdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()))
            .unwrap_or(0)
    });
    let version = RwSignal::new(0u32);
    let issued: RwSignal<Option<IssuedKey>> = RwSignal::new(None);
    let tick = use_refresh(10_000);
    use_live().on_event(move |e| match e {
        LiveEvent::Pile { pile, .. } | LiveEvent::Heartbeat { pile, .. }
            if pile.0 == id.get_untracked() =>
        {
            let _ = version.try_update(|v| *v += 1);
        }
        _ => {}
    });
    // The live part refetches on every change; the edit form loads once per pile.
    let detail = Resource::new(
        move || (id.get(), version.get(), tick.get()),
        |(id, _, _)| admin_pile(id),
    );
    let form = Resource::new(move || id.get(), admin_pile);
    view! {
        <p><a href="/admin/piles">{i18n.a(A::NavPiles)}</a></p>
        <Transition fallback=move || view! { <p class="loading">"…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <PileAdmin d version issued/> }.into_any(),
                    Err(e) => view! { <section class="panel"><Failure error=e.to_string()/></section> }.into_any(),
                }
            })}
        </Transition>
        <section class="panel">
            <h2>{i18n.a(A::EditPile)}</h2>
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    form.await.ok().map(|d| view! { <PileForm pile=Some(d.pile) sites=d.sites site=None/> })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PileAdmin(
    d: PileDetail,
    version: RwSignal<u32>,
    issued: RwSignal<Option<IssuedKey>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let p = d.pile.clone();
    let id = p.id;
    let now = d.now;
    let enabled = p.pile_enabled;
    let toggle = Action::new(move |en: &bool| {
        let en = *en;
        async move {
            let r = admin_set_pile_enabled(id, en).await;
            version.update(|v| *v += 1);
            r
        }
    });
    let availability = Signal::stored(p.availability);
    let pct = |v: Option<u8>| v.map_or("—".to_owned(), |v| format!("{v} %"));
    let problems = d.problems.clone();
    view! {
        <section class="panel pile-admin" data-testid="pile-admin" data-pile-id=id data-state=p.availability.as_str()>
            <div class="admin-head">
                <h1>{format!("{} · {}", p.code, p.site_name)}</h1>
                <StateBadge availability/>
                <button class="button small" class:danger=enabled class:secondary=!enabled data-testid="toggle-pile"
                    on:click=move |_| { toggle.dispatch(!enabled); }>
                    {move || if enabled { i18n.a(A::Disable)() } else { i18n.a(A::Enable)() }}
                </button>
            </div>
            {move || toggle.value().get().and_then(|r| r.err()).map(|e| view! { <Failure error=e.to_string()/> })}
            <div class="admin-columns">
                {view! { <div>
                    <h2>{i18n.a(A::Telemetry)}</h2>
                    <dl class="facts" data-testid="telemetry">
                        <dt>{i18n.a(A::LastReport)}</dt>
                        <dd data-testid="last-report">{move || ago(i18n.lang(), now, p.reading_at)}</dd>
                        <dt>{i18n.a(A::Sequence)}</dt>
                        <dd data-testid="seq">{p.last_seq.map_or("—".to_owned(), |s| s.to_string())}</dd>
                        <dt>{i18n.a(A::Bay)}</dt>
                        <dd data-testid="bay">{p.occupancy.as_str()}{p.flapping.then_some(" · ")}{move || p.flapping.then(|| i18n.a(A::Flapping)())}</dd>
                        <dt>{i18n.a(A::BaySince)}</dt>
                        <dd>{move || ago(i18n.lang(), now, p.occupancy_since)}</dd>
                        <dt>{i18n.a(A::Battery)}</dt>
                        <dd data-testid="battery">{pct(p.battery)}</dd>
                        <dt>{i18n.a(A::Quality)}</dt>
                        <dd data-testid="quality">{pct(p.quality)}</dd>
                        <dt>{i18n.a(A::FromAddr)}</dt>
                        <dd data-testid="addr">{p.last_addr.clone().unwrap_or_else(|| "—".into())}</dd>
                    </dl>
                    <h2>{i18n.a(A::Problems)}</h2>
                    {if problems.is_empty() {
                        view! { <p class="empty" data-testid="no-problems">{i18n.a(A::NoProblems)}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="problems" data-testid="pile-problems">
                                {problems.into_iter().map(|pr| {
                                    let kind = pr.kind.clone();
                                    let since = pr.since;
                                    view! { <li data-kind=kind>{move || problem_text(&pr, i18n.lang())} " · " {move || ago(i18n.lang(), now, since)}</li> }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </div> }.into_any()}
                {view! { <CredentialPanel pile=id credential=d.credential.clone() version issued/> }.into_any()}
            </div>
            <h2>{i18n.a(A::History)}</h2>
            <AuditTable rows=d.audit.clone()/>
        </section>
    }
}

#[component]
fn CredentialPanel(
    pile: i64,
    credential: Option<super::api::fleet::CredentialView>,
    version: RwSignal<u32>,
    issued: RwSignal<Option<IssuedKey>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let issue = Action::new(move |_: &()| async move {
        let r = admin_issue_credential(pile).await;
        if let Ok(k) = &r {
            issued.set(Some(k.clone()));
            version.update(|v| *v += 1);
        }
        r.map(|_| ())
    });
    let revoke = Action::new(move |_: &()| async move {
        let r = admin_revoke_credential(pile).await;
        issued.set(None);
        version.update(|v| *v += 1);
        r
    });
    let active = credential.as_ref().is_some_and(|c| c.revoked_at.is_none());
    let error = move || {
        issue
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| revoke.value().get().and_then(|r| r.err()))
            .map(|e| view! { <Failure error=e.to_string()/> })
    };
    view! {
        <div class="credential" data-testid="credential">
            <h2>{i18n.a(A::Credential)}</h2>
            {match credential {
                None => view! { <p class="empty">{i18n.a(A::NoCredential)}</p> }.into_any(),
                Some(c) => view! {
                    <dl class="facts">
                        <dt>{i18n.a(A::Fingerprint)}</dt>
                        <dd><code data-testid="fingerprint">{c.fingerprint.clone()}</code></dd>
                        <dt>{i18n.a(A::IssuedAt)}</dt>
                        <dd>{crate::format::date_time(c.issued_at)}</dd>
                        {c.revoked_at.map(|r| view! {
                            <dt>{i18n.a(A::RevokedAt)}</dt>
                            <dd data-testid="revoked">{crate::format::date_time(r)}</dd>
                        })}
                    </dl>
                }.into_any(),
            }}
            {move || issued.get().map(|k| view! {
                <div class="secret" role="status" data-testid="issued-key">
                    <p><strong>{i18n.a(A::SecretOnce)}</strong></p>
                    <dl class="facts">
                        <dt>{i18n.a(A::KeyLabel)}</dt>
                        <dd><code class="key" data-testid="key">{k.key.clone()}</code></dd>
                        <dt>{i18n.a(A::Fingerprint)}</dt>
                        <dd><code data-testid="new-fingerprint">{k.fingerprint.clone()}</code></dd>
                    </dl>
                </div>
            })}
            {error}
            <div class="actions">
                <button class="button" data-testid="issue-credential" disabled=move || issue.pending().get()
                    on:click=move |_| { issue.dispatch(()); }>
                    {move || if active { i18n.a(A::Rotate)() } else { i18n.a(A::Issue)() }}
                </button>
                {active.then(|| view! {
                    <button class="button danger" data-testid="revoke-credential" on:click=move |_| { revoke.dispatch(()); }>
                        {i18n.a(A::Revoke)}
                    </button>
                })}
            </div>
        </div>
    }
}

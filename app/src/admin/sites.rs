//! `/admin/sites`: list, create, edit, enable/disable sites with their policies.

use super::{
    api::{
        fleet::{admin_set_site_enabled, admin_site, admin_sites, AdminSaveSite, SiteRow},
        FieldErr,
    },
    ui::{field_error, yes_no, Failure},
};
use crate::i18n::{admin::A, use_i18n};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::{use_navigate, use_params_map};

/// `/admin/sites`
#[component]
pub fn SitesPage() -> impl IntoView {
    let i18n = use_i18n();
    let version = RwSignal::new(0u32);
    let sites = Resource::new(move || version.get(), |_| admin_sites());
    let toggle = Action::new(move |(id, enabled): &(i64, bool)| {
        let (id, enabled) = (*id, *enabled);
        async move {
            let r = admin_set_site_enabled(id, enabled).await;
            version.update(|v| *v += 1);
            r
        }
    });
    view! {
        <section class="panel">
            <div class="admin-head">
                <h1>{i18n.a(A::SitesTitle)}</h1>
                <a class="button" href="/admin/sites/new" data-testid="new-site">{i18n.a(A::NewSite)}</a>
            </div>
            <p class="hint">{i18n.a(A::SiteDisabledNote)}</p>
            {move || toggle.value().get().and_then(|r| r.err()).map(|e| view! { <Failure error=e.to_string()/> })}
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match sites.await {
                        Ok(list) => view! {
                            <div class="table-wrap">
                            <table class="table" data-testid="sites">
                                <thead><tr>
                                    <th scope="col">{i18n.a(A::SiteName)}</th>
                                    <th scope="col">{i18n.a(A::SiteAddress)}</th>
                                    <th scope="col">{i18n.a(A::Position)}</th>
                                    <th scope="col">{i18n.a(A::Timezone)}</th>
                                    <th scope="col">{i18n.a(A::Policies)}</th>
                                    <th scope="col">{i18n.a(A::Piles)}</th>
                                    <th scope="col">{i18n.a(A::State)}</th>
                                    <th scope="col">{i18n.a(A::Actions)}</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| {
                                        let id = s.id;
                                        let enabled = s.enabled;
                                        let policy = move || format!(
                                            "{} {} s · {} {} s · {} {} · {} {}",
                                            A::HoldSecs.get(i18n.lang()).trim_end_matches(" (s)").trim_end_matches("（秒）"), s.hold_secs,
                                            A::GraceSecs.get(i18n.lang()).trim_end_matches(" (s)").trim_end_matches("（秒）"), s.grace_secs,
                                            A::FreshnessSecs.get(i18n.lang()).trim_end_matches(" (s)").trim_end_matches("（秒）"),
                                            s.freshness_secs.map_or("—".to_owned(), |f| format!("{f} s")),
                                            A::ReservationsAllowed.get(i18n.lang()), yes_no(i18n.lang(), s.reservations_allowed),
                                        );
                                        view! {
                                            <tr data-site-id=id data-enabled=enabled.to_string()>
                                                <td><a href=format!("/admin/sites/{id}")>{s.name.clone()}</a></td>
                                                <td>{s.address.clone()}</td>
                                                <td class="num">{format!("{:.5}, {:.5}", s.lat, s.lon)}</td>
                                                <td>{s.timezone.clone()}</td>
                                                <td class="small">{policy}</td>
                                                <td class="num"><a href=format!("/admin/piles?site={id}")>{s.piles}</a></td>
                                                <td><span class="flag" data-on=enabled.to_string()>{move || if enabled { i18n.a(A::Enabled)() } else { i18n.a(A::Disabled)() }}</span></td>
                                                <td class="row-actions">
                                                    <a href=format!("/admin/sites/{id}")>{i18n.a(A::Edit)}</a>
                                                    <button class="button small" class:danger=enabled class:secondary=!enabled
                                                        data-testid="toggle-site"
                                                        on:click=move |_| { toggle.dispatch((id, !enabled)); }>
                                                        {move || if enabled { i18n.a(A::Disable)() } else { i18n.a(A::Enable)() }}
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `/admin/sites/new`
#[component]
pub fn NewSitePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="panel">
            <h1>{i18n.a(A::NewSite)}</h1>
            <SiteForm site=None/>
        </section>
    }
}

/// `/admin/sites/:id`
#[component]
pub fn EditSitePage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()))
            .unwrap_or(0)
    };
    let site = Resource::new(id, admin_site);
    view! {
        <section class="panel">
            <h1>{i18n.a(A::EditSite)}</h1>
            <Transition fallback=move || view! { <p class="loading">"…"</p> }>
                {move || Suspend::new(async move {
                    match site.await {
                        Ok(s) => view! { <SiteForm site=Some(s)/> }.into_any(),
                        Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The site form (new when `site` is `None`).
#[component]
fn SiteForm(site: Option<SiteRow>) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<AdminSaveSite>::new();
    let result = action.value();
    let errors: Signal<Vec<FieldErr>> = Signal::derive(move || {
        result
            .get()
            .and_then(|r| r.ok())
            .and_then(|r| r.err())
            .unwrap_or_default()
    });
    let failure = move || {
        result
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <Failure error=e.to_string()/> })
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(Ok(_))) = result.get() {
            navigate("/admin/sites", Default::default());
        }
    });
    let s = site.clone();
    let val = move |f: fn(&SiteRow) -> String| s.as_ref().map(f).unwrap_or_default();
    let allowed = site.as_ref().is_none_or(|s| s.reservations_allowed);
    view! {
        <ActionForm action attr:class="form admin-form" attr:novalidate="" attr:data-testid="site-form">
            <input type="hidden" name="id" value=site.as_ref().map_or(0, |s| s.id)/>
            <label>
                <span>{i18n.a(A::SiteName)}</span>
                <input type="text" name="name" required maxlength="100" value=val(|s| s.name.clone()) data-testid="site-name"/>
                {field_error(errors, "name")}
            </label>
            <label>
                <span>{i18n.a(A::SiteAddress)}</span>
                <input type="text" name="address" required maxlength="200" value=val(|s| s.address.clone()) data-testid="site-address"/>
                {field_error(errors, "address")}
            </label>
            <div class="form-row">
                <label>
                    <span>{i18n.a(A::Lat)}</span>
                    <input type="number" name="lat" step="any" min="-90" max="90" required value=val(|s| s.lat.to_string()) data-testid="site-lat"/>
                    {field_error(errors, "lat")}
                </label>
                <label>
                    <span>{i18n.a(A::Lon)}</span>
                    <input type="number" name="lon" step="any" min="-180" max="180" required value=val(|s| s.lon.to_string()) data-testid="site-lon"/>
                    {field_error(errors, "lon")}
                </label>
            </div>
            <p class="hint">{i18n.a(A::LatLonHint)}</p>
            <label>
                <span>{i18n.a(A::Timezone)}</span>
                <input type="text" name="timezone" list="timezones" value=site.as_ref().map_or("Asia/Shanghai".to_owned(), |s| s.timezone.clone()) data-testid="site-timezone"/>
                <datalist id="timezones">
                    {["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "Asia/Tokyo", "Europe/Berlin", "Europe/London", "America/New_York", "UTC"]
                        .into_iter().map(|tz| view! { <option value=tz/> }).collect_view()}
                </datalist>
                <span class="hint">{i18n.a(A::TimezoneHint)}</span>
                {field_error(errors, "timezone")}
            </label>
            <fieldset>
                <legend>{i18n.a(A::Policies)}</legend>
                <div class="form-row">
                    <label>
                        <span>{i18n.a(A::HoldSecs)}</span>
                        <input type="number" name="hold_secs" min="60" max="86400" value=site.as_ref().map_or(900, |s| s.hold_secs) data-testid="site-hold"/>
                        {field_error(errors, "hold_secs")}
                    </label>
                    <label>
                        <span>{i18n.a(A::GraceSecs)}</span>
                        <input type="number" name="grace_secs" min="0" max="3600" value=site.as_ref().map_or(120, |s| s.grace_secs)/>
                        {field_error(errors, "grace_secs")}
                    </label>
                    <label>
                        <span>{i18n.a(A::FreshnessSecs)}</span>
                        <input type="number" name="freshness_secs" min="5" max="86400" value=site.as_ref().and_then(|s| s.freshness_secs).map(|f| f.to_string()).unwrap_or_default() placeholder="—"/>
                        <span class="hint">{i18n.a(A::FreshnessHint)}</span>
                        {field_error(errors, "freshness_secs")}
                    </label>
                </div>
                <label class="check">
                    <input type="checkbox" name="reservations_allowed" value="on" checked=allowed/>
                    <span>{i18n.a(A::ReservationsAllowed)}</span>
                </label>
            </fieldset>
            {failure}
            <div class="actions">
                <button type="submit" class="button" data-testid="save-site" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { i18n.a(A::Saving)() } else { i18n.a(A::Save)() }}
                </button>
                <a href="/admin/sites">{i18n.a(A::NavSites)}</a>
            </div>
        </ActionForm>
    }
}

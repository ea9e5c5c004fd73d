//! Operator admin pages under `/admin` (admin role only): sites, piles and bays, CSV import,
//! device credentials, fleet health, reservations, users, analytics and the audit log.
//!
//! Access: the layout asks [`api::admin_gate`] before rendering anything. On the server an
//! anonymous visitor is redirected (302) to `/signin?next=<page>` and a signed-in non-admin
//! gets a 403 page; the routes render in `SsrMode::Async` so the status is set before the
//! response starts. Every server function checks again on its own (see [`api`]).

pub mod analytics;
pub mod api;
pub mod audit;
pub mod health;
pub mod import;
pub mod piles;
pub mod reservations;
pub mod sites;
pub mod time;
pub mod ui;
pub mod users;

use crate::i18n::{admin::A, use_i18n};
use api::{admin_gate, Gate};
use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, ParentRoute, Route, A as Link},
    hooks::use_location,
    path, MatchNestedRoutes, SsrMode,
};

/// The admin routes, mounted by `App`.
#[component(transparent)]
pub fn AdminRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/admin") view=AdminLayout ssr=SsrMode::Async>
            <Route path=path!("") view=AdminHome ssr=SsrMode::Async/>
            <Route path=path!("/sites") view=sites::SitesPage ssr=SsrMode::Async/>
            <Route path=path!("/sites/new") view=sites::NewSitePage ssr=SsrMode::Async/>
            <Route path=path!("/sites/:id") view=sites::EditSitePage ssr=SsrMode::Async/>
            <Route path=path!("/piles") view=piles::PilesPage ssr=SsrMode::Async/>
            <Route path=path!("/piles/new") view=piles::NewPilePage ssr=SsrMode::Async/>
            <Route path=path!("/piles/:id") view=piles::PileAdminPage ssr=SsrMode::Async/>
            <Route path=path!("/import") view=import::ImportPage ssr=SsrMode::Async/>
            <Route path=path!("/health") view=health::HealthPage ssr=SsrMode::Async/>
            <Route path=path!("/reservations") view=reservations::ReservationsPage ssr=SsrMode::Async/>
            <Route path=path!("/users") view=users::UsersPage ssr=SsrMode::Async/>
            <Route path=path!("/analytics") view=analytics::AnalyticsPage ssr=SsrMode::Async/>
            <Route path=path!("/audit") view=audit::AuditPage ssr=SsrMode::Async/>
        </ParentRoute>
    }
    .into_inner()
}

/// Checks access, then shows the admin navigation and the page.
#[component]
fn AdminLayout() -> impl IntoView {
    let i18n = use_i18n();
    let auth = crate::shell::use_auth();
    let gate = Resource::new_blocking(move || auth.version.get(), |_| admin_gate());
    let location = use_location();
    // Set once the page is interactive (effects run only in the browser): tests wait on it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Suspense fallback=move || view! { <p class="loading">{i18n.a(A::Title)}</p> }>
            {move || Suspend::new(async move {
                match gate.await {
                    Ok(Gate::Admin { .. }) => view! {
                        <div class="admin" data-testid="admin" data-hydrated=move || hydrated.get().to_string()>
                            <AdminNav/>
                            <div class="admin-main"><Outlet/></div>
                        </div>
                    }
                    .into_any(),
                    Ok(Gate::SignIn) => {
                        let next = format!("/signin?next={}", location.pathname.get_untracked());
                        #[cfg(feature = "ssr")]
                        leptos_axum::redirect(&next);
                        #[cfg(feature = "hydrate")]
                        {
                            let navigate = leptos_router::hooks::use_navigate();
                            let to = next.clone();
                            request_animation_frame(move || navigate(&to, Default::default()));
                        }
                        view! {
                            <section class="panel" data-testid="admin-signin">
                                <h1>{i18n.a(A::Title)}</h1>
                                <p><a href=next>{i18n.a(A::SignInFirst)}</a></p>
                            </section>
                        }
                        .into_any()
                    }
                    Ok(Gate::Forbidden) | Err(_) => {
                        #[cfg(feature = "ssr")]
                        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                            res.set_status(http::StatusCode::FORBIDDEN);
                        }
                        view! {
                            <section class="panel" data-testid="admin-forbidden">
                                <h1>"403 · " {i18n.a(A::Forbidden)}</h1>
                                <p>{i18n.a(A::ForbiddenText)}</p>
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn AdminNav() -> impl IntoView {
    let i18n = use_i18n();
    let links = [
        ("/admin", A::NavOverview),
        ("/admin/sites", A::NavSites),
        ("/admin/piles", A::NavPiles),
        ("/admin/import", A::NavImport),
        ("/admin/health", A::NavHealth),
        ("/admin/reservations", A::NavReservations),
        ("/admin/users", A::NavUsers),
        ("/admin/analytics", A::NavAnalytics),
        ("/admin/audit", A::NavAudit),
    ];
    view! {
        <nav class="admin-nav" aria-label=i18n.a(A::AdminMenu)>
            {links
                .into_iter()
                .map(|(href, t)| view! { <Link href=href exact=true>{i18n.a(t)}</Link> })
                .collect_view()}
        </nav>
    }
}

/// `/admin`: what is here, open problems, the latest admin actions.
#[component]
fn AdminHome() -> impl IntoView {
    let i18n = use_i18n();
    let health = Resource::new(|| (), |_| api::health::admin_health());
    let log = Resource::new(|| (), |_| api::audit::admin_audit(None));
    view! {
        <section class="panel">
            <h1>{i18n.a(A::Title)}</h1>
            <p>{i18n.a(A::OverviewIntro)}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    health.await.ok().map(|h| {
                        let n = h.problems.len().to_string();
                        view! {
                            <p><a href="/admin/health" data-testid="problem-count">
                                {move || crate::format::fill(A::OpenProblems.get(i18n.lang()), &[&n])}
                            </a></p>
                        }
                    })
                })}
            </Transition>
            <h2>{i18n.a(A::RecentActions)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(rows) => view! { <audit::AuditTable rows=rows.into_iter().take(10).collect()/> }.into_any(),
                        Err(e) => view! { <ui::Failure error=e.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

//! Operator admin pages under `/admin` (admin role only): sites, piles and bays, CSV import,
//! device credentials, fleet health, reservations, users, analytics and the audit log.
//!
//! Access: the server's `admin_pages` middleware decides before anything is rendered: an
//! anonymous visitor is redirected (302) to `/signin?next=<page>` and a signed-in non-admin
//! gets a 403 page. Every server function checks again on its own (see [`api`];
//! [`api::admin_gate`] tells a client which case applies).

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
use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, ParentRoute, Route, A as Link},
    path, SsrMode,
};

/// The admin routes, mounted by `App`. (The trait is named by path: with `erase_components`,
/// as the WASM bundles are built, the macro replaces this return type and an import of it
/// would go unused.)
#[component(transparent)]
pub fn AdminRoutes() -> impl leptos_router::MatchNestedRoutes + Clone {
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

/// The admin navigation and the page. Who may see it is decided before rendering, by the
/// server's `admin_pages` middleware (302 to sign in, or 403); the admin server functions
/// check the role again on every call. A `Suspense` gate here made the server render the
/// page twice when the check resolved late, which broke hydration.
#[component]
fn AdminLayout() -> impl IntoView {
    // Set once the page is interactive (effects run only in the browser): tests wait on it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <div class="admin" data-testid="admin" data-hydrated=move || hydrated.get().to_string()>
            <AdminNav/>
            <div class="admin-main"><Outlet/></div>
        </div>
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

//! Operator admin pages under `/admin` (admin role only).

use leptos::prelude::*;
use leptos_router::{
    components::{ParentRoute, Route},
    path, MatchNestedRoutes,
};

/// The admin routes, mounted by `App`.
#[component(transparent)]
pub fn AdminRoutes() -> impl MatchNestedRoutes + Clone {
    view! {
        <ParentRoute path=path!("/admin") view=AdminLayout>
            <Route path=path!("") view=AdminHome/>
        </ParentRoute>
    }
    .into_inner()
}

#[component]
fn AdminLayout() -> impl IntoView {
    view! { <section class="panel admin"><leptos_router::components::Outlet/></section> }
}

#[component]
fn AdminHome() -> impl IntoView {
    view! { <h1>"Admin"</h1> }
}

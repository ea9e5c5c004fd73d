//! The HTML document and the router.

use crate::pages::{map::MapPage, not_found::NotFound};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    StaticSegment,
};

/// The whole HTML document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header, routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/chargebay.css"/>
        <Title text="chargebay — find a charger whose bay is really free"/>
        <Meta name="description" content="Reserve an EV charging pile whose parking bay is physically free."/>
        <Meta name="theme-color" content="#0f766e"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"chargebay"</a>
                <span class="tagline">"Chargers whose bay is really free"</span>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=MapPage/>
                </Routes>
            </main>
        </Router>
    }
}

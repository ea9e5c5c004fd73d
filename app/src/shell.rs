//! The HTML document, the app-wide contexts (language, signed-in user, live feed) and the
//! router.

use crate::{
    api::{me, sign_out, Account},
    i18n::{use_i18n, I18n, Lang, T},
    live::LiveFeed,
    pages::{
        auth::{SignInPage, SignUpPage},
        history::HistoryPage,
        map::MapPage,
        not_found::NotFound,
        pile::PilePage,
    },
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};

/// The whole HTML document, rendered on the server. The `<head>` is static (no page sets
/// its own title), so it is plain HTML here rather than `leptos_meta` tags in `App`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let lang = crate::i18n::request_lang();
    #[cfg(not(feature = "ssr"))]
    let lang = Lang::En;
    let tiles = use_context::<MapTiles>()
        .and_then(|t| t.0)
        .unwrap_or_default();
    // Admin pages hydrate with the admin bundle; every other page with the smaller driver bundle.
    #[cfg(feature = "ssr")]
    let options = {
        let mut options = options;
        let admin = use_context::<http::request::Parts>()
            .is_some_and(|p| p.uri.path().starts_with("/admin"));
        if admin {
            options.output_name = ADMIN_OUTPUT_NAME.into();
        }
        options
    };
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"chargebay"</title>
                <meta name="description" content="Reserve an EV charging pile whose parking bay is physically free."/>
                <meta name="theme-color" content="#0f766e"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <meta name="cb-tiles" content=tiles/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
                <link rel="stylesheet" href="/vendor/leaflet/leaflet.css"/>
                <link rel="stylesheet" href="/vendor/leaflet/MarkerCluster.css"/>
                <link rel="stylesheet" id="leptos" href="/pkg/chargebay.css"/>
                <script src="/vendor/leaflet/leaflet.js" defer></script>
                <script src="/vendor/leaflet/leaflet.markercluster.js" defer></script>
                <script src="/map.js" defer></script>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// File-name stem of the admin bundle (`pkg/chargebay_admin.js`); the driver bundle is `chargebay`.
pub const ADMIN_OUTPUT_NAME: &str = "chargebay_admin";

/// The map's tile URL template (e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`); with
/// none, markers show on a plain background.
#[derive(Debug, Clone, Default)]
pub struct MapTiles(pub Option<String>);

/// Who is signed in, refetched after sign-in and sign-out.
#[derive(Clone, Copy)]
pub struct Auth {
    /// The signed-in user.
    pub me: Resource<Result<Option<Account>, ServerFnError>>,
    /// Bump to refetch.
    pub version: RwSignal<u32>,
}

impl Auth {
    /// The signed-in user, once loaded.
    pub fn user(&self) -> Option<Account> {
        self.me.get().and_then(Result::ok).flatten()
    }
}

/// The signed-in user context.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// The application.
#[component]
pub fn App() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let lang = crate::i18n::request_lang();
    #[cfg(feature = "hydrate")]
    let lang = crate::i18n::browser_lang();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let lang = Lang::En;
    let i18n = I18n(RwSignal::new(lang));
    provide_context(i18n);
    let version = RwSignal::new(0u32);
    let auth = Auth {
        me: Resource::new(move || version.get(), |_| me()),
        version,
    };
    provide_context(auth);
    provide_context(crate::components::hold_card::HoldVersion(RwSignal::new(0)));
    let live = LiveFeed::new();
    provide_context(live.clone());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        {
            live.connect();
            register_service_worker();
        }
    });

    view! {
        <Router>
            <a class="skip" href="#content">"Skip to content"</a>
            <Header/>
            <OfflineBanner/>
            <main id="content" data-app-hydrated=move || hydrated.get().to_string()>
                <AppRoutes/>
            </main>
        </Router>
    }
}

/// Every route: the driver pages and (in the server and the admin bundle) the admin pages.
#[cfg(feature = "admin")]
#[component]
fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=path!("") view=MapPage/>
            <Route path=path!("/piles/:id") view=PilePage/>
            <Route path=path!("/signin") view=SignInPage/>
            <Route path=path!("/signup") view=SignUpPage/>
            <Route path=path!("/reservations") view=HistoryPage/>
            <crate::admin::AdminRoutes/>
        </Routes>
    }
}

/// The driver bundle's routes. It leaves the admin pages out, so drivers never download
/// them; links to `/admin` are external (a full page load fetches the admin bundle).
#[cfg(not(feature = "admin"))]
#[component]
fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=NotFound>
            <Route path=path!("") view=MapPage/>
            <Route path=path!("/piles/:id") view=PilePage/>
            <Route path=path!("/signin") view=SignInPage/>
            <Route path=path!("/signup") view=SignUpPage/>
            <Route path=path!("/reservations") view=HistoryPage/>
        </Routes>
    }
}

#[component]
fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let auth = use_auth();
    let t = move |k: T| i18n.t(k);
    let switch_lang = move |_| {
        let next = i18n.0.get_untracked().other();
        i18n.0.set(next);
        #[cfg(feature = "hydrate")]
        crate::i18n::remember(next);
    };
    let sign_out_action = Action::new(move |_: &()| async move {
        let _ = sign_out().await;
        auth.version.update(|v| *v += 1);
    });
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"chargebay"</A>
            <span class="tagline">{t(T::Tagline)}</span>
            <nav class="nav" aria-label="Main">
                <A href="/">{t(T::NavMap)}</A>
                <Transition fallback=|| ()>
                    {move || match auth.user() {
                        Some(me) => view! {
                            <A href="/reservations">{t(T::NavReservations)}</A>
                            {me.is_admin.then(|| view! { <a href="/admin" rel="external">{t(T::NavAdmin)}</a> })}
                            <span class="who">{me.name.clone()}</span>
                            <button class="link" on:click=move |_| { sign_out_action.dispatch(()); }>{t(T::NavSignOut)}</button>
                        }.into_any(),
                        None => view! {
                            <A href="/signin">{t(T::NavSignIn)}</A>
                            <A href="/signup">{t(T::NavSignUp)}</A>
                        }.into_any(),
                    }}
                </Transition>
                <button class="lang" on:click=switch_lang aria-label=t(T::LangSwitchLabel) data-testid="lang-switch">{t(T::LangSwitch)}</button>
            </nav>
        </header>
    }
}

/// Says so when the browser is offline (the service worker serves the app shell).
#[component]
fn OfflineBanner() -> impl IntoView {
    let i18n = use_i18n();
    let offline = RwSignal::new(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::{closure::Closure, JsCast};
            let Some(w) = web_sys::window() else { return };
            offline.set(!w.navigator().on_line());
            let on = Closure::<dyn FnMut()>::new(move || offline.set(false));
            let off = Closure::<dyn FnMut()>::new(move || offline.set(true));
            let _ = w.add_event_listener_with_callback("online", on.as_ref().unchecked_ref());
            let _ = w.add_event_listener_with_callback("offline", off.as_ref().unchecked_ref());
            on.forget();
            off.forget();
        }
    });
    view! {
        <Show when=move || offline.get()>
            <p class="banner offline" role="status" data-testid="offline-banner">{i18n.t(T::Offline)}</p>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
fn register_service_worker() {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().service_worker().register("/sw.js");
    }
}

/// A text in the current language (for `view!`).
pub fn tr(key: T) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    use_i18n().t(key)
}

/// The current language, untracked.
pub fn lang_now() -> Lang {
    use_i18n().0.get_untracked()
}

//! 404.

use crate::i18n::{use_i18n, T};
use leptos::prelude::*;

/// Shown for unknown paths (with status 404 on the server).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let i18n = use_i18n();
    view! { <section class="panel"><h1>{i18n.t(T::NotFoundTitle)}</h1><p><a href="/">{i18n.t(T::BackToMap)}</a></p></section> }
}

//! The state badge: colour plus text, never colour alone.

use crate::{format::availability_text, i18n::use_i18n};
use domain::Availability;
use leptos::prelude::*;

/// A pile's state as a labelled badge.
#[component]
pub fn StateBadge(#[prop(into)] availability: Signal<Availability>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class="badge" data-state=move || availability.get().as_str()>
            {move || availability_text(availability.get()).get(i18n.lang())}
        </span>
    }
}

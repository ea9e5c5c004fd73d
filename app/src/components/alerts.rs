//! Toasts for "notify me" alerts: a watched pile became idle.

use crate::{
    format::fill,
    i18n::{use_i18n, T},
    live::use_live,
};
use domain::{LiveEvent, PileId};
use leptos::prelude::*;

/// Shows an alert when a watched pile becomes idle, with a link to it.
#[component]
pub fn WatchAlerts() -> impl IntoView {
    let i18n = use_i18n();
    let alerts: RwSignal<Vec<PileId>> = RwSignal::new(Vec::new());
    use_live().on_event(move |e| {
        if let LiveEvent::Watched { pile, .. } = e {
            let _ = alerts.try_update(|a| a.push(*pile));
        }
    });
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || alerts.get() key=|p| p.0 let:pile>
                <p class="toast" role="status" data-testid="watch-alert">
                    <a href=format!("/piles/{}", pile.0)>{move || fill(T::NowIdle.get(i18n.lang()), &[&format!("#{}", pile.0)])}</a>
                    <button class="link" on:click=move |_| alerts.update(|a| a.retain(|p| *p != pile))>{i18n.t(T::Dismiss)}</button>
                </p>
            </For>
        </div>
    }
}

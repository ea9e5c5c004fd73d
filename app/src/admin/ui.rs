//! Small pieces the admin pages share: error texts, field errors, refreshing, ages.

use super::api::FieldErr;
use crate::{
    format::fill,
    i18n::{admin::A, use_i18n, Lang},
};
use leptos::prelude::*;

/// The text of a field error code (and the value it carries, e.g. a line number).
pub fn err_text(code: &str) -> (A, Option<String>) {
    let (code, value) = match code.split_once(':') {
        Some((c, v)) => (c, Some(v.to_owned())),
        None => (code, None),
    };
    let t = match code {
        "required" => A::ErrRequired,
        "too_long" => A::ErrTooLong,
        "number" => A::ErrNumber,
        "range" => A::ErrRange,
        "timezone" => A::ErrTimezone,
        "connector" => A::ErrConnector,
        "code_format" => A::ErrCodeFormat,
        "sensor" => A::ErrSensor,
        "taken" => A::ErrTaken,
        "unknown_site" => A::ErrUnknownSite,
        "duplicate_in_file" => A::ErrDuplicateInFile,
        "yes_no" => A::ErrYesNo,
        "csv" => A::ErrCsv,
        "unknown_column" => A::ErrUnknownColumn,
        "missing_column" => A::ErrMissingColumn,
        "empty" => A::ErrEmpty,
        "too_large" => A::ErrTooLarge,
        "too_many_rows" => A::ErrTooManyRows,
        "taken_meanwhile" => A::ErrTakenMeanwhile,
        _ => A::ErrOther,
    };
    (t, value)
}

/// A field error as a sentence in `lang`.
pub fn err_sentence(code: &str, lang: Lang) -> String {
    let (t, value) = err_text(code);
    fill(t.get(lang), &[value.as_deref().unwrap_or("")])
}

/// The error shown under `field`, if the last submission had one.
pub fn field_error(
    errors: Signal<Vec<FieldErr>>,
    field: &'static str,
) -> impl Fn() -> Option<AnyView> + Send + Sync + 'static {
    let i18n = use_i18n();
    move || {
        errors.with(|errs| {
            errs.iter().find(|e| e.field == field).map(|e| {
                let text = err_sentence(&e.code, i18n.lang());
                view! { <span class="field-error" role="alert" data-field=field>{text}</span> }
                    .into_any()
            })
        })
    }
}

/// A failed server call.
#[component]
pub fn Failure(error: String) -> impl IntoView {
    let i18n = use_i18n();
    let msg = error
        .trim_start_matches("error running server function: ")
        .to_owned();
    view! { <p class="error" role="alert">{move || fill(A::Failed.get(i18n.lang()), &[&msg])}</p> }
}

/// A counter that goes up every `every_ms` in the browser (for live tables); constant on
/// the server.
pub fn use_refresh(every_ms: u64) -> RwSignal<u32> {
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || tick.update(|t| *t = t.wrapping_add(1)),
            std::time::Duration::from_millis(every_ms),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = every_ms;
    tick
}

/// "12 min ago", or "never".
pub fn ago(lang: Lang, now: i64, at: Option<i64>) -> String {
    match at {
        None => A::Never.get(lang).to_owned(),
        Some(at) => fill(A::Ago.get(lang), &[&super::time::duration(now - at)]),
    }
}

/// "yes"/"no".
pub fn yes_no(lang: Lang, v: bool) -> &'static str {
    if v {
        A::Yes.get(lang)
    } else {
        A::No.get(lang)
    }
}

//! `/admin/import`: bulk import of sites and piles from CSV (paste or file), with a dry-run
//! preview and a per-row error report. Nothing is imported unless every row is valid.

use super::{
    api::import::{admin_import, ImportView},
    ui::{err_sentence, Failure},
};
use crate::{
    format::fill,
    i18n::{admin::A, use_i18n},
};
use leptos::prelude::*;

const EXAMPLE: &str =
    "site,address,lat,lon,timezone,code,connector,max_kw,price,heartbeat_secs,sensor
Harbour Depot,1 Quay St,22.51,114.02,Asia/Shanghai,HD-1,CCS2,120,1.20 CNY/kWh,60,radar
Harbour Depot,,,,,HD-2,Type2,22,0.90 CNY/kWh,,
";

/// `/admin/import`
#[component]
pub fn ImportPage() -> impl IntoView {
    let i18n = use_i18n();
    let csv = RwSignal::new(String::new());
    let run = Action::new(move |dry_run: &bool| {
        let dry_run = *dry_run;
        let text = csv.get_untracked();
        async move { admin_import(text, dry_run).await }
    });
    let on_file = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::{closure::Closure, JsCast};
            let input: web_sys::HtmlInputElement = event_target(&_ev);
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            let Ok(reader) = web_sys::FileReader::new() else {
                return;
            };
            let r = reader.clone();
            let onload = Closure::<dyn FnMut()>::new(move || {
                if let Some(text) = r.result().ok().and_then(|v| v.as_string()) {
                    csv.set(text);
                }
            });
            reader.set_onload(Some(onload.as_ref().unchecked_ref()));
            onload.forget();
            let _ = reader.read_as_text(&file);
        }
    };
    view! {
        <section class="panel">
            <h1>{i18n.a(A::ImportTitle)}</h1>
            <p>{i18n.a(A::ImportHelp)}</p>
            <details>
                <summary>{i18n.a(A::Columns)}</summary>
                <p class="small"><code>"site, code"</code>" · "<code>"address, lat, lon, timezone, hold_secs, grace_secs, freshness_secs, reservations_allowed"</code>" · "<code>"connector, max_kw, price, heartbeat_secs, sensor"</code></p>
                <pre class="example">{EXAMPLE}</pre>
            </details>
            <div class="form admin-form">
                <label>
                    <span>{i18n.a(A::ChooseFile)}</span>
                    <input type="file" accept=".csv,text/csv" on:change=on_file data-testid="import-file"/>
                </label>
                <label>
                    <span>{i18n.a(A::CsvText)}</span>
                    <textarea name="csv" rows="10" spellcheck="false" class="mono" data-testid="import-csv"
                        prop:value=move || csv.get()
                        on:input=move |ev| csv.set(event_target_value(&ev))></textarea>
                </label>
                <div class="actions">
                    <button class="button secondary" data-testid="import-preview" disabled=move || run.pending().get()
                        on:click=move |_| { run.dispatch(true); }>{i18n.a(A::DryRun)}</button>
                    <button class="button" data-testid="import-run" disabled=move || run.pending().get()
                        on:click=move |_| { run.dispatch(false); }>{i18n.a(A::DoImport)}</button>
                </div>
            </div>
            {move || run.value().get().map(|r| match r {
                Ok(v) => view! { <ImportReport v/> }.into_any(),
                Err(e) => view! { <Failure error=e.to_string()/> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn ImportReport(v: ImportView) -> impl IntoView {
    let i18n = use_i18n();
    let bad = v.rows.iter().filter(|r| !r.errors.is_empty()).count();
    let (sites, piles) = (v.new_sites.to_string(), v.new_piles.to_string());
    let bad_s = bad.to_string();
    let summary = move || {
        let lang = i18n.lang();
        if v.committed {
            fill(A::ImportedSummary.get(lang), &[&sites, &piles])
        } else if v.dry_run {
            fill(A::PreviewSummary.get(lang), &[&sites, &piles, &bad_s])
        } else {
            A::NotImported.get(lang).to_owned()
        }
    };
    let status = if v.committed {
        "committed"
    } else if v.dry_run && bad == 0 && v.file_errors.is_empty() {
        "valid"
    } else if v.dry_run {
        "preview"
    } else {
        "refused"
    };
    let file_errors = v.file_errors.clone();
    view! {
        <div class="import-report" data-testid="import-report" data-status=status>
            <p class="summary" role="status">{summary}</p>
            {(!file_errors.is_empty()).then(|| view! {
                <h2>{i18n.a(A::FileErrors)}</h2>
                <ul class="errors">
                    {file_errors.into_iter().map(|e| {
                        let field = e.field.clone();
                        view! { <li><code>{field}</code>" — "{move || err_sentence(&e.code, i18n.lang())}</li> }
                    }).collect_view()}
                </ul>
            })}
            {(!v.rows.is_empty()).then(|| view! {
                <div class="table-wrap">
                <table class="table" data-testid="import-rows">
                    <thead><tr>
                        <th scope="col">{i18n.a(A::Line)}</th>
                        <th scope="col">{i18n.a(A::Site)}</th>
                        <th scope="col">{i18n.a(A::PileCode)}</th>
                        <th scope="col">{i18n.a(A::Outcome)}</th>
                        <th scope="col">{i18n.a(A::Errors)}</th>
                    </tr></thead>
                    <tbody>
                        {v.rows.into_iter().map(|r| {
                            let ok = r.errors.is_empty();
                            let outcome = move || {
                                let lang = i18n.lang();
                                let mut parts = Vec::new();
                                if r.new_site { parts.push(A::WillCreateSite.get(lang)); } else if ok { parts.push(A::ExistingSite.get(lang)); }
                                if r.new_pile { parts.push(A::WillCreatePile.get(lang)); }
                                parts.join(" + ")
                            };
                            let errors = r.errors.clone();
                            view! {
                                <tr data-line=r.line data-ok=ok.to_string() class:bad=!ok>
                                    <td class="num">{r.line}</td>
                                    <td>{r.site.clone()}</td>
                                    <td class="code">{r.code.clone()}</td>
                                    <td>{move || if ok { outcome() } else { String::new() }}</td>
                                    <td>
                                        {errors.into_iter().map(|e| {
                                            let field = e.field.clone();
                                            let field2 = e.field.clone();
                                            view! { <div class="row-error" data-field=field2><code>{field}</code>": "{move || err_sentence(&e.code, i18n.lang())}</div> }
                                        }).collect_view()}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            })}
        </div>
    }
}

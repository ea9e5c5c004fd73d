#![recursion_limit = "512"]
//! The WASM entry point: hydrates the server-rendered page.

/// Called by the hydration script once the module is loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

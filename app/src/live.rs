//! The browser side of the live feed: an EventSource on `/api/v1/live` that reconnects by
//! itself (the browser does that for EventSource) and hands each event to a callback.

use domain::LiveEvent;
use wasm_bindgen::{closure::Closure, JsCast};

/// Subscribes to the live feed for the lifetime of the page.
pub fn subscribe(mut on_event: impl FnMut(LiveEvent) + 'static) {
    let Ok(source) = web_sys::EventSource::new("/api/v1/live") else {
        return;
    };
    let handler =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |msg: web_sys::MessageEvent| {
            if let Some(text) = msg.data().as_string() {
                if let Ok(event) = serde_json::from_str::<LiveEvent>(&text) {
                    on_event(event);
                }
            }
        });
    source.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    std::mem::forget(source);
}

/// Milliseconds since the epoch, from the browser's clock.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

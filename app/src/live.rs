//! The live feed in the browser: one `EventSource` on `/api/v1/live` for the whole app
//! (the browser reconnects it by itself), dispatching each event to the handlers that
//! components register for as long as they are mounted.

use domain::LiveEvent;
use leptos::prelude::*;
use std::sync::{Arc, Mutex};

type Handler = Arc<dyn Fn(&LiveEvent) + Send + Sync>;

/// The registry of live-event handlers, plus whether the feed is connected.
#[derive(Clone)]
pub struct LiveFeed {
    handlers: Arc<Mutex<Vec<(u64, Handler)>>>,
    next: Arc<Mutex<u64>>,
    /// True while the event stream is open.
    pub connected: RwSignal<bool>,
}

impl LiveFeed {
    /// A feed with no handlers (connected by `connect` in the browser).
    pub fn new() -> Self {
        LiveFeed {
            handlers: Arc::default(),
            next: Arc::default(),
            connected: RwSignal::new(false),
        }
    }

    /// Calls `f` for every event until the calling component is unmounted.
    pub fn on_event(&self, f: impl Fn(&LiveEvent) + Send + Sync + 'static) {
        let id = {
            let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        self.handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, Arc::new(f)));
        let handlers = self.handlers.clone();
        on_cleanup(move || {
            handlers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(i, _)| *i != id)
        });
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn dispatch(&self, e: &LiveEvent) {
        let handlers: Vec<Handler> = self
            .handlers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, h)| h.clone())
            .collect();
        for h in handlers {
            h(e);
        }
    }

    /// Opens the event stream (browser only).
    #[cfg(feature = "hydrate")]
    pub fn connect(&self) {
        use wasm_bindgen::{closure::Closure, JsCast};
        let Ok(source) = web_sys::EventSource::new("/api/v1/live") else {
            return;
        };
        let me = self.clone();
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |msg: web_sys::MessageEvent| {
                if let Some(text) = msg.data().as_string() {
                    if let Ok(event) = serde_json::from_str::<LiveEvent>(&text) {
                        me.dispatch(&event);
                    }
                }
            });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let connected = self.connected;
        let on_open = Closure::<dyn FnMut()>::new(move || connected.set(true));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        let on_error = Closure::<dyn FnMut()>::new(move || connected.set(false));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        std::mem::forget(source);
    }
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self::new()
    }
}

/// The app's live feed.
pub fn use_live() -> LiveFeed {
    use_context::<LiveFeed>().unwrap_or_default()
}

/// Milliseconds since the epoch: the browser's clock, or the server's during SSR.
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A signal with the current time that ticks every second in the browser.
pub fn use_clock() -> RwSignal<i64> {
    let now = RwSignal::new(now_ms());
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{closure::Closure, JsCast};
        let tick = Closure::<dyn FnMut()>::new(move || {
            let _ = now.try_set(now_ms());
        });
        if let Some(w) = web_sys::window() {
            if let Ok(handle) = w.set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                1000,
            ) {
                on_cleanup(move || {
                    if let Some(w) = web_sys::window() {
                        w.clear_interval_with_handle(handle);
                    }
                });
            }
        }
        tick.forget();
    }
    now
}

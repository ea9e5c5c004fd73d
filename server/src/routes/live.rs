//! `GET /api/v1/live`: the live feed as server-sent events (JSON `LiveEvent`s).

use crate::AppState;
use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use tokio_stream::wrappers::BroadcastStream;

/// Streams every pile change until the client goes away. A client that falls behind skips
/// what it missed (the browser's next snapshot or event corrects it).
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = BroadcastStream::new(state.service.hub().subscribe()).filter_map(|e| async move {
        let e = e.ok()?;
        Event::default().json_data(&e).ok().map(Ok)
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

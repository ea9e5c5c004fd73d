//! `GET /api/v1/live`: the live feed as server-sent events (JSON `LiveEvent`s). Pile events
//! go to everyone; a driver's hold alerts and watch alerts only to that driver.

use crate::{auth::MaybeUser, AppState};
use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use tokio_stream::wrappers::BroadcastStream;

/// Streams changes until the client goes away. A client that falls behind skips what it
/// missed (EventSource reconnects and the page's next snapshot corrects it).
pub async fn stream(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let me = user.map(|u| u.id);
    let events =
        BroadcastStream::new(state.service.hub().subscribe()).filter_map(move |e| async move {
            let e = e.ok()?;
            match e.audience() {
                Some(who) if Some(who) != me => None,
                _ => Event::default().json_data(&e).ok().map(Ok),
            }
        });
    Sse::new(events).keep_alive(KeepAlive::default())
}

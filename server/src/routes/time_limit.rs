//! Time limits for the server-rendered pages.
//!
//! A page render that stops making progress must not hold its connection for ever. Leptos
//! 0.8's streaming renderer has been seen to stall (a render waiting on a resource whose
//! wake-up was lost, under concurrent renders on other threads), so every page response is
//! bounded twice: the head of the response must be ready within the limit (else 503), and
//! once streaming, no gap between two chunks of the body may exceed it (else the connection
//! is closed, so the browser sees a failed load it can retry, not a page spinning for ever).
//! The JSON API and the live event stream are not under it: the live stream is idle by design.

use axum::{http::StatusCode, Router};
use std::time::Duration;
use tower_http::timeout::{ResponseBodyTimeoutLayer, TimeoutLayer};

/// How long a page may take to start, and to produce each further chunk.
pub const PAGE_TIME_LIMIT: Duration = Duration::from_secs(20);

/// Bounds every response of `pages` by `limit` (see the module docs).
pub fn time_limited<S>(pages: Router<S>, limit: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    pages
        .layer(ResponseBodyTimeoutLayer::new(limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limit,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::get};
    use futures::{stream, StreamExt};
    use tower::ServiceExt;

    const LIMIT: Duration = Duration::from_millis(200);

    fn app() -> Router {
        time_limited(
            Router::new()
                .route("/quick", get(|| async { "page" }))
                .route(
                    "/stalls-before-head",
                    get(|| async { std::future::pending::<&str>().await }),
                )
                .route(
                    "/stalls-mid-body",
                    get(|| async {
                        let head = stream::iter([Ok::<_, std::io::Error>("<html>")]);
                        Body::from_stream(head.chain(stream::pending()))
                    }),
                )
                .route(
                    "/slow-but-steady",
                    get(|| async {
                        let chunks = stream::iter(0..4).then(|i| async move {
                            tokio::time::sleep(LIMIT / 2).await;
                            Ok::<_, std::io::Error>(format!("<p>{i}</p>"))
                        });
                        Body::from_stream(chunks)
                    }),
                ),
            LIMIT,
        )
    }

    async fn get_path(path: &str) -> axum::response::Response {
        let request = axum::http::Request::get(path)
            .body(Body::empty())
            .expect("a request");
        app().oneshot(request).await.expect("infallible")
    }

    #[tokio::test]
    async fn a_page_within_the_limit_is_served_whole() {
        let response = get_path("/quick").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("the whole body");
        assert_eq!(&body[..], b"page");
    }

    #[tokio::test]
    async fn a_render_that_never_starts_answers_503() {
        let response = tokio::time::timeout(LIMIT * 10, get_path("/stalls-before-head"))
            .await
            .expect("answered within the limit");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn a_body_that_stops_streaming_ends_in_an_error() {
        let response = get_path("/stalls-mid-body").await;
        assert_eq!(response.status(), StatusCode::OK);
        let outcome = tokio::time::timeout(
            LIMIT * 10,
            axum::body::to_bytes(response.into_body(), 1 << 16),
        )
        .await;
        assert!(
            matches!(outcome, Ok(Err(_))),
            "the stalled body must fail within the limit"
        );
    }

    #[tokio::test]
    async fn a_long_render_that_keeps_streaming_is_not_cut() {
        let response = get_path("/slow-but-steady").await;
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("the whole body");
        assert_eq!(&body[..], b"<p>0</p><p>1</p><p>2</p><p>3</p>");
    }
}

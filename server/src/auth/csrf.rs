//! CSRF defence for cookie-authenticated requests: a state-changing request that carries a
//! cookie must come from our own origin (the `Origin` header, or `Referer` when a browser
//! omits it). Token-authenticated requests (no cookie) are not exposed to CSRF and pass.
//! SameSite=Lax cookies are the second layer.

use axum::{
    extract::Request,
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

/// Middleware: refuses cross-origin state-changing requests that carry cookies.
pub async fn same_origin(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let has_cookie = req.headers().contains_key(header::COOKIE);
    if unsafe_method && has_cookie && !is_same_origin(&req) {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "code": "forbidden", "message": "cross-origin request refused" })),
        )
            .into_response();
    }
    next.run(req).await
}

fn is_same_origin(req: &Request) -> bool {
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let source = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match source {
        Some(src) => src
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
            .is_some_and(|authority| authority.eq_ignore_ascii_case(host)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn req(origin: Option<&str>, referer: Option<&str>) -> Request {
        let mut b = axum::http::Request::builder()
            .method("POST")
            .uri("/x")
            .header(header::HOST, "127.0.0.1:3000");
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        if let Some(r) = referer {
            b = b.header(header::REFERER, r);
        }
        b.body(Body::empty()).expect("request")
    }

    #[test]
    fn origin_must_match_host() {
        assert!(is_same_origin(&req(Some("http://127.0.0.1:3000"), None)));
        assert!(!is_same_origin(&req(Some("http://evil.example"), None)));
        assert!(!is_same_origin(&req(
            Some("http://127.0.0.1:3000.evil.example"),
            None
        )));
        assert!(is_same_origin(&req(
            None,
            Some("http://127.0.0.1:3000/map?x=1")
        )));
        assert!(!is_same_origin(&req(None, None)));
    }
}

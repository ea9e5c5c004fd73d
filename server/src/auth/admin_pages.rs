//! The gate in front of the admin pages (`/admin`, `/admin/…`), decided before anything is
//! rendered: anonymous visitors are redirected to sign in (302), signed-in users who are not
//! (or no longer) admins get a 403 page, admins go through to the Leptos pages. Deciding it
//! here rather than in a `Suspense` keeps the page rendering identical on the server and in
//! the browser. The admin server functions check the role again on every call.

use super::MaybeUser;
use crate::AppState;
use app::i18n::{admin::A, headers_lang};
use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use store::users::Role;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn admin_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path != "/admin" && !path.starts_with("/admin/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let user = match MaybeUser::from_request_parts(&mut parts, &state).await {
        Ok(MaybeUser(user)) => user,
        Err(e) => return e.into_response(),
    };
    match user {
        None => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("/signin?next={path}"))],
        )
            .into_response(),
        Some(u) if u.role != Role::Admin => {
            let lang = headers_lang(&parts.headers);
            (StatusCode::FORBIDDEN, Html(forbidden_page(lang))).into_response()
        }
        Some(_) => next.run(Request::from_parts(parts, body)).await,
    }
}

/// A small page in the app's style saying why, with a way back.
fn forbidden_page(lang: app::i18n::Lang) -> String {
    let (title, text) = (A::Forbidden.get(lang), A::ForbiddenText.get(lang));
    let back = match lang {
        app::i18n::Lang::Zh => "返回地图",
        app::i18n::Lang::En => "Back to the map",
    };
    format!(
        "<!DOCTYPE html><html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>403 · {title} · chargebay</title>\
         <link rel=\"stylesheet\" href=\"/pkg/chargebay.css\"></head><body>\
         <header class=\"topbar\"><a class=\"brand\" href=\"/\">chargebay</a></header>\
         <main id=\"content\"><section class=\"panel\" data-testid=\"admin-forbidden\">\
         <h1>403 · {title}</h1><p>{text}</p><p><a href=\"/\">{back}</a></p>\
         </section></main></body></html>",
        tag = lang.tag(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forbidden_page_speaks_the_users_language() {
        assert!(forbidden_page(app::i18n::Lang::En).contains("Admins only"));
        assert!(forbidden_page(app::i18n::Lang::Zh).contains("仅限管理员"));
        assert!(forbidden_page(app::i18n::Lang::Zh).contains("lang=\"zh"));
    }
}

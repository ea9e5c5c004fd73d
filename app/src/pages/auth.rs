//! Sign in and sign up, with inline errors. The forms post to their server function, so
//! they work before hydration too; once hydrated they submit through it without a reload.

use crate::{
    api::{AuthFailure, SignIn, SignUp},
    i18n::{use_i18n, T},
    shell::use_auth,
};
use leptos::{ev::SubmitEvent, html, prelude::*, server_fn::ServerFn};
use leptos_router::hooks::{use_navigate, use_query_map};

fn failure_text(f: AuthFailure) -> T {
    match f {
        AuthFailure::WrongPassword => T::WrongPassword,
        AuthFailure::EmailTaken => T::EmailTaken,
        AuthFailure::InvalidEmail => T::InvalidEmail,
        AuthFailure::WeakPassword => T::WeakPassword,
        AuthFailure::InvalidName => T::InvalidName,
    }
}

/// What is typed in a form field.
fn value_of(field: NodeRef<html::Input>) -> String {
    field.get_untracked().map(|f| f.value()).unwrap_or_default()
}

/// After success: refresh who is signed in and go where the user was headed.
fn on_success(ok: Memo<bool>) {
    let auth = use_auth();
    let query = use_query_map();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if ok.get() {
            auth.version.update(|v| *v += 1);
            let next = query
                .with_untracked(|q| q.get("next"))
                .filter(|n| n.starts_with('/') && !n.starts_with("//"))
                .unwrap_or_else(|| "/".into());
            // The admin pages live in their own bundle: load them with a full navigation.
            #[cfg(feature = "hydrate")]
            if next.starts_with("/admin") {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().set_href(&next);
                    return;
                }
            }
            navigate(&next, Default::default());
        }
    });
}

/// `/signin`
#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignIn>::new();
    let result = action.value();
    let failure = Memo::new(move |_| result.get().and_then(|r| r.ok()).and_then(|r| r.err()));
    let error = Memo::new(move |_| result.get().is_some_and(|r| r.is_err()));
    on_success(Memo::new(move |_| {
        result.get().is_some_and(|r| matches!(r, Ok(Ok(_))))
    }));
    let (email, password) = (NodeRef::new(), NodeRef::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        action.dispatch(SignIn {
            email: value_of(email),
            password: value_of(password),
        });
    };
    view! {
        <section class="panel auth">
            <h1>{i18n.t(T::SignInTitle)}</h1>
            <form class="form" novalidate="" action=SignIn::url() method="post" on:submit=submit>
                <label>
                    <span>{i18n.t(T::Email)}</span>
                    <input type="email" name="email" autocomplete="email" required data-testid="email" node_ref=email/>
                </label>
                <label>
                    <span>{i18n.t(T::Password)}</span>
                    <input type="password" name="password" autocomplete="current-password" required data-testid="password" node_ref=password/>
                </label>
                {move || failure.get().map(|f| view! { <p class="error" role="alert" data-testid="form-error">{i18n.t(failure_text(f))}</p> })}
                {move || error.get().then(|| view! { <p class="error" role="alert">{i18n.t(T::SomethingWrong)}</p> })}
                <button type="submit" class="button" data-testid="submit">{i18n.t(T::SignInTitle)}</button>
            </form>
            <p>{i18n.t(T::NoAccount)} " " <a href="/signup">{i18n.t(T::NavSignUp)}</a></p>
        </section>
    }
}

/// `/signup`
#[component]
pub fn SignUpPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<SignUp>::new();
    let result = action.value();
    let failure = Memo::new(move |_| result.get().and_then(|r| r.ok()).and_then(|r| r.err()));
    let field_error = move |fields: &'static [AuthFailure]| {
        move || {
            failure.get().filter(|f| fields.contains(f)).map(|f| view! { <span class="field-error" role="alert" data-testid="form-error">{i18n.t(failure_text(f))}</span> })
        }
    };
    on_success(Memo::new(move |_| {
        result.get().is_some_and(|r| matches!(r, Ok(Ok(_))))
    }));
    let (name, email, password) = (NodeRef::new(), NodeRef::new(), NodeRef::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        action.dispatch(SignUp {
            email: value_of(email),
            password: value_of(password),
            name: value_of(name),
        });
    };
    view! {
        <section class="panel auth">
            <h1>{i18n.t(T::SignUpTitle)}</h1>
            <form class="form" novalidate="" action=SignUp::url() method="post" on:submit=submit>
                <label>
                    <span>{i18n.t(T::Name)}</span>
                    <input type="text" name="name" autocomplete="name" maxlength="60" data-testid="name" node_ref=name/>
                    {field_error(&[AuthFailure::InvalidName])}
                </label>
                <label>
                    <span>{i18n.t(T::Email)}</span>
                    <input type="email" name="email" autocomplete="email" required data-testid="email" node_ref=email/>
                    {field_error(&[AuthFailure::InvalidEmail, AuthFailure::EmailTaken])}
                </label>
                <label>
                    <span>{i18n.t(T::Password)}</span>
                    <input type="password" name="password" autocomplete="new-password" minlength="10" required data-testid="password" node_ref=password/>
                    {field_error(&[AuthFailure::WeakPassword])}
                </label>
                <button type="submit" class="button" data-testid="submit">{i18n.t(T::SignUpTitle)}</button>
            </form>
            <p>{i18n.t(T::HaveAccount)} " " <a href="/signin">{i18n.t(T::NavSignIn)}</a></p>
        </section>
    }
}

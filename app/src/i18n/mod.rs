//! English and Simplified Chinese. Every text is declared once with both translations, so a
//! missing translation does not compile. The language lives in a `lang` cookie (remembered),
//! is read on the server for SSR, and switches in place in the browser.

pub mod admin;
mod texts;

pub use texts::T;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// The BCP 47 tag (for `<html lang>` and the cookie).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// Parses a cookie value or an `Accept-Language` entry.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::Zh)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The other language (for the switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
}

impl T {
    /// The text in `lang`.
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en(),
            Lang::Zh => self.zh(),
        }
    }
}

/// The reactive language of this page.
#[derive(Debug, Clone, Copy)]
pub struct I18n(pub RwSignal<Lang>);

impl I18n {
    /// A reactive text.
    pub fn t(self, key: T) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        move || key.get(self.0.get())
    }

    /// The current language.
    pub fn lang(self) -> Lang {
        self.0.get()
    }
}

/// The page's i18n context (provided by `App`).
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| I18n(RwSignal::new(Lang::En)))
}

/// The language of the current request: the `lang` cookie, else `Accept-Language`, else English.
#[cfg(feature = "ssr")]
pub fn request_lang() -> Lang {
    use_context::<http::request::Parts>()
        .map(|parts| headers_lang(&parts.headers))
        .unwrap_or_default()
}

/// The language a request asks for: the `lang` cookie, else `Accept-Language`, else English.
#[cfg(feature = "ssr")]
pub fn headers_lang(headers: &http::HeaderMap) -> Lang {
    let from_cookie = headers
        .get(http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').find_map(|kv| kv.trim().strip_prefix("lang=")))
        .and_then(Lang::from_tag);
    from_cookie
        .or_else(|| {
            headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split(',')
                        .find_map(|l| Lang::from_tag(l.split(';').next().unwrap_or("")))
                })
        })
        .unwrap_or_default()
}

/// The language in the browser: the `lang` cookie, else the `<html lang>` the server rendered.
#[cfg(feature = "hydrate")]
pub fn browser_lang() -> Lang {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window().and_then(|w| w.document());
    let cookie = doc
        .as_ref()
        .and_then(|d| d.clone().dyn_into::<web_sys::HtmlDocument>().ok())
        .and_then(|d| d.cookie().ok())
        .and_then(|c| {
            c.split(';')
                .find_map(|kv| kv.trim().strip_prefix("lang=").map(str::to_owned))
        });
    cookie
        .as_deref()
        .and_then(Lang::from_tag)
        .or_else(|| {
            doc.and_then(|d| d.document_element())
                .and_then(|e| e.get_attribute("lang"))
                .as_deref()
                .and_then(Lang::from_tag)
        })
        .unwrap_or_default()
}

/// Remembers `lang` for a year and updates `<html lang>`.
#[cfg(feature = "hydrate")]
pub fn remember(lang: Lang) {
    use wasm_bindgen::JsCast;
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        if let Ok(html) = doc.clone().dyn_into::<web_sys::HtmlDocument>() {
            let _ = html.set_cookie(&format!(
                "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                lang.tag()
            ));
        }
        if let Some(root) = doc.document_element() {
            let _ = root.set_attribute("lang", lang.tag());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for l in [Lang::En, Lang::Zh] {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
        assert_eq!(Lang::from_tag("zh-TW"), Some(Lang::Zh));
        assert_eq!(Lang::from_tag("fr"), None);
    }

    #[test]
    fn every_text_has_both_languages() {
        for t in T::ALL {
            assert!(!t.en().is_empty() && !t.zh().is_empty(), "{t:?}");
            assert_ne!(t.en(), t.zh(), "{t:?} looks untranslated");
        }
    }
}

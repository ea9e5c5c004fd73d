//! Who is calling: sessions (tower-sessions, stored in the same database), API tokens,
//! the `CurrentUser` extractor, and the same-origin check against CSRF.

mod admin_pages;
mod csrf;
mod extract;
mod sessions;

pub use admin_pages::admin_pages;
pub use csrf::same_origin;
pub use extract::{login, logout, CurrentUser, MaybeUser};
pub use sessions::{session_layer, SessionBackend};

//! Who is calling: sessions (tower-sessions, stored in the same database), API tokens,
//! the `CurrentUser` extractor, and the same-origin check against CSRF.

mod csrf;
mod extract;
mod sessions;

pub use csrf::same_origin;
pub use extract::{login, logout, CurrentUser, MaybeUser};
pub use sessions::{session_layer, SessionBackend};

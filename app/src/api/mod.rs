//! Server functions (thin: they call the service layer) and the data they exchange. Each
//! file is one area; the `ctx` helpers give a server function its service and caller.

pub mod auth;
pub mod codec;
pub mod holds;
pub mod piles;

pub use auth::*;
pub use holds::*;
pub use piles::*;

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    use crate::session::SessionUser;
    use leptos::prelude::*;
    use tower_sessions::Session;

    /// The service layer, provided by the server for every request.
    pub fn service() -> Result<service::Chargebay, ServerFnError> {
        use_context::<service::Chargebay>().ok_or_else(|| ServerFnError::new("service unavailable"))
    }

    /// The request's session.
    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| ServerFnError::new(format!("session: {e}")))
    }

    /// The signed-in user, if any.
    pub async fn user() -> Result<Option<SessionUser>, ServerFnError> {
        crate::session::current_active(&session().await?, service()?.store())
            .await
            .map_err(|e| ServerFnError::new(e.to_string()))
    }

    /// Maps an unexpected service error (logged, not shown in detail).
    pub fn internal(e: impl std::fmt::Display) -> ServerFnError {
        leptos::logging::error!("server function failed: {e}");
        ServerFnError::new("internal error")
    }
}

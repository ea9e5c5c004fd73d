//! The service layer's error type: what the web and device layers map to status codes.

use store::{reservations::ReserveError, StoreError};

/// Errors a use case can end with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing asked for does not exist (or is not the caller's).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input is invalid; the message says how (400).
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (e.g. the pile is not idle).
    #[error("{0}")]
    Conflict(String),
    /// Infrastructure failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(msg) => ServiceError::Conflict(msg),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<ReserveError> for ServiceError {
    fn from(e: ReserveError) -> Self {
        match e {
            ReserveError::Store(s) => s.into(),
            other => ServiceError::Conflict(other.to_string()),
        }
    }
}

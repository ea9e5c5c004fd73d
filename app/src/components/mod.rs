//! Components shared by pages.

pub mod alerts;
pub mod badge;
pub mod hold_card;

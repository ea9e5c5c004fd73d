//! chargebay's CoAP (RFC 7252) device bridge: piles report their bay's occupancy and their
//! own state over UDP, and observe (RFC 7641) their hold. The bridge authenticates each pile,
//! validates and deduplicates its messages, commits reports in groups and acknowledges each
//! one only after its batch is durable. The protocol is specified in docs/device-protocol.md.

mod auth;
pub mod codec;
mod config;
mod dedup;
mod message;
mod observe;
mod routes;
mod send_batch;
mod server;
mod writer;

pub use config::BridgeConfig;
pub use server::{Bridge, BridgeError};

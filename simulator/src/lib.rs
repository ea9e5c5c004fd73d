//! chargebay's pile simulator: each simulated pile is a real CoAP client on its own UDP
//! socket that reports its bay and its own state to the bridge, exactly as firmware would
//! (confirmable POST, retransmission with back-off, an increasing sequence number).
//! The same client drives the load generator.

pub mod client;
pub mod loadgen;
pub mod world;

pub use client::{PileClient, SendError};
pub use world::{run_pile, SimPile, WorldConfig};

//! Shared helpers for integration tests. Each test crate uses a subset, hence the allow.
#![allow(dead_code)]

pub mod database;
pub mod fake_graph;
pub mod fake_psp;
pub mod server;
pub mod smtp_sink;
pub mod webhook_receiver;

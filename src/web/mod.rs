//! The customer's pages, server-rendered with no external assets.

pub mod pay;

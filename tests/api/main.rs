//! API tests: each runs the app on a random port against its own database,
//! once on SQLite and once on PostgreSQL.

mod helpers;
#[path = "../support/mod.rs"]
mod support;

mod auth;
mod catalog_import;
mod health;
mod isolation;
mod outbox;
mod products;
mod schema;
mod transactions;
mod whatsapp;

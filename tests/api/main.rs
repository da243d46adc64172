//! API tests: each runs the app on a random port against its own database,
//! once on SQLite and once on PostgreSQL.

mod helpers;
#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod api_description;
mod archive;
mod auth;
mod catalog_import;
mod checkout;
mod checkout_edges;
mod daily_summary;
mod exports;
mod exports_xlsx;
mod health;
mod isolation;
mod jobs;
mod login_limits;
mod mail_processes;
mod memberships;
mod memberships_migration;
mod notify_faults;
mod outbox_migration;
mod payment_races;
mod pix_chat;
mod products;
mod psp_api_pix;
mod psp_client;
mod psp_returns;
mod races;
mod schema;
mod shop_events;
mod shop_notify;
mod smtp_settings;
mod transactions;
mod webhook_processes;
mod webhooks_out;
mod whatsapp;
mod whatsapp_faults;

//! chatshop: sell inside WhatsApp chats and get paid by Pix.

pub mod auth;
pub mod cart;
pub mod catalog;
pub mod channels;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contact;
pub mod crypto;
pub mod customers;
pub mod db;
pub mod demo;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod money;
pub mod pix;
pub mod services;
pub mod shops;
pub mod startup;
pub mod telemetry;
pub mod text;

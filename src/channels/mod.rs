//! Adapters to the outside world: WhatsApp's Graph API and e-mail. They know
//! wire formats and delivery rules, nothing of orders or the bot.

pub mod email;
pub mod webhooks;
pub mod whatsapp;

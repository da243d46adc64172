//! The WhatsApp channel: signed webhooks in, the shop's bot, replies out
//! through the outbox, within Meta's 24-hour customer-service window.

pub mod bot;
pub mod command;
pub mod conversation;
pub mod delivery;

pub mod inbound;

pub mod replies;
pub mod signature;
pub mod webhook;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Signature(#[from] signature::SignatureError),
    #[error(transparent)]
    Webhook(#[from] webhook::WebhookError),
    #[error(transparent)]
    Cart(#[from] crate::cart::CartError),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Shop(#[from] crate::shops::ShopError),
    #[error(transparent)]
    Payment(#[from] crate::payments::PaymentError),
    #[error(transparent)]
    Order(#[from] crate::orders::OrderError),
    /// A message id seen before: Meta re-delivered it.
    #[error("this message was handled before")]
    AlreadyHandled,
    #[error("cannot encode a message: {0}")]
    Encoding(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for ChatError {
    fn from(e: diesel::result::Error) -> Self {
        ChatError::Db(e.into())
    }
}

//! Signed webhooks to the shop's own systems (an ERP, n8n, a spreadsheet
//! script): the endpoints a shop registers (`endpoints`), one delivery job
//! per event and endpoint (`deliver`), and the deliveries as the owner sees
//! them, webhooks beside e-mail and WhatsApp sends (`deliveries`).

pub mod deliver;
pub mod deliveries;
pub mod endpoints;

pub use deliver::{DeliverWebhook, WebhookDeps};
pub use deliveries::{Delivery, DeliveryStatus};
pub use endpoints::{EndpointInput, EndpointStatus, EndpointView};

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a shop has at most {0} webhook endpoints; delete one first")]
    TooMany(i64),
    #[error("no such webhook endpoint")]
    NotFound,
    #[error("no such delivery")]
    NoSuchDelivery,
    #[error("only a dead delivery can be retried; this one is {0}")]
    NotDead(DeliveryStatus),
    #[error("a webhook secret cannot be opened: {0}")]
    Secret(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobError),
}

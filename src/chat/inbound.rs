//! Handling what Meta's webhook delivers: each message in its own transaction
//! with the replies it causes (outbox); delivery statuses.

use super::ChatError;
use super::bot::Bot;
use super::conversation;
use super::webhook::{DeliveryStatus, InboundEvent, InboundMessage, StatusKind};
use crate::customers;
use crate::db::AnyConnection;
use crate::notify::outbox;
use crate::shops::whatsapp::{self, ChatShop};
use diesel::Connection;

/// Meta's code for "the 24-hour customer-service window is closed".
pub const WINDOW_CLOSED: i64 = 131047;

/// A shop with no WhatsApp number is reached by the local chat under this id.
pub fn local_phone_number_id(shop: crate::shops::ShopId) -> String {
    format!("local:{shop}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Handled { replies: usize },
    Duplicate,
    UnknownNumber,
    StatusApplied,
}

fn find_shop(conn: &mut AnyConnection, phone_number_id: &str) -> Result<Option<ChatShop>, ChatError> {
    if let Some(shop) = whatsapp::find_by_phone_number_id(conn, phone_number_id)? {
        return Ok(Some(shop));
    }
    // The local chat, only for shops not connected to WhatsApp.
    let Some(Ok(shop_id)) = phone_number_id.strip_prefix("local:").map(str::parse) else { return Ok(None) };
    Ok(whatsapp::chat_shop(conn, shop_id).ok().filter(|shop| shop.phone_number_id.is_none()))
}

pub fn handle_event(conn: &mut AnyConnection, event: &InboundEvent) -> Result<Outcome, ChatError> {
    match event {
        InboundEvent::Message { phone_number_id, contact, message, .. } => {
            let Some(shop) = find_shop(conn, phone_number_id)? else {
                tracing::warn!(phone_number_id, "webhook for a number no shop has connected; acknowledged");
                return Ok(Outcome::UnknownNumber);
            };
            // A savepoint inside the delivery's transaction (see `receive`);
            // a re-delivered message rolls it back, customer update included.
            match conn.transaction(|conn| handle_message(conn, &shop, contact.profile_name.as_deref(), message)) {
                Err(ChatError::AlreadyHandled) => Ok(Outcome::Duplicate),
                other => other,
            }
        }
        InboundEvent::Status { status, .. } => {
            conn.transaction(|conn| apply_status(conn, status))?;
            Ok(Outcome::StatusApplied)
        }
    }
}

fn handle_message(
    conn: &mut AnyConnection,
    shop: &ChatShop,
    profile_name: Option<&str>,
    message: &InboundMessage,
) -> Result<Outcome, ChatError> {
    let now = crate::db::now();
    // Meta's clock, but never in our future: it opens the 24-hour window.
    // A missing or garbled timestamp (parsed as 0) counts as now.
    let sent_at = chrono::DateTime::from_timestamp(message.timestamp, 0)
        .map(|t| t.naive_utc())
        .filter(|t| *t <= now && message.timestamp > 0)
        .unwrap_or(now);
    let customer = customers::record_inbound(conn, shop.id, &message.from, profile_name, sent_at)?;
    if !conversation::record_inbound(conn, &customer, message)? {
        return Err(ChatError::AlreadyHandled);
    }
    outbox::release_waiting(conn, shop.id, &customer.wa_id)?;
    let replies = Bot::new(shop, &customer).respond(conn, message)?;
    for reply in &replies {
        let payload = serde_json::to_string(reply).map_err(|e| ChatError::Encoding(e.to_string()))?;
        let message_id = conversation::record_outbound(conn, &customer, reply, &payload)?;
        outbox::enqueue(conn, shop.id, outbox::CHANNEL_WHATSAPP, Some(message_id), &customer.wa_id, &payload)?;
    }
    Ok(Outcome::Handled { replies: replies.len() })
}

fn apply_status(conn: &mut AnyConnection, status: &DeliveryStatus) -> Result<(), ChatError> {
    let (name, error) = match &status.status {
        StatusKind::Sent => ("sent", None),
        StatusKind::Delivered => ("delivered", None),
        StatusKind::Read => ("read", None),
        StatusKind::Failed => ("failed", status.errors.first().map(|e| format!("{}: {}", e.code, e.title))),
        StatusKind::Other(other) => (other.as_str(), None),
    };
    let owner = conversation::apply_status(conn, &status.message_id, name, error.as_deref())?;
    if status.errors.iter().any(|e| e.code == WINDOW_CLOSED)
        && let Some((shop, customer)) = owner
        && let (Ok(shop), Ok(customer)) = (shop.parse(), customer.parse())
    {
        customers::mark_window_closed(conn, shop, customer)?;
    }
    Ok(())
}

/// What became of one webhook delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    pub handled: usize,
    pub failed: usize,
}

/// The whole path of a webhook delivery: the signature on the raw bytes,
/// then parsing, then each event. Used by the HTTP route and the local chat.
///
/// A delivery commits once, whatever the number of messages in it: each
/// message runs in a savepoint, so one that fails is rolled back alone while
/// the others commit together (one disk flush per batch, not per message).
pub fn receive(
    conn: &mut AnyConnection,
    app_secret: &[u8],
    body: &[u8],
    signature_header: Option<&str>,
) -> Result<Receipt, ChatError> {
    super::signature::verify(app_secret, body, signature_header)?;
    let events = super::webhook::parse(body)?;
    crate::db::write_transaction(conn, |conn| {
        let mut receipt = Receipt::default();
        for event in &events {
            match handle_event(conn, event) {
                Ok(_) => receipt.handled += 1,
                Err(error) => {
                    // Meta re-delivers the batch; what was handled is
                    // recognised by its message id.
                    tracing::error!(%error, "a webhook event could not be handled");
                    receipt.failed += 1;
                }
            }
        }
        Ok::<_, ChatError>(receipt)
    })
}

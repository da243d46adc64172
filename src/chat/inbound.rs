//! Handling what Meta's webhook delivers: each message in a savepoint with
//! the replies it causes (jobs); delivery statuses; events that keep failing.

use super::ChatError;
use super::bot::Bot;
use super::conversation::{self, MessageStatus};
use super::delivery;
use super::webhook::{DeliveryStatus, InboundEvent, InboundMessage, StatusKind};
use crate::customers;
use crate::db::{AnyConnection, schema::webhook_failures};
use crate::payments::Placed;
use crate::shops::whatsapp::{self, ChatShop};
use diesel::prelude::*;

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

pub fn handle_event(conn: &mut AnyConnection, event: &InboundEvent, placed: &Placed<'_>) -> Result<Outcome, ChatError> {
    match event {
        InboundEvent::Message { phone_number_id, contact, message, .. } => {
            // A savepoint inside the delivery's transaction (see `receive`);
            // a re-delivered message rolls it back, customer update included,
            // and a failure leaves the delivery's transaction usable.
            let handled = conn.transaction(|conn| {
                let Some(shop) = find_shop(conn, phone_number_id)? else {
                    tracing::warn!(phone_number_id, "webhook for a number no shop has connected; acknowledged");
                    return Ok(Outcome::UnknownNumber);
                };
                handle_message(conn, &shop, contact.profile_name.as_deref(), message, placed)
            });
            match handled {
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
    placed: &Placed<'_>,
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
    delivery::release_held(conn, &customer)?;
    let replies = Bot::new(shop, &customer, placed).respond(conn, message)?;
    for reply in &replies {
        delivery::enqueue(conn, &customer, reply, true)?;
    }
    Ok(Outcome::Handled { replies: replies.len() })
}

fn apply_status(conn: &mut AnyConnection, status: &DeliveryStatus) -> Result<(), ChatError> {
    let (new_status, error) = match &status.status {
        StatusKind::Sent => (MessageStatus::Sent, None),
        StatusKind::Delivered => (MessageStatus::Delivered, None),
        StatusKind::Read => (MessageStatus::Read, None),
        StatusKind::Failed => {
            (MessageStatus::Failed, status.errors.first().map(|e| format!("{}: {}", e.code, e.title)))
        }
        // A status Meta may add later tells us nothing we act on.
        StatusKind::Other(_) => return Ok(()),
    };
    let owner = conversation::apply_status(conn, &status.message_id, new_status, error.as_deref())?;
    if status.errors.iter().any(|e| e.code == WINDOW_CLOSED)
        && let Some((shop, customer)) = owner
    {
        customers::mark_window_closed(conn, shop, customer)?;
    }
    Ok(())
}

/// After this many failed deliveries of one event, it is recorded and
/// acknowledged: one poison event must not make every re-delivery of its
/// batch fail for the 36 hours Meta keeps trying.
pub const POISON_BOUND: i32 = 5;

/// What became of one webhook delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    pub handled: usize,
    /// Failed this time; Meta should deliver them again.
    pub failed: usize,
    /// Failed `POISON_BOUND` times: kept in `webhook_failures` and acknowledged.
    pub given_up: usize,
}

/// Checks the signature on the raw bytes and parses them: no database is
/// needed for this, so a flood of forged or malformed posts takes none.
pub fn authenticate(
    app_secret: &[u8],
    body: &[u8],
    signature_header: Option<&str>,
) -> Result<Vec<InboundEvent>, ChatError> {
    super::signature::verify(app_secret, body, signature_header)?;
    Ok(super::webhook::parse(body)?)
}

/// Handles the events of one authenticated delivery in one transaction.
///
/// A delivery commits once, whatever the number of messages in it: each
/// message runs in a savepoint, so one that fails is rolled back alone while
/// the others commit together (one disk flush per batch, not per message).
pub fn handle(conn: &mut AnyConnection, events: &[InboundEvent], placed: &Placed<'_>) -> Result<Receipt, ChatError> {
    crate::db::write_transaction(conn, |conn| {
        let mut receipt = Receipt::default();
        for event in events {
            match handle_event(conn, event, placed) {
                Ok(_) => receipt.handled += 1,
                Err(error) => {
                    // Meta re-delivers the batch; what was handled is
                    // recognised by its message id.
                    let attempts = record_failure(conn, event, &error.to_string())?;
                    if attempts >= POISON_BOUND {
                        tracing::error!(%error, attempts, "a webhook event keeps failing; recorded and acknowledged");
                        receipt.given_up += 1;
                    } else {
                        tracing::error!(%error, attempts, "a webhook event could not be handled");
                        receipt.failed += 1;
                    }
                }
            }
        }
        Ok::<_, ChatError>(receipt)
    })
}

/// The whole path of a webhook delivery, for the local chat.
pub fn receive(
    conn: &mut AnyConnection,
    app_secret: &[u8],
    body: &[u8],
    signature_header: Option<&str>,
    placed: &Placed<'_>,
) -> Result<Receipt, ChatError> {
    let events = authenticate(app_secret, body, signature_header)?;
    handle(conn, &events, placed)
}

fn event_key(event: &InboundEvent) -> String {
    match event {
        InboundEvent::Message { message, .. } => format!("whatsapp:message:{}", message.id),
        InboundEvent::Status { status, .. } => format!("whatsapp:status:{}:{:?}", status.message_id, status.status),
    }
}

/// Counts one more failure of the event; returns how many there were.
fn record_failure(conn: &mut AnyConnection, event: &InboundEvent, error: &str) -> QueryResult<i32> {
    let key = event_key(event);
    let now = crate::db::now();
    let body: String = serde_json::to_string(event).unwrap_or_default().chars().take(4096).collect();
    let error: String = error.chars().take(1024).collect();
    let row = (
        webhook_failures::event_key.eq(&key),
        webhook_failures::source.eq("whatsapp"),
        webhook_failures::attempts.eq(1),
        webhook_failures::last_error.eq(&error),
        webhook_failures::body.eq(&body),
        webhook_failures::first_seen_at.eq(now),
        webhook_failures::last_seen_at.eq(now),
    );
    crate::on_backend!(conn, |c| diesel::insert_into(webhook_failures::table)
        .values(row)
        .on_conflict(webhook_failures::event_key)
        .do_update()
        .set((
            webhook_failures::attempts.eq(webhook_failures::attempts + 1),
            webhook_failures::last_error.eq(&error),
            webhook_failures::last_seen_at.eq(now),
        ))
        .execute(c))?;
    webhook_failures::table.find(&key).select(webhook_failures::attempts).first(conn)
}

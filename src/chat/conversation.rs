//! Every message in and out, stored with its customer and shop.

use super::webhook::{InboundMessage, MessageBody};
use crate::channels::whatsapp::message::OutboundMessage;
use crate::customers::Customer;
use crate::db::{AnyConnection, schema::chat_messages};
use diesel::prelude::*;
use uuid::Uuid;

fn describe(body: &MessageBody) -> (&'static str, String) {
    match body {
        MessageBody::Text(text) => ("text", text.clone()),
        MessageBody::Order { items, .. } => (
            "order",
            items.iter().map(|i| format!("{}x {}", i.quantity, i.product_retailer_id)).collect::<Vec<_>>().join(", "),
        ),
        MessageBody::ButtonReply { id, .. } => ("button_reply", id.clone()),
        MessageBody::ListReply { id, .. } => ("list_reply", id.clone()),
        MessageBody::Unsupported { kind } => ("unsupported", kind.clone()),
    }
}

/// Stores an inbound message; false when its Meta id was seen before (a
/// re-delivery), decided by the unique constraint.
pub fn record_inbound(conn: &mut AnyConnection, customer: &Customer, message: &InboundMessage) -> QueryResult<bool> {
    let (kind, body) = describe(&message.body);
    let now = crate::db::now();
    let row = (
        chat_messages::id.eq(Uuid::now_v7().to_string()),
        chat_messages::shop_id.eq(customer.shop_id.to_string()),
        chat_messages::customer_id.eq(customer.id.to_string()),
        chat_messages::direction.eq("in"),
        chat_messages::wa_message_id.eq(Some(message.id.clone())),
        chat_messages::kind.eq(kind),
        chat_messages::body.eq(body),
        chat_messages::status.eq("received"),
        chat_messages::created_at.eq(now),
        chat_messages::updated_at.eq(now),
    );
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(chat_messages::table)
        .values(row.clone())
        .on_conflict(chat_messages::wa_message_id)
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Stores a reply to send; the outbox entry that sends it refers to it.
pub fn record_outbound(
    conn: &mut AnyConnection,
    customer: &Customer,
    message: &OutboundMessage,
    payload: &str,
) -> QueryResult<Uuid> {
    let id = Uuid::now_v7();
    let now = crate::db::now();
    diesel::insert_into(chat_messages::table)
        .values((
            chat_messages::id.eq(id.to_string()),
            chat_messages::shop_id.eq(customer.shop_id.to_string()),
            chat_messages::customer_id.eq(customer.id.to_string()),
            chat_messages::direction.eq("out"),
            chat_messages::kind.eq(message.kind()),
            chat_messages::body.eq(payload),
            chat_messages::status.eq("queued"),
            chat_messages::created_at.eq(now),
            chat_messages::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Sets an outbound message's state after a delivery attempt.
pub fn set_outbound_state(
    conn: &mut AnyConnection,
    id: Uuid,
    status: &str,
    wa_message_id: Option<&str>,
    error: Option<&str>,
) -> QueryResult<()> {
    let now = crate::db::now();
    let target = chat_messages::table.find(id.to_string());
    match wa_message_id {
        Some(wamid) => diesel::update(target)
            .set((
                chat_messages::status.eq(status),
                chat_messages::wa_message_id.eq(wamid),
                chat_messages::updated_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((chat_messages::status.eq(status), chat_messages::error.eq(error), chat_messages::updated_at.eq(now)))
            .execute(conn)?,
    };
    Ok(())
}

/// How far along a delivery is; statuses only move forward, since Meta's
/// webhooks can arrive out of order ("delivered" after "read").
fn progress(status: &str) -> u8 {
    match status {
        "queued" | "waiting_window" => 0,
        "local" | "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        // Final: a failure after "sent" is Meta giving up.
        "failed" => 4,
        _ => 0,
    }
}

/// Applies a delivery status from Meta; returns the message's shop and
/// customer when the message is ours.
pub fn apply_status(
    conn: &mut AnyConnection,
    wa_message_id: &str,
    status: &str,
    error: Option<&str>,
) -> QueryResult<Option<(String, String)>> {
    let found: Option<(String, String, String)> = chat_messages::table
        .filter(chat_messages::wa_message_id.eq(wa_message_id))
        .select((chat_messages::shop_id, chat_messages::customer_id, chat_messages::status))
        .first(conn)
        .optional()?;
    let Some((shop, customer, current)) = found else { return Ok(None) };
    if progress(status) > progress(&current) {
        diesel::update(chat_messages::table.filter(chat_messages::wa_message_id.eq(wa_message_id)))
            .set((
                chat_messages::status.eq(status),
                chat_messages::error.eq(error),
                chat_messages::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
    }
    Ok(Some((shop, customer)))
}

/// A stored message, as a person reading the conversation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: Uuid,
    pub direction: String,
    pub kind: String,
    pub body: String,
    pub status: String,
    pub error: Option<String>,
}

/// The customer's messages after `after` (all when None), oldest first.
pub fn history(conn: &mut AnyConnection, customer: &Customer, after: Option<Uuid>) -> QueryResult<Vec<StoredMessage>> {
    let mut query = chat_messages::table
        .filter(chat_messages::shop_id.eq(customer.shop_id.to_string()))
        .filter(chat_messages::customer_id.eq(customer.id.to_string()))
        .order(chat_messages::id)
        .select((
            chat_messages::id,
            chat_messages::direction,
            chat_messages::kind,
            chat_messages::body,
            chat_messages::status,
            chat_messages::error,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(chat_messages::id.gt(after.to_string()));
    }
    Ok(query
        .load::<(String, String, String, String, String, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(id, direction, kind, body, status, error)| {
            Some(StoredMessage { id: id.parse().ok()?, direction, kind, body, status, error })
        })
        .collect())
}

//! Every message in and out, stored with its customer and shop.

use super::webhook::{InboundMessage, MessageBody};
use crate::channels::whatsapp::OutboundMessage;
use crate::customers::Customer;
use crate::db::{AnyConnection, schema::chat_messages};
use crate::ids::{ChatMessageId, CustomerId, ShopId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

crate::text_enum! {
    pub enum Direction {
        In => "in",
        Out => "out",
    }
}

crate::text_enum! {
    /// Where a message is. Outbound ones move forward only: Meta's status
    /// webhooks can arrive out of order ("delivered" after "read").
    pub enum MessageStatus {
        Received => "received",
        Queued => "queued",
        WaitingWindow => "waiting_window",
        /// Not sent: the customer opted out of what the business starts.
        NotSentOptedOut => "not_sent_opted_out",
        /// Kept for the local chat (a shop with no WhatsApp number).
        Local => "local",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Failed => "failed",
    }
}

impl MessageStatus {
    /// How far along a delivery is.
    fn progress(self) -> i32 {
        match self {
            MessageStatus::Received | MessageStatus::Queued | MessageStatus::WaitingWindow => 0,
            MessageStatus::NotSentOptedOut | MessageStatus::Local | MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            // Final: a failure after "sent" is Meta giving up.
            MessageStatus::Failed => 4,
        }
    }

    /// The same ranking in SQL, for the conditional update.
    fn progress_sql() -> String {
        let cases: String =
            MessageStatus::ALL.iter().map(|s| format!(" WHEN '{}' THEN {}", s.as_str(), s.progress())).collect();
        format!("(CASE chat_messages.status{cases} ELSE 0 END)")
    }
}

#[derive(Insertable)]
#[diesel(table_name = chat_messages)]
struct NewMessage<'a> {
    id: ChatMessageId,
    shop_id: ShopId,
    customer_id: CustomerId,
    direction: Direction,
    wa_message_id: Option<&'a str>,
    kind: &'a str,
    body: &'a str,
    status: MessageStatus,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

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
    let row = NewMessage {
        id: ChatMessageId::new(),
        shop_id: customer.shop_id,
        customer_id: customer.id,
        direction: Direction::In,
        wa_message_id: Some(&message.id),
        kind,
        body: &body,
        status: MessageStatus::Received,
        created_at: now,
        updated_at: now,
    };
    let inserted = crate::on_backend!(conn, |c| diesel::insert_into(chat_messages::table)
        .values(&row)
        .on_conflict(chat_messages::wa_message_id)
        .do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Stores a message to send; the job that sends it refers to it.
pub fn record_outbound(
    conn: &mut AnyConnection,
    customer: &Customer,
    message: &OutboundMessage,
    payload: &str,
) -> QueryResult<ChatMessageId> {
    let now = crate::db::now();
    let row = NewMessage {
        id: ChatMessageId::new(),
        shop_id: customer.shop_id,
        customer_id: customer.id,
        direction: Direction::Out,
        wa_message_id: None,
        kind: message.kind(),
        body: payload,
        status: MessageStatus::Queued,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(chat_messages::table).values(&row).execute(conn)?;
    Ok(row.id)
}

/// What became of an attempt to send a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundState<'a> {
    Sent { wa_message_id: &'a str },
    Local,
    WaitingWindow(&'a str),
    NotSentOptedOut,
    Failed(&'a str),
}

/// Records an outbound message's state after a delivery attempt; it only
/// moves forward (a status webhook may have come first).
pub fn set_outbound_state(conn: &mut AnyConnection, id: ChatMessageId, state: OutboundState) -> QueryResult<()> {
    let now = crate::db::now();
    let target = chat_messages::table.filter(chat_messages::id.eq(id));
    match state {
        OutboundState::Sent { wa_message_id } => diesel::update(target)
            .set((
                chat_messages::status.eq(MessageStatus::Sent),
                chat_messages::wa_message_id.eq(wa_message_id),
                chat_messages::error.eq(None::<String>),
                chat_messages::updated_at.eq(now),
            ))
            .execute(conn)?,
        OutboundState::Local => diesel::update(target)
            .set((chat_messages::status.eq(MessageStatus::Local), chat_messages::updated_at.eq(now)))
            .execute(conn)?,
        OutboundState::NotSentOptedOut => diesel::update(target)
            .set((chat_messages::status.eq(MessageStatus::NotSentOptedOut), chat_messages::updated_at.eq(now)))
            .execute(conn)?,
        OutboundState::WaitingWindow(reason) | OutboundState::Failed(reason) => {
            let status = match state {
                OutboundState::Failed(_) => MessageStatus::Failed,
                _ => MessageStatus::WaitingWindow,
            };
            diesel::update(target)
                .set((
                    chat_messages::status.eq(status),
                    chat_messages::error.eq(reason),
                    chat_messages::updated_at.eq(now),
                ))
                .execute(conn)?
        }
    };
    Ok(())
}

/// Applies a delivery status from Meta in one conditional statement, so two
/// statuses arriving together cannot move a message backwards (a read-then-
/// write would, under PostgreSQL's READ COMMITTED). Returns the message's
/// shop and customer when the message is ours.
pub fn apply_status(
    conn: &mut AnyConnection,
    wa_message_id: &str,
    status: MessageStatus,
    error: Option<&str>,
) -> QueryResult<Option<(ShopId, CustomerId)>> {
    diesel::update(chat_messages::table.filter(chat_messages::wa_message_id.eq(wa_message_id)))
        .filter(diesel::dsl::sql::<diesel::sql_types::Integer>(&MessageStatus::progress_sql()).lt(status.progress()))
        .set((
            chat_messages::status.eq(status),
            chat_messages::error.eq(error),
            chat_messages::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    chat_messages::table
        .filter(chat_messages::wa_message_id.eq(wa_message_id))
        .select((chat_messages::shop_id, chat_messages::customer_id))
        .first(conn)
        .optional()
}

/// A stored message, as a person reading the conversation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = chat_messages)]
pub struct StoredMessage {
    pub id: ChatMessageId,
    pub direction: Direction,
    pub kind: String,
    pub body: String,
    pub status: MessageStatus,
    pub error: Option<String>,
}

/// The customer's messages after `after` (all when None), oldest first.
pub fn history(
    conn: &mut AnyConnection,
    customer: &Customer,
    after: Option<ChatMessageId>,
) -> QueryResult<Vec<StoredMessage>> {
    let mut query = chat_messages::table
        .filter(chat_messages::shop_id.eq(customer.shop_id))
        .filter(chat_messages::customer_id.eq(customer.id))
        .order(chat_messages::id)
        .select(StoredMessage::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(chat_messages::id.gt(after));
    }
    query.load(conn)
}

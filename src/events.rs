//! Domain events: what happened to an order, a payment or a refund, written
//! once in the transaction of the change that caused it. Writing one queues
//! its fan-out (`Publish`, run by `notify`), so the event and the work it
//! causes exist exactly when the change does. A replayed cause (the same PSP
//! webhook twice) carries the same dedupe key and writes nothing new.

use crate::db::{AnyConnection, schema::events};
use crate::ids::{EventId, ShopId};
use crate::jobs::{self, JobError, JobKind, Schedule};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

crate::text_enum! {
    /// The events outside systems can subscribe to (DESIGN.md), and
    /// `charge.issued`, which only the customer's chat hears of.
    pub enum EventType {
        OrderCreated => "order.created",
        OrderPaid => "order.paid",
        OrderExpired => "order.expired",
        OrderCancelled => "order.cancelled",
        OrderFulfilled => "order.fulfilled",
        OrderRefunded => "order.refunded",
        PaymentReceived => "payment.received",
        PaymentFlagged => "payment.flagged",
        RefundSettled => "refund.settled",
        RefundFailed => "refund.failed",
        ChargeIssued => "charge.issued",
    }
}

impl EventType {
    /// Whether shops' webhook endpoints may subscribe to it.
    pub fn is_public(self) -> bool {
        !matches!(self, EventType::ChargeIssued | EventType::OrderRefunded)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: EventId,
    pub shop_id: ShopId,
    pub event_type: EventType,
    /// JSON: the order, payment or refund as the API shows it.
    pub data: String,
    pub dedupe_key: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewEvent<'a> {
    id: EventId,
    shop_id: ShopId,
    event_type: EventType,
    data: &'a str,
    dedupe_key: Option<&'a str>,
    created_at: NaiveDateTime,
}

/// The job that fans an event out into deliveries (see `notify`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    pub event_id: EventId,
}

impl JobKind for Publish {
    const KIND: &'static str = "event.publish";
}

/// Records an event and queues its fan-out, in the caller's transaction.
/// None when an event with this dedupe key was recorded before.
pub fn record<T: Serialize>(
    conn: &mut AnyConnection,
    shop: ShopId,
    event_type: EventType,
    data: &T,
    dedupe_key: Option<String>,
    now: NaiveDateTime,
) -> Result<Option<EventId>, JobError> {
    let data = serde_json::to_string(data)?;
    if let Some(key) = &dedupe_key {
        let seen: i64 = events::table.filter(events::dedupe_key.eq(key)).count().get_result(conn)?;
        if seen > 0 {
            return Ok(None);
        }
    }
    let id = EventId::new();
    diesel::insert_into(events::table)
        .values(NewEvent {
            id,
            shop_id: shop,
            event_type,
            data: &data,
            dedupe_key: dedupe_key.as_deref(),
            created_at: now,
        })
        .execute(conn)?;
    jobs::enqueue(conn, &Publish { event_id: id }, Schedule::for_shop(shop))?;
    Ok(Some(id))
}

pub fn find(conn: &mut AnyConnection, id: EventId) -> QueryResult<Option<Event>> {
    events::table.find(id).select(Event::as_select()).first(conn).optional()
}

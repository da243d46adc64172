//! Refunds (devoluções): asked for by the shop over the API, or made by the
//! PSP itself (MED returns). Never above what a Pix brought minus what was
//! given back of it already; followed until the PSP settles or refuses.

use super::PaymentError;
use crate::db::AnyConnection;
use crate::db::schema::{orders, payments, refunds};
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use crate::pix::{EndToEndId, RefundId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

crate::text_enum! {
    pub enum RefundStatus {
        Processing => "processing",
        Settled => "settled",
        Failed => "failed",
    }
}

crate::text_enum! {
    pub enum RefundInitiator {
        Shop => "shop",
        /// The PSP returned money the shop did not ask for (MED).
        Psp => "psp",
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = refunds)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Refund {
    pub id: RefundId,
    pub end_to_end_id: EndToEndId,
    pub shop_id: ShopId,
    pub order_id: Option<OrderId>,
    #[diesel(column_name = amount_cents)]
    pub amount: Money,
    pub reason: Option<String>,
    pub nature: Option<String>,
    pub initiated_by: RefundInitiator,
    pub status: RefundStatus,
    pub rtr_id: Option<String>,
    pub error: Option<String>,
    pub requested_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = refunds)]
pub(super) struct NewRefund<'a> {
    pub id: &'a RefundId,
    pub end_to_end_id: &'a EndToEndId,
    pub shop_id: ShopId,
    pub order_id: Option<OrderId>,
    #[diesel(column_name = amount_cents)]
    pub amount: Money,
    pub reason: Option<&'a str>,
    pub nature: Option<&'a str>,
    pub initiated_by: RefundInitiator,
    pub status: RefundStatus,
    pub rtr_id: Option<&'a str>,
    pub requested_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub fn of_order(conn: &mut AnyConnection, order: OrderId) -> QueryResult<Vec<Refund>> {
    refunds::table
        .filter(refunds::order_id.eq(order))
        .order(refunds::requested_at)
        .select(Refund::as_select())
        .load(conn)
}

pub fn find(conn: &mut AnyConnection, e2e: &EndToEndId, id: &RefundId) -> QueryResult<Option<Refund>> {
    refunds::table
        .filter(refunds::end_to_end_id.eq(e2e))
        .filter(refunds::id.eq(id))
        .select(Refund::as_select())
        .first(conn)
        .optional()
}

/// What of this Pix can still be given back: its amount minus every refund
/// not failed.
pub fn refundable(conn: &mut AnyConnection, e2e: &EndToEndId) -> Result<Money, PaymentError> {
    let paid: i64 = payments::table.find(e2e).select(payments::amount_cents).first(conn)?;
    let taken: i64 = refunds::table
        .filter(refunds::end_to_end_id.eq(e2e))
        .filter(refunds::status.ne(RefundStatus::Failed))
        .select(refunds::amount_cents)
        .load::<i64>(conn)?
        .into_iter()
        .sum();
    Ok(Money::from_cents((paid - taken).max(0)).unwrap_or(Money::ZERO))
}

/// Takes the order's row lock first, so two refunds of one order are
/// checked against the limit one after the other on every engine.
pub(super) fn lock_order(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    now: NaiveDateTime,
) -> Result<(), PaymentError> {
    let locked = diesel::update(orders::table.filter(orders::shop_id.eq(shop)).filter(orders::id.eq(order)))
        .set(orders::updated_at.eq(now))
        .execute(conn)?;
    if locked == 1 { Ok(()) } else { Err(PaymentError::Order(crate::orders::OrderError::NotFound)) }
}

//! The order's state changes, each a compare-and-set: one conditional
//! statement that names the state it moves from, so of two concurrent
//! attempts (two processes, a webhook and a poll) exactly one takes effect.

use super::OrderError;
use super::model::{OrderFlags, OrderStatus};
use super::repo;
use crate::catalog::release_stock;
use crate::db::AnyConnection;
use crate::db::schema::orders;
use crate::ids::{OrderId, ShopId};
use crate::money::Money;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// `pending_payment` → `paid`, with the amount that paid it; false when the
/// order had left `pending_payment` (paid already, expired, cancelled).
pub fn mark_paid(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    amount: Money,
    paid_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, OrderError> {
    let moved = diesel::update(orders::table)
        .filter(orders::shop_id.eq(shop))
        .filter(orders::id.eq(order))
        .filter(orders::status.eq(OrderStatus::PendingPayment))
        .set((
            orders::status.eq(OrderStatus::Paid),
            orders::paid_cents.eq(orders::paid_cents + amount.cents()),
            orders::paid_at.eq(paid_at),
            orders::amount_mismatch.eq(false),
            orders::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(moved == 1)
}

/// How an unpaid order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Expired,
    Cancelled,
}

/// `pending_payment` → `expired` | `cancelled`, giving the stock back; false
/// when it was not pending (paid meanwhile, or closed already).
pub fn close_unpaid(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    how: Closed,
    now: NaiveDateTime,
) -> Result<bool, OrderError> {
    let to = match how {
        Closed::Expired => OrderStatus::Expired,
        Closed::Cancelled => OrderStatus::Cancelled,
    };
    let moved = diesel::update(orders::table)
        .filter(orders::shop_id.eq(shop))
        .filter(orders::id.eq(order))
        .filter(orders::status.eq(OrderStatus::PendingPayment))
        .set((orders::status.eq(to), orders::closed_at.eq(now), orders::updated_at.eq(now)))
        .execute(conn)?;
    if moved != 1 {
        return Ok(false);
    }
    for line in repo::lines(conn, order)? {
        release_stock(conn, shop, line.product_id, line.quantity)?;
    }
    Ok(true)
}

/// `paid` → `fulfilled`.
pub fn fulfil(conn: &mut AnyConnection, shop: ShopId, order: OrderId, now: NaiveDateTime) -> Result<(), OrderError> {
    let moved = diesel::update(orders::table)
        .filter(orders::shop_id.eq(shop))
        .filter(orders::id.eq(order))
        .filter(orders::status.eq(OrderStatus::Paid))
        .set((orders::status.eq(OrderStatus::Fulfilled), orders::closed_at.eq(now), orders::updated_at.eq(now)))
        .execute(conn)?;
    if moved == 1 {
        return Ok(());
    }
    let current = repo::get(conn, shop, order)?;
    Err(OrderError::WrongState(current.status))
}

/// Raises flags (never lowers them).
pub fn record_flags(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    flags: OrderFlags,
    now: NaiveDateTime,
) -> Result<(), OrderError> {
    let target = orders::table.filter(orders::shop_id.eq(shop)).filter(orders::id.eq(order));
    if flags.amount_mismatch {
        diesel::update(target).set((orders::amount_mismatch.eq(true), orders::updated_at.eq(now))).execute(conn)?;
    }
    if flags.late_payment {
        diesel::update(target).set((orders::late_payment.eq(true), orders::updated_at.eq(now))).execute(conn)?;
    }
    if flags.needs_refund {
        diesel::update(target).set((orders::needs_refund.eq(true), orders::updated_at.eq(now))).execute(conn)?;
    }
    if flags.returned_by_psp {
        diesel::update(target).set((orders::returned_by_psp.eq(true), orders::updated_at.eq(now))).execute(conn)?;
    }
    Ok(())
}

/// A refund settled: counts it, and moves a paid order to `refunded` or
/// `partially_refunded`; an order that was never paid (money that came
/// late, or of another amount) keeps its state and loses `needs_refund`.
pub fn record_refunded(
    conn: &mut AnyConnection,
    shop: ShopId,
    order: OrderId,
    amount: Money,
    now: NaiveDateTime,
) -> Result<(), OrderError> {
    let target = orders::table.filter(orders::shop_id.eq(shop)).filter(orders::id.eq(order));
    diesel::update(target)
        .set((orders::refunded_cents.eq(orders::refunded_cents + amount.cents()), orders::updated_at.eq(now)))
        .execute(conn)?;
    let was_paid = [OrderStatus::Paid, OrderStatus::Fulfilled, OrderStatus::PartiallyRefunded, OrderStatus::Refunded];
    diesel::update(target)
        .filter(orders::status.eq_any(was_paid))
        .filter(orders::refunded_cents.ge(orders::paid_cents))
        .set(orders::status.eq(OrderStatus::Refunded))
        .execute(conn)?;
    diesel::update(target)
        .filter(orders::status.eq_any([OrderStatus::Paid, OrderStatus::Fulfilled]))
        .filter(orders::refunded_cents.lt(orders::paid_cents))
        .set(orders::status.eq(OrderStatus::PartiallyRefunded))
        .execute(conn)?;
    diesel::update(target).filter(orders::status.ne_all(was_paid)).set(orders::needs_refund.eq(false)).execute(conn)?;
    Ok(())
}

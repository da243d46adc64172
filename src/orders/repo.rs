//! Reading orders: always within the caller's shop.

use super::OrderError;
use super::model::{Order, OrderLine, OrderStatus};
use crate::db::AnyConnection;
use crate::db::schema::{order_lines, orders, products};
use crate::ids::{CustomerId, OrderId, ProductId, ShopId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn get(conn: &mut AnyConnection, shop: ShopId, id: OrderId) -> Result<Order, OrderError> {
    orders::table
        .filter(orders::shop_id.eq(shop))
        .filter(orders::id.eq(id))
        .select(Order::as_select())
        .first(conn)
        .optional()?
        .ok_or(OrderError::NotFound)
}

/// The order a pay link shows; the token is the only key.
pub fn by_pay_token(conn: &mut AnyConnection, token: &str) -> Result<Order, OrderError> {
    orders::table
        .filter(orders::pay_token.eq(token))
        .select(Order::as_select())
        .first(conn)
        .optional()?
        .ok_or(OrderError::NotFound)
}

pub fn lines(conn: &mut AnyConnection, order: OrderId) -> Result<Vec<OrderLine>, OrderError> {
    Ok(order_lines::table
        .filter(order_lines::order_id.eq(order))
        .order(order_lines::line_no)
        .select(OrderLine::as_select())
        .load(conn)?)
}

/// The customer's order still waiting for payment, newest first.
pub fn pending_of_customer(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
) -> Result<Option<Order>, OrderError> {
    Ok(orders::table
        .filter(orders::shop_id.eq(shop))
        .filter(orders::customer_id.eq(customer))
        .filter(orders::status.eq(OrderStatus::PendingPayment))
        .order(orders::id.desc())
        .select(Order::as_select())
        .first(conn)
        .optional()?)
}

/// The customer's latest order, whatever its state.
pub fn latest_of_customer(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
) -> Result<Option<Order>, OrderError> {
    Ok(orders::table
        .filter(orders::shop_id.eq(shop))
        .filter(orders::customer_id.eq(customer))
        .order(orders::id.desc())
        .select(Order::as_select())
        .first(conn)
        .optional()?)
}

pub(super) fn stock_of(conn: &mut AnyConnection, shop: ShopId, product: ProductId) -> Result<Option<i64>, OrderError> {
    Ok(products::table
        .filter(products::shop_id.eq(shop))
        .filter(products::id.eq(product))
        .select(products::stock)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten())
}

/// What `GET /v1/orders` filters on.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub from: Option<NaiveDateTime>,
    /// Exclusive.
    pub to: Option<NaiveDateTime>,
}

/// A page of orders, newest first; `after` is the last id of the previous page.
pub fn list(
    conn: &mut AnyConnection,
    shop: ShopId,
    filter: &OrderFilter,
    after: Option<OrderId>,
    limit: i64,
) -> Result<Vec<Order>, OrderError> {
    let mut query = orders::table.filter(orders::shop_id.eq(shop)).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(orders::status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(orders::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(orders::created_at.lt(to));
    }
    if let Some(after) = after {
        query = query.filter(orders::id.lt(after));
    }
    Ok(query.order(orders::id.desc()).limit(limit).select(Order::as_select()).load(conn)?)
}

/// Orders still waiting for payment whose time is up (for the expiry sweep).
pub fn overdue(conn: &mut AnyConnection, now: NaiveDateTime, limit: i64) -> Result<Vec<(ShopId, OrderId)>, OrderError> {
    Ok(orders::table
        .filter(orders::status.eq(OrderStatus::PendingPayment))
        .filter(orders::expires_at.le(now))
        .select((orders::shop_id, orders::id))
        .limit(limit)
        .load(conn)?)
}

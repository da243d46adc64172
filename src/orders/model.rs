//! An order and its lines as stored.

use crate::db::schema::{order_lines, orders};
use crate::ids::{CustomerId, OrderId, ProductId, ShopId};
use crate::money::Money;
use chrono::NaiveDateTime;
use diesel::prelude::*;

crate::text_enum! {
    /// `pending_payment` → `paid` → `fulfilled`; `pending_payment` →
    /// `expired` | `cancelled`; `paid | fulfilled` → `refunded` |
    /// `partially_refunded`.
    pub enum OrderStatus {
        PendingPayment => "pending_payment",
        Paid => "paid",
        Fulfilled => "fulfilled",
        Expired => "expired",
        Cancelled => "cancelled",
        Refunded => "refunded",
        PartiallyRefunded => "partially_refunded",
    }
}

crate::text_enum! {
    /// Where an order was placed.
    pub enum OrderSource {
        Chat => "chat",
        Api => "api",
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = orders)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Order {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub number: i64,
    pub status: OrderStatus,
    pub source: OrderSource,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub customer_whatsapp: Option<String>,
    pub note: Option<String>,
    #[diesel(column_name = subtotal_cents)]
    pub subtotal: Money,
    #[diesel(column_name = shipping_cents)]
    pub shipping: Money,
    #[diesel(column_name = discount_cents)]
    pub discount: Money,
    #[diesel(column_name = total_cents)]
    pub total: Money,
    #[diesel(column_name = paid_cents)]
    pub paid: Money,
    #[diesel(column_name = refunded_cents)]
    pub refunded: Money,
    #[diesel(embed)]
    pub flags: OrderFlags,
    pub pay_token: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// What needs the shop's attention about an order's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Queryable, Selectable)]
#[diesel(table_name = orders)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OrderFlags {
    /// A Pix of another amount than the total arrived: not paid.
    pub amount_mismatch: bool,
    /// A Pix arrived after the order expired or was cancelled.
    pub late_payment: bool,
    /// Money came in that the shop should give back.
    pub needs_refund: bool,
    /// The PSP returned money on its own (a MED return: fraud or an
    /// operational error), not asked for by the shop.
    pub returned_by_psp: bool,
}

impl OrderFlags {
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.amount_mismatch {
            names.push("amount_mismatch");
        }
        if self.late_payment {
            names.push("late_payment");
        }
        if self.needs_refund {
            names.push("needs_refund");
        }
        if self.returned_by_psp {
            names.push("returned_by_psp");
        }
        names
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = order_lines)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OrderLine {
    pub line_no: i32,
    pub product_id: ProductId,
    pub retailer_id: String,
    pub name: String,
    #[diesel(column_name = unit_price_cents)]
    pub unit_price: Money,
    pub quantity: i64,
    #[diesel(column_name = amount_cents)]
    pub amount: Money,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = order_lines)]
pub struct NewOrderLine {
    pub order_id: OrderId,
    pub line_no: i32,
    pub shop_id: ShopId,
    pub product_id: ProductId,
    pub retailer_id: String,
    pub name: String,
    #[diesel(column_name = unit_price_cents)]
    pub unit_price: Money,
    pub quantity: i64,
    #[diesel(column_name = amount_cents)]
    pub amount: Money,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = orders)]
pub(super) struct NewOrder {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub number: i64,
    pub status: OrderStatus,
    pub source: OrderSource,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub customer_whatsapp: Option<String>,
    pub note: Option<String>,
    #[diesel(column_name = subtotal_cents)]
    pub subtotal: Money,
    #[diesel(column_name = shipping_cents)]
    pub shipping: Money,
    #[diesel(column_name = discount_cents)]
    pub discount: Money,
    #[diesel(column_name = total_cents)]
    pub total: Money,
    pub pay_token: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

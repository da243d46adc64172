//! Placing an order: lines priced from the catalogue at this moment (the
//! sale price when set), stock reserved by conditional updates, a number
//! from the shop's counter; all or nothing, in the caller's transaction.

use super::model::{NewOrder, NewOrderLine, Order, OrderLine, OrderSource, OrderStatus};
use super::{OrderError, repo};
use crate::catalog::{Product, Sku, reserve_stock};
use crate::db::schema::{order_lines, orders, products, shops};
use crate::db::{AnyConnection, write_transaction};
use crate::ids::{CustomerId, OrderId, ShopId};
use crate::money::Money;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most units of one product in an order.
pub const MAX_QUANTITY: i64 = 9_999;
/// The most lines in an order.
pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone)]
pub struct Checkout {
    pub source: OrderSource,
    pub customer: CustomerRef,
    pub items: Vec<CheckoutItem>,
    pub note: Option<String>,
}

/// Who the order is for: the chat's customer, or what an API caller gave.
#[derive(Debug, Clone, Default)]
pub struct CustomerRef {
    pub id: Option<CustomerId>,
    pub name: Option<String>,
    /// WhatsApp id (digits with country code).
    pub whatsapp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutItem {
    pub sku: Sku,
    pub quantity: i64,
}

/// The shop's checkout settings at this moment.
#[derive(Debug, Clone, Copy)]
pub struct Pricing {
    pub shipping_fee: Money,
    /// Subtotals at or above this ship free.
    pub free_shipping_above: Option<Money>,
    /// How long the customer has to pay.
    pub ttl: TimeDelta,
}

impl Pricing {
    pub fn shipping_for(&self, subtotal: Money) -> Money {
        match self.free_shipping_above {
            Some(threshold) if subtotal >= threshold => Money::ZERO,
            _ => self.shipping_fee,
        }
    }
}

/// Why an item cannot be ordered; named to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ItemProblem {
    /// No live product has this SKU.
    UnknownProduct {
        retailer_id: String,
    },
    /// The product is not for sale now.
    Unavailable {
        retailer_id: String,
        name: String,
    },
    /// Not enough in stock; `available` is what there is.
    OutOfStock {
        retailer_id: String,
        name: String,
        available: i64,
    },
    InvalidQuantity {
        retailer_id: String,
    },
}

/// Places the order: reserves every line's stock or none, and writes the
/// order `pending_payment` with its lines. Runs in the caller's transaction
/// (as a savepoint), so a failure leaves nothing reserved.
pub fn place(
    conn: &mut AnyConnection,
    shop: ShopId,
    checkout: &Checkout,
    pricing: &Pricing,
    now: NaiveDateTime,
) -> Result<(Order, Vec<OrderLine>), OrderError> {
    let wanted = merge_items(&checkout.items)?;
    write_transaction(conn, |conn| {
        let mut problems = Vec::new();
        let mut priced: Vec<(Product, i64)> = Vec::new();
        // One statement for the products, in id order, so concurrent
        // checkouts take row locks in the same order and never deadlock.
        let skus: Vec<&Sku> = wanted.keys().collect();
        let mut found: Vec<Product> = products::table
            .filter(products::shop_id.eq(shop))
            .filter(products::retailer_id.eq_any(skus))
            .filter(products::archived_at.is_null())
            .select(Product::as_select())
            .load(conn)?;
        found.sort_by_key(|p| p.id);
        for (sku, _) in wanted.iter() {
            if !found.iter().any(|p| &p.retailer_id == sku) {
                problems.push(ItemProblem::UnknownProduct { retailer_id: sku.to_string() });
            }
        }
        for product in found {
            let quantity = wanted[&product.retailer_id];
            if !product.availability.can_be_ordered() {
                problems.push(ItemProblem::Unavailable {
                    retailer_id: product.retailer_id.to_string(),
                    name: product.name.clone(),
                });
            } else if !reserve_stock(conn, shop, product.id, quantity)? {
                let available = repo::stock_of(conn, shop, product.id)?.unwrap_or(0);
                problems.push(ItemProblem::OutOfStock {
                    retailer_id: product.retailer_id.to_string(),
                    name: product.name.clone(),
                    available,
                });
            } else {
                priced.push((product, quantity));
            }
        }
        if !problems.is_empty() {
            return Err(OrderError::ItemsUnavailable(problems));
        }
        write_order(conn, shop, checkout, pricing, priced, now)
    })
}

/// Same SKU twice: one line with the sum.
fn merge_items(items: &[CheckoutItem]) -> Result<BTreeMap<Sku, i64>, OrderError> {
    if items.is_empty() {
        return Err(OrderError::NoItems);
    }
    let mut wanted: BTreeMap<Sku, i64> = BTreeMap::new();
    let mut problems = Vec::new();
    for item in items {
        let total = wanted.entry(item.sku.clone()).or_insert(0);
        *total = total.saturating_add(item.quantity);
        if item.quantity < 1 || *total > MAX_QUANTITY {
            problems.push(ItemProblem::InvalidQuantity { retailer_id: item.sku.to_string() });
        }
    }
    if wanted.len() > MAX_LINES {
        return Err(OrderError::Invalid { field: "items", reason: format!("at most {MAX_LINES} different products") });
    }
    if !problems.is_empty() {
        return Err(OrderError::ItemsUnavailable(problems));
    }
    Ok(wanted)
}

fn write_order(
    conn: &mut AnyConnection,
    shop: ShopId,
    checkout: &Checkout,
    pricing: &Pricing,
    priced: Vec<(Product, i64)>,
    now: NaiveDateTime,
) -> Result<(Order, Vec<OrderLine>), OrderError> {
    let id = OrderId::new();
    let mut lines = Vec::with_capacity(priced.len());
    let mut subtotal = Money::ZERO;
    for (index, (product, quantity)) in priced.into_iter().enumerate() {
        let unit_price = product.unit_price();
        let amount = unit_price.checked_mul(quantity).ok_or(OrderError::TotalTooLarge)?;
        subtotal = subtotal.checked_add(amount).ok_or(OrderError::TotalTooLarge)?;
        lines.push(NewOrderLine {
            order_id: id,
            line_no: index as i32 + 1,
            shop_id: shop,
            product_id: product.id,
            retailer_id: product.retailer_id.to_string(),
            name: product.name,
            unit_price,
            quantity,
            amount,
        });
    }
    let shipping = pricing.shipping_for(subtotal);
    let total = subtotal.checked_add(shipping).ok_or(OrderError::TotalTooLarge)?;
    // Taken last, so the shop row's lock is held for the shortest time.
    let number = next_number(conn, shop)?;
    diesel::insert_into(orders::table)
        .values(NewOrder {
            id,
            shop_id: shop,
            number,
            status: OrderStatus::PendingPayment,
            source: checkout.source,
            customer_id: checkout.customer.id,
            customer_name: checkout.customer.name.clone(),
            customer_whatsapp: checkout.customer.whatsapp.clone(),
            note: checkout.note.clone(),
            subtotal,
            shipping,
            discount: Money::ZERO,
            total,
            pay_token: pay_token(),
            expires_at: now + pricing.ttl,
            created_at: now,
            updated_at: now,
        })
        .execute(conn)?;
    for line in &lines {
        diesel::insert_into(order_lines::table).values(line).execute(conn)?;
    }
    let order = repo::get(conn, shop, id)?;
    let lines = repo::lines(conn, id)?;
    Ok((order, lines))
}

/// The shop's next order number, by a conditional update: concurrent
/// checkouts of one shop queue on its row and never share a number.
fn next_number(conn: &mut AnyConnection, shop: ShopId) -> Result<i64, OrderError> {
    let updated = diesel::update(shops::table.find(shop))
        .set(shops::next_order_number.eq(shops::next_order_number + 1))
        .execute(conn)?;
    if updated != 1 {
        return Err(OrderError::NotFound);
    }
    let next: i64 = shops::table.find(shop).select(shops::next_order_number).first(conn)?;
    Ok(next - 1)
}

/// 244 random bits: the pay page's link shows one order and nothing else.
fn pay_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: &str, quantity: i64) -> CheckoutItem {
        CheckoutItem { sku: Sku::parse(sku).unwrap(), quantity }
    }

    #[test]
    fn shipping_is_free_from_the_threshold() {
        let pricing = Pricing {
            shipping_fee: Money::from_cents(1000).unwrap(),
            free_shipping_above: Some(Money::from_cents(10000).unwrap()),
            ttl: TimeDelta::minutes(30),
        };
        assert_eq!(pricing.shipping_for(Money::from_cents(9999).unwrap()).cents(), 1000);
        assert_eq!(pricing.shipping_for(Money::from_cents(10000).unwrap()).cents(), 0);
    }

    #[test]
    fn the_same_sku_twice_is_one_line() {
        let merged = merge_items(&[item("A", 2), item("B", 1), item("A", 3)]).unwrap();
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[&Sku::parse("A").unwrap()], 5);
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(matches!(merge_items(&[]), Err(OrderError::NoItems)));
        assert!(matches!(merge_items(&[item("A", 0)]), Err(OrderError::ItemsUnavailable(_))));
        assert!(matches!(merge_items(&[item("A", MAX_QUANTITY), item("A", 1)]), Err(OrderError::ItemsUnavailable(_))));
    }
}

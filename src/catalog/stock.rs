//! Stock moves by conditional single-statement updates, never by reading a
//! number and writing another back: on PostgreSQL's READ COMMITTED the
//! second of two concurrent updates re-checks its condition on the row the
//! first left, so stock cannot be sold twice nor go below zero.

use super::{CatalogError, ProductId};
use crate::db::{AnyConnection, schema::products};
use crate::ids::ShopId;
use diesel::prelude::*;

fn positive(quantity: i64) -> Result<(), CatalogError> {
    if quantity > 0 { Ok(()) } else { Err(CatalogError::invalid("quantity", "must be at least 1")) }
}

/// Takes `quantity` units of a live product's stock; false when there are
/// not that many (or the product is gone). Unlimited stock (NULL) always
/// has enough and stays unlimited.
pub fn reserve_stock(
    conn: &mut AnyConnection,
    shop: ShopId,
    product: ProductId,
    quantity: i64,
) -> Result<bool, CatalogError> {
    positive(quantity)?;
    let taken = diesel::update(products::table)
        .filter(products::shop_id.eq(shop))
        .filter(products::id.eq(product))
        .filter(products::archived_at.is_null())
        .filter(products::stock.is_null().or(products::stock.ge(quantity)))
        .set(products::stock.eq(products::stock - quantity))
        .execute(conn)?;
    Ok(taken == 1)
}

/// Gives `quantity` units back (an expired or cancelled order), archived
/// product or not; nothing to do for unlimited stock.
pub fn release_stock(
    conn: &mut AnyConnection,
    shop: ShopId,
    product: ProductId,
    quantity: i64,
) -> Result<(), CatalogError> {
    positive(quantity)?;
    diesel::update(products::table)
        .filter(products::shop_id.eq(shop))
        .filter(products::id.eq(product))
        .filter(products::stock.is_not_null())
        .set(products::stock.eq(products::stock + quantity))
        .execute(conn)?;
    Ok(())
}

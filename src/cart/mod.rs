//! The customer's cart: products and quantities, always priced from the
//! catalogue at the moment it is read, never from what the client claims.

use crate::catalog::{Availability, CatalogError, Product, ProductId, Sku, repo};
use crate::customers::CustomerId;
use crate::db::{AnyConnection, schema::cart_items};
use crate::money::Money;
use crate::shops::ShopId;
use diesel::prelude::*;

/// The most of one product a chat cart takes.
pub const MAX_QUANTITY: i64 = 999;

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("the cart's total is too large")]
    TotalTooLarge,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<diesel::result::Error> for CartError {
    fn from(e: diesel::result::Error) -> Self {
        CartError::Catalog(e.into())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CartLine {
    pub product: Product,
    pub quantity: i64,
    pub line_total: Money,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    pub total: Money,
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// What happened when a product was put in the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    Added {
        quantity: i64,
        in_cart: i64,
    },
    /// Fewer than asked: the stock ran short, or (`by_stock` false) the
    /// per-product maximum of a chat cart.
    Limited {
        asked: i64,
        added: i64,
        in_cart: i64,
        by_stock: bool,
    },
    OutOfStock,
    Unavailable(Availability),
}

fn quantity_in_cart(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
) -> QueryResult<i64> {
    Ok(cart_items::table
        .filter(cart_items::shop_id.eq(shop.to_string()))
        .filter(cart_items::customer_id.eq(customer.to_string()))
        .filter(cart_items::product_id.eq(product.to_string()))
        .select(cart_items::quantity)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// Adds `quantity` of the product, up to what is in stock.
pub fn add(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: &Product,
    quantity: i64,
) -> Result<AddOutcome, CartError> {
    if !product.availability.can_be_ordered() {
        return Ok(AddOutcome::Unavailable(product.availability));
    }
    let current = quantity_in_cart(conn, shop, customer, product.id)?;
    let limit = product.stock.unwrap_or(MAX_QUANTITY).min(MAX_QUANTITY);
    if limit <= 0 {
        return Ok(AddOutcome::OutOfStock);
    }
    let wanted = current.saturating_add(quantity.max(0));
    let in_cart = wanted.min(limit);
    set_quantity(conn, shop, customer, product.id, in_cart)?;
    let added = in_cart - current;
    Ok(if in_cart < wanted {
        let by_stock = product.stock.is_some_and(|stock| stock < MAX_QUANTITY);
        AddOutcome::Limited { asked: quantity, added, in_cart, by_stock }
    } else {
        AddOutcome::Added { quantity, in_cart }
    })
}

fn set_quantity(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
    quantity: i64,
) -> QueryResult<()> {
    diesel::delete(cart_items::table)
        .filter(cart_items::customer_id.eq(customer.to_string()))
        .filter(cart_items::product_id.eq(product.to_string()))
        .filter(cart_items::shop_id.eq(shop.to_string()))
        .execute(conn)?;
    if quantity > 0 {
        diesel::insert_into(cart_items::table)
            .values((
                cart_items::shop_id.eq(shop.to_string()),
                cart_items::customer_id.eq(customer.to_string()),
                cart_items::product_id.eq(product.to_string()),
                cart_items::quantity.eq(quantity),
                cart_items::added_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Takes the product out of the cart; false when it was not there.
pub fn remove(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
) -> Result<bool, CartError> {
    let removed = diesel::delete(cart_items::table)
        .filter(cart_items::shop_id.eq(shop.to_string()))
        .filter(cart_items::customer_id.eq(customer.to_string()))
        .filter(cart_items::product_id.eq(product.to_string()))
        .execute(conn)?;
    Ok(removed > 0)
}

pub fn clear(conn: &mut AnyConnection, shop: ShopId, customer: CustomerId) -> Result<(), CartError> {
    diesel::delete(cart_items::table)
        .filter(cart_items::shop_id.eq(shop.to_string()))
        .filter(cart_items::customer_id.eq(customer.to_string()))
        .execute(conn)?;
    Ok(())
}

/// The cart priced from the catalogue now, in the order items were added.
pub fn load(conn: &mut AnyConnection, shop: ShopId, customer: CustomerId) -> Result<Cart, CartError> {
    let items: Vec<(String, i64)> = cart_items::table
        .filter(cart_items::shop_id.eq(shop.to_string()))
        .filter(cart_items::customer_id.eq(customer.to_string()))
        .order((cart_items::added_at, cart_items::product_id))
        .select((cart_items::product_id, cart_items::quantity))
        .load(conn)?;
    let mut cart = Cart::default();
    for (product_id, quantity) in items {
        let Ok(id) = product_id.parse::<ProductId>() else { continue };
        let product = repo::get(conn, shop, id)?;
        let line_total = product.unit_price().checked_mul(quantity).ok_or(CartError::TotalTooLarge)?;
        cart.total = cart.total.checked_add(line_total).ok_or(CartError::TotalTooLarge)?;
        cart.lines.push(CartLine { product, quantity, line_total });
    }
    Ok(cart)
}

/// Finds a product by SKU (any case) or by a name that only one product
/// matches; returns every candidate when the name is ambiguous.
pub fn find_product(conn: &mut AnyConnection, shop: ShopId, text: &str) -> Result<Vec<Product>, CartError> {
    if let Ok(sku) = Sku::parse(text)
        && let Some(product) = repo::find_by_sku(conn, shop, &sku)?
    {
        return Ok(vec![product]);
    }
    if let Ok(sku) = Sku::parse(&text.to_uppercase())
        && let Some(product) = repo::find_by_sku(conn, shop, &sku)?
    {
        return Ok(vec![product]);
    }
    let candidates = repo::search_words(conn, shop, text, 6)?;
    // "bolo de chocolate" means the product named so, not every product that
    // mentions both words: a unique name containing the whole phrase wins.
    let phrase = repo::singular_phrase(text);
    let named: Vec<&Product> = candidates.iter().filter(|p| crate::text::fold(&p.name).contains(&phrase)).collect();
    match named.as_slice() {
        [only] if candidates.len() > 1 => Ok(vec![(*only).clone()]),
        _ => Ok(candidates),
    }
}

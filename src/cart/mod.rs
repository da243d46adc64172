//! The customer's cart: products and quantities, always priced from the
//! catalogue at the moment it is read, never from what the client claims.

use crate::catalog::{Availability, CatalogError, Product, Sku, repo};
use crate::db::{AnyConnection, schema::cart_items, schema::products};
use crate::ids::{CustomerId, ProductId, ShopId};
use crate::money::Money;
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

/// Adds `quantity` of the product, up to what is in stock (and at most
/// `MAX_QUANTITY`).
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
    let limit = product.stock.unwrap_or(MAX_QUANTITY).min(MAX_QUANTITY);
    if limit <= 0 {
        return Ok(AddOutcome::OutOfStock);
    }
    if quantity <= 0 {
        let in_cart = locked_quantity(conn, shop, customer, product.id)?.unwrap_or(0);
        return Ok(AddOutcome::Added { quantity: 0, in_cart });
    }
    // The line is read locked (PostgreSQL) or under the write lock (SQLite),
    // then changed by one conditional statement: the quantity cannot lose a
    // concurrent addition, and `before` is exact for the answer's wording.
    // Inside the chat's transaction no savepoint is needed; alone, it opens
    // its own so the lock lasts until the change.
    let add_line = |conn: &mut AnyConnection| -> QueryResult<(i64, i64)> {
        // Twice at most: a line another transaction inserts meanwhile is
        // found on the second read.
        for _ in 0..2 {
            match locked_quantity(conn, shop, customer, product.id)? {
                Some(before) => return Ok((before, add_capped(conn, shop, customer, product.id, quantity, limit)?)),
                None => {
                    if let Some(in_cart) = insert_line(conn, shop, customer, product.id, quantity.min(limit))? {
                        return Ok((0, in_cart));
                    }
                }
            }
        }
        Err(diesel::result::Error::NotFound)
    };
    let (before, in_cart) = if crate::db::transaction_depth(conn)? == 0 {
        crate::db::write_transaction(conn, add_line)?
    } else {
        add_line(conn)?
    };
    let added = (in_cart - before).clamp(0, quantity);
    Ok(if added < quantity {
        let by_stock = product.stock.is_some_and(|stock| stock < MAX_QUANTITY);
        AddOutcome::Limited { asked: quantity, added, in_cart, by_stock }
    } else {
        AddOutcome::Added { quantity, in_cart }
    })
}

/// The customer's quantity of the product, if in the cart, its row locked
/// on PostgreSQL when in a transaction; on SQLite the transaction's write
/// lock already excludes other writers.
fn locked_quantity(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
) -> QueryResult<Option<i64>> {
    macro_rules! line {
        () => {
            cart_items::table
                .filter(cart_items::shop_id.eq(shop))
                .filter(cart_items::customer_id.eq(customer))
                .filter(cart_items::product_id.eq(product))
                .select(cart_items::quantity)
        };
    }
    match conn {
        AnyConnection::Postgresql(c) => line!().for_update().first::<i64>(c).optional(),
        AnyConnection::Sqlite(c) => line!().first::<i64>(c).optional(),
    }
}

#[derive(Insertable)]
#[diesel(table_name = cart_items)]
struct NewLine {
    shop_id: ShopId,
    customer_id: CustomerId,
    product_id: ProductId,
    quantity: i64,
    added_at: chrono::NaiveDateTime,
}

fn new_line(shop: ShopId, customer: CustomerId, product: ProductId, quantity: i64) -> NewLine {
    NewLine { shop_id: shop, customer_id: customer, product_id: product, quantity, added_at: crate::db::now() }
}

/// Puts a new line in the cart; `None` when the line exists already.
fn insert_line(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
    quantity: i64,
) -> QueryResult<Option<i64>> {
    let row = new_line(shop, customer, product, quantity);
    crate::on_backend!(conn, |c| {
        diesel::insert_into(cart_items::table)
            .values(&row)
            .on_conflict_do_nothing()
            .returning(cart_items::quantity)
            .get_result::<i64>(c)
            .optional()
    })
}

/// Adds to an existing line in one statement, capped at `limit`, and
/// returns the quantity now in the cart. A read-then-write here lost one of
/// two concurrent additions on PostgreSQL: both read the same quantity.
fn add_capped(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
    quantity: i64,
    limit: i64,
) -> QueryResult<i64> {
    use diesel::sql_types::BigInt;
    let smaller = match conn {
        AnyConnection::Postgresql(_) => "LEAST",
        AnyConnection::Sqlite(_) => "MIN",
    };
    let capped = diesel::dsl::sql::<BigInt>(&format!("{smaller}(cart_items.quantity + "))
        .bind::<BigInt, _>(quantity)
        .sql(", ")
        .bind::<BigInt, _>(limit)
        .sql(")");
    crate::on_backend!(conn, |c| {
        diesel::update(cart_items::table)
            .filter(cart_items::shop_id.eq(shop))
            .filter(cart_items::customer_id.eq(customer))
            .filter(cart_items::product_id.eq(product))
            .set(cart_items::quantity.eq(capped.clone()))
            .returning(cart_items::quantity)
            .get_result::<i64>(c)
    })
}

/// Takes the product out of the cart; false when it was not there.
pub fn remove(
    conn: &mut AnyConnection,
    shop: ShopId,
    customer: CustomerId,
    product: ProductId,
) -> Result<bool, CartError> {
    let removed = diesel::delete(cart_items::table)
        .filter(cart_items::shop_id.eq(shop))
        .filter(cart_items::customer_id.eq(customer))
        .filter(cart_items::product_id.eq(product))
        .execute(conn)?;
    Ok(removed > 0)
}

pub fn clear(conn: &mut AnyConnection, shop: ShopId, customer: CustomerId) -> Result<(), CartError> {
    diesel::delete(cart_items::table)
        .filter(cart_items::shop_id.eq(shop))
        .filter(cart_items::customer_id.eq(customer))
        .execute(conn)?;
    Ok(())
}

/// Takes the whole cart for a checkout: read, then removed by one
/// conditional delete. None when it is empty, or when another checkout of
/// the same cart took it first (the delete then finds fewer rows than were
/// read), so two `pagar` at once make one order.
pub fn take(conn: &mut AnyConnection, shop: ShopId, customer: CustomerId) -> Result<Option<Cart>, CartError> {
    let cart = load(conn, shop, customer)?;
    if cart.is_empty() {
        return Ok(None);
    }
    let taken = diesel::delete(cart_items::table)
        .filter(cart_items::shop_id.eq(shop))
        .filter(cart_items::customer_id.eq(customer))
        .execute(conn)?;
    Ok((taken >= cart.lines.len()).then_some(cart))
}

/// The cart priced from the catalogue now, in the order items were added;
/// archived products are not in it.
pub fn load(conn: &mut AnyConnection, shop: ShopId, customer: CustomerId) -> Result<Cart, CartError> {
    let items: Vec<(i64, Product)> = cart_items::table
        .inner_join(products::table)
        .filter(cart_items::shop_id.eq(shop))
        .filter(cart_items::customer_id.eq(customer))
        .filter(products::shop_id.eq(shop))
        .filter(products::archived_at.is_null())
        .order((cart_items::added_at, cart_items::product_id))
        .select((cart_items::quantity, Product::as_select()))
        .load(conn)?;
    let mut cart = Cart::default();
    for (quantity, product) in items {
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

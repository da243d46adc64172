//! Product queries. Every one is scoped by the caller's shop.

use super::product::{Availability, Product, ProductFields, ProductId};
use super::{CatalogError, Sku};
use crate::db::{AnyConnection, schema::products};
use crate::money::Money;
use crate::shops::ShopId;
use diesel::prelude::*;
use uuid::Uuid;

pub const MAX_PAGE: i64 = 200;

/// A product's row as both engines store it (ids as text, money in centavos).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
pub struct ProductRow {
    pub id: String,
    pub shop_id: String,
    pub retailer_id: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
    pub sale_price_cents: Option<i64>,
    pub stock: Option<i64>,
    pub availability: String,
    pub condition: String,
    pub image_url: Option<String>,
    pub link: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub item_group_id: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    pub search_text: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl ProductRow {
    pub fn new(shop: ShopId, id: ProductId, fields: ProductFields, now: chrono::NaiveDateTime) -> ProductRow {
        ProductRow {
            id: id.to_string(),
            shop_id: shop.to_string(),
            search_text: crate::text::fold(&format!("{} {}", fields.retailer_id, fields.name)),
            retailer_id: fields.retailer_id.as_str().to_owned(),
            name: fields.name,
            description: fields.description,
            price_cents: fields.price.cents(),
            sale_price_cents: fields.sale_price.map(Money::cents),
            stock: fields.stock,
            availability: fields.availability.as_str().to_owned(),
            condition: fields.condition,
            image_url: fields.image_url,
            link: fields.link,
            brand: fields.brand,
            category: fields.category,
            item_group_id: fields.item_group_id,
            size: fields.size,
            color: fields.color,
            created_at: now,
            updated_at: now,
        }
    }
}

type StoredRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    String,
    (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>),
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

macro_rules! product_columns {
    () => {
        (
            products::id,
            products::retailer_id,
            products::name,
            products::description,
            products::price_cents,
            products::sale_price_cents,
            products::stock,
            products::availability,
            products::condition,
            (
                products::image_url,
                products::link,
                products::brand,
                products::category,
                products::item_group_id,
                products::size,
                products::color,
            ),
            products::created_at,
            products::updated_at,
        )
    };
}

fn from_stored(row: StoredRow) -> Result<Product, CatalogError> {
    let corrupt = |what: &str| CatalogError::Corrupt(format!("stored product has an invalid {what}"));
    let (id, sku, name, description, price, sale, stock, availability, condition, extra, created_at, updated_at) = row;
    let (image_url, link, brand, category, item_group_id, size, color) = extra;
    Ok(Product {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("id"))?,
        retailer_id: Sku::parse(&sku).map_err(|_| corrupt("SKU"))?,
        name,
        description,
        price: Money::from_cents(price).map_err(|_| corrupt("price"))?,
        sale_price: sale.map(Money::from_cents).transpose().map_err(|_| corrupt("sale price"))?,
        stock,
        availability: availability.parse::<Availability>().map_err(|_| corrupt("availability"))?,
        condition,
        image_url,
        link,
        brand,
        category,
        item_group_id,
        size,
        color,
        created_at,
        updated_at,
    })
}

fn unique_sku(fields: &ProductFields) -> impl FnOnce(diesel::result::Error) -> CatalogError + '_ {
    move |e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            CatalogError::DuplicateSku(fields.retailer_id.to_string())
        }
        other => other.into(),
    }
}

pub fn create(conn: &mut AnyConnection, shop: ShopId, fields: ProductFields) -> Result<Product, CatalogError> {
    let id = Uuid::now_v7();
    let row = ProductRow::new(shop, id, fields.clone(), crate::db::now());
    diesel::insert_into(products::table).values(&row).execute(conn).map_err(unique_sku(&fields))?;
    get(conn, shop, id)
}

pub fn get(conn: &mut AnyConnection, shop: ShopId, id: ProductId) -> Result<Product, CatalogError> {
    products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .filter(products::id.eq(id.to_string()))
        .select(product_columns!())
        .first::<StoredRow>(conn)
        .optional()?
        .ok_or(CatalogError::NotFound)
        .and_then(from_stored)
}

pub fn find_by_sku(conn: &mut AnyConnection, shop: ShopId, sku: &Sku) -> Result<Option<Product>, CatalogError> {
    products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .filter(products::retailer_id.eq(sku.as_str()))
        .select(product_columns!())
        .first::<StoredRow>(conn)
        .optional()?
        .map(from_stored)
        .transpose()
}

/// Applies a partial change, checked against the product as a whole.
pub fn patch(
    conn: &mut AnyConnection,
    shop: ShopId,
    id: ProductId,
    changes: super::ProductChanges,
) -> Result<Product, CatalogError> {
    crate::db::write_transaction(conn, |conn| {
        let current = get(conn, shop, id)?;
        let fields = changes.apply_to(&current)?;
        let mut row = ProductRow::new(shop, id, fields.clone(), crate::db::now());
        row.created_at = current.created_at;
        diesel::update(products::table)
            .filter(products::shop_id.eq(shop.to_string()))
            .filter(products::id.eq(id.to_string()))
            .set(&row)
            .execute(conn)
            .map_err(unique_sku(&fields))?;
        get(conn, shop, id)
    })
}

pub fn delete(conn: &mut AnyConnection, shop: ShopId, id: ProductId) -> Result<(), CatalogError> {
    let deleted = diesel::delete(products::table)
        .filter(products::shop_id.eq(shop.to_string()))
        .filter(products::id.eq(id.to_string()))
        .execute(conn)?;
    if deleted == 0 { Err(CatalogError::NotFound) } else { Ok(()) }
}

/// One page of the catalogue in creation order (ids are time-ordered UUIDs),
/// optionally only products whose SKU or name contains `query`, accents and
/// case forgiven. Returns the page and the cursor of the next one.
pub fn list(
    conn: &mut AnyConnection,
    shop: ShopId,
    query: Option<&str>,
    after: Option<ProductId>,
    limit: i64,
) -> Result<(Vec<Product>, Option<ProductId>), CatalogError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut select = products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .order(products::id)
        .limit(limit + 1)
        .select(product_columns!())
        .into_boxed();
    if let Some(cursor) = after {
        select = select.filter(products::id.gt(cursor.to_string()));
    }
    if let Some(q) = query.map(crate::text::fold).filter(|q| !q.trim().is_empty()) {
        let escaped = q.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        select = select.filter(products::search_text.like(format!("%{escaped}%")).escape('\\'));
    }
    let mut page = select.load::<StoredRow>(conn)?.into_iter().map(from_stored).collect::<Result<Vec<_>, _>>()?;
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|p| p.id)
    } else {
        None
    };
    Ok((page, next))
}

/// Products a customer can order now (available, and in stock or unlimited),
/// in catalogue order; at most `limit`.
pub fn orderable(conn: &mut AnyConnection, shop: ShopId, limit: i64) -> Result<Vec<Product>, CatalogError> {
    let orderable: Vec<&str> = Availability::ALL.iter().filter(|a| a.can_be_ordered()).map(|a| a.as_str()).collect();
    products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .filter(products::availability.eq_any(orderable))
        .filter(products::stock.is_null().or(products::stock.gt(0)))
        .order(products::id)
        .limit(limit)
        .select(product_columns!())
        .load::<StoredRow>(conn)?
        .into_iter()
        .map(from_stored)
        .collect()
}

/// The whole catalogue, for the feed export.
pub fn all(conn: &mut AnyConnection, shop: ShopId) -> Result<Vec<Product>, CatalogError> {
    products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .order(products::id)
        .select(product_columns!())
        .load::<StoredRow>(conn)?
        .into_iter()
        .map(from_stored)
        .collect()
}

/// The SKUs the shop has now, with their product ids (import upserts by SKU).
pub fn sku_index(
    conn: &mut AnyConnection,
    shop: ShopId,
) -> Result<std::collections::HashMap<String, String>, CatalogError> {
    Ok(products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .select((products::retailer_id, products::id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Words that say nothing about which product is meant.
const STOP_WORDS: [&str; 12] = ["de", "do", "da", "dos", "das", "com", "e", "o", "a", "os", "as", "the"];

/// The singular a Portuguese (or English) plural most likely stands for:
/// `pães` → `pao`, `limões` → `limao`, `bolos` → `bolo`.
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("aes").or_else(|| word.strip_suffix("oes")) {
        format!("{stem}ao")
    } else if word.len() > 3 && word.ends_with('s') {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

/// The words of `text` folded and made singular, as one phrase.
pub fn singular_phrase(text: &str) -> String {
    crate::text::fold(text).split_whitespace().map(singular).collect::<Vec<_>>().join(" ")
}

/// Products whose SKU and name contain every meaningful word of `text`,
/// accents, case and plurals forgiven; at most `limit`.
pub fn search_words(
    conn: &mut AnyConnection,
    shop: ShopId,
    text: &str,
    limit: i64,
) -> Result<Vec<Product>, CatalogError> {
    let folded = crate::text::fold(text);
    let words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(singular)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = products::table
        .filter(products::shop_id.eq(shop.to_string()))
        .order(products::id)
        .limit(limit)
        .select(product_columns!())
        .into_boxed();
    for word in words {
        let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        select = select.filter(products::search_text.like(format!("%{escaped}%")).escape('\\'));
    }
    select.load::<StoredRow>(conn)?.into_iter().map(from_stored).collect()
}

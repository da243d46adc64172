//! Product queries. Every one is scoped by the caller's shop, and every one
//! but the import's SKU index sees only live (not archived) products.

use super::product::{NewProduct, Product, ProductFields, ProductId};
use super::{Availability, CatalogError, Sku};
use crate::db::{AnyConnection, MultiBackend, schema::cart_items, schema::products};
use crate::ids::ShopId;
use diesel::prelude::*;

pub const MAX_PAGE: i64 = 200;

/// The shop's products that are not archived.
fn live(shop: ShopId) -> products::BoxedQuery<'static, MultiBackend> {
    products::table.filter(products::shop_id.eq(shop)).filter(products::archived_at.is_null()).into_boxed()
}

/// A LIKE pattern for text containing `word`, its wildcards escaped.
fn contains(word: &str) -> String {
    let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn unique_sku(sku: &Sku) -> impl FnOnce(diesel::result::Error) -> CatalogError + '_ {
    move |e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            CatalogError::DuplicateSku(sku.to_string())
        }
        other => other.into(),
    }
}

/// Adds a product. A SKU that belongs to an archived product brings that
/// product back (same id, so past orders and the new ones point at one
/// product) with the fields given now; a live one is a conflict.
pub fn create(conn: &mut AnyConnection, shop: ShopId, fields: ProductFields) -> Result<Product, CatalogError> {
    crate::db::write_transaction(conn, |conn| {
        let now = crate::db::now();
        // Under READ COMMITTED a concurrent un-archive waits for this row's
        // lock, then sees it live and matches nothing: it inserts and meets
        // the unique key, as a concurrent create does.
        let revived: Option<ProductId> = diesel::update(products::table)
            .filter(products::shop_id.eq(shop))
            .filter(products::retailer_id.eq(&fields.retailer_id))
            .filter(products::archived_at.is_not_null())
            .set((
                &fields,
                products::search_text.eq(fields.search_text()),
                products::archived_at.eq(None::<chrono::NaiveDateTime>),
                products::updated_at.eq(now),
            ))
            .returning(products::id)
            .get_result(conn)
            .optional()?;
        let id = match revived {
            Some(id) => id,
            None => {
                let row = NewProduct::new(shop, fields.clone(), now);
                diesel::insert_into(products::table)
                    .values(&row)
                    .execute(conn)
                    .map_err(unique_sku(&fields.retailer_id))?;
                row.id
            }
        };
        get(conn, shop, id)
    })
}

pub fn get(conn: &mut AnyConnection, shop: ShopId, id: ProductId) -> Result<Product, CatalogError> {
    live(shop)
        .filter(products::id.eq(id))
        .select(Product::as_select())
        .first(conn)
        .optional()?
        .ok_or(CatalogError::NotFound)
}

pub fn find_by_sku(conn: &mut AnyConnection, shop: ShopId, sku: &Sku) -> Result<Option<Product>, CatalogError> {
    Ok(live(shop).filter(products::retailer_id.eq(sku)).select(Product::as_select()).first(conn).optional()?)
}

/// Applies a partial change, checked against the product as a whole, and
/// writes only the columns the change names.
pub fn patch(
    conn: &mut AnyConnection,
    shop: ShopId,
    id: ProductId,
    changes: super::ProductChanges,
) -> Result<Product, CatalogError> {
    crate::db::write_transaction(conn, |conn| {
        let current = get(conn, shop, id)?;
        let patch = changes.into_patch(&current)?;
        let sku = patch.retailer_id.clone().unwrap_or(current.retailer_id);
        let updated = diesel::update(products::table)
            .filter(products::shop_id.eq(shop))
            .filter(products::id.eq(id))
            .filter(products::archived_at.is_null())
            .set(&patch)
            .execute(conn)
            .map_err(unique_sku(&sku))?;
        if updated == 0 {
            return Err(CatalogError::NotFound);
        }
        get(conn, shop, id)
    })
}

/// Takes a product out of the catalogue without erasing it: past orders
/// keep pointing at it. It leaves every cart at once.
pub fn archive(conn: &mut AnyConnection, shop: ShopId, id: ProductId) -> Result<(), CatalogError> {
    crate::db::write_transaction(conn, |conn| {
        let now = crate::db::now();
        let archived = diesel::update(products::table)
            .filter(products::shop_id.eq(shop))
            .filter(products::id.eq(id))
            .filter(products::archived_at.is_null())
            .set((products::archived_at.eq(Some(now)), products::updated_at.eq(now)))
            .execute(conn)?;
        if archived == 0 {
            return Err(CatalogError::NotFound);
        }
        diesel::delete(cart_items::table)
            .filter(cart_items::shop_id.eq(shop))
            .filter(cart_items::product_id.eq(id))
            .execute(conn)?;
        Ok(())
    })
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
    let mut select = live(shop).order(products::id).limit(limit + 1);
    if let Some(cursor) = after {
        select = select.filter(products::id.gt(cursor));
    }
    if let Some(q) = query.map(crate::text::fold).filter(|q| !q.trim().is_empty()) {
        select = select.filter(products::search_text.like(contains(q.trim())).escape('\\'));
    }
    let mut page: Vec<Product> = select.select(Product::as_select()).load(conn)?;
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
    let orderable: Vec<Availability> = Availability::ALL.iter().copied().filter(|a| a.can_be_ordered()).collect();
    Ok(live(shop)
        .filter(products::availability.eq_any(orderable))
        .filter(products::stock.is_null().or(products::stock.gt(0)))
        .order(products::id)
        .limit(limit)
        .select(Product::as_select())
        .load(conn)?)
}

/// The whole catalogue, for the feed export.
pub fn all(conn: &mut AnyConnection, shop: ShopId) -> Result<Vec<Product>, CatalogError> {
    Ok(live(shop).order(products::id).select(Product::as_select()).load(conn)?)
}

/// The SKUs the shop has, archived ones included (import upserts by SKU and
/// brings an archived product back).
pub fn sku_index(conn: &mut AnyConnection, shop: ShopId) -> Result<std::collections::HashSet<Sku>, CatalogError> {
    Ok(products::table
        .filter(products::shop_id.eq(shop))
        .select(products::retailer_id)
        .load::<Sku>(conn)?
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
    let mut select = live(shop).order(products::id).limit(limit);
    for word in words {
        select = select.filter(products::search_text.like(contains(&word)).escape('\\'));
    }
    Ok(select.select(Product::as_select()).load(conn)?)
}

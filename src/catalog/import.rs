//! Applying a feed: all valid rows upserted by SKU in one transaction.

use super::feed::{self, FeedRow};
use super::{CatalogError, FeedError, NewProduct, repo};
use crate::db::{AnyConnection, schema::products};
use crate::ids::ShopId;
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::Serialize;

/// Rows per INSERT: 20 columns × 500 stays far below both engines' limits on
/// bound parameters while keeping round trips few.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Import the valid rows and report the others, instead of importing nothing.
    pub skip_invalid: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<FeedError>,
}

/// Reads the feed and upserts its products by SKU. With any invalid row and
/// no `skip_invalid`, nothing is written. `progress(done, total)` is called
/// as rows are written.
pub fn import_feed(
    conn: &mut AnyConnection,
    shop: ShopId,
    bytes: &[u8],
    options: ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, CatalogError> {
    let (rows, errors) = feed::parse(bytes)?;
    if !errors.is_empty() && !options.skip_invalid {
        return Err(CatalogError::InvalidFeed(errors));
    }
    let (created, updated) = crate::db::write_transaction(conn, |conn| upsert(conn, shop, &rows, progress))?;
    Ok(ImportReport { created, updated, errors })
}

/// What an imported row changes in a product that already has its SKU: all
/// but its id, shop, SKU and creation time; an archived product comes back.
/// Stock only when the feed has a stock column (`stock_from`), so a feed of
/// prices does not undo the reservations checkouts made.
macro_rules! upsert_changes {
    ($stock_from:expr) => {
        (
            products::name.eq(excluded(products::name)),
            products::description.eq(excluded(products::description)),
            products::price_cents.eq(excluded(products::price_cents)),
            products::sale_price_cents.eq(excluded(products::sale_price_cents)),
            products::stock.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>>($stock_from)),
            products::availability.eq(excluded(products::availability)),
            products::condition.eq(excluded(products::condition)),
            products::image_url.eq(excluded(products::image_url)),
            products::link.eq(excluded(products::link)),
            products::brand.eq(excluded(products::brand)),
            products::category.eq(excluded(products::category)),
            products::item_group_id.eq(excluded(products::item_group_id)),
            products::size.eq(excluded(products::size)),
            products::color.eq(excluded(products::color)),
            products::search_text.eq(excluded(products::search_text)),
            products::updated_at.eq(excluded(products::updated_at)),
            products::archived_at.eq(None::<chrono::NaiveDateTime>),
        )
    };
}

fn upsert(
    conn: &mut AnyConnection,
    shop: ShopId,
    rows: &[FeedRow],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(usize, usize), CatalogError> {
    let existing = repo::sku_index(conn, shop)?;
    let updated = rows.iter().filter(|r| existing.contains(&r.fields.retailer_id)).count();
    let names_stock = rows.first().is_some_and(|r| r.names_stock);
    let now = crate::db::now();
    let mut done = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let batch: Vec<NewProduct> = chunk.iter().map(|r| NewProduct::new(shop, r.fields.clone(), now)).collect();
        // One statement per chunk on both engines. Diesel cannot express a
        // multi-row upsert on SQLite, and one statement per row there spent
        // most of the import preparing the same SQL again (profiled).
        match conn {
            AnyConnection::Postgresql(c) => {
                diesel::insert_into(products::table)
                    .values(&batch)
                    .on_conflict((products::shop_id, products::retailer_id))
                    .do_update()
                    .set(upsert_changes!(if names_stock { "excluded.stock" } else { "products.stock" }))
                    .execute(c)?;
            }
            AnyConnection::Sqlite(c) => sqlite_upsert(c, &batch, names_stock)?,
        }
        done += chunk.len();
        progress(done, rows.len());
    }
    Ok((rows.len() - updated, updated))
}

/// The columns of a new product row, in the order `sqlite_upsert` binds them.
const COLUMNS: [&str; 20] = [
    "id",
    "shop_id",
    "retailer_id",
    "name",
    "description",
    "price_cents",
    "sale_price_cents",
    "stock",
    "availability",
    "condition",
    "image_url",
    "link",
    "brand",
    "category",
    "item_group_id",
    "size",
    "color",
    "search_text",
    "created_at",
    "updated_at",
];

/// A multi-row `INSERT … ON CONFLICT DO UPDATE` with bound parameters, the
/// same statement the PostgreSQL arm gets from diesel's query builder.
fn sqlite_upsert(conn: &mut diesel::SqliteConnection, batch: &[NewProduct], names_stock: bool) -> QueryResult<()> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    if batch.is_empty() {
        return Ok(());
    }
    let row_params = format!("({})", vec!["?"; COLUMNS.len()].join(","));
    let kept: &[&str] = if names_stock {
        &["id", "shop_id", "retailer_id", "created_at"]
    } else {
        &["id", "shop_id", "retailer_id", "created_at", "stock"]
    };
    let mut updates: Vec<String> =
        COLUMNS.iter().filter(|c| !kept.contains(c)).map(|c| format!("{c} = excluded.{c}")).collect();
    updates.push("archived_at = NULL".into());
    let sql = format!(
        "INSERT INTO products ({}) VALUES {} ON CONFLICT (shop_id, retailer_id) DO UPDATE SET {}",
        COLUMNS.join(", "),
        vec![row_params.as_str(); batch.len()].join(","),
        updates.join(", ")
    );
    let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
    for row in batch {
        let f = &row.fields;
        query = query
            .bind::<Text, _>(row.id)
            .bind::<Text, _>(row.shop_id)
            .bind::<Text, _>(&f.retailer_id)
            .bind::<Text, _>(&f.name)
            .bind::<Text, _>(&f.description)
            .bind::<BigInt, _>(f.price)
            .bind::<Nullable<BigInt>, _>(f.sale_price)
            .bind::<Nullable<BigInt>, _>(f.stock)
            .bind::<Text, _>(f.availability)
            .bind::<Text, _>(f.condition)
            .bind::<Nullable<Text>, _>(&f.image_url)
            .bind::<Nullable<Text>, _>(&f.link)
            .bind::<Nullable<Text>, _>(&f.brand)
            .bind::<Nullable<Text>, _>(&f.category)
            .bind::<Nullable<Text>, _>(&f.item_group_id)
            .bind::<Nullable<Text>, _>(&f.size)
            .bind::<Nullable<Text>, _>(&f.color)
            .bind::<Text, _>(&row.search_text)
            .bind::<Timestamp, _>(row.created_at)
            .bind::<Timestamp, _>(row.updated_at);
    }
    query.execute(conn).map(drop)
}

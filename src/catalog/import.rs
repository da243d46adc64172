//! Applying a feed: all valid rows upserted by SKU in one transaction.

use super::feed::{self, FeedRow};
use super::repo::{self, ProductRow};
use super::{CatalogError, FeedError};
use crate::db::{AnyConnection, schema::products};
use crate::shops::ShopId;
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::Serialize;
use uuid::Uuid;

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
/// but its id, shop, SKU and creation time.
macro_rules! upsert_changes {
    () => {
        (
            products::name.eq(excluded(products::name)),
            products::description.eq(excluded(products::description)),
            products::price_cents.eq(excluded(products::price_cents)),
            products::sale_price_cents.eq(excluded(products::sale_price_cents)),
            products::stock.eq(excluded(products::stock)),
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
    let updated = rows.iter().filter(|r| existing.contains_key(r.fields.retailer_id.as_str())).count();
    let now = crate::db::now();
    let mut done = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let batch: Vec<ProductRow> =
            chunk.iter().map(|r| ProductRow::new(shop, Uuid::now_v7(), r.fields.clone(), now)).collect();
        // PostgreSQL takes the whole chunk in one statement; SQLite (whose
        // batch upsert diesel cannot express) one cached statement per row, which
        // inside one transaction costs no more than a batch would.
        match conn {
            AnyConnection::Postgresql(c) => {
                diesel::insert_into(products::table)
                    .values(&batch)
                    .on_conflict((products::shop_id, products::retailer_id))
                    .do_update()
                    .set(upsert_changes!())
                    .execute(c)?;
            }
            AnyConnection::Sqlite(c) => {
                for row in &batch {
                    diesel::insert_into(products::table)
                        .values(row)
                        .on_conflict((products::shop_id, products::retailer_id))
                        .do_update()
                        .set(upsert_changes!())
                        .execute(c)?;
                }
            }
        }
        done += chunk.len();
        progress(done, rows.len());
    }
    Ok((rows.len() - updated, updated))
}

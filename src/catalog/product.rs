//! A product as stored and shown, the fields a new one is made of, and the
//! change a PATCH makes: only the columns it names.

use super::{Availability, CatalogError, Condition, Sku};
use crate::db::schema::products;
use crate::money::Money;
use diesel::prelude::*;
use serde::Serialize;

pub use crate::ids::ProductId;

/// A product as the API shows it; read straight from its row.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema, Queryable, Selectable)]
#[diesel(table_name = products)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Product {
    #[schema(value_type = String, format = Uuid)]
    pub id: ProductId,
    pub retailer_id: Sku,
    pub name: String,
    pub description: String,
    #[diesel(column_name = price_cents)]
    pub price: Money,
    #[diesel(column_name = sale_price_cents)]
    pub sale_price: Option<Money>,
    /// `null` means unlimited.
    pub stock: Option<i64>,
    pub availability: Availability,
    pub condition: Condition,
    pub image_url: Option<String>,
    pub link: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub item_group_id: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-22T18:26:13.085Z")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(with = "crate::clock::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-22T18:26:13.085Z")]
    pub updated_at: chrono::NaiveDateTime,
}

impl Product {
    /// What the customer pays for one unit now.
    pub fn unit_price(&self) -> Money {
        self.sale_price.unwrap_or(self.price)
    }
}

/// Every field of a product, each one valid: what a new product (or an
/// imported row) stores.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
pub struct ProductFields {
    pub retailer_id: Sku,
    pub name: String,
    pub description: String,
    #[diesel(column_name = price_cents)]
    pub price: Money,
    #[diesel(column_name = sale_price_cents)]
    pub sale_price: Option<Money>,
    pub stock: Option<i64>,
    pub availability: Availability,
    pub condition: Condition,
    pub image_url: Option<String>,
    pub link: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    pub item_group_id: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
}

impl ProductFields {
    /// The rules that span fields; each field was parsed on its own before.
    pub fn check(self) -> Result<ProductFields, CatalogError> {
        if self.name.trim().is_empty() {
            return Err(CatalogError::invalid("name", "must not be empty"));
        }
        if self.sale_price.is_some_and(|sale| sale > self.price) {
            return Err(CatalogError::invalid("sale_price", "is higher than the price"));
        }
        Ok(self)
    }

    /// What `q` searches: SKU and name, accents and case folded.
    pub fn search_text(&self) -> String {
        search_text(&self.retailer_id, &self.name)
    }
}

pub fn search_text(sku: &Sku, name: &str) -> String {
    crate::text::fold(&format!("{sku} {name}"))
}

/// A product row as first stored.
#[derive(Insertable)]
#[diesel(table_name = products)]
pub struct NewProduct {
    pub id: ProductId,
    pub shop_id: crate::ids::ShopId,
    #[diesel(embed)]
    pub fields: ProductFields,
    pub search_text: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl NewProduct {
    pub fn new(shop: crate::ids::ShopId, fields: ProductFields, now: chrono::NaiveDateTime) -> NewProduct {
        NewProduct {
            id: ProductId::new(),
            shop_id: shop,
            search_text: fields.search_text(),
            fields,
            created_at: now,
            updated_at: now,
        }
    }
}

/// What a PATCH writes: only the columns it names (`None` leaves a column
/// alone; `Some(None)` clears it). Above all, `stock` is never written back
/// from a stale read, so a checkout's reservation made meanwhile stands.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = products)]
pub struct ProductPatch {
    pub retailer_id: Option<Sku>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[diesel(column_name = price_cents)]
    pub price: Option<Money>,
    #[diesel(column_name = sale_price_cents)]
    pub sale_price: Option<Option<Money>>,
    pub stock: Option<Option<i64>>,
    pub availability: Option<Availability>,
    pub condition: Option<Condition>,
    pub image_url: Option<Option<String>>,
    pub link: Option<Option<String>>,
    pub brand: Option<Option<String>>,
    pub category: Option<Option<String>>,
    pub search_text: Option<String>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

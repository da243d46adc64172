//! The product catalogue: products (SKU = Meta's `retailer_id`), prices,
//! stock, availability; import and export of Meta commerce feeds.

pub mod feed;
mod import;
mod input;
mod kinds;
mod product;
pub mod repo;
mod sku;
mod stock;

pub use import::{ImportOptions, ImportReport, import_feed};
pub use input::{ProductChanges, ProductInput};
pub use kinds::{Availability, Condition};
pub use product::{NewProduct, Product, ProductFields, ProductId, ProductPatch};
pub use sku::Sku;
pub use stock::{release_stock, reserve_stock};

use serde::Serialize;

/// One problem in one cell of a feed; rows are numbered as a spreadsheet
/// shows them (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeedError {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such product")]
    NotFound,
    #[error("a product with SKU `{0}` already exists")]
    DuplicateSku(String),
    #[error("the feed has {} invalid row(s); nothing was imported", .0.len())]
    InvalidFeed(Vec<FeedError>),
    #[error("the feed cannot be read: {0}")]
    UnreadableFeed(String),
    /// A stored row that no longer parses: a bug or a hand-edited database.
    #[error("{0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for CatalogError {
    fn from(e: diesel::result::Error) -> Self {
        CatalogError::Db(e.into())
    }
}

impl CatalogError {
    pub fn invalid(field: &'static str, reason: impl std::fmt::Display) -> CatalogError {
        CatalogError::Invalid { field, reason: reason.to_string() }
    }
}

//! Orders: placing one from a cart or an API request (prices from the
//! catalogue, stock reserved by conditional updates, a number per shop), and
//! the order's states with their compare-and-set transitions. What money
//! does to an order (charges, payments, refunds) is `payments`' business.

pub mod idempotency;
mod model;
mod place;
pub mod repo;
mod transitions;

pub use model::{NewOrderLine, Order, OrderFlags, OrderLine, OrderSource, OrderStatus};
pub use place::{Checkout, CheckoutItem, CustomerRef, ItemProblem, Pricing, place};
pub use transitions::{Closed, close_unpaid, fulfil, mark_paid, record_flags, record_refunded};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("the order has no items")]
    NoItems,
    #[error("some items cannot be ordered")]
    ItemsUnavailable(Vec<ItemProblem>),
    #[error("the order's total is too large")]
    TotalTooLarge,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such order")]
    NotFound,
    /// The order is not in a state that allows this.
    #[error("the order is {0}")]
    WrongState(OrderStatus),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

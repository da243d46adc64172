//! Getting paid: Pix charges through the shop's PSP, confirmation from the
//! PSP's callbacks, from polling and from the sandbox, expiry, refunds.
//!
//! Every change of money commits with its consequences (the order's state,
//! stock, events) in one transaction; every PSP call happens in a job or a
//! handler outside any transaction.

pub mod callback;
pub mod charge;
mod checkout;
mod confirm;
mod jobs;
pub mod psp;
pub mod psp_settings;
pub mod received;
pub mod refund;
mod refunds;
pub mod sandbox;
mod sweep;
pub mod view;

pub use charge::{Charge, ChargeStatus, PspKind};
pub use checkout::{CancelledBy, CheckoutOutcome, Placed, cancel, checkout, checkout_idempotent, fulfil};
pub use confirm::{Recorded, record_pix};
pub use jobs::{CancelCharge, CreateCharge, ExpireOrder, PollCharge, VerifyPix};
pub use received::{Payment, PaymentOutcome, PaymentSource};
pub use refunds::{FollowRefund, RequestRefund, request_refund};
pub use sweep::SweepPix;
pub use view::{Links, OrderView, order_view};

use crate::db::AnyConnection;
use crate::ids::ShopId;
use chrono::TimeDelta;
use psp::{Psp, PspError};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Order(#[from] crate::orders::OrderError),
    #[error(transparent)]
    Shop(#[from] crate::shops::ShopError),
    #[error(transparent)]
    Psp(#[from] PspError),
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("no such charge")]
    NoSuchCharge,
    /// The charge cannot be paid now (paid, expired, cancelled, not made yet).
    #[error("the charge is {0}")]
    ChargeNotPayable(ChargeStatus),
    #[error("the sandbox is off (CHATSHOP_SANDBOX=false)")]
    SandboxOff,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a refund of {asked} is more than the {left} that can still be given back")]
    RefundTooLarge { asked: crate::money::Money, left: crate::money::Money },
    #[error("nothing was paid for this order")]
    NothingToRefund,
}

/// What payments need of the running service.
pub trait PaymentsDeps: Send + Sync + 'static {
    type Psp: Psp;
    /// The shop's PSP client (settings read on `conn`, no network).
    fn psp(&self, conn: &mut AnyConnection, shop: ShopId) -> Result<Self::Psp, PspError>;
    fn links(&self) -> &Links;
    /// How often a pending charge is checked at its PSP.
    fn reconcile_interval(&self) -> TimeDelta;
}

//! Pix: BR Code payloads (EMV MPM profile) and their QR images.

mod api_ids;
pub mod brcode;
pub mod qr;

pub use api_ids::{ApiIdError, ChargeTxid, EndToEndId, RefundId};

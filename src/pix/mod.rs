//! Pix: BR Code payloads (EMV MPM profile) and their QR images.

pub mod brcode;
pub mod qr;

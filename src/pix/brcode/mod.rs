//! Pix BR Code (EMV MPM profile): build static and dynamic codes, read and validate any code.
//!
//! Rules (BCB "Manual de Padrões para Iniciação do Pix", shared/WIRE.md):
//! - IDs and lengths are two digits; lengths count characters. Codes in the wild with accents
//!   declare lengths in characters while the CRC covers the UTF-8 bytes, so decoding does the
//!   same; encoding only ever writes ASCII, where the two agree.
//! - CRC-16/CCITT-FALSE over everything up to and including "6304", 4 upper-case hex digits.
//! - Name (59) ≤ 25 and city (60) ≤ 15 characters; whole payload ≤ 512 bytes.
//! - Decoding is lenient where published, working codes are (amounts without 2 decimals, an
//!   upper-case GUI, txids with '-', UTF-8 in the name) and strict where they are not (city
//!   and txid must be printable ASCII, 62-05 must be present).

mod amount;
mod crc;
mod decode;
mod encode;
mod error;
mod json;
mod key;
mod templates;
mod text;
mod tlv;

pub use amount::amount_to_string;
pub use crc::crc16;
pub use decode::{BrCode, PointOfInitiation, decode};
pub use encode::{DynamicCode, Merchant, PixCode, StaticCode, encode, encode_dynamic, encode_static};
pub use error::{BrCodeError, FieldId, KeyError};
pub use json::{DecodedJson, UnknownField};
pub use key::{KeyType, PixKey, Txid};
pub use templates::{AdditionalData, MerchantAccount};
pub use text::transliterate;
pub use tlv::Tlv;

/// Globally unique identifier of the Pix arrangement (26-00).
pub const PIX_GUI: &str = "br.gov.bcb.pix";
pub const MAX_PAYLOAD_BYTES: usize = 512;
pub const MAX_NAME_CHARS: usize = 25;
pub const MAX_CITY_CHARS: usize = 15;

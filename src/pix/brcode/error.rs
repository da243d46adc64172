//! Every way a BR Code can fail to encode or decode, each with the field it concerns.

use std::fmt;

/// A field's place in the payload: a top-level id, or a sub-field of a template (`26-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldId {
    pub id: u8,
    pub sub: Option<u8>,
}

impl FieldId {
    pub const fn top(id: u8) -> Self {
        Self { id, sub: None }
    }

    pub const fn sub(template: u8, id: u8) -> Self {
        Self { id: template, sub: Some(id) }
    }
}

impl fmt::Display for FieldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            None => write!(f, "{:02}", self.id),
            Some(sub) => write!(f, "{:02}-{:02}", self.id, sub),
        }
    }
}

/// Why a string is not a Pix key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is empty")]
    Empty,
    #[error("the key is not a CPF, CNPJ, e-mail, phone (+55…) or random key (UUID)")]
    Unrecognised,
    #[error("the CPF check digits do not match")]
    CpfCheckDigits,
    #[error("the CNPJ check digits do not match")]
    CnpjCheckDigits,
    #[error("a CPF or CNPJ made of one repeated digit is not valid")]
    RepeatedDigits,
    #[error("a phone key is +55 followed by 10 or 11 digits (area code without a leading 0)")]
    PhoneDigits,
    #[error("the e-mail address is malformed")]
    EmailMalformed,
    #[error("the key is longer than 77 characters")]
    TooLong,
    #[error("a random key is a UUID: 8-4-4-4-12 hex digits")]
    EvpMalformed,
}

/// Errors from building or reading a BR Code. Decoding stops at the first problem found,
/// checking in this order: size, CRC, structure (field by field, in payload order), then
/// mandatory fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrCodeError {
    #[error("the payload is empty")]
    Empty,
    #[error("the payload is {len} bytes; a BR Code holds at most 512")]
    TooLong { len: usize },
    #[error("the payload does not end with a CRC field (6304 and 4 hex digits)")]
    MissingCrc,
    #[error("CRC mismatch: expected {expected:04X}, found {found:04X}")]
    CrcMismatch { expected: u16, found: u16 },
    #[error("the field id at byte {offset} is not two digits")]
    InvalidId { offset: usize },
    #[error("the length of field {field} at byte {offset} is not two digits")]
    InvalidLength { field: FieldId, offset: usize },
    #[error("field {field} declares {declared} characters but only {available} remain")]
    LengthPastEnd { field: FieldId, declared: usize, available: usize },
    #[error("field {field} is empty")]
    EmptyValue { field: FieldId },
    #[error("field {field} appears more than once")]
    DuplicateField { field: FieldId },
    #[error("field 00 (payload format indicator) must come first")]
    PayloadFormatNotFirst,
    #[error("field 63 (CRC) must come last")]
    CrcNotLast,
    #[error("mandatory field {field} is missing")]
    MissingField { field: FieldId },
    #[error("merchant account GUI is {found:?}, expected br.gov.bcb.pix")]
    WrongGui { found: String },
    #[error("merchant account (26) has neither a key (26-01) nor a location (26-25)")]
    MissingKeyOrLocation,
    #[error("field {field} holds non-ASCII or control characters")]
    NonPrintable { field: FieldId },
    #[error("field {field} is {len} characters; the limit is {max}")]
    FieldTooLong { field: FieldId, len: usize, max: usize },
    #[error("field {field} must be {expected}")]
    InvalidValue { field: FieldId, expected: &'static str },
    #[error("the amount must be digits with an optional '.' and 1-2 decimals")]
    AmountMalformed,
    #[error("the amount must be greater than zero")]
    AmountNotPositive,
    #[error("the amount has more than 2 decimal places")]
    AmountTooPrecise,
    #[error("the amount is {len} characters written out; the limit is 13")]
    AmountTooLong { len: usize },
    #[error("invalid Pix key: {0}")]
    InvalidKey(#[from] KeyError),
    #[error("a txid is 1 to 25 ASCII letters and digits, or ***")]
    InvalidTxid,
    #[error("character {ch:?} in field {field} has no ASCII transliteration")]
    Untransliterable { field: FieldId, ch: char },
    #[error("the location URL must be given without a scheme (drop \"https://\")")]
    LocationHasScheme,
}

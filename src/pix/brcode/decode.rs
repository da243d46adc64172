//! Reading BR Codes into a typed view that borrows from the input. One allocation in the
//! common case (the ordered field list); templates allocate only for unknown sub-fields.

use rust_decimal::Decimal;

use super::amount::parse_amount;
use super::crc::{crc16, parse_crc_hex};
use super::error::{BrCodeError, FieldId};
use super::templates::{AdditionalData, MerchantAccount, additional_data, merchant_account, template};
use super::text::{char_len, is_printable_ascii, push_header};
use super::tlv::{SeenIds, Tlv, TlvReader};
use super::{MAX_CITY_CHARS, MAX_NAME_CHARS, MAX_PAYLOAD_BYTES};

/// Field 01. "11": the code may be paid many times; "12": once (dynamic codes use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointOfInitiation {
    Static,
    Dynamic,
}

/// A decoded, validated BR Code. It borrows the payload; [`BrCode::to_payload`] writes it back
/// byte for byte (field order, original spelling and CRC included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrCode<'a> {
    fields: Vec<Tlv<'a>>,
    payload_len: usize,
    payload_format: &'a str,
    point_of_initiation: Option<PointOfInitiation>,
    merchant_account: MerchantAccount<'a>,
    merchant_category_code: &'a str,
    currency: &'a str,
    amount: Option<(&'a str, Decimal)>,
    country: &'a str,
    merchant_name: &'a str,
    merchant_city: &'a str,
    postal_code: Option<&'a str>,
    additional_data: AdditionalData<'a>,
    recurrence: Option<Vec<Tlv<'a>>>,
    crc: &'a str,
}

/// Top-level ids this module gives a meaning to; the rest are kept as unknown fields.
const KNOWN_IDS: [u8; 13] = [0, 1, 26, 52, 53, 54, 58, 59, 60, 61, 62, 63, 80];

impl<'a> BrCode<'a> {
    /// Every top-level field, in payload order.
    pub fn fields(&self) -> &[Tlv<'a>] {
        &self.fields
    }
    /// Top-level fields this module does not interpret (other arrangements such as 04 or 27,
    /// language template 64, ...), in payload order.
    pub fn unknown_fields(&self) -> impl Iterator<Item = Tlv<'a>> + '_ {
        self.fields.iter().copied().filter(|field| !KNOWN_IDS.contains(&field.id))
    }
    pub fn payload_format(&self) -> &'a str {
        self.payload_format
    }
    /// Field 01 as written; `None` when absent.
    pub fn point_of_initiation(&self) -> Option<PointOfInitiation> {
        self.point_of_initiation
    }
    /// Dynamic when 01 says "12" or the code carries a location (26-25).
    pub fn is_dynamic(&self) -> bool {
        self.point_of_initiation == Some(PointOfInitiation::Dynamic) || self.merchant_account.url.is_some()
    }
    pub fn merchant_account(&self) -> &MerchantAccount<'a> {
        &self.merchant_account
    }
    pub fn merchant_category_code(&self) -> &'a str {
        self.merchant_category_code
    }
    pub fn currency(&self) -> &'a str {
        self.currency
    }
    pub fn amount(&self) -> Option<Decimal> {
        self.amount.map(|(_, amount)| amount)
    }
    /// Field 54 as written (may lack the 2 decimals: "100", "0.9").
    pub fn amount_text(&self) -> Option<&'a str> {
        self.amount.map(|(text, _)| text)
    }
    pub fn country(&self) -> &'a str {
        self.country
    }
    pub fn merchant_name(&self) -> &'a str {
        self.merchant_name
    }
    pub fn merchant_city(&self) -> &'a str {
        self.merchant_city
    }
    pub fn postal_code(&self) -> Option<&'a str> {
        self.postal_code
    }
    pub fn additional_data(&self) -> &AdditionalData<'a> {
        &self.additional_data
    }
    pub fn txid(&self) -> &'a str {
        self.additional_data.txid
    }
    /// Template 80 (Pix Automático recurrence) sub-fields, in order.
    pub fn recurrence(&self) -> Option<&[Tlv<'a>]> {
        self.recurrence.as_deref()
    }
    /// The 4 hex digits of field 63, as written.
    pub fn crc(&self) -> &'a str {
        self.crc
    }

    /// Writes the fields back in their order with their original values and CRC.
    pub fn to_payload(&self) -> String {
        let mut out = String::with_capacity(self.payload_len);
        for field in &self.fields {
            push_header(&mut out, field.id, char_len(field.value));
            out.push_str(field.value);
        }
        out
    }
}

/// Decodes and validates a BR Code. Checks, in order: size, CRC, then each field in payload
/// order, then the mandatory fields. Lengths count characters (see [`char_len`]).
pub fn decode(payload: &str) -> Result<BrCode<'_>, BrCodeError> {
    verify_envelope(payload.as_bytes())?;
    let ascii = payload.is_ascii();
    let mut reader = TlvReader::new(payload, 0, None, ascii);
    let mut seen = SeenIds::default();
    let mut fields = Vec::with_capacity(16);
    let mut parts = Parts::default();
    while let Some((field, offset)) = reader.next_field()? {
        let id = FieldId::top(field.id);
        if fields.is_empty() && field.id != 0 {
            return Err(BrCodeError::PayloadFormatNotFirst);
        }
        seen.insert(id, field.id)?;
        let value = field.value;
        match field.id {
            0 => parts.payload_format = Some(exact(value, id, "01", "01")?),
            1 => {
                parts.point_of_initiation = Some(match value {
                    "11" => PointOfInitiation::Static,
                    "12" => PointOfInitiation::Dynamic,
                    _ => return Err(invalid(id, "11 or 12")),
                })
            }
            26 => parts.merchant_account = Some(merchant_account(value, offset, ascii)?),
            52 => {
                let digits = value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit());
                parts.merchant_category_code = Some(if digits {
                    value
                } else {
                    return Err(invalid(id, "4 digits (0000 for Pix)"));
                })
            }
            53 => parts.currency = Some(exact(value, id, "986", "986 (BRL)")?),
            54 => parts.amount = Some((value, parse_amount(ascii_text(value, id, 99)?)?)),
            58 => parts.country = Some(exact(value, id, "BR", "BR")?),
            59 => parts.merchant_name = Some(free_text(value, id, MAX_NAME_CHARS)?),
            60 => parts.merchant_city = Some(ascii_text(value, id, MAX_CITY_CHARS)?),
            61 => parts.postal_code = Some(ascii_text(value, id, 99)?),
            62 => parts.additional_data = Some(additional_data(value, offset, ascii)?),
            63 => {
                if !reader.at_end() {
                    return Err(BrCodeError::CrcNotLast);
                }
                // verify_envelope checked that the payload ends with 4 hex digits.
                if value.len() != 4 {
                    return Err(invalid(id, "4 hex digits"));
                }
                parts.crc = Some(value);
            }
            80 => parts.recurrence = Some(template(value, offset, 80, ascii)?),
            _ => {}
        }
        fields.push(field);
    }
    parts.finish(fields, payload.len())
}

/// Size and CRC, checked before the structure: a damaged code is reported as a CRC problem.
fn verify_envelope(bytes: &[u8]) -> Result<(), BrCodeError> {
    if bytes.is_empty() {
        return Err(BrCodeError::Empty);
    }
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(BrCodeError::TooLong { len: bytes.len() });
    }
    let crc_start = bytes.len().checked_sub(4).ok_or(BrCodeError::MissingCrc)?;
    let (covered, declared) = bytes.split_at(crc_start);
    if !covered.ends_with(b"6304") {
        return Err(BrCodeError::MissingCrc);
    }
    let found = parse_crc_hex(declared).ok_or(BrCodeError::MissingCrc)?;
    let expected = crc16(covered);
    if expected != found {
        return Err(BrCodeError::CrcMismatch { expected, found });
    }
    Ok(())
}

#[derive(Default)]
struct Parts<'a> {
    payload_format: Option<&'a str>,
    point_of_initiation: Option<PointOfInitiation>,
    merchant_account: Option<MerchantAccount<'a>>,
    merchant_category_code: Option<&'a str>,
    currency: Option<&'a str>,
    amount: Option<(&'a str, Decimal)>,
    country: Option<&'a str>,
    merchant_name: Option<&'a str>,
    merchant_city: Option<&'a str>,
    postal_code: Option<&'a str>,
    additional_data: Option<AdditionalData<'a>>,
    recurrence: Option<Vec<Tlv<'a>>>,
    crc: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn finish(self, fields: Vec<Tlv<'a>>, payload_len: usize) -> Result<BrCode<'a>, BrCodeError> {
        let missing = |id| BrCodeError::MissingField { field: FieldId::top(id) };
        let merchant_account = self.merchant_account.ok_or(missing(26))?;
        let code = BrCode {
            payload_format: self.payload_format.ok_or(missing(0))?,
            merchant_category_code: self.merchant_category_code.ok_or(missing(52))?,
            currency: self.currency.ok_or(missing(53))?,
            country: self.country.ok_or(missing(58))?,
            merchant_name: self.merchant_name.ok_or(missing(59))?,
            merchant_city: self.merchant_city.ok_or(missing(60))?,
            additional_data: self.additional_data.ok_or(missing(62))?,
            crc: self.crc.ok_or(missing(63))?,
            point_of_initiation: self.point_of_initiation,
            amount: self.amount,
            postal_code: self.postal_code,
            recurrence: self.recurrence,
            merchant_account,
            fields,
            payload_len,
        };
        // A recurrence-only code (Pix Automático) carries just the GUI in 26.
        let account = &code.merchant_account;
        if account.key.is_none() && account.url.is_none() && code.recurrence.is_none() {
            return Err(BrCodeError::MissingKeyOrLocation);
        }
        Ok(code)
    }
}

fn invalid(field: FieldId, expected: &'static str) -> BrCodeError {
    BrCodeError::InvalidValue { field, expected }
}

fn exact<'a>(value: &'a str, field: FieldId, wanted: &str, expected: &'static str) -> Result<&'a str, BrCodeError> {
    if value == wanted { Ok(value) } else { Err(invalid(field, expected)) }
}

/// EMV "ans" fields: printable ASCII within a length bound.
pub(super) fn ascii_text(value: &str, field: FieldId, max: usize) -> Result<&str, BrCodeError> {
    if !is_printable_ascii(value) {
        return Err(BrCodeError::NonPrintable { field });
    }
    if value.len() > max {
        return Err(BrCodeError::FieldTooLong { field, len: value.len(), max });
    }
    Ok(value)
}

/// Name and description: UTF-8 is tolerated (seen in the wild), control characters are not.
pub(super) fn free_text(value: &str, field: FieldId, max: usize) -> Result<&str, BrCodeError> {
    let has_control = if value.is_ascii() {
        value.bytes().any(|byte| byte < 0x20 || byte == 0x7F)
    } else {
        value.chars().any(char::is_control)
    };
    if has_control {
        return Err(BrCodeError::NonPrintable { field });
    }
    let len = char_len(value);
    if len > max {
        return Err(BrCodeError::FieldTooLong { field, len, max });
    }
    Ok(value)
}

//! Building BR Codes. Every bound is checked before anything is written: an input that does
//! not fit is an error, never a silently truncated code.

use rust_decimal::Decimal;

use super::amount::{AmountText, canonical_amount};
use super::crc::{crc_hex, crc16};
use super::error::{BrCodeError, FieldId};
use super::key::{MAX_KEY_CHARS, PixKey, Txid};
use super::text::{ascii_len, is_printable_ascii, push_ascii, push_header};
use super::{MAX_CITY_CHARS, MAX_NAME_CHARS, MAX_PAYLOAD_BYTES, PIX_GUI};

/// Who receives the payment, as the payer's app shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Merchant<'a> {
    /// Up to 25 characters once accents are stripped; written upper-case.
    pub name: &'a str,
    /// Up to 15 characters once accents are stripped; written upper-case.
    pub city: &'a str,
    /// CEP, 8 digits (field 61, optional).
    pub postal_code: Option<&'a str>,
}

/// A static code: the key itself is in the QR, and it can be paid more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticCode<'a> {
    pub key: &'a PixKey,
    /// Free text for the payer (26-02); accents are stripped, case is kept.
    pub description: Option<&'a str>,
    /// `None` lets the payer type the amount.
    pub amount: Option<Decimal>,
    /// `None` writes `***`.
    pub txid: Option<&'a Txid>,
    pub merchant: Merchant<'a>,
}

/// A dynamic code: the payer's PSP fetches the charge from `location` (the PSP's `loc.location`,
/// host and path without the scheme). Written with 01 = "12" and txid `***`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamicCode<'a> {
    pub location: &'a str,
    pub amount: Option<Decimal>,
    pub merchant: Merchant<'a>,
}

/// Either kind of code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixCode<'a> {
    Static(StaticCode<'a>),
    Dynamic(DynamicCode<'a>),
}

pub fn encode(code: &PixCode<'_>) -> Result<String, BrCodeError> {
    match code {
        PixCode::Static(code) => encode_static(code),
        PixCode::Dynamic(code) => encode_dynamic(code),
    }
}

/// What goes in the merchant account template (26) after the GUI.
enum Account<'a> {
    Key { key: &'a str, description: Option<(&'a str, usize)> },
    Location(&'a str),
}

/// Everything checked and measured, ready to be written in one pass.
struct Plan<'a> {
    single_use: bool,
    account: Account<'a>,
    account_len: usize,
    amount: Option<AmountText>,
    name: (&'a str, usize),
    city: (&'a str, usize),
    postal_code: Option<&'a str>,
    txid: &'a str,
}

pub fn encode_static(code: &StaticCode<'_>) -> Result<String, BrCodeError> {
    let key = code.key.as_str();
    let description = match code.description.map(str::trim) {
        Some(text) if !text.is_empty() => {
            let field = FieldId::sub(26, 2);
            let len = ascii_len(text, field)?;
            // GUI (4 + 14) and key (4 + len) come first; 26 holds at most 99 characters.
            let room = 99usize.saturating_sub(4 + PIX_GUI.len() + 4 + key.len() + 4);
            if len > room {
                return Err(BrCodeError::FieldTooLong { field, len, max: room });
            }
            Some((text, len))
        }
        _ => None,
    };
    let account_len = 4 + PIX_GUI.len() + 4 + key.len() + description.map_or(0, |(_, len)| 4 + len);
    write(&Plan {
        single_use: false,
        account: Account::Key { key, description },
        account_len,
        amount: code.amount.map(canonical_amount).transpose()?,
        name: checked_name(code.merchant.name)?,
        city: checked_city(code.merchant.city)?,
        postal_code: checked_postal_code(code.merchant.postal_code)?,
        txid: code.txid.map_or(Txid::NONE, Txid::as_str),
    })
}

pub fn encode_dynamic(code: &DynamicCode<'_>) -> Result<String, BrCodeError> {
    let field = FieldId::sub(26, 25);
    let location = code.location.trim();
    if location.is_empty() {
        return Err(BrCodeError::EmptyValue { field });
    }
    if location.contains("://") {
        return Err(BrCodeError::LocationHasScheme);
    }
    if !is_printable_ascii(location) {
        return Err(BrCodeError::NonPrintable { field });
    }
    if location.len() > MAX_KEY_CHARS {
        return Err(BrCodeError::FieldTooLong { field, len: location.len(), max: MAX_KEY_CHARS });
    }
    write(&Plan {
        single_use: true,
        account: Account::Location(location),
        account_len: 4 + PIX_GUI.len() + 4 + location.len(),
        amount: code.amount.map(canonical_amount).transpose()?,
        name: checked_name(code.merchant.name)?,
        city: checked_city(code.merchant.city)?,
        postal_code: checked_postal_code(code.merchant.postal_code)?,
        txid: Txid::NONE,
    })
}

fn checked_text(text: &str, field: FieldId, max: usize) -> Result<(&str, usize), BrCodeError> {
    let text = text.trim();
    let len = ascii_len(text, field)?;
    if len == 0 {
        return Err(BrCodeError::EmptyValue { field });
    }
    if len > max {
        return Err(BrCodeError::FieldTooLong { field, len, max });
    }
    Ok((text, len))
}

fn checked_name(name: &str) -> Result<(&str, usize), BrCodeError> {
    checked_text(name, FieldId::top(59), MAX_NAME_CHARS)
}

fn checked_city(city: &str) -> Result<(&str, usize), BrCodeError> {
    checked_text(city, FieldId::top(60), MAX_CITY_CHARS)
}

fn checked_postal_code(postal_code: Option<&str>) -> Result<Option<&str>, BrCodeError> {
    match postal_code {
        Some(cep) if cep.len() != 8 || !cep.bytes().all(|byte| byte.is_ascii_digit()) => {
            Err(BrCodeError::InvalidValue { field: FieldId::top(61), expected: "a CEP of 8 digits" })
        }
        other => Ok(other),
    }
}

fn push_field(out: &mut String, id: u8, value: &str) {
    push_header(out, id, value.len());
    out.push_str(value);
}

fn push_folded(out: &mut String, id: u8, (text, len): (&str, usize)) -> Result<(), BrCodeError> {
    push_header(out, id, len);
    push_ascii(out, text, FieldId::top(id), true)
}

fn write(plan: &Plan<'_>) -> Result<String, BrCodeError> {
    let amount = plan.amount.as_ref().map(AmountText::as_str);
    let total = 6 // 000201
        + if plan.single_use { 6 } else { 0 }
        + 4 + plan.account_len
        + 8 + 7 // 52040000 5303986
        + amount.map_or(0, |text| 4 + text.len())
        + 6 // 5802BR
        + 4 + plan.name.1
        + 4 + plan.city.1
        + plan.postal_code.map_or(0, |cep| 4 + cep.len())
        + 4 + 4 + plan.txid.len()
        + 8; // 6304 + CRC
    if total > MAX_PAYLOAD_BYTES {
        return Err(BrCodeError::TooLong { len: total });
    }
    let mut out = String::with_capacity(total);
    out.push_str("000201");
    if plan.single_use {
        out.push_str("010212");
    }
    push_header(&mut out, 26, plan.account_len);
    push_field(&mut out, 0, PIX_GUI);
    match plan.account {
        Account::Key { key, description } => {
            push_field(&mut out, 1, key);
            if let Some((text, len)) = description {
                push_header(&mut out, 2, len);
                push_ascii(&mut out, text, FieldId::sub(26, 2), false)?;
            }
        }
        Account::Location(location) => push_field(&mut out, 25, location),
    }
    out.push_str("52040000");
    out.push_str("5303986");
    if let Some(amount) = amount {
        push_field(&mut out, 54, amount);
    }
    out.push_str("5802BR");
    push_folded(&mut out, 59, plan.name)?;
    push_folded(&mut out, 60, plan.city)?;
    if let Some(cep) = plan.postal_code {
        push_field(&mut out, 61, cep);
    }
    push_header(&mut out, 62, 4 + plan.txid.len());
    push_field(&mut out, 5, plan.txid);
    out.push_str("6304");
    let crc = crc_hex(crc16(out.as_bytes()));
    crc.iter().for_each(|&digit| out.push(char::from(digit)));
    debug_assert_eq!(out.len(), total);
    Ok(out)
}

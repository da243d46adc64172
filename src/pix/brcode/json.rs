//! The JSON view of a decoded code, for the CLI and the admin API.

use serde::{Deserialize, Serialize};

use super::decode::BrCode;
use super::tlv::Tlv;

/// A field with no named slot in [`DecodedJson`]. `id` is `"27"` at the top level or a path
/// such as `"26.03"` for a sub-field (template 80's sub-fields are listed here as `80.xx`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownField {
    pub id: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodedJson {
    pub payload_format: String,
    /// "dynamic" when 01 = "12" or a location (26-25) is present, else "static".
    pub point_of_initiation: String,
    pub gui: String,
    pub key: Option<String>,
    /// "cpf" | "cnpj" | "email" | "phone" | "evp"; null if no key or not a valid key.
    pub key_type: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub merchant_category_code: String,
    pub currency: String,
    /// Always with 2 decimals ("10.50"), even when the code wrote "10.5".
    pub amount: Option<String>,
    pub country: String,
    pub merchant_name: String,
    pub merchant_city: String,
    pub postal_code: Option<String>,
    pub txid: String,
    pub crc: String,
    pub unknown: Vec<UnknownField>,
}

fn unknown_entry(path: String, field: &Tlv<'_>) -> UnknownField {
    UnknownField { id: path, value: field.value.to_owned() }
}

impl From<&BrCode<'_>> for DecodedJson {
    fn from(code: &BrCode<'_>) -> Self {
        let account = code.merchant_account();
        let sub_fields = |template: u8, fields: &[Tlv<'_>]| -> Vec<UnknownField> {
            fields.iter().map(|field| unknown_entry(format!("{template:02}.{:02}", field.id), field)).collect()
        };
        let mut unknown: Vec<UnknownField> =
            code.unknown_fields().map(|field| unknown_entry(format!("{:02}", field.id), &field)).collect();
        unknown.extend(sub_fields(26, account.unknown()));
        unknown.extend(sub_fields(62, code.additional_data().unknown()));
        unknown.extend(sub_fields(80, code.recurrence().unwrap_or_default()));
        let point_of_initiation = if code.is_dynamic() { "dynamic" } else { "static" };
        Self {
            payload_format: code.payload_format().to_owned(),
            point_of_initiation: point_of_initiation.to_owned(),
            gui: account.gui().to_owned(),
            key: account.key().map(str::to_owned),
            key_type: account.key_type().map(|kind| kind.as_str().to_owned()),
            description: account.description().map(str::to_owned),
            url: account.url().map(str::to_owned),
            merchant_category_code: code.merchant_category_code().to_owned(),
            currency: code.currency().to_owned(),
            amount: code.amount().map(|amount| format!("{amount:.2}")),
            country: code.country().to_owned(),
            merchant_name: code.merchant_name().to_owned(),
            merchant_city: code.merchant_city().to_owned(),
            postal_code: code.postal_code().map(str::to_owned),
            txid: code.txid().to_owned(),
            crc: code.crc().to_owned(),
            unknown,
        }
    }
}

impl BrCode<'_> {
    pub fn to_json(&self) -> DecodedJson {
        DecodedJson::from(self)
    }
}

//! The templates inside a BR Code: 26 (merchant account), 62 (additional data), 80 (recurrence).

use super::PIX_GUI;
use super::decode::{ascii_text, free_text};
use super::error::{BrCodeError, FieldId};
use super::key::{KeyType, MAX_KEY_CHARS, PixKey, Txid};
use super::tlv::{SeenIds, Tlv, TlvReader};

/// Template 26 (merchant account information) for Pix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantAccount<'a> {
    pub(super) gui: &'a str,
    pub(super) key: Option<&'a str>,
    pub(super) description: Option<&'a str>,
    pub(super) url: Option<&'a str>,
    pub(super) unknown: Vec<Tlv<'a>>,
}

impl<'a> MerchantAccount<'a> {
    /// As written: compared with `br.gov.bcb.pix` ignoring case.
    pub fn gui(&self) -> &'a str {
        self.gui
    }
    /// 26-01, exactly as written.
    pub fn key(&self) -> Option<&'a str> {
        self.key
    }
    /// The key's type, when 26-01 is a well-formed key of a known type.
    pub fn key_type(&self) -> Option<KeyType> {
        self.key.and_then(|key| PixKey::parse(key).ok()).map(|key| key.key_type())
    }
    /// 26-02, free text for the payer.
    pub fn description(&self) -> Option<&'a str> {
        self.description
    }
    /// 26-25, the location of a dynamic code (no scheme).
    pub fn url(&self) -> Option<&'a str> {
        self.url
    }
    /// Other sub-fields (e.g. 26-03, the Pix Saque/Troco service provider), in order.
    pub fn unknown(&self) -> &[Tlv<'a>] {
        &self.unknown
    }
}

/// Template 62 (additional data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionalData<'a> {
    pub(super) txid: &'a str,
    pub(super) unknown: Vec<Tlv<'a>>,
}

impl<'a> AdditionalData<'a> {
    /// 62-05 as written: printable ASCII up to 25 chars. Published codes carry ids such as
    /// `RP12345678-2019`, outside the Pix charset; [`Self::strict_txid`] applies that rule.
    pub fn txid(&self) -> &'a str {
        self.txid
    }
    pub fn strict_txid(&self) -> Option<Txid> {
        Txid::parse(self.txid).ok()
    }
    pub fn unknown(&self) -> &[Tlv<'a>] {
        &self.unknown
    }
}

pub(super) fn merchant_account(value: &str, offset: usize, ascii: bool) -> Result<MerchantAccount<'_>, BrCodeError> {
    let mut reader = TlvReader::new(value, offset, Some(26), ascii);
    let mut seen = SeenIds::default();
    let (mut gui, mut key, mut description, mut url) = (None, None, None, None);
    let mut unknown = Vec::new();
    while let Some((sub, _)) = reader.next_field()? {
        let field = reader.field_id(sub.id);
        seen.insert(field, sub.id)?;
        match sub.id {
            0 if sub.value.eq_ignore_ascii_case(PIX_GUI) => gui = Some(sub.value),
            0 => {
                return Err(BrCodeError::WrongGui { found: sub.value.to_owned() });
            }
            1 => key = Some(ascii_text(sub.value, field, MAX_KEY_CHARS)?),
            2 => description = Some(free_text(sub.value, field, 99)?),
            25 => url = Some(ascii_text(sub.value, field, MAX_KEY_CHARS)?),
            _ => unknown.push(sub),
        }
    }
    Ok(MerchantAccount {
        gui: gui.ok_or(BrCodeError::MissingField { field: FieldId::sub(26, 0) })?,
        key,
        description,
        url,
        unknown,
    })
}

pub(super) fn additional_data(value: &str, offset: usize, ascii: bool) -> Result<AdditionalData<'_>, BrCodeError> {
    let mut reader = TlvReader::new(value, offset, Some(62), ascii);
    let mut seen = SeenIds::default();
    let mut txid = None;
    let mut unknown = Vec::new();
    while let Some((sub, _)) = reader.next_field()? {
        let field = reader.field_id(sub.id);
        seen.insert(field, sub.id)?;
        match sub.id {
            5 => txid = Some(ascii_text(sub.value, field, Txid::MAX_CHARS)?),
            _ => unknown.push(sub),
        }
    }
    Ok(AdditionalData { txid: txid.ok_or(BrCodeError::MissingField { field: FieldId::sub(62, 5) })?, unknown })
}

/// A template whose sub-fields are kept as they are (80, recurrence).
pub(super) fn template(value: &str, offset: usize, id: u8, ascii: bool) -> Result<Vec<Tlv<'_>>, BrCodeError> {
    let mut reader = TlvReader::new(value, offset, Some(id), ascii);
    let mut seen = SeenIds::default();
    let mut fields = Vec::new();
    while let Some((sub, _)) = reader.next_field()? {
        seen.insert(reader.field_id(sub.id), sub.id)?;
        fields.push(sub);
    }
    Ok(fields)
}

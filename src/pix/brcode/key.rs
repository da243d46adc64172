//! Pix keys (DICT formats) and transaction ids, parsed into types that are valid by construction.

use std::fmt;
use std::str::FromStr;

use super::error::{BrCodeError, KeyError};

/// Longest key the merchant account template allows (26-01).
pub const MAX_KEY_CHARS: usize = 77;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Cpf,
    Cnpj,
    Email,
    Phone,
    Evp,
}

impl KeyType {
    /// Lower-case name, as chatshop's JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpf => "cpf",
            Self::Cnpj => "cnpj",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Evp => "evp",
        }
    }

    /// Upper-case name, as WhatsApp's `pix_dynamic_code.key_type` wants it.
    pub fn as_whatsapp_str(self) -> &'static str {
        match self {
            Self::Cpf => "CPF",
            Self::Cnpj => "CNPJ",
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::Evp => "EVP",
        }
    }
}

/// A Pix key in DICT's canonical form: CPF/CNPJ bare digits (CNPJ may be alphanumeric),
/// e-mail lower-case, phone `+55…`, random key (EVP) a lower-case UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PixKey {
    key_type: KeyType,
    value: String,
}

impl PixKey {
    /// Recognises the key's type and normalises it: e-mail and UUID are lower-cased, and the
    /// usual CPF/CNPJ punctuation (`123.456.789-09`, `12.345.678/0001-95`) is removed.
    pub fn parse(input: &str) -> Result<Self, BrCodeError> {
        let input = input.trim();
        let (key_type, value) = if input.is_empty() {
            return Err(KeyError::Empty.into());
        } else if input.contains('@') {
            (KeyType::Email, parse_email(input)?)
        } else if input.starts_with('+') {
            (KeyType::Phone, parse_phone(input)?)
        } else if input.len() == 36 && input.as_bytes().get(8) == Some(&b'-') {
            (KeyType::Evp, parse_evp(input)?)
        } else {
            parse_tax_id(input)?
        };
        if value.len() > MAX_KEY_CHARS {
            return Err(KeyError::TooLong.into());
        }
        Ok(Self { key_type, value })
    }

    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl FromStr for PixKey {
    type Err = BrCodeError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl fmt::Display for PixKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

fn parse_email(input: &str) -> Result<String, KeyError> {
    if input.len() > MAX_KEY_CHARS {
        return Err(KeyError::TooLong);
    }
    let (local, domain) = input.split_once('@').ok_or(KeyError::EmailMalformed)?;
    let allowed = |byte: u8| byte.is_ascii_graphic() && !b"@()<>[]\\,;:\"".contains(&byte);
    let well_formed = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && local.bytes().chain(domain.bytes()).all(allowed);
    if !well_formed {
        return Err(KeyError::EmailMalformed);
    }
    Ok(input.to_ascii_lowercase())
}

fn parse_phone(input: &str) -> Result<String, KeyError> {
    let national = input.strip_prefix("+55").ok_or(KeyError::PhoneDigits)?;
    let digits_ok = national.bytes().all(|byte| byte.is_ascii_digit());
    let length_ok = matches!(national.len(), 10 | 11);
    if !digits_ok || !length_ok || national.starts_with('0') {
        return Err(KeyError::PhoneDigits);
    }
    Ok(input.to_owned())
}

fn parse_evp(input: &str) -> Result<String, KeyError> {
    let well_formed = input.bytes().enumerate().all(|(index, byte)| match index {
        8 | 13 | 18 | 23 => byte == b'-',
        _ => byte.is_ascii_hexdigit(),
    });
    if !well_formed {
        return Err(KeyError::EvpMalformed);
    }
    Ok(input.to_ascii_lowercase())
}

/// CPF (11 digits) or CNPJ (14: 12 of `[0-9A-Z]` and 2 check digits), punctuation removed.
fn parse_tax_id(input: &str) -> Result<(KeyType, String), KeyError> {
    let bare: String = input.chars().filter(|ch| !matches!(ch, '.' | '-' | '/')).collect();
    let bytes = bare.as_bytes();
    let is_digits = bytes.iter().all(u8::is_ascii_digit);
    let repeated = bytes.windows(2).all(|pair| pair[0] == pair[1]);
    match bytes.len() {
        11 if is_digits => {
            if repeated {
                return Err(KeyError::RepeatedDigits);
            }
            let values: Vec<u32> = bytes.iter().map(|&b| u32::from(b - b'0')).collect();
            let first = cpf_check_digit(&values[..9]);
            let second = cpf_check_digit(&values[..10]);
            if values[9] != first || values[10] != second {
                return Err(KeyError::CpfCheckDigits);
            }
            Ok((KeyType::Cpf, bare))
        }
        14 if bytes[..12].iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            && bytes[12..].iter().all(u8::is_ascii_digit) =>
        {
            if repeated {
                return Err(KeyError::RepeatedDigits);
            }
            // Receita's rule for alphanumeric CNPJs: a character is worth its ASCII code - 48,
            // which leaves digits as they were.
            let values: Vec<u32> = bytes.iter().map(|&b| u32::from(b) - 48).collect();
            let first = cnpj_check_digit(&values[..12]);
            let second = cnpj_check_digit(&values[..13]);
            if values[12] != first || values[13] != second {
                return Err(KeyError::CnpjCheckDigits);
            }
            Ok((KeyType::Cnpj, bare))
        }
        _ => Err(KeyError::Unrecognised),
    }
}

/// Weights count down from len+1 to 2; remainder 10 counts as 0.
fn cpf_check_digit(values: &[u32]) -> u32 {
    let weighted: u32 =
        values.iter().zip((2..=values.len() as u32 + 1).rev()).map(|(value, weight)| value * weight).sum();
    (weighted * 10 % 11) % 10
}

/// Weights cycle 2..=9 from the right; remainders 0 and 1 give 0.
fn cnpj_check_digit(values: &[u32]) -> u32 {
    let weighted: u32 = values.iter().rev().zip((2..=9).cycle()).map(|(value, weight)| value * weight).sum();
    match weighted % 11 {
        0 | 1 => 0,
        remainder => 11 - remainder,
    }
}

/// Transaction id for field 62-05: `[A-Za-z0-9]{1,25}`, or `***` for "none".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Txid(String);

impl Txid {
    pub const NONE: &'static str = "***";
    pub const MAX_CHARS: usize = 25;

    pub fn parse(input: &str) -> Result<Self, BrCodeError> {
        let alphanumeric =
            (1..=Self::MAX_CHARS).contains(&input.len()) && input.bytes().all(|byte| byte.is_ascii_alphanumeric());
        if alphanumeric || input == Self::NONE { Ok(Self(input.to_owned())) } else { Err(BrCodeError::InvalidTxid) }
    }

    /// `***`: the payer's PSP generates its own id.
    pub fn none() -> Self {
        Self(Self::NONE.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Txid {
    type Err = BrCodeError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl fmt::Display for Txid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_error(input: &str) -> BrCodeError {
        PixKey::parse(input).expect_err(input)
    }

    #[test]
    fn recognises_each_type() {
        let cases = [
            ("529.982.247-25", KeyType::Cpf, "52998224725"),
            ("11.222.333/0001-81", KeyType::Cnpj, "11222333000181"),
            ("12.ABC.345/01DE-35", KeyType::Cnpj, "12ABC34501DE35"),
            ("Fulano@Example.COM", KeyType::Email, "fulano@example.com"),
            ("+5511988887777", KeyType::Phone, "+5511988887777"),
            ("+551133334444", KeyType::Phone, "+551133334444"),
            ("123E4567-E12B-12D1-A456-426655440000", KeyType::Evp, "123e4567-e12b-12d1-a456-426655440000"),
        ];
        for (input, key_type, canonical) in cases {
            let key = PixKey::parse(input).expect(input);
            assert_eq!(key.key_type(), key_type, "{input}");
            assert_eq!(key.as_str(), canonical, "{input}");
        }
    }

    #[test]
    fn rejects_bad_keys() {
        let reject = |input, reason: KeyError| assert_eq!(key_error(input), reason.into());
        reject("", KeyError::Empty);
        reject("52998224724", KeyError::CpfCheckDigits);
        reject("11111111111", KeyError::RepeatedDigits);
        reject("00000000000000", KeyError::RepeatedDigits);
        reject("11222333000182", KeyError::CnpjCheckDigits);
        reject("12ABC34501DE36", KeyError::CnpjCheckDigits);
        reject("+1415555010", KeyError::PhoneDigits);
        reject("+55119888877", KeyError::PhoneDigits);
        reject("+550188887777", KeyError::PhoneDigits);
        reject("fulano@", KeyError::EmailMalformed);
        reject("a b@example.com", KeyError::EmailMalformed);
        reject("123e4567-e12b-12d1-a456-42665544000g", KeyError::EvpMalformed);
        reject("hello", KeyError::Unrecognised);
        let long_email = format!("{}@example.com", "a".repeat(70));
        reject(&long_email, KeyError::TooLong);
    }

    #[test]
    fn txid_rules() {
        assert!(Txid::parse("TX01").is_ok());
        assert!(Txid::parse("***").is_ok());
        assert_eq!(Txid::none().as_str(), "***");
        assert!(Txid::parse(&"a".repeat(25)).is_ok());
        for bad in ["", "RP12345678-2019", "**", &"a".repeat(26), "açaí"] {
            assert_eq!(Txid::parse(bad), Err(BrCodeError::InvalidTxid), "{bad}");
        }
    }
}

//! Ways to reach a person: e-mail addresses and WhatsApp phone numbers.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("`{0}` is not an e-mail address")]
    Email(String),
    #[error("`{0}` is not a phone number in international form, like +55 11 98888-7777")]
    Phone(String),
}

/// An e-mail address, trimmed and lower-cased so that logins match however typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Email, ContactError> {
        let email = text.trim().to_lowercase();
        let invalid = || ContactError::Email(text.chars().take(80).collect());
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let label = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let plausible = !local.is_empty()
            && local.bytes().all(|b| b.is_ascii_graphic())
            && domain.split('.').all(label)
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.contains(char::is_whitespace)
            && !domain.contains('@');
        if plausible { Ok(Email(email)) } else { Err(invalid()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Email {
    type Err = ContactError;
    fn from_str(text: &str) -> Result<Email, ContactError> {
        Email::parse(text)
    }
}

crate::text_sql_type!(Email);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Email, D::Error> {
        let text = String::deserialize(d)?;
        Email::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A phone number as WhatsApp writes it (`wa_id`): country code and number,
/// digits only, E.164 without the plus (`5511988887777`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts the forms people type (`+55 (11) 98888-7777`) and keeps the digits.
    pub fn parse(text: &str) -> Result<PhoneNumber, ContactError> {
        let invalid = || ContactError::Phone(text.chars().take(40).collect());
        let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
        if !text.chars().all(allowed) || text.matches('+').count() > 1 {
            return Err(invalid());
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        // E.164 allows up to 15 digits; a Brazilian mobile is 13 (55 + 2 + 9).
        if !(10..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(invalid());
        }
        Ok(PhoneNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for PhoneNumber {
    type Err = ContactError;
    fn from_str(text: &str) -> Result<PhoneNumber, ContactError> {
        PhoneNumber::parse(text)
    }
}

crate::text_sql_type!(PhoneNumber);

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PhoneNumber, D::Error> {
        let text = String::deserialize(d)?;
        PhoneNumber::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(Email::parse(" Ana@Padaria.com.br ").unwrap().as_str(), "ana@padaria.com.br");
        for bad in ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "ana@x..com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_keep_digits() {
        assert_eq!(PhoneNumber::parse("+55 (11) 98888-7777").unwrap().as_str(), "5511988887777");
        for bad in ["", "123", "+55 11 9888a", "++5511988887777", "0011988887777"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }
}

/// A WhatsApp number as people other than its owner may see it: the country
/// and area code and the last four digits (`+5511*****7777`).
pub fn mask_phone(digits: &str) -> String {
    let count = digits.chars().count();
    if count <= 8 {
        return "*".repeat(count);
    }
    let head: String = digits.chars().take(4).collect();
    let tail: String = digits.chars().skip(count - 4).collect();
    format!("+{head}{}{tail}", "*".repeat(count - 8))
}

#[cfg(test)]
mod mask_tests {
    #[test]
    fn a_masked_number_keeps_only_its_ends() {
        assert_eq!(super::mask_phone("5511988887777"), "+5511*****7777");
        assert_eq!(super::mask_phone("1234"), "****");
    }
}

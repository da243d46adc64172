//! The identifiers of API Pix (Banco Central's API for PSPs): a charge's
//! `txid` and a payment's `endToEndId`. Parsed once where they come in
//! (PSP answers, webhooks, our own generator) and stored as such.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiIdError {
    #[error("a charge txid is 1 to 35 letters and digits")]
    Txid,
    #[error("an endToEndId is 32 letters and digits starting with E or D")]
    EndToEndId,
    #[error("a refund id is 1 to 35 letters and digits")]
    RefundId,
}

fn alphanumeric(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

macro_rules! api_id {
    ($(#[$meta:meta])* $name:ident, $error:ident, |$text:ident| $valid:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse($text: &str) -> Result<$name, ApiIdError> {
                if $valid { Ok($name($text.to_owned())) } else { Err(ApiIdError::$error) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ApiIdError;
            fn from_str(text: &str) -> Result<$name, ApiIdError> {
                $name::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ApiIdError;
            fn try_from(text: String) -> Result<$name, ApiIdError> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String).into()
            }
        }
        impl utoipa::ToSchema for $name {}

        crate::text_sql_type!($name);
    };
}

api_id!(
    /// A charge's id, chosen by us so that creating it again is the same
    /// charge: 26–35 characters at a PSP (`PUT /cob/{txid}`), at most 25 when
    /// it rides in a static BR Code (the sandbox); txids of callbacks are
    /// taken as long as they are letters and digits.
    ChargeTxid, Txid, |text| alphanumeric(text, 1, 35)
);

api_id!(
    /// A Pix payment's id: `E` (or `D` for a return) + the ISPB (8) +
    /// `yyyyMMddHHmm` + 11 characters, 32 in all.
    EndToEndId, EndToEndId, |text| alphanumeric(text, 32, 32) && matches!(text.as_bytes()[0], b'E' | b'D')
);

api_id!(
    /// A devolução's id: ours when the shop asks for it, the PSP's otherwise.
    RefundId, RefundId, |text| alphanumeric(text, 1, 35)
);

impl ChargeTxid {
    /// A new txid of `len` letters and digits (26–35 for a PSP, 25 for a
    /// static BR Code), random enough to be unguessable.
    pub fn generate(len: usize) -> ChargeTxid {
        let len = len.clamp(1, 35);
        let mut text = String::with_capacity(len);
        while text.len() < len {
            text.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        text.truncate(len);
        ChargeTxid(text)
    }
}

impl RefundId {
    pub fn generate() -> RefundId {
        RefundId(format!("R{}", uuid::Uuid::now_v7().simple()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txids_are_letters_and_digits_up_to_35() {
        assert!(ChargeTxid::parse("a1B2").is_ok());
        assert!(ChargeTxid::parse(&"a".repeat(35)).is_ok());
        assert_eq!(ChargeTxid::parse(&"a".repeat(36)), Err(ApiIdError::Txid));
        assert_eq!(ChargeTxid::parse("abc-def"), Err(ApiIdError::Txid));
        assert_eq!(ChargeTxid::parse(""), Err(ApiIdError::Txid));
        let generated = ChargeTxid::generate(32);
        assert_eq!(generated.as_str().len(), 32);
        assert_ne!(generated, ChargeTxid::generate(32));
        assert_eq!(ChargeTxid::generate(25).as_str().len(), 25);
    }

    #[test]
    fn end_to_end_ids_are_32_characters() {
        assert!(EndToEndId::parse("E12345678202611221200abcdefghijk").is_ok());
        assert_eq!(EndToEndId::parse("E1234"), Err(ApiIdError::EndToEndId));
        assert_eq!(EndToEndId::parse("X12345678202611221200abcdefghijk"), Err(ApiIdError::EndToEndId));
        let json: Result<EndToEndId, _> = serde_json::from_str("\"E12345678202611221200abcdefghij-\"");
        assert!(json.is_err());
    }
}

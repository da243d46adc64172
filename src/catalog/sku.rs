use serde::{Deserialize, Serialize};
use std::fmt;

/// A product's SKU, Meta's `retailer_id`: what the WhatsApp catalogue sends
/// back in an order. ASCII letters, digits and `. _ - /`, at most 100.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(transparent)]
pub struct Sku(String);

/// A SKU on the wire (`Sku::parse` also trims surrounding spaces).
pub const SKU_PATTERN: &str = r"^[A-Za-z0-9._/-]{1,100}$";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("SKU must not be empty")]
    Empty,
    #[error("SKU is longer than 100 characters")]
    TooLong,
    #[error("SKU `{0}` may hold only ASCII letters, digits and . _ - / (no spaces)")]
    BadCharacter(String),
}

impl Sku {
    pub fn parse(text: &str) -> Result<Sku, SkuError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SkuError::Empty);
        }
        if text.chars().count() > 100 {
            return Err(SkuError::TooLong);
        }
        if !text.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c)) {
            return Err(SkuError::BadCharacter(text.chars().take(100).collect()));
        }
        Ok(Sku(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Sku {
    type Err = SkuError;
    fn from_str(text: &str) -> Result<Sku, SkuError> {
        Sku::parse(text)
    }
}

crate::text_sql_type!(Sku);

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sku, D::Error> {
        let text = String::deserialize(d)?;
        Sku::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Sku {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(100))
            .pattern(Some(SKU_PATTERN))
            .examples(["BOLO-CHOC"])
            .into()
    }
}
impl utoipa::ToSchema for Sku {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_bounded_and_printable() {
        assert_eq!(Sku::parse(" BOLO-CHOC ").unwrap().as_str(), "BOLO-CHOC");
        assert_eq!(Sku::parse(""), Err(SkuError::Empty));
        assert!(matches!(Sku::parse("BOLO CHOC"), Err(SkuError::BadCharacter(_))));
        assert_eq!(Sku::parse(&"X".repeat(101)), Err(SkuError::TooLong));
    }
}

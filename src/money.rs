//! `Money`: an exact amount of Brazilian reais. Decimal strings at the edges
//! (`"45.90"`), integer centavos inside and in the database; never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The largest amount a Pix BR Code can carry (13 characters: `9999999999.99`).
const MAX_CENTS: i64 = 999_999_999_999;

/// What an amount looks like on the wire: ASCII digits, at most ten before
/// the point (the largest amount is 9999999999.99), at most two after.
pub const MONEY_PATTERN: &str = r"^[0-9]{1,10}(\.[0-9]{1,2})?$";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::BigInt)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must not be negative")]
    Negative,
    #[error("amount has more than two decimal places")]
    TooPrecise,
    #[error("amount is larger than 9999999999.99")]
    TooLarge,
    #[error("`{0}` is not a decimal amount like 45.90")]
    Malformed(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Result<Money, MoneyError> {
        if cents < 0 {
            Err(MoneyError::Negative)
        } else if cents > MAX_CENTS {
            Err(MoneyError::TooLarge)
        } else {
            Ok(Money(cents))
        }
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// Trailing zeros are fine (`45.900`); a third significant decimal is not.
    pub fn from_decimal(value: Decimal) -> Result<Money, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        let value = value.normalize();
        if value.scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let cents =
            value.checked_mul(Decimal::ONE_HUNDRED).and_then(|c| i64::try_from(c).ok()).ok_or(MoneyError::TooLarge)?;
        Money::from_cents(cents)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).and_then(|c| Money::from_cents(c).ok())
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).and_then(|c| Money::from_cents(c).ok())
    }

    /// Brazilian display form: `R$ 1.234,56`.
    pub fn format_brl(self) -> String {
        let reais = (self.0 / 100).to_string();
        let mut grouped = String::with_capacity(reais.len() + reais.len() / 3);
        for (i, digit) in reais.chars().enumerate() {
            if i > 0 && (reais.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(digit);
        }
        format!("R$ {grouped},{:02}", self.0 % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Accepts plain decimal text only: digits, optionally a dot and up to two
    /// more digits (`45`, `45.9`, `45.90`). No signs, exponents or spaces.
    fn from_str(text: &str) -> Result<Money, MoneyError> {
        let malformed = || MoneyError::Malformed(text.chars().take(40).collect());
        if text.starts_with('-') && text.len() > 1 && text[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(malformed());
        }
        // As MONEY_PATTERN says: at most ten digits before the point, two after.
        if fraction.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        if whole.len() > 10 {
            return Err(MoneyError::TooLarge);
        }
        let value = Decimal::from_str(text).map_err(|_| MoneyError::TooLarge)?;
        Money::from_decimal(value)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Only strings: a JSON number would pass through a float.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        struct MoneyVisitor;
        impl serde::de::Visitor<'_> for MoneyVisitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as a decimal string like \"45.90\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(MoneyVisitor)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(MONEY_PATTERN))
            .examples(["45.90"])
            .description(Some("Amount in BRL as a decimal string, at most two decimal places"))
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!("45.90".parse::<Money>().unwrap().cents(), 4590);
        assert_eq!("45.9".parse::<Money>().unwrap().to_string(), "45.90");
        assert_eq!("0".parse::<Money>().unwrap(), Money::ZERO);
        assert_eq!("0.07".parse::<Money>().unwrap().to_string(), "0.07");
        assert_eq!("9999999999.99".parse::<Money>().unwrap().cents(), MAX_CENTS);
    }

    #[test]
    fn rejects_what_is_not_an_exact_amount() {
        assert_eq!("45.999".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert_eq!("-1.00".parse::<Money>(), Err(MoneyError::Negative));
        assert_eq!("10000000000.00".parse::<Money>(), Err(MoneyError::TooLarge));
        for bad in ["", ".5", "5.", "1e3", " 5", "5,00", "+5", "R$5", "NaN"] {
            assert!(matches!(bad.parse::<Money>(), Err(MoneyError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn trailing_zeros_beyond_cents_are_fine() {
        assert_eq!(Money::from_decimal(Decimal::new(45900, 3)).unwrap().cents(), 4590);
    }

    #[test]
    fn formats_for_brazilian_readers() {
        assert_eq!(Money::from_cents(123456).unwrap().format_brl(), "R$ 1.234,56");
        assert_eq!(Money::from_cents(5).unwrap().format_brl(), "R$ 0,05");
        assert_eq!(Money::from_cents(100_000_000).unwrap().format_brl(), "R$ 1.000.000,00");
    }

    #[test]
    fn json_numbers_are_refused() {
        assert!(serde_json::from_str::<Money>("45.9").is_err());
        assert_eq!(serde_json::from_str::<Money>("\"45.90\"").unwrap().cents(), 4590);
    }
}

mod sql {
    //! `Money` is BIGINT centavos in both databases; a stored value outside
    //! what `Money` may hold fails to load rather than becoming one.
    use super::Money;
    use diesel::backend::Backend;
    use diesel::deserialize::{self, FromSql};
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::BigInt;

    impl ToSql<BigInt, diesel::pg::Pg> for Money {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
            <i64 as ToSql<BigInt, diesel::pg::Pg>>::to_sql(&self.0, out)
        }
    }

    impl ToSql<BigInt, diesel::sqlite::Sqlite> for Money {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
            <i64 as ToSql<BigInt, diesel::sqlite::Sqlite>>::to_sql(&self.0, out)
        }
    }

    impl ToSql<BigInt, crate::db::MultiBackend> for Money {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, crate::db::MultiBackend>) -> serialize::Result {
            out.set_value((BigInt, self));
            Ok(IsNull::No)
        }
    }

    impl<DB> FromSql<BigInt, DB> for Money
    where
        DB: Backend,
        i64: FromSql<BigInt, DB>,
    {
        fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
            let cents = <i64 as FromSql<BigInt, DB>>::from_sql(bytes)?;
            Money::from_cents(cents).map_err(|e| format!("stored amount {cents}: {e}").into())
        }
    }
}
